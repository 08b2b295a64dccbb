# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Print ``fake`` when a server runs on stacksim's fake compute driver, else ``other``.

Usage: compute_driver.py CLOUD SERVER_ID (CLOUD ``defaults``: the OS_* variables).
A member cannot read the hypervisor type (admin only in Nova), but can read the console,
and the fake driver's console starts with ``stacksim fake hypervisor``. Anything that goes
wrong prints ``unknown`` and its reason on stderr: the caller then waits as usual.
"""

import sys

MARK = "stacksim fake hypervisor:"


def main() -> None:
    cloud, server_id = sys.argv[1], sys.argv[2]
    try:
        import openstack

        conn = openstack.connect(cloud=None if cloud == "defaults" else cloud)
        output = conn.compute.get_server_console_output(server_id).get("output") or ""
    except Exception as exc:  # any failure means "cannot tell", never a failed run
        print("unknown")
        print(f"cannot read the console of {server_id}: {exc}", file=sys.stderr)
        return
    print("fake" if MARK in output else "other")


if __name__ == "__main__":
    main()
