"""Back to the bootstrap state: ``POST /_stacksim/reset`` and ``stacksim reset``.

At the first start of a cloud, right after its bootstrap, every record and the
list of files under the data dir are kept as the *bootstrap snapshot*
(``bootstrap.json`` in the state dir, or in memory without one). A reset
(:meth:`Cloud.reset`, run while no API call is under way: see ``app.Gate``):

1. interrupts the lifecycle: no job starts, waiting work stops where it is,
   running steps finish (:meth:`Lifecycle.interrupt`);
2. replaces every record with the snapshot's, in one store transaction
   (so the store's own indexes and counters follow), which also drops every
   pending job;
3. removes every file and folder under the data dir that the snapshot does
   not list (image data, volumes, snapshots, backups, instances);
4. puts back the live tokens of the bootstrap users (``admin``, ``demo``,
   ``alt_demo``): a reset is not a log-out, so a client that called it, or a
   test session's connections, keep working. Their roles are checked at each
   use, so a token scoped to a project the reset removed is refused.
   Application-credential tokens go with the credentials;
5. the first time in a process, runs the part of the bootstrap every start
   runs (the configured password, the catalog's URLs, settling crashed work)
   and takes the snapshot again, so later resets are a plain copy;
6. resumes the lifecycle.

The ids of the bootstrap records (projects, users, the ``public`` network,
the default image, flavors) are the same after a reset, so cached catalogs
and project ids stay right.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stacksim.private import write_private
from stacksim.services.identity.bootstrap import BOOTSTRAP_USERS
from stacksim.services.identity.model import DEFAULT_DOMAIN
from stacksim.store import Store

if TYPE_CHECKING:
    from stacksim.cloud import Cloud

SNAPSHOT_FILE = "bootstrap.json"


class NoSnapshot(Exception):
    """This cloud has no bootstrap snapshot (its state dir was made by an older stacksim)."""


class Snapshot:
    """The bootstrap state of one cloud: its records and the files of its data dir."""

    def __init__(self, store: Store, data_dir: Path, state_dir: Path | None) -> None:
        self.store = store
        self.data_dir = data_dir
        self.path = state_dir / SNAPSHOT_FILE if state_dir is not None else None
        self._content: dict[str, Any] | None = None
        #: the snapshot reflects this process's settings (passwords, catalog URLs)
        self.current = False

    def exists(self) -> bool:
        return self._content is not None or (self.path is not None and self.path.exists())

    def take(self) -> None:
        """Keep the store's records and the data dir's listing as they are now."""
        records = {kind: self.store.find(kind) for kind in self.store.kinds() if kind != "job"}
        content = {"records": records, "files": sorted(self._listing())}
        if self.path is not None:  # it holds password hashes
            write_private(self.path, json.dumps(content, separators=(",", ":")))
        self._content = content
        self.current = True

    def _load(self) -> dict[str, Any]:
        if self._content is None:
            if self.path is None or not self.path.exists():
                raise NoSnapshot(
                    "This cloud has no bootstrap snapshot to reset to: its state dir was made by an older "
                    "stacksim. Start it with a new --state-dir to be able to reset it."
                )
            self._content = json.loads(self.path.read_text())
        return self._content

    def _listing(self) -> set[str]:
        """Every file and folder under the data dir, relative to it."""
        found: set[str] = set()
        for root, dirs, files in os.walk(self.data_dir):
            rel = Path(root).relative_to(self.data_dir)
            found.update(str(rel / name) for name in (*dirs, *files))
        return found

    def restore(self) -> dict[str, int]:
        """Every record back to the snapshot's (bootstrap users' tokens kept); extra files removed.

        Returns how many records and files were removed (for the log).
        """
        content = self._load()
        snapshot: dict[str, list[dict[str, Any]]] = content["records"]
        users = {
            user["id"]
            for user in snapshot.get("user", [])
            if user["name"] in BOOTSTRAP_USERS and user["domain_id"] == DEFAULT_DOMAIN
        }
        removed = 0
        with self.store.transaction():
            tokens = [t for t in self.store.find("token") if t["user_id"] in users and not t.get("app_cred_id")]
            for kind in set(self.store.kinds()) | set(snapshot):
                removed += self.store.delete_where(kind)
            for kind, records in snapshot.items():
                for record in records:
                    self.store.put(kind, record)
            for token in tokens:
                self.store.put("token", token)
        removed -= sum(len(r) for r in snapshot.values()) + len(tokens)
        return {"records": max(removed, 0), "files": self._remove_files(set(content["files"]))}

    def _remove_files(self, keep: set[str]) -> int:
        removed = 0
        for root, dirs, files in os.walk(self.data_dir, topdown=True):
            rel = Path(root).relative_to(self.data_dir)
            for name in files:
                if str(rel / name) not in keep:
                    (Path(root) / name).unlink(missing_ok=True)
                    removed += 1
            for name in list(dirs):
                if str(rel / name) not in keep:
                    shutil.rmtree(Path(root) / name, ignore_errors=True)
                    dirs.remove(name)
                    removed += 1
        return removed


async def reset(cloud: Cloud) -> dict[str, Any]:
    """Bring ``cloud`` back to its bootstrap state (see the module's docstring); what was removed.

    The caller makes sure no API call is under way. Raises :class:`NoSnapshot`.
    """
    started = time.monotonic()
    snapshot = cloud.snapshot
    snapshot._load()  # NoSnapshot before anything is touched
    life = cloud.lifecycle
    await life.interrupt()
    try:
        removed = await life.call(snapshot.restore)
        # The records are back; what the driver made for the removed servers goes too.
        await life.call(cloud.compute.driver.reset)
        if not snapshot.current:
            await life.call(cloud.bootstrap)
            await life.call(snapshot.take)
    finally:
        life.resume()
    return {**removed, "seconds": round(time.monotonic() - started, 3)}
