# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Topologies the unit tests share: the shipped examples and real files as CyberRangeCZ writes them."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

EXAMPLES = Path(__file__).resolve().parents[4] / "playbooks" / "files"

# The shape of CyberRangeCZ's own test asset: the old key names (man_user, mng_protocol),
# provider, a router cidr, a Windows host over WinRM and a hidden host.
LEGACY = """
provider: OpenStack
name: small-sandbox
hosts:
  - name: server
    base_box: {image: debian-9-x86_64, man_user: debian}
    flavor: csirtmu.tiny1x2
    block_internet: True
    hidden: True
  - name: home
    base_box: {image: windows-10-amd64, mng_protocol: winrm}
    flavor: csirtmu.tiny1x2
routers:
  - name: server-router
    base_box: {image: debian-9-x86_64}
    flavor: csirtmu.tiny1x2
    cidr: 100.100.100.0/29
  - name: home-router
    base_box: {image: debian-9-x86_64, man_user: debian}
    flavor: csirtmu.tiny1x2
    cidr: 200.100.100.0/29
networks:
  - name: server-switch
    cidr: 10.10.20.0/24
  - name: home-switch
    cidr: 10.10.30.0/24
    accessible_by_user: False
net_mappings:
  - {host: server, network: server-switch, ip: 10.10.20.5}
  - {host: home, network: home-switch, ip: 10.10.30.5}
router_mappings:
  - {router: server-router, network: server-switch, ip: 10.10.20.1}
  - {router: home-router, network: home-switch, ip: 10.10.30.1}
groups:
  - name: user-accessible
    nodes: [server, home, home-router]
"""

# A current-format file with a named WAN, volumes and an empty group list.
CURRENT = """
name: junior-hacker
hosts:
  - name: attacker
    base_box: {image: kali, mgmt_user: debian}
    flavor: standard.small
  - name: server
    base_box: {image: debian-12, mgmt_user: debian, mgmt_protocol: SSH}
    flavor: standard.small
    volumes:
      - size: 20
      - size: 30
        image: data-disk
routers:
  - name: router
    base_box: {image: debian-12, mgmt_user: debian}
    flavor: standard.small
wan:
  name: internet-connection
  cidr: 100.100.100.0/24
networks:
  - {name: target-switch, cidr: 10.1.26.0/24, accessible_by_user: False}
  - {name: attacker-switch, cidr: 10.1.27.0/24}
net_mappings:
  - {host: attacker, network: attacker-switch, ip: 10.1.27.23}
  - {host: server, network: target-switch, ip: 10.1.26.9}
router_mappings:
  - {router: router, network: target-switch, ip: 10.1.26.1}
  - {router: router, network: attacker-switch, ip: 10.1.27.1}
groups: []
"""


def example(name: str) -> dict[str, Any]:
    return yaml.safe_load((EXAMPLES / name).read_text())


def parsed(text: str) -> dict[str, Any]:
    return copy.deepcopy(yaml.safe_load(text))
