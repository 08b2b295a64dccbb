"""Time as the user wants it: final states on the first read by default, real time with ``--delay``,
holds for testing wait logic, and waits that wake on events."""

from __future__ import annotations

import time
import uuid

import pytest
from heat_helpers import MULTI_TIER, wait_condition

from stacksim.services.image.bootstrap import DEFAULT_IMAGE_NAME
from stacksim.testing import Simulator, wait_until

WAIT_CONDITION = wait_condition(timeout=2)


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    """Every ``time.sleep`` in this process during the test (the clients' polling intervals)."""
    seen: list[float] = []
    real = time.sleep

    def sleep(seconds: float) -> None:
        seen.append(seconds)
        real(min(seconds, 0.05))

    monkeypatch.setattr(time, "sleep", sleep)
    return seen


@pytest.fixture
def network(demo):
    net = demo.network.create_network(name=_name("net"))
    demo.network.create_subnet(network_id=net.id, cidr="10.30.0.0/24", ip_version=4)
    return net


def test_sdk_create_server_wait_needs_no_poll(connect, network, sleeps):
    conn = connect("stacksim", timing=True)
    server = conn.create_server(
        _name("fast"), image=DEFAULT_IMAGE_NAME, flavor="m1.tiny", network=network.id, auto_ip=False, wait=True
    )
    assert server.status == "ACTIVE" and server.addresses
    reads = [t for t in conn.session.get_timings() if t.method == "GET" and t.url.endswith(f"/servers/{server.id}")]
    assert len(reads) == 1, [t.url for t in reads]  # the first read saw ACTIVE
    assert sleeps == []  # and the SDK never slept before polling again
    # the build still went through BUILD: the console shows the boot
    assert "booting" in conn.get_server_console(server)
    conn.delete_server(server.id, wait=True)
    assert sleeps == [] and conn.compute.find_server(server.id) is None


def test_sdk_create_stack_wait_of_the_multi_tier_template_needs_no_poll(demo, key_name, roomy_demo_quota, sleeps):
    name = _name("mt")
    demo.create_stack(name, template_file=MULTI_TIER, wait=True, key_name=key_name)
    assert [s for s in sleeps if s >= 1] == []  # heatclient-style event polling never waited 5 s
    stack = demo.orchestration.find_stack(name)
    assert stack.status == "CREATE_COMPLETE"
    events = [
        e["resource_status"] for e in demo.orchestration.get(f"/stacks/{name}/{stack.id}/events").json()["events"]
    ]
    assert events[0] == "CREATE_IN_PROGRESS" and "CREATE_IN_PROGRESS" in events[1:]  # the resources passed through it
    servers = [s for s in demo.compute.servers() if s.name.startswith(name)]
    assert len(servers) == 5 and {s.status for s in servers} == {"ACTIVE"}
    demo.delete_stack(name, wait=True)
    assert [s for s in sleeps if s >= 1] == []
    assert demo.orchestration.find_stack(name) is None


def test_a_flavor_can_hold_servers_in_build(admin, demo, network):
    flavor = admin.compute.create_flavor(name=_name("slow"), ram=64, vcpus=1, disk=1)
    admin.compute.create_flavor_extra_specs(flavor, {"stacksim:boot_delay": "2"})
    server = demo.compute.create_server(
        name=_name("held"), image_id=demo.image.find_image(DEFAULT_IMAGE_NAME).id, flavor_id=flavor.id,
        networks=[{"uuid": network.id}],
    )  # fmt: skip
    assert demo.compute.get_server(server.id).status == "BUILD"
    assert wait_until(lambda: demo.compute.get_server(server.id).status == "ACTIVE", what="the held build")


