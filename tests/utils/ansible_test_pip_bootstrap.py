# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Let ``ansible-test ... --venv`` bootstrap pip from PyPI alone.

ansible-test creates each virtual environment without pip, then runs a get-pip script
that it downloads from ci-files.testing.ansible.com, a host this workplace does not
reach (only package registries). It first looks for the script in its cache,
``~/.ansible/test/cache/get_pip_<version>.py``; this puts a stand-in there. The first
time, it installs the pip bundled with Python (``ensurepip``), lets that pip install what
ansible-test asked for (``pip==<version>``) from the configured index, and keeps that
pip's wheel beside the script; after that (every ``--venv`` run makes a new virtual
environment), pip installs itself from the kept wheel, without ensurepip or the index.
An existing script is kept unless it is an older stand-in of ours.

    python tests/utils/ansible_test_pip_bootstrap.py    # prints the script's path
"""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path

CACHE_DIR = Path("~/.ansible/test/cache").expanduser()
FALLBACK_PIP_VERSION = "24.2"

STAND_IN = '''\
"""get-pip stand-in written by opensandbox tests/utils/ansible_test_pip_bootstrap.py (v2)."""
import ensurepip
import os
import subprocess
import sys

GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}
args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
env = dict(os.environ)  # ensurepip hides pip's configuration (index, certificates) from this process
cache = os.path.dirname(os.environ.get("GET_PIP") or os.path.abspath(__file__))
versions = [arg.split("==", 1)[1] for arg in args if arg.startswith("pip==")]
wheel = os.path.join(cache, f"pip-{versions[0]}-py3-none-any.whl") if versions else ""
bare = GET_PIP_ONLY <= set(sys.argv)  # pip alone, as ansible-test asks: the kept wheel is enough
if bare and wheel and os.path.isfile(wheel):
    # pip runs from its own wheel to install itself: no ensurepip, no index.
    local = ["--no-index", "--find-links", cache]
    sys.exit(subprocess.call([sys.executable, os.path.join(wheel, "pip"), "install", *local, *args], env=env))
ensurepip.bootstrap(upgrade=True)
pip = [sys.executable, "-m", "pip"]
code = subprocess.call([*pip, "install", *args], env=env)
if code == 0 and wheel:
    subprocess.call([*pip, "download", "--quiet", "--no-deps", "--dest", cache, f"pip=={versions[0]}"], env=env)
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
    """Write the stand-in unless a script (other than an older stand-in) is cached; return its path."""
    path = cache_dir / f"get_pip_{pip_version().replace('.', '_')}.py"
    ours = STAND_IN.splitlines()[0].split(" (v")[0]
    if not path.exists() or (path.read_text() != STAND_IN and path.read_text().startswith(ours)):
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}")
        partial.write_text(STAND_IN)
        partial.replace(path)  # another ansible-test may be reading the old script: never a half-written one
    return path


if __name__ == "__main__":
    print(install())
