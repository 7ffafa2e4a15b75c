"""Not a product: the memory floor of modembridge's stack, measured. An aiohttp server answering one route,
an aiohttp ClientSession that made 200 requests to it, an SQLite connection in WAL mode that committed,
pyserial-asyncio-fast imported; none of modembridge's code. Prints `VmRSS <kB> VmHWM <kB>`.

    python bench/peers/memory_floor.py
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import tempfile

import aiohttp
import serial_asyncio_fast  # noqa: F401  (the daemon's serial stack)
from aiohttp import web


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
    asyncio.run(main())