def test_a_bad_boot_delay_is_refused(admin, demo, network):
    flavor = admin.compute.create_flavor(name=_name("bad"), ram=64, vcpus=1, disk=1)
    admin.compute.create_flavor_extra_specs(flavor, {"stacksim:boot_delay": "soon"})
    body = {"server": {"name": "x", "imageRef": demo.image.find_image(DEFAULT_IMAGE_NAME).id, "flavorRef": flavor.id}}
    body["server"]["networks"] = [{"uuid": network.id}]
    resp = demo.compute.post("/servers", json=body)
    assert resp.status_code == 400, resp.text
    assert "stacksim:boot_delay must be a number of seconds" in resp.json()["badRequest"]["message"]
    assert list(demo.compute.servers()) == []


def test_a_volume_type_can_hold_volumes_in_creating(admin, demo):
    vtype = admin.block_storage.create_type(name=_name("slow"), extra_specs={"stacksim:create_delay": "2"})
    volume = demo.block_storage.create_volume(size=1, volume_type=vtype.name)
    assert demo.block_storage.get_volume(volume.id).status == "creating"
    assert wait_until(lambda: demo.block_storage.get_volume(volume.id).status == "available", what="the volume")


def test_a_held_server_holds_its_stack(admin, demo):
    flavor = admin.compute.create_flavor(name=_name("slow"), ram=64, vcpus=1, disk=1)
    admin.compute.create_flavor_extra_specs(flavor, {"stacksim:boot_delay": "2"})
    template = (
        "heat_template_version: 2018-08-31\n"
        "resources:\n"
        "  server:\n"
        "    type: OS::Nova::Server\n"
        f"    properties: {{image: {DEFAULT_IMAGE_NAME}, flavor: {flavor.name}, networks: []}}\n"
    )
    stack = demo.orchestration.create_stack(name=_name("held"), template=template)
    assert demo.orchestration.get_stack(stack.id).status == "CREATE_IN_PROGRESS"
    done = wait_until(lambda: (s := demo.orchestration.get_stack(stack.id)).status != "CREATE_IN_PROGRESS" and s)
    assert done.status == "CREATE_COMPLETE", done.status_reason


def test_a_wait_condition_times_out_on_time(demo):
    stack = demo.orchestration.create_stack(name=_name("wc"), template=WAIT_CONDITION)
    assert demo.orchestration.get_stack(stack.id).status == "CREATE_IN_PROGRESS"  # waiting for a signal
    failed = wait_until(lambda: (s := demo.orchestration.get_stack(stack.id)).status != "CREATE_IN_PROGRESS" and s)
    assert failed.status == "CREATE_FAILED"
    assert "WaitConditionTimeout" in failed.status_reason and "0 of 1 received" in failed.status_reason


def test_a_signal_is_seen_on_the_first_read_after_it(demo):
    template = wait_condition(timeout=600)
    name = _name("sig")
    stack = demo.orchestration.create_stack(name=name, template=template)
    handle = demo.orchestration.get(f"/stacks/{name}/{stack.id}/resources/handle").json()["resource"]
    resp = demo.orchestration.post(
        f"/stacks/{name}/{stack.id}/resources/handle/signal", json={"status": "SUCCESS", "reason": "up"}
    )
    assert resp.status_code == 200, resp.text
    assert handle["resource_status"] == "CREATE_COMPLETE"
    assert demo.orchestration.get_stack(stack.id).status == "CREATE_COMPLETE"


def test_delay_keeps_real_time(tmp_path):
    with Simulator(extra_args=["--delay", "2"]) as slow:
        conn = slow.connect()
        image = conn.image.find_image(DEFAULT_IMAGE_NAME)
        server = conn.compute.create_server(name="watched", image_id=image.id, flavor_id="1", networks="none")
        assert conn.compute.get_server(server.id).status == "BUILD"
        assert wait_until(lambda: conn.compute.get_server(server.id).status == "ACTIVE", what="the build")
        volume = conn.block_storage.create_volume(size=1)
        assert conn.block_storage.get_volume(volume.id).status == "creating"
        assert wait_until(lambda: conn.block_storage.get_volume(volume.id).status == "available", what="the volume")
