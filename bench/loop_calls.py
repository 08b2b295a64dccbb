"""Python calls the event loop thread makes per request to stacksim's ASGI app (issue 13).

Run: .venv/bin/python bench/loop_calls.py [--requests 200]

The ASGI app alone, in this process (no socket, no uvicorn: see ``profile_loop.py --asgi``),
one request after another; ``sys.setprofile`` counts the function calls (Python and C) made
on the loop thread, the handlers' own work in the request threads apart. Unlike CPU time on
a shared machine, the count does not vary from run to run, so a change of a few microseconds
to the loop's path shows. Cases: one flavor, ``servers/detail`` with 100 servers, a 404, and
a server create.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from profile_loop import _asgi_call, admin_token

from stacksim.app import running
from stacksim.config import Settings

COMPUTE = "/compute/v2.1"


class Counter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, frame: object, event: str, arg: object) -> None:
        if event in ("call", "c_call"):
            self.calls += 1


async def count(requests: int) -> None:
    async with running(Settings(delay=0)) as app:
        tok, issued = await admin_token(app)
        unlimited = {"quota_set": {"instances": -1, "cores": -1, "ram": -1}}
        await _asgi_call(app, "PUT", f"{COMPUTE}/os-quota-sets/{issued['project']['id']}", unlimited, token=tok)
        _, _, flavors = await _asgi_call(app, "GET", f"{COMPUTE}/flavors", token=tok)
        _, _, images = await _asgi_call(app, "GET", "/image/v2/images", token=tok)
        flavor = json.loads(flavors)["flavors"][0]["id"]
        server = {"server": {"name": "loop", "flavorRef": flavor, "imageRef": json.loads(images)["images"][0]["id"]}}
        for _ in range(100):
            status, _, body = await _asgi_call(app, "POST", f"{COMPUTE}/servers", server, token=tok)
            assert status == 202, body
        cases = {
            "flavor": ("GET", f"{COMPUTE}/flavors/{flavor}", None),
            "detail100": ("GET", f"{COMPUTE}/servers/detail", None),
            "404": ("GET", f"{COMPUTE}/nothing-here", None),
            "create": ("POST", f"{COMPUTE}/servers", server),
        }
        for what, (method, path, body) in cases.items():
            for _ in range(20):  # warm up
                await _asgi_call(app, method, path, body, token=tok)
            counter = Counter()
            sys.setprofile(counter)
            try:
                for _ in range(requests):
                    status, _, _ = await _asgi_call(app, method, path, body, token=tok)
            finally:
                sys.setprofile(None)
            print(f"{what} ({status}): {counter.calls / requests:.1f} calls/request on the loop thread")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    asyncio.run(count(parser.parse_args().requests))


if __name__ == "__main__":
    main()
