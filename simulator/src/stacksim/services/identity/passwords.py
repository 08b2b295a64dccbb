"""Salted, slow password and secret hashes (PBKDF2-SHA256 from the standard library)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

_ALGO = "pbkdf2_sha256"
# Slow enough to make a stolen database expensive, fast enough that a
# CLI call (one token each) stays snappy.
ITERATIONS = 60_000


def hash_secret(secret: str, iterations: int = ITERATIONS) -> str:
    salt = os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", secret.encode(), salt, iterations)
    return "$".join((_ALGO, str(iterations), _b64(salt), _b64(digest)))


def verify_secret(secret: str, encoded: str | None) -> bool:
    if not encoded:
        return False
    try:
        algo, iterations, salt, digest = encoded.split("$")
    except ValueError:
        return False
    if algo != _ALGO:
        return False
    actual = hashlib.pbkdf2_hmac("sha256", secret.encode(), _unb64(salt), int(iterations))
    return hmac.compare_digest(actual, _unb64(digest))


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text)
