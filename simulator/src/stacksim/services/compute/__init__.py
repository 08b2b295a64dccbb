"""Compute (Nova v2.1, microversions 2.1 to 2.96) on one simulated host, ``stacksim``.

The interface is :class:`.model.Compute` (``cloud.compute``): typed requests
(:mod:`.inputs`) in, records out, every rule inside, Nova's default policy
(:mod:`.policy`) for admin, member and reader. It reaches Neutron, Glance,
Cinder and Keystone only through their facades (:mod:`.clients`); a driver
(:mod:`stacksim.drivers`) makes instances real. The HTTP layer is
:mod:`.api` (one ``*_api`` module per resource: parse with :mod:`.schemas`,
call the model, render with :mod:`.views`).

Implemented: servers (create, several at once, boot from volume, list with
Nova's filters, sorting, paging, ``changes-since``/``changes-before`` and
deleted servers, show, update, delete), their actions (start, stop, reboot,
pause, suspend, resize with confirm and revert, rebuild, rescue, shelve and
unshelve, createImage, lock, reset state, security groups, console output,
fixed IPs), metadata and tags, volume attachments, interface attachments,
instance actions, remote consoles (noVNC) and their tokens, diagnostics,
``ips``; flavors with extra specs and access; key pairs; quotas, quota
classes and limits; server groups; availability zones, host aggregates,
hypervisors and services; usage reports (``os-simple-tenant-usage``); the
image and floating-IP-pool proxies and the extension list.

Left out: migrations and live migrations (one host: ``os-migrations`` is an
empty list, a resize is done in place), evacuate, volume swap (refused as
Nova refuses one for a volume that is not migrating), backups
(``createBackup``), server passwords, trigger crash dump, per-user quotas and
unified limits, ``os-hosts`` and cells, SPICE, serial and MKS consoles (not
enabled, as in DevStack), server shares and the ``scheduler_hints`` of 2.100
(beyond the 2.96 maximum).
"""
