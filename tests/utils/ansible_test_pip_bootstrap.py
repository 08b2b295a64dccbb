# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Let ``ansible-test ... --venv`` bootstrap pip from PyPI alone.

ansible-test creates each virtual environment without pip, then runs a get-pip script
that it downloads from ci-files.testing.ansible.com, a host this workplace does not
reach (only package registries). It first looks for the script in its cache,
``~/.ansible/test/cache/get_pip_<version>.py``; this puts a stand-in there: it installs
the pip bundled with Python (``ensurepip``) and lets that pip install what ansible-test
asked for (``pip==<version>``) from the configured index. An existing script is kept.

    python tests/utils/ansible_test_pip_bootstrap.py    # prints the script's path
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

CACHE_DIR = Path("~/.ansible/test/cache").expanduser()
FALLBACK_PIP_VERSION = "24.2"

STAND_IN = '''\
"""get-pip stand-in written by opensandbox tests/utils/ansible_test_pip_bootstrap.py."""
import ensurepip
import os
import subprocess
import sys

GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}
args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
env = dict(os.environ)  # ensurepip hides pip's configuration (index, certificates) from this process
ensurepip.bootstrap(upgrade=True)
pip = [sys.executable, "-m", "pip"]
code = subprocess.call([*pip, "install", *args], env=env)
if code == 0 and "--no-setuptools" in sys.argv:
    code = subprocess.call([*pip, "uninstall", "--yes", "--quiet", "setuptools"], env=env)
sys.exit(code)
'''


def pip_version() -> str:
    """The pip version the installed ansible-test bootstraps into its virtual environments."""
    try:
        from ansible_test._internal.python_requirements import get_venv_packages  # pylint: disable=import-outside-toplevel

        python = types.SimpleNamespace(version=f"{sys.version_info.major}.{sys.version_info.minor}")
        return get_venv_packages(python)["pip"]
    except Exception:  # pylint: disable=broad-exception-caught  # ansible-test internals moved: use the known default
        return FALLBACK_PIP_VERSION


def install(cache_dir: Path = CACHE_DIR) -> Path:
    """Write the stand-in unless a script is already cached; return the script's path."""
    path = cache_dir / f"get_pip_{pip_version().replace('.', '_')}.py"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(STAND_IN)
    return path


if __name__ == "__main__":
    print(install())
