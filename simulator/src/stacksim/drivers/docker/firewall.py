"""Security groups and floating IPs as iptables rules.

Security groups are enforced inside each instance's own network namespace
(entered from the host with ``nsenter --net``; the host's ``iptables-restore``
runs, never a binary of the guest's): what reaches the instance by any path
(the host, a floating IP, another instance) meets its ports' rules, and what
it sends or forwards must come from its ports' addresses or allowed address
pairs, as Neutron's per-port firewall and anti-spoofing rules do. Traffic of a connection the instance did
not open must match a rule packet by packet (only replies to the instance's
own connections pass on conntrack state), so removing a rule closes the port
at once, established sessions included, as Neutron's conntrack clean-up does.

Floating IPs are DNAT rules on the host (``nat`` table, a chain of this
simulator's own jumped to from ``PREROUTING`` and ``OUTPUT``), so the host and
other instances reach an instance at its floating IP. A second chain in the
``filter`` table lets the API port on the instance-facing address be reached
only from this simulator's bridges and the host itself.

Routers: Docker isolates its bridges from each other, so a third chain (in
``DOCKER-USER``, which Docker evaluates first) forwards between the bridges
of networks that share a router, and forwarded traffic to a floating IP; a
``nat`` chain keeps Docker from masquerading traffic between such networks,
so an instance sees its peer's own address, as behind a Neutron router.

IPv6 rules are not enforced: the Docker networks carry IPv4 only.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from typing import Any

from stacksim.drivers.base import DriverError

PORT_MATCH = {"tcp", "udp", "sctp", "6", "17", "132"}
ICMP = {"icmp", "1"}


@dataclass
class PortFilter:
    """One Neutron port of an instance and what its security groups let through."""

    interface: str  #: the instance's interface the port is plugged as
    addresses: list[str]  #: its fixed IPs
    enabled: bool = True  #: port_security_enabled
    rules: list[dict[str, Any]] = field(default_factory=list)  #: with ``prefixes`` resolved (None: any)
    pairs: list[str] = field(default_factory=list)  #: allowed_address_pairs: other sources it may send from


def _match(rule: dict[str, Any]) -> list[str] | None:
    """The protocol and port part of a rule, or None when iptables cannot express it here."""
    protocol = rule.get("protocol")
    if protocol is None:
        return []
    proto = str(protocol).lower()
    parts = ["-p", proto]
    low, high = rule.get("port_range_min"), rule.get("port_range_max")
    if proto in PORT_MATCH and low is not None:
        parts += ["-m", {"6": "tcp", "17": "udp", "132": "sctp"}.get(proto, proto), "--dport", f"{low}:{high or low}"]
    elif proto in ICMP and low is not None:
        parts += ["--icmp-type", f"{low}/{high}" if high is not None else str(low)]
    elif proto in ("icmpv6", "ipv6-icmp", "58"):
        return None
    return parts


def _group_rules(chain: str, port: PortFilter, direction: str) -> list[str]:
    """The port's rules of one direction, each a ``RETURN`` (allowed) from ``chain``."""
    remote = "-s" if direction == "ingress" else "-d"
    lines = []
    for rule in port.rules:
        if rule["direction"] != direction or rule.get("ethertype", "IPv4") != "IPv4":
            continue
        match = _match(rule)
        if match is None:
            continue
        prefixes = rule.get("prefixes")
        for prefix in [None] if prefixes is None else prefixes:
            where = [remote, prefix] if prefix else []
            lines.append(" ".join([f"-A {chain}", *where, *match, "-j RETURN"]))
    return lines


