"""Fleet mode on a real redis-server (appendonly yes, appendfsync always), hosts as `modembridge run`
processes with 2 `modembridge sim` modems each and a network time per part (`--send-delay`):

- send throughput with 1, 2 and 4 hosts (messages accepted through every host, time until all went out);
- accept rate through one host and through all (8 keep-alive clients per host, while the modems send);
- the time from a host's `kill -9` until the work it held was sent by the others;
- Redis memory per queued message (used_memory over queued single-part messages, nothing pulling).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import shutil
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import redis.asyncio as aioredis
from load import run_clients
from mb_bench import KPASS, KUSER, TOKEN
from procs import Daemon, free_port, memory_kb, stop_process

from modembridge.sim.process import SimProcess

SEND_DELAY = 0.5  # seconds of network time per part (a real SMSC answers in 0.5-3 s)
LEASE = 3.0
TEXT = "Your appointment is confirmed for Tuesday 10:00. Reply STOP to opt out."


class Redis:
    def __init__(self, work: Path) -> None:
        self.dir = work / "redis"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        server = shutil.which("redis-server") or "/usr/bin/redis-server"
        with (self.dir / "redis.log").open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                server, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
                "--save", "",
                "--appendonly", "yes", "--appendfsync", "always", stdout=log, stderr=log)
        async with self.client() as c:
            for _ in range(500):
                with contextlib.suppress(OSError, aioredis.ConnectionError, aioredis.BusyLoadingError):
                    await c.ping()
                    return
                await asyncio.sleep(0.01)
        raise RuntimeError("redis-server did not start")

    def client(self) -> aioredis.Redis:
        return aioredis.Redis(port=self.port, decode_responses=True)

    async def stop(self) -> None:
        if self.proc is not None:
            await stop_process(self.proc)


class Host:
    def __init__(self, work: Path, name: str, redis_url: str, router_url: str, modems: int = 2,
                 send_delay: float = SEND_DELAY, group: str = "bench") -> None:
        self.dir = work / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.sims = [SimProcess(self.dir / f"{name}m{i}", "--no-noise", "--send-delay", str(send_delay),
                                seed=i + 1) for i in range(modems)]
        self.port = free_port()
        self.http = f"http://127.0.0.1:{self.port}"
        modem_tables = "".join(f'\n[[modem]]\nid = "{name}m{i}"\nport = "{s.link}"\n'
                               for i, s in enumerate(self.sims))
        cfg = self.dir / "modembridge.toml"
        cfg.write_text(
            f'log_level = "WARNING"\n[store]\npath = "{self.dir / "journal.db"}"\n'
            f'[http]\nlisten = "127.0.0.1:{self.port}"\napi_token = "{TOKEN}"\n'
            f'[http.kannel]\nusername = "{KUSER}"\npassword = "{KPASS}"\n'
            f'[router]\nurl = "{router_url}"\nformat = "kannel"\n'
            f'[fleet]\nredis_url = "{redis_url}"\ngroup = "{group}"\nhost_id = "{name}"\n'
            f"lease_seconds = {LEASE}\n{modem_tables}")
        self.daemon = Daemon(cfg, self.dir / "daemon.log")

    async def start(self) -> None:
        await asyncio.gather(*(s.start() for s in self.sims))
        await self.daemon.start(self.http)

    async def kill(self) -> None:
        if self.daemon.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.daemon.pid, signal.SIGKILL)
            await self.daemon.proc.wait()
            self.daemon.proc = None

    async def stop(self) -> None:
        await self.daemon.stop()
        await asyncio.gather(*(s.stop() for s in self.sims), return_exceptions=True)

    async def sent(self) -> int:
        return sum([len(await s.submitted()) for s in self.sims])

    async def texts(self) -> list[str]:
        return [str(m.get("text")) for s in self.sims for m in await s.submitted()]


@contextlib.asynccontextmanager
async def fleet(work: Path, n: int, router_url: str, tag: str) -> AsyncIterator[tuple[Redis, list[Host]]]:
    redis = Redis(work / tag)
    await redis.start()
    hosts = [Host(work / tag, f"h{i}", redis.url, router_url) for i in range(n)]
    try:
        await asyncio.gather(*(h.start() for h in hosts))
        yield redis, hosts
    finally:
        await asyncio.gather(*(h.stop() for h in hosts), return_exceptions=True)
        await redis.stop()


def sendsms(http: str, i: int) -> str:
    from urllib.parse import urlencode
    return f"{http}/cgi-bin/sendsms?" + urlencode(
        {"username": KUSER, "password": KPASS, "to": f"+2547{i:08d}", "text": f"{i} {TEXT}"[:160]})


async def accept(hosts: list[Host], n: int, clients_per_host: int = 8) -> dict[str, Any]:
    """n sendsms GETs spread over the hosts, `clients_per_host` keep-alive clients each."""
    per = n // len(hosts)

    async def one_host(k: int, h: Host) -> dict[str, Any]:
        async def get(s: aiohttp.ClientSession, i: int) -> int:
            async with s.get(sendsms(h.http, k * per + i)) as r:
                await r.read()
                return r.status
        return await run_clients(per, clients_per_host, get)

    t0 = time.monotonic()
    runs = await asyncio.gather(*(one_host(k, h) for k, h in enumerate(hosts)))
    elapsed = time.monotonic() - t0
    ok = sum(r["ok"] for r in runs)
    return {"requests": per * len(hosts), "ok": ok, "seconds": elapsed, "ok_per_s": ok / elapsed,
            "per_host": [round(r["ok_per_s"]) for r in runs]}


async def wait_sent(hosts: list[Host], n: int, timeout: float) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if sum([await h.sent() for h in hosts]) >= n:
            return time.monotonic() - t0
        await asyncio.sleep(0.05)
    raise TimeoutError(f"not all {n} sent within {timeout} s")


async def throughput(work: Path, n_hosts: int, router_url: str, per_modem: int) -> dict[str, Any]:
    async with fleet(work, n_hosts, router_url, f"tp{n_hosts}") as (_, hosts):
        n = n_hosts * 2 * per_modem
        t0 = time.monotonic()
        acc = await accept(hosts, n, clients_per_host=4)
        await wait_sent(hosts, acc["ok"], timeout=60 + n * SEND_DELAY)
        elapsed = time.monotonic() - t0
        per_host = [await h.sent() for h in hosts]
        return {"hosts": n_hosts, "modems": n_hosts * 2, "messages": acc["ok"], "seconds": elapsed,
                "sent_per_s": acc["ok"] / elapsed, "wire_limit_per_s": n_hosts * 2 / SEND_DELAY,
                "sent_per_host": per_host}


async def accept_rates(work: Path, router_url: str, n: int) -> dict[str, Any]:
    async with fleet(work, 2, router_url, "accept") as (_, hosts):
        one = await accept(hosts[:1], n)
        both = await accept(hosts, n)
        rss = [memory_kb(h.daemon.pid)["VmRSS"] for h in hosts]
        return {"one_host": one, "all_hosts": both, "rss_kb": rss}


async def kill_takeover(work: Path, router_url: str, n: int) -> dict[str, Any]:
    """Hosts h0 and h1; h1 accepts n sends; h0 is killed while sending; seconds until every job h0 held
    was sent by h1, and until the queue drained."""
    async with fleet(work, 2, router_url, "kill") as (redis, hosts):
        a, b = hosts
        acc = await accept([b], n, clients_per_host=4)
        while await a.sent() < 2:
            await asyncio.sleep(0.02)
        lane = "mb:bench:lane:any"
        async with redis.client() as r:
            pending = await r.xpending_range(lane, "bench", "-", "+", 1000, consumername="h0")
            held = []
            for p in pending:  # an entry can be done and deleted between XPENDING and its XRANGE: not held
                entries = await r.xrange(lane, p["message_id"], p["message_id"])
                if entries:
                    held.append(entries[0][1]["job"])
            await a.kill()
            killed = time.monotonic()
            taken_over: float | None = None
            async with aiohttp.ClientSession() as s:
                while True:
                    if taken_over is None and all(
                            [await r.hget(f"mb:bench:job:{j}", "state") == "done" for j in held]):
                        taken_over = time.monotonic() - killed
                    async with s.get(f"{b.http}/status?fleet=1") as resp:
                        q = (await resp.json())["queue"]
                    if q["depth"] == 0 and taken_over is not None:
                        break
                    await asyncio.sleep(0.05)
        drained = time.monotonic() - killed
        sent = collections.Counter(await a.texts() + await b.texts())
        missing = [i for i in range(acc["ok"]) if sent[f"{i} {TEXT}"[:160]] == 0]
        return {"accepted": acc["ok"], "held_at_kill": len(held), "seconds_to_sent_elsewhere": taken_over,
                "seconds_to_drained": drained, "lease_seconds": LEASE, "sent": sum(sent.values()),
                "unknown": q["unknown"], "twice": sum(1 for n in sent.values() if n > 1),
                "lost": max(0, len(missing) - q["unknown"])}


async def redis_memory(work: Path, n: int) -> dict[str, Any]:
    """Bytes of Redis memory per queued single-part message (the whole job: PDU, text, states, entry)."""
    from modembridge.fleet import RedisStreams
    from modembridge.model import SendAccepted
    from modembridge.model.fleet import FleetJob
    from modembridge.sms import encode_submit

    redis = Redis(work / "memory")
    await redis.start()
    try:
        q = RedisStreams(redis.url, "mem", "bench", 30)
        await q.check(["m0"])
        async with redis.client() as r:
            before = int((await r.info("memory"))["used_memory"])
            for i in range(n):
                to, text = f"+2547{i:08d}", f"{i} {TEXT}"[:160]
                pdus = tuple((p.hex, p.tpdu_length) for p in encode_submit(to, text))
                job = FleetJob(job_id=f"{i:032x}.0", message_id=f"{i:032x}", recipient=to, pdus=pdus,
                               text=text, encoding="gsm7", source="kannel", created_at=time.time(),
                               expires_at=None)
                await q.submit([job], SendAccepted(job.message_id, (to,), "gsm7", 1), None, None)
            after = int((await r.info("memory"))["used_memory"])
        await q.close()
        return {"messages": n, "bytes_per_message": (after - before) / n}
    finally:
        await redis.stop()


async def run_fleet(work: Path, router_url: str, quick: bool, log: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"send_delay": SEND_DELAY, "lease_seconds": LEASE}
    per_modem = 3 if quick else 10
    for n_hosts in (1, 2, 4):
        log(f"fleet: throughput with {n_hosts} host(s)")
        out[f"throughput_{n_hosts}"] = await throughput(work, n_hosts, router_url, per_modem)
    log("fleet: accept rates")
    out["accept"] = await accept_rates(work, router_url, 100 if quick else 1000)
    log("fleet: kill -9 takeover")
    out["kill"] = await kill_takeover(work, router_url, 10 if quick else 30)
    log("fleet: Redis memory per queued message")
    out["memory"] = await redis_memory(work, 100 if quick else 2000)
    return out


def fleet_table(r: dict[str, Any]) -> str:
    if "error" in r:
        return f"fleet: failed: {r['error']}"
    rows = ["| fleet figure | value |", "|---|---|"]
    for n in (1, 2, 4):
        t = r.get(f"throughput_{n}")
        if t:
            rows.append(f"| sends/s, {n} host(s) x 2 modems, {r['send_delay']} s per part "
                        f"(limit {t['wire_limit_per_s']:.0f}/s) | {t['sent_per_s']:.1f} ({t['messages']} in "
                        f"{t['seconds']:.1f} s; per host {t['sent_per_host']}) |")
    a = r.get("accept")
    if a:
        rows.append("| sendsms accepted/s durably in Redis, one host (8 clients) | "
                    f"{a['one_host']['ok_per_s']:.0f} |")
        rows.append(f"| sendsms accepted/s, all {len(a['all_hosts']['per_host'])} hosts (8 clients each) | "
                    f"{a['all_hosts']['ok_per_s']:.0f} (per host {a['all_hosts']['per_host']}) |")
    k = r.get("kill")
    if k:
        rows.append(f"| kill -9 of a host under load until the {k['held_at_kill']} jobs it held were sent "
                    f"elsewhere (lease {k['lease_seconds']:.0f} s) | {k['seconds_to_sent_elsewhere']:.1f} s "
                    f"({k['unknown']} unknown, {k['twice']} sent twice, {k['lost']} lost of "
                    f"{k['accepted']}) |")
    m = r.get("memory")
    if m:
        rows.append(f"| Redis memory per queued 1-part message | {m['bytes_per_message']:.0f} bytes |")
    return "\n".join(rows)
