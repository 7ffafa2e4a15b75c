"""Not a product: the memory floor of modembridge's stack, measured. An aiohttp server answering one route,
an aiohttp ClientSession that made 200 requests to it, an SQLite connection in WAL mode that committed,
pyserial-asyncio-fast imported; none of modembridge's code. Prints `VmRSS <kB> VmHWM <kB>`.

With `--with-code`, modembridge's modules of the daemon's run path are imported first (what `modembridge
run` imports before it serves; nothing of them runs): the stack plus the code, the floor of the daemon
before it holds any state.

    python bench/peers/memory_floor.py [--with-code]
"""

from __future__ import annotations

import asyncio
import importlib
import os
import sqlite3
import sys
import tempfile

import aiohttp
import serial_asyncio_fast  # noqa: F401  (the daemon's serial stack)
from aiohttp import web

# What `modembridge run` imports: the command, the composition root and what `app.serve` imports.
RUN_PATH = (
    "modembridge.cli", "modembridge.cli.run", "modembridge.app", "modembridge.bridge", "modembridge.http",
    "modembridge.http.callbacks", "modembridge.http.client", "modembridge.observe", "modembridge.store",
    "modembridge.model.fleet",
)


def status(*names: str) -> dict[str, int]:
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            name, _, value = line.partition(":")
            if name in names:
                out[name] = int(value.split()[0])
    return out


async def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        db = sqlite3.connect(os.path.join(d, "j.db"), isolation_level=None)
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("CREATE TABLE t (x)")
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO t VALUES (1)")
        db.execute("COMMIT")

        async def accepted(_request: web.Request) -> web.Response:
            return web.Response(text="0: Accepted for delivery")

        app = web.Application()
        app.router.add_get("/cgi-bin/sendsms", accepted)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        async with aiohttp.ClientSession() as s:
            for _ in range(200):
                async with s.get(f"http://127.0.0.1:{port}/cgi-bin/sendsms?x=1") as r:
                    await r.read()
            m = status("VmRSS", "VmHWM")
            print(f"VmRSS {m['VmRSS']} VmHWM {m['VmHWM']}", flush=True)
        await runner.cleanup()
        db.close()


if __name__ == "__main__":
    if "--with-code" in sys.argv[1:]:
        for name in RUN_PATH:
            importlib.import_module(name)
    asyncio.run(main())
