"""Nova's keypairs: SSH public keys (or X.509 certificates) a user injects into servers.

Keypairs belong to a user, not a project; a name is unique per user. Imported
keys are checked and fingerprinted as Nova does (MD5 of the key blob for SSH,
SHA-1 of the certificate for X.509, colon-separated hex). Generated keys
(before microversion 2.92) are RSA 2048 and their private half is returned once,
never stored. The keys are read and made with the ``cryptography`` package,
imported only when a keypair call needs it.
"""

from __future__ import annotations

import base64
import hashlib
import string
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from stacksim import clock, faults
from stacksim.auth import Context
from stacksim.services.compute import policy
from stacksim.store import Store

if TYPE_CHECKING:
    from stacksim.services.compute.inputs import KeypairRequest
    from stacksim.services.compute.quotas import Quotas

KIND = "keypair"
SSH = "ssh"
X509 = "x509"
#: The characters a keypair name may hold, before and from microversion 2.92.
SAFE_CHARS = "_- " + string.digits + string.ascii_letters
SAFE_CHARS_292 = "@._- " + string.digits + string.ascii_letters


def _colons(hexdigest: str) -> str:
    return ":".join(hexdigest[i : i + 2] for i in range(0, len(hexdigest), 2))


def invalid(reason: str) -> faults.BadRequest:
    return faults.BadRequest(f"Keypair data is invalid: {reason}")


def ssh_fingerprint(public_key: str) -> str:
    """The MD5 fingerprint of an OpenSSH public key line; BadRequest if it is not one."""
    from cryptography.hazmat.primitives import serialization

    try:
        key = serialization.load_ssh_public_key(public_key.strip().encode())
        blob = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).split()[1]
    except (ValueError, IndexError, TypeError, UnicodeEncodeError):
        raise invalid("failed to generate fingerprint") from None
    return _colons(hashlib.md5(base64.b64decode(blob)).hexdigest())


def x509_fingerprint(certificate: str) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    try:
        cert = x509.load_pem_x509_certificate(certificate.encode())
    except (ValueError, UnicodeEncodeError):
        raise invalid("failed to generate X509 fingerprint") from None
    return _colons(cert.fingerprint(hashes.SHA1()).hex())


def generate_ssh() -> tuple[str, str]:
    """A new RSA key: (private key PEM, public key line)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return private, public.decode() + " Generated-by-Nova"


def generate_x509(user_id: str) -> tuple[str, str]:
    """A new self-signed certificate for ``user_id``: (private key PEM, certificate PEM)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, user_id)])
    start = clock.now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return private, cert.public_bytes(serialization.Encoding.PEM).decode()


def shown(text: str) -> str:
    """``text`` safe to put in a message: a lone surrogate (never valid in a reply) escaped."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def check_name(name: str, allow_292: bool = False) -> None:
    """Nova's key pair name rule (``@`` and ``.`` allowed from microversion 2.92)."""
    safe = SAFE_CHARS_292 if allow_292 else SAFE_CHARS
    if not 1 <= len(name) <= 255:
        raise faults.BadRequest(
            f"Invalid input for field/attribute name. Value: {shown(name)}. The name must be 1 to 255 characters long."
        )
    if name.strip() != name or any(c not in safe for c in name):
        raise faults.BadRequest(
            f"Invalid input for field/attribute name. Value: {shown(name)}. An invalid 'name' value was provided. "
            f"The name must be: Only expected characters: [{safe}]"
        )


class Keypairs:
    def __init__(self, store: Store, quotas: Quotas) -> None:
        self.store = store
        self.quotas = quotas

    @staticmethod
    def _key(user_id: str, name: str) -> str:
        return f"{user_id}/{name}"

    @staticmethod
    def owner(ctx: Context, action: str, user_id: str | None = None) -> str:
        """Whose key pairs: the caller's, or (admins) ``user_id``'s (Nova's policy: 403 otherwise)."""
        user_id = user_id or ctx.user_id
        policy.authorize(ctx, f"os_compute_api:os-keypairs:{action}", user_id=user_id)
        return user_id

    def _record(self, user_id: str, name: str) -> dict[str, Any]:
        record = self.store.get(KIND, self._key(user_id, name))
        if record is None:
            raise faults.NotFound(f"Keypair {shown(name)} not found for user {user_id}")
        return record

    def get(self, ctx: Context, name: str, user_id: str | None = None) -> dict[str, Any]:
        """The key pair; NotFound ("Keypair <name> not found for user <user_id>") if missing."""
        return self._record(self.owner(ctx, "show", user_id), name)

    def for_server(self, ctx: Context, name: str | None) -> dict[str, Any] | None:
        """The caller's key pair a server create or rebuild names (None for none); 400 if it has none."""
        if not name:
            return None
        record = self.store.get(KIND, self._key(ctx.user_id, name))
        if record is None:
            raise faults.BadRequest("Invalid key_name provided.")
        return record

    def list(self, ctx: Context, user_id: str | None = None) -> list[dict[str, Any]]:
        return self.store.find(KIND, user_id=self.owner(ctx, "index", user_id))

    def count(self, user_id: str) -> int:
        return self.store.count(KIND, user_id=user_id)

    def create(self, ctx: Context, req: KeypairRequest, allow_292: bool = True) -> tuple[dict[str, Any], str | None]:
        """Import ``req.public_key`` or generate one; returns the record and the private key (if generated).

        The user's key pairs are limited by the project's ``key_pairs`` quota.
        """
        check_name(req.name, allow_292=allow_292)
        user_id = self.owner(ctx, "create", req.user_id)
        private_key, public_key = None, req.public_key
        if public_key is None:
            private_key, public_key = generate_x509(user_id) if req.type == X509 else generate_ssh()
        fingerprint = x509_fingerprint(public_key) if req.type == X509 else ssh_fingerprint(public_key)
        limit = self.quotas.limits(ctx.project_id or "")["key_pairs"]
        with self.store.transaction():
            if limit >= 0 and self.count(user_id) + 1 > limit:
                raise faults.Forbidden("Quota exceeded, too many key pairs.")
            if self.store.get(KIND, self._key(user_id, req.name)) is not None:
                raise faults.Conflict(f"Key pair '{req.name}' already exists.")
            serial = max((r["serial"] for r in self.store.find(KIND)), default=0) + 1
            record = {
                "id": self._key(user_id, req.name),
                "serial": serial,
                "name": req.name,
                "user_id": user_id,
                "type": req.type,
                "public_key": public_key,
                "fingerprint": fingerprint,
                "created_at": clock.now().strftime("%Y-%m-%dT%H:%M:%S.%f"),
            }
            self.store.put(KIND, record)
        return record, private_key

    def delete(self, ctx: Context, name: str, user_id: str | None = None) -> None:
        user_id = self.owner(ctx, "delete", user_id)
        self._record(user_id, name)
        self.store.delete(KIND, self._key(user_id, name))