def instance_rules(ports: list[PortFilter]) -> str:
    """The ``filter`` table of an instance's network namespace, for ``iptables-restore``.

    Each port is matched by its interface, as Neutron filters on the port, not on
    an address: what comes in meets the port's ingress rules, whatever its
    destination (so an instance may route); what goes out must come from the
    port's fixed IPs or allowed address pairs (anti-spoofing), then meet its
    egress rules. Traffic an instance forwards meets both ports' rules; traffic
    on an interface of no port is dropped. A port without port security passes
    everything.
    """
    tables = ["*filter", ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]"]
    tables += [":ingress - [0:0]", ":egress - [0:0]"]
    reply = "-m conntrack --ctstate ESTABLISHED,RELATED --ctdir REPLY -j ACCEPT"
    lines = [
        "-A INPUT -i lo -j ACCEPT",
        f"-A INPUT {reply}",
        "-A INPUT -j ingress",
        "-A INPUT -j ACCEPT",
        f"-A FORWARD {reply}",
        "-A FORWARD -j ingress",
        "-A FORWARD -j egress",
        "-A FORWARD -j ACCEPT",
        "-A OUTPUT -o lo -j ACCEPT",
        f"-A OUTPUT {reply}",
        "-A OUTPUT -j egress",
        "-A OUTPUT -j ACCEPT",
    ]
    for port in ports:
        name = port.interface
        tables += [f":in-{name} - [0:0]", f":out-{name} - [0:0]", f":spoof-{name} - [0:0]"]
        # A goto: the port's chain RETURNs (allowed) to INPUT, FORWARD or OUTPUT, or DROPs.
        lines += [f"-A ingress -i {name} -g in-{name}", f"-A egress -o {name} -g spoof-{name}"]
        if not port.enabled:
            lines += [f"-A in-{name} -j RETURN", f"-A spoof-{name} -j RETURN"]
            continue
        lines += [*_group_rules(f"in-{name}", port, "ingress"), f"-A in-{name} -j DROP"]
        if any(pair in ("0.0.0.0/0", "0.0.0.0") for pair in port.pairs):
            lines.append(f"-A spoof-{name} -g out-{name}")
        else:
            sources = [*(f"{address}/32" for address in port.addresses), *port.pairs]
            lines += [f"-A spoof-{name} -s {source} -g out-{name}" for source in sources]
        lines += [f"-A spoof-{name} -j DROP"]
        lines += [*_group_rules(f"out-{name}", port, "egress"), f"-A out-{name} -j DROP"]
    lines += ["-A ingress -j DROP", "-A egress -j DROP", "COMMIT", ""]
    return "\n".join(tables + lines)


def apply_in(pid: int, rules: str) -> None:
    """Load ``rules`` into the network namespace of process ``pid``."""
    run(["nsenter", f"--target={pid}", "--net", "iptables-restore"], rules)


def run(cmd: list[str], stdin: str | None = None, check: bool = True) -> bool:
    proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True)
    if proc.returncode != 0 and check:
        raise DriverError(f"{' '.join(cmd[:3])} failed: {(proc.stderr or proc.stdout).strip()}")
    return proc.returncode == 0


