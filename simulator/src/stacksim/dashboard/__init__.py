"""A read-only web dashboard of the simulated cloud, at ``/dashboard`` on the APIs' port.

Log in with a Keystone user, password and project (domain Default): the identity service
issues a token exactly as ``POST /v3/auth/tokens`` does, kept in an ``HttpOnly``,
``SameSite=Strict`` cookie for ``/dashboard`` that ends with the token; logging out revokes
it. Every page checks that token as the APIs do and reads through the services' models with
its context, so a member sees their project and an admin every project.

What it shows: the network topology as an SVG drawn on the server (networks and their
subnets' CIDRs as bars; routers and servers joined to them by their ports, with fixed and
floating IPs); servers with status and addresses, and a server's console log; volumes and
their attachments; images; stacks, each with its resources as a dependency graph, its events
and outputs. A stack's page polls a fragment of itself once a second while the stack is
``IN_PROGRESS`` (a few lines of plain JavaScript, served from here; nothing from elsewhere).

What it leaves out: it changes nothing in the cloud (every page is a GET; only logging in
and out write, and only tokens); it shows no secret: no password, user data (cut out of
console logs too), admin password, private key, application credential secret, nor stack
parameters, and outputs named like a secret or holding a private key are hidden. No
security groups, key pairs, flavors, quotas, identity administration, nested stacks' own
pages, or other domains than Default; no live update but a stack's. ``--no-dashboard``
turns it off.
"""

from stacksim.dashboard.app import COOKIE, Dashboard
from stacksim.dashboard.reads import PREFIX

__all__ = ["COOKIE", "PREFIX", "Dashboard"]
