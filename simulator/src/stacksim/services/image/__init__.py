"""Image: Glance's v2 API (2.0 to 2.16), under ``/image``.

Implemented, with Glance's default policy (``admin``, ``member``, ``reader``,
other projects) and its webob error pages:

- images: create, list with Glance's filters, sorting and paging, show, update
  (both JSON-patch media types), delete, tags, deactivate and reactivate;
  their data (upload, download, hashes, ``virtual_size`` of qcow2), kept
  under the state dir and written through a temporary file;
- the interoperable import (staging, ``glance-direct``, ``web-download``) as
  lifecycle jobs, with its tasks, and image members (sharing);
- the tasks API (admins): the import tasks, and the legacy ``import`` task
  that makes an image from a URL;
- metadata definitions: namespaces, objects, properties, tags, resource types
  and their associations, with their JSON schemas;
- ``/v2/info`` (import methods, stores, usage) and every schema.

Left out: image locations (``show_multiple_locations`` is off, as by
default), ``copy-image`` and ``glance-download`` imports, image signing,
quotas and their limits, property protections, the image cache API, and the
definitions Glance ships (``glance-manage db_load_metadefs``): a fresh cloud
has no metadef namespaces.

The layout: :mod:`.model` (the facade), :mod:`.images`, :mod:`.members`,
:mod:`.imports`, :mod:`.tasks`, :mod:`.metadefs` (the rules), :mod:`.data`
(files), :mod:`.schemas` and :mod:`.patch` (request bodies), :mod:`.views`,
:mod:`.routing` and the ``*_api`` modules (routes), :mod:`.api` (assembly).
"""