class HostRules:
    """This simulator's chains on the host: floating-IP DNAT and the API guard."""

    def __init__(self, prefix: str, tag: str) -> None:
        self.nat_chain = f"STACKSIM-{tag}-FIP"
        self.api_chain = f"STACKSIM-{tag}-API"
        self.forward_chain = f"STACKSIM-{tag}-FWD"
        self.no_nat_chain = f"STACKSIM-{tag}-RTR"
        self.bridges = f"{prefix}-+"

    def _ensure_jump(self, table: str, parent: str, chain: str, match: list[str] | None = None) -> None:
        run(["iptables", "-w", "-t", table, "-N", chain], check=False)
        spec = [*(match or []), "-j", chain]
        if not run(["iptables", "-w", "-t", table, "-C", parent, *spec], check=False):
            run(["iptables", "-w", "-t", table, "-I", parent, "1", *spec])

    def floating_ips(self, pairs: list[tuple[str, str]]) -> None:
        """DNAT each floating IP to its fixed IP (the list replaces what was there)."""
        self._ensure_jump("nat", "PREROUTING", self.nat_chain)
        self._ensure_jump("nat", "OUTPUT", self.nat_chain)
        rules = ["*nat", f":{self.nat_chain} - [0:0]"]
        rules += [f"-A {self.nat_chain} -d {fip}/32 -j DNAT --to-destination {fixed}" for fip, fixed in sorted(pairs)]
        run(["iptables-restore", "-w", "--noflush"], "\n".join([*rules, "COMMIT", ""]))

    def guard_api(self, address: str, port: int) -> None:
        """Only the host and this simulator's bridges reach ``address:port``."""
        self._ensure_jump("filter", "INPUT", self.api_chain, ["-d", f"{address}/32", "-p", "tcp", "--dport", str(port)])
        rules = [
            "*filter",
            f":{self.api_chain} - [0:0]",
            f"-A {self.api_chain} -i lo -j ACCEPT",
            f"-A {self.api_chain} -i {self.bridges} -j ACCEPT",
            f"-A {self.api_chain} -j DROP",
            "COMMIT",
            "",
        ]
        run(["iptables-restore", "-w", "--noflush"], "\n".join(rules))

    def no_nat_first(self) -> bool:
        """Is the jump to the no-masquerade chain still first in POSTROUTING?

        Docker inserts a masquerade rule at the top for every network it makes.
        """
        listing = subprocess.run(["iptables", "-w", "-t", "nat", "-S", "POSTROUTING"], capture_output=True, text=True)
        rules = [line for line in listing.stdout.splitlines() if line.startswith("-A ")]
        return bool(rules) and rules[0] == f"-A POSTROUTING -j {self.no_nat_chain}"

    def routers(self, links: list[tuple[str, str, str, str]]) -> None:
        """Forward between the bridges of networks a router joins: ``(bridge, cidr, bridge, cidr)`` each way."""
        self._ensure_jump("filter", "DOCKER-USER", self.forward_chain)
        if not self.no_nat_first():
            run(["iptables", "-w", "-t", "nat", "-D", "POSTROUTING", "-j", self.no_nat_chain], check=False)
            self._ensure_jump("nat", "POSTROUTING", self.no_nat_chain)
        forward = [
            "*filter",
            f":{self.forward_chain} - [0:0]",
            f"-A {self.forward_chain} -i {self.bridges} -o {self.bridges} -m conntrack "
            "--ctstate RELATED,ESTABLISHED -j ACCEPT",
            f"-A {self.forward_chain} -i {self.bridges} -o {self.bridges} -m conntrack --ctstate DNAT -j ACCEPT",
        ]
        no_nat = ["*nat", f":{self.no_nat_chain} - [0:0]"]
        for bridge_a, cidr_a, bridge_b, cidr_b in links:
            forward.append(f"-A {self.forward_chain} -i {bridge_a} -o {bridge_b} -j ACCEPT")
            no_nat.append(f"-A {self.no_nat_chain} -s {cidr_a} -d {cidr_b} -j ACCEPT")
        run(["iptables-restore", "-w", "--noflush"], "\n".join([*forward, "COMMIT", *no_nat, "COMMIT", ""]))

    def remove(self) -> None:
        for table, parents, chain in (
            ("nat", ("PREROUTING", "OUTPUT"), self.nat_chain),
            ("filter", ("INPUT",), self.api_chain),
            ("filter", ("DOCKER-USER",), self.forward_chain),
            ("nat", ("POSTROUTING",), self.no_nat_chain),
        ):
            listing = subprocess.run(["iptables", "-w", "-t", table, "-S"], capture_output=True, text=True).stdout
            for line in listing.splitlines():
                words = line.split()
                if len(words) > 2 and words[0] == "-A" and words[1] in parents and f"-j {chain}" in line:
                    run(["iptables", "-w", "-t", table, "-D", *words[1:]], check=False)
            run(["iptables", "-w", "-t", table, "-F", chain], check=False)
            run(["iptables", "-w", "-t", table, "-X", chain], check=False)
