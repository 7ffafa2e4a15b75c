#!/usr/bin/env python3
"""The router is down for a long stretch: the SIM keeps being emptied, the queue grows on disk, the
daemon's memory stays flat; when the router returns everything is delivered, in order per sender.

    python bench/outage_bench.py [--messages 10000] [--senders 20]

Runs `modembridge sim` and `modembridge run` as subprocesses (as a user would) and a router in this
process that answers 503 until all messages are journalled, then 200. Prints JSON with RSS samples.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from modembridge.sim.process import SimProcess


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Router:
    def __init__(self) -> None:
        self.up = False
        self.delivered: list[tuple[str, str]] = []
        self.refused = 0

    async def inbound(self, request: web.Request) -> web.Response:
        if not self.up:
            self.refused += 1
            return web.Response(status=503, text="down for maintenance")
        self.delivered.append((request.query["id"], request.query["text"]))
        return web.Response(text="ok")


async def main(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="mb-outage-"))
    router = Router()
    app = web.Application()
    app.router.add_get("/backend/kannel/", router.inbound)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    router_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", router_port).start()
    http_port = free_port()
    config = work / "modembridge.toml"
    config.write_text(f"""
[store]
path = "journal.db"
[http]
listen = "127.0.0.1:{http_port}"
api_token = "bench"
[router]
url = "http://127.0.0.1:{router_port}/backend/kannel/"
[router.retry]
initial = 1.0
cap = 5.0
[[modem]]
id = "gsm0"
port = "{work / 'gsm0'}"
""")
    result: dict[str, Any] = {"messages": args.messages, "senders": args.senders}
    async with SimProcess(work / "gsm0", seed=1) as sim:
        daemon = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "modembridge", "run", "--config", str(config), "--log-level", "WARNING",
            stdin=asyncio.subprocess.DEVNULL, stderr=open(work / "daemon.log", "wb"),  # noqa: SIM115
        )
        try:
            base = f"http://127.0.0.1:{http_port}"
            async with aiohttp.ClientSession() as session:
                for _ in range(200):
                    with contextlib.suppress(aiohttp.ClientError):
                        async with session.get(f"{base}/readyz") as r:
                            if r.status == 200:
                                break
                    await asyncio.sleep(0.05)
                result["rss_idle_kb"] = rss_kb(daemon.pid)
                samples: list[tuple[float, int, int]] = []
                t0 = time.monotonic()

                async def sample_until_journalled() -> None:
                    while True:
                        async with session.get(f"{base}/status") as r:
                            status = await r.json()
                        received = status["queues"]["journal"].get("in", {}).get("received", 0)
                        samples.append((round(time.monotonic() - t0, 1), received, rss_kb(daemon.pid)))
                        if received >= args.messages:
                            return
                        await asyncio.sleep(1.0)

                sampler = asyncio.create_task(sample_until_journalled())
                for i in range(args.messages):  # one at a time: the network's order is the order to keep
                    await sim.inject_text(f"+2547000{i % args.senders:05d}", f"{i % args.senders}:{i}")
                await asyncio.wait_for(sampler, 900)
                storage = await sim.storage()
                result["sim_left_after_outage"] = sum(len(v) for v in storage["memories"].values())
                result["journal_seconds"] = round(time.monotonic() - t0, 1)
                result["rss_samples_kb"] = [{"t": t, "queued": q, "rss_kb": kb} for t, q, kb in samples]
                result["rss_queued_kb"] = rss_kb(daemon.pid)
                result["router_refusals"] = router.refused
                router.up = True
                t1 = time.monotonic()
                while len(router.delivered) < args.messages:
                    await asyncio.sleep(0.2)
                    if time.monotonic() - t1 > 900:
                        break
                result["drain_seconds"] = round(time.monotonic() - t1, 1)
                result["delivered"] = len(router.delivered)
                result["rss_after_drain_kb"] = rss_kb(daemon.pid)
                last: dict[str, int] = {}
                in_order = True
                for sender, text in router.delivered:
                    n = int(text.split(":")[1])
                    if n < last.get(sender, -1):
                        in_order = False
                    last[sender] = n
                result["in_order_per_sender"] = in_order
                result["distinct_delivered"] = len(set(router.delivered))
        finally:
            daemon.terminate()
            result["daemon_exit"] = await daemon.wait()
    await runner.cleanup()
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--senders", type=int, default=20)
    out = asyncio.run(main(parser.parse_args()))
    print(json.dumps(out, indent=1))
    os.makedirs("bench/results", exist_ok=True)
    Path("bench/results/outage.json").write_text(json.dumps(out, indent=1))
