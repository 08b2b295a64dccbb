# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Where each opensandbox.cloud module states its check mode, diff and idempotency support.

Every module extends C(opensandbox.cloud.attributes) (the meaning of each attribute),
C(opensandbox.cloud.attributes.actiongroup) (membership of the action group) and one
of the support profiles below, or states its own support in its DOCUMENTATION.
"""

from __future__ import annotations


class ModuleDocFragment:
    """Attribute descriptions and support profiles."""

    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Runs with C(--check) and reports the change it would make, without making it.
  diff_mode:
    description: With C(--diff), shows the resource before and after the change.
  idempotent:
    description:
      - Running it again with the same options and an unchanged cloud reports C(changed=false) and changes nothing.
"""

    ACTIONGROUP = r"""
options: {}
attributes:
  action_group:
    description: C(module_defaults) can set its options through C(group/opensandbox.cloud.opensandbox).
    support: full
    membership:
      - opensandbox.cloud.opensandbox
"""

    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    details: The module only reads, so check mode returns the same information.
  diff_mode:
    support: N/A
    details: The module changes nothing.
  idempotent:
    support: full
"""

    STATEFUL_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  idempotent:
    support: full
"""
