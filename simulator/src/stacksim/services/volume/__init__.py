"""Block Storage: Cinder's v3 API (microversions 3.0 to 3.70), under ``/volume``.

Implemented, with Cinder's default policy for ``admin``, ``member`` and
``reader`` (a reader only looks) and its error bodies:

- volumes: create (empty, from an image, a snapshot, a volume or a backup),
  list/detail/summary with Cinder's filters, sorting and paging, show, update,
  delete (cascade, force), metadata and image metadata, extend (attached from
  3.42), retype, upload to an image, bootable and read-only flags, reset
  status; the bytes of each are a sparse file under the state dir;
- attachments (3.27 API and the legacy actions), and Nova's attach and detach
  through :class:`~.model.BlockStorage`;
- snapshots, backups (incremental, from a snapshot, restore), with metadata;
- volume types (extra specs, private types and their access, encryption specs),
  the default type and per-project default types (3.62), QoS specs;
- group types and group specs (3.11), generic groups (3.13) and group snapshots
  (3.14), groups made from a group snapshot or another group;
- volume transfers (``/os-volume-transfer``, and ``/volume-transfers`` 3.55);
- quotas and quota classes, ``/limits``, user messages (3.3), resource filters
  (3.33), availability zones, the backend's pools and capabilities, services
  (enable, disable, freeze, thaw) and hosts (admins);
- states move through Cinder's transitional statuses by lifecycle jobs, which a
  restart resumes.

Left out: consistency groups (the pre-3.13 API), migration, manage and unmanage,
revert to snapshot, re-image, replication (group replication answers 400),
backup drivers and backup export/import, clusters, workers, log levels, nested
quotas, volume encryption with a real key manager (an encrypted type's volumes
are marked ``encrypted`` with a key id; their bytes are not encrypted).

The layout: :mod:`.model` (the facade), one module per resource for its rules,
:mod:`.schemas` (request bodies), :mod:`.views` (what the API shows),
:mod:`.routing` and the ``*_api`` modules (routes), :mod:`.api` (assembly).
"""
