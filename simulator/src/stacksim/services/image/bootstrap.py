"""First-start set-up of the Image service: the default image, as DevStack uploads one.

The default image is public, owned by the ``admin`` project and named like
DevStack's CirrOS image. Its data is generated here (no download): a valid,
empty qcow2 disk of CirrOS 0.6.2's virtual size, so its size, checksum and
``virtual_size`` are real. Every start also recovers uploads and imports a
crash cut off (see :meth:`Images.recover`).
"""

from __future__ import annotations

import struct

from stacksim.services.identity.model import DEFAULT_DOMAIN
from stacksim.services.image.model import Images

#: The name of the image every fresh cloud has (for Nova, Heat and the tests).
DEFAULT_IMAGE_NAME = "cirros-0.6.2-x86_64-disk"
DEFAULT_IMAGE_VIRTUAL_SIZE = 117440512  # 112 MiB, CirrOS 0.6.2's disk
_MARK = ("bootstrap", "image")
_CLUSTER_BITS = 16


def qcow2_payload(virtual_size: int = DEFAULT_IMAGE_VIRTUAL_SIZE) -> bytes:
    """An empty qcow2 (version 3) disk: header, refcount table and block, one L1 table."""
    cluster = 1 << _CLUSTER_BITS
    l2_reach = (cluster // 8) * cluster  # bytes one L2 table maps
    l1_size = max(1, -(-virtual_size // l2_reach))
    header = struct.pack(
        ">4sIQIIQIIQQIIQQQQII",
        b"QFI\xfb",
        3,  # version
        0,  # backing file offset
        0,  # backing file size
        _CLUSTER_BITS,
        virtual_size,
        0,  # no encryption
        l1_size,
        3 * cluster,  # L1 table offset
        1 * cluster,  # refcount table offset
        1,  # refcount table clusters
        0,  # snapshots
        0,  # snapshots offset
        0,  # incompatible features
        0,  # compatible features
        0,  # autoclear features
        4,  # refcount order: 16-bit refcounts
        104,  # header length
    )
    refcount_table = struct.pack(">Q", 2 * cluster)
    refcount_block = struct.pack(">4H", 1, 1, 1, 1)  # clusters 0-3 are in use
    l1_table = bytes(8 * l1_size)
    clusters = [header, refcount_table, refcount_block, l1_table]
    return b"".join(part.ljust(cluster, b"\0") for part in clusters)


def bootstrap(images: Images) -> None:
    """Once per cloud: later starts keep whatever users made of it (even a deleted default image)."""
    images.recover()
    store = images.store
    if store.get(*_MARK) is not None:
        return
    admin = store.first("project", name="admin", domain_id=DEFAULT_DOMAIN)
    if admin is None:
        return
    rec = images.create(
        admin["id"],
        name=DEFAULT_IMAGE_NAME,
        disk_format="qcow2",
        container_format="bare",
        visibility="public",
        min_disk=1,
        os_distro="cirros",
        os_version="0.6.2",
        hw_rng_model="virtio",
    )
    images.store_data(rec["id"], [qcow2_payload()])
    store.put(_MARK[0], {"id": _MARK[1], "image_id": rec["id"]})
