"""Networking (Neutron v2.0): ``/network`` on the simulator's port, and ``cloud.network`` inside it.

Implemented, with Neutron's default policy for admin, member, reader and other projects:

- networks (provider attributes, MTU, port security, ``shared`` and
  ``router:external``, the default external network), subnets with IPAM
  (gateways inside or outside the subnet, allocation pools, host routes, DNS,
  IPv6 modes with SLAAC), ports (fixed IPs, MACs in every notation Neutron
  takes, allowed address pairs, port security, bindings, ``extra_dhcp_opts``,
  a DHCP port per network);
- routers (external gateway, interfaces, static routes with ``extraroute`` and
  ``extraroute-atomic``, ``ha`` and ``distributed`` flags), floating IPs;
- security groups and rules, with each project's ``default`` group;
- subnet pools (with subnets allocated from them, default pools, prefix
  operations) and address scopes;
- RBAC policies sharing networks (``access_as_shared``/``access_as_external``),
  subnet pools, address scopes, QoS policies and security groups;
- QoS policies with bandwidth-limit, DSCP-marking and minimum-bandwidth rules,
  rule types, the project default policy, on networks and ports;
- trunks with subports; auto-allocated topologies; availability zones (one,
  ``nova``); service providers; quotas for every resource here; tags
  (``tags``, ``tags-any``, ``not-tags`` filters, tag-creation); filters,
  ``fields``, sorting, paging and revision numbers on every list.

Left out: segments and segment ranges, agents and their schedulers, network
IP availability, flavors and service profiles, address groups, default
security-group rule templates, port forwarding, conntrack helpers, NDP proxy,
local IPs, BGP, VPN, firewalls, SFC, tap-as-a-service, DNS integration, QoS
packet-rate rules, logging, metering, multiple router gateways. QoS rules and
HA/DVR flags are recorded, not enforced (the docker compute driver wires
networks, routers, security groups and floating IPs; see the README).

Layout: :mod:`.model` is the typed interface (the :class:`~.model.Networking`
facade); one module per resource holds its rules; :mod:`.schemas` turns the
wire format into typed requests; :mod:`.api` and the ``*_api`` modules are the
routes; :mod:`.views` renders records; :mod:`.bootstrap` makes ``public`` and
the default subnet pool.
"""
