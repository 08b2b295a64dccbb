"""``--flavors devstack``: the bootstrap flavors DevStack's lib/nova makes, for suites written against DevStack."""

from __future__ import annotations

import openstack
import openstack.config

from stacksim.testing import Simulator


def _flavors(sim: Simulator) -> dict[str, openstack.compute.v2.flavor.Flavor]:
    config = openstack.config.OpenStackConfig(config_files=[str(sim.clouds_yaml)])
    conn = openstack.connection.Connection(config=config.get_one("stacksim-admin"))
    try:
        return {f.name: f for f in conn.compute.flavors(details=True)}
    finally:
        conn.close()


def test_devstack_flavors_replace_tempests_and_survive_a_reset():
    with Simulator(extra_args=["--flavors", "devstack"]) as sim:
        flavors = _flavors(sim)
        assert sorted(flavors) == sorted(
            ["m1.tiny", "m1.small", "m1.medium", "m1.large", "m1.xlarge", "cirros256", "ds512M", "ds1G", "ds2G", "ds4G"]
        )
        cirros = flavors["cirros256"]
        assert (cirros.id, cirros.ram, cirros.disk, cirros.vcpus) == ("c1", 256, 1, 1)
        assert flavors["ds4G"].extra_specs == {"hw_rng:allowed": "True"}
        sim.reset()
        assert sorted(_flavors(sim)) == sorted(flavors)
