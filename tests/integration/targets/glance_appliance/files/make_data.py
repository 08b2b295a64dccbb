# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Write files of random data for the glance_appliance target; print their sizes and sha512 sums.

    python make_data.py DIR NAME:KIB ...

Prints JSON: ``{"sums": {NAME: sha512 hex}, "sizes": {NAME: bytes}}``. One process for
all the appliance images, instead of one task per file and one per checksum.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys


def main() -> None:
    directory, specs = sys.argv[1], sys.argv[2:]
    sums, sizes = {}, {}
    for spec in specs:
        name, kib = spec.rsplit(":", 1)
        data = os.urandom(int(kib) * 1024)
        with open(os.path.join(directory, name), "wb") as handle:
            handle.write(data)
        sums[name] = hashlib.sha512(data).hexdigest()
        sizes[name] = len(data)
    print(json.dumps({"sums": sums, "sizes": sizes}))


if __name__ == "__main__":
    main()
