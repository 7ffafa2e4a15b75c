"""The peers, against the same simulator and router: gammu-smsd (files backend) and a python-gsmmodem-new
wrapper (bench/peers/gsmmodem_bridge.py)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from load import run_clients
from mb_bench import (
    TEXT_1,
    TO,
    accept_while_sending,
    inbound_latency,
    line_limit,
    memory_of,
    numbered,
    outbound_run,
    phase,
    sendsms_make,
)
from procs import BENCH, Router, child_env, cpu_seconds, free_port, memory_kb, stop_process

from modembridge.sim.process import SimProcess

GAMMU_SMSD = shutil.which("gammu-smsd")
GAMMU_INJECT = shutil.which("gammu-smsd-inject")
CURL = shutil.which("curl")


# ---------------------------------------------------------------------- python-gsmmodem-new wrapper
@contextlib.asynccontextmanager
async def gsmmodem_peer(work: Path, name: str, sim_args: list[str], router_url: str
                        ) -> AsyncIterator[tuple[SimProcess, asyncio.subprocess.Process, str, float]]:
    d = work / name
    d.mkdir(parents=True, exist_ok=True)
    async with SimProcess(d / "gsm0", "--no-noise", *sim_args, profile="generic", seed=1) as sim:
        t0 = time.monotonic()
        with (d / "peer.log").open("ab") as log:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, str(BENCH / "peers" / "gsmmodem_bridge.py"), "--device", str(sim.link),
                "--router", router_url, stdout=asyncio.subprocess.PIPE, stderr=log, env=child_env())
        try:
            assert proc.stdout is not None
            line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
            m = re.match(r"READY port=(\d+)", line)
            if not m:
                raise RuntimeError(f"gsmmodem peer did not start: {line!r}; see {d / 'peer.log'}")
            yield sim, proc, f"http://127.0.0.1:{m.group(1)}", time.monotonic() - t0
        finally:
            await stop_process(proc)


async def gsmmodem_submit(http: str, n: int, text: str, concurrency: int = 16) -> dict[str, Any]:
    async def one(s: aiohttp.ClientSession, i: int) -> int:
        async with s.get(f"{http}/send?" + urlencode({"to": TO, "text": numbered(i, text)})) as r:
            await r.read()
            return r.status

    return await run_clients(n, concurrency, one)


def gsmmodem_make(http: str) -> Any:
    async def one(s: aiohttp.ClientSession, i: int) -> int:
        async with s.get(f"{http}/send?" + urlencode({"to": TO, "text": numbered(i, TEXT_1)})) as r:
            await r.read()
            return r.status

    return one


async def run_gsmmodem(work: Path, router: Router, quick: bool, log: Any) -> dict[str, Any]:
    res: dict[str, Any] = {}
    singles, triples = (5, 2) if quick else (300, 60)
    n_out = 20 if quick else 300
    n_line = 10 if quick else 80
    url = f"{router.url}/backend/gsmmodem/"
    log("gsmmodem peer: start-up, inbound latency, outbound")
    # the library sets TP-SRR on every PDU-mode send (requestDelivery=False notwithstanding) and its
    # notification thread fails on the resulting +CDSI storm ("Failed to parse ... +CMGR response", then
    # a hung write): reports are held back (--report-delay 3600) so its throughput can be measured at all
    quiet = ["--report-delay", "3600"]
    async with gsmmodem_peer(work, "gsmmodem", quiet, url) as (sim, proc, http, ready):
        res["ready_s"] = [ready]
        res["memory_idle_kb"] = memory_kb(proc.pid)
        await phase(res, "inbound",
                    inbound_latency(sim, router, proc.pid, singles, triples, per_triple=3), log)
        await phase(res, "outbound_e2e", outbound_run(sim, proc.pid, lambda k, t: gsmmodem_submit(http, k, t),
                                                      n_out, TEXT_1, timeout=30 + n_out / 5), log)
        await phase(res, "accept_sending", accept_while_sending(
            sim, proc.pid, gsmmodem_make(http), 1 if quick else 5, drain_timeout=60), log)
        res["memory_after_load_kb"] = memory_kb(proc.pid)
    log("gsmmodem peer: 115200-baud line")
    line_args = ["--baud", "115200", *quiet]
    async with gsmmodem_peer(work, "gsmmodem-line", line_args, url) as (sim, proc, http, _):
        await phase(res, "line", line_limit(sim, proc.pid, lambda k, t: gsmmodem_submit(http, k, t), n_line,
                                            timeout=30 + n_line), log)
    return res


# ---------------------------------------------------------------------- gammu-smsd
SMSDRC = """\
[gammu]
device = {link}
connection = at115200

[smsd]
service = files
inboxpath = {d}/inbox/
outboxpath = {d}/outbox/
sentsmspath = {d}/sent/
errorsmspath = {d}/error/
RunOnReceive = {d}/on-receive.sh
# defaults are CommTimeout 30 s and LoopSleep 1 s; 1 s / 0 s here, the fastest a user would set
CommTimeout = 1
LoopSleep = 0
ReceiveFrequency = 0
logfile = {d}/smsd.log
debuglevel = 0
PhoneID = bench
"""

ON_RECEIVE = """#!/bin/sh
# one GET per invocation, whatever number of part files gammu hands over
exec {curl} -s -o /dev/null "{url}?parts=$#&first=$1"
"""


@contextlib.asynccontextmanager
async def gammu_peer(work: Path, name: str, sim_args: list[str],
                     router_url: str) -> AsyncIterator[tuple[SimProcess, asyncio.subprocess.Process, Path]]:
    d = work / name
    for sub in ("inbox", "outbox", "sent", "error"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    script = d / "on-receive.sh"
    script.write_text(ON_RECEIVE.format(curl=CURL, url=router_url))
    script.chmod(0o755)
    async with SimProcess(d / "gsm0", "--no-noise", *sim_args, profile="generic", seed=1) as sim:
        rc = d / "smsdrc"
        rc.write_text(SMSDRC.format(link=sim.link, d=d))
        assert GAMMU_SMSD is not None
        with (d / "smsd.out").open("ab") as out:
            proc = await asyncio.create_subprocess_exec(GAMMU_SMSD, "-c", str(rc), stdout=out, stderr=out)
        try:
            yield sim, proc, rc
        finally:
            await stop_process(proc)


async def gammu_inject(rc: Path, n: int, text: str, concurrency: int = 1) -> dict[str, Any]:
    """gammu-smsd-inject, one process per message (how a site hands gammu-smsd a message)."""
    ok = 0
    it = iter(range(n))

    async def worker() -> None:
        nonlocal ok
        for i in it:
            assert GAMMU_INJECT is not None
            p = await asyncio.create_subprocess_exec(GAMMU_INJECT, "-c", str(rc), "TEXT", TO, "-text",
                                                     numbered(i, text), stdout=asyncio.subprocess.DEVNULL,
                                                     stderr=asyncio.subprocess.DEVNULL)
            ok += await p.wait() == 0

    t0 = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.monotonic() - t0
    return {"tool": "gammu-smsd-inject", "requests": n, "ok": ok, "seconds": elapsed,
            "ok_per_s": ok / elapsed}


def gammu_make(rc: Path) -> Any:
    """One gammu-smsd-inject per message, as an accept_while_sending request (0 exit = 200)."""
    async def one(_s: aiohttp.ClientSession, i: int) -> int:
        assert GAMMU_INJECT is not None
        p = await asyncio.create_subprocess_exec(GAMMU_INJECT, "-c", str(rc), "TEXT", TO, "-text",
                                                 numbered(i, TEXT_1), stdout=asyncio.subprocess.DEVNULL,
                                                 stderr=asyncio.subprocess.DEVNULL)
        return 200 if await p.wait() == 0 else 500

    return one


async def run_gammu(work: Path, router: Router, quick: bool, log: Any) -> dict[str, Any]:
    if not (GAMMU_SMSD and GAMMU_INJECT and CURL):
        return {"skipped": "gammu-smsd, gammu-smsd-inject or curl not installed"}
    res: dict[str, Any] = {}
    singles, triples = (3, 1) if quick else (40, 10)
    n_out = 5 if quick else 30
    url = f"{router.url}/backend/gammu/"
    log("gammu-smsd: inbound latency, outbound, memory")
    async with gammu_peer(work, "gammu", [], url) as (sim, proc, rc):
        # warm-up: gammu-smsd has no readiness signal; the first message proves it is reading
        base = len(router.arrivals)
        t0 = time.monotonic()
        await sim.inject_text("+254711111111", "warm-up")
        await router.wait_count(base + 1, 60)
        res["first_message_s"] = time.monotonic() - t0
        res["memory_idle_kb"] = memory_kb(proc.pid)
        await phase(res, "inbound", inbound_latency(sim, router, proc.pid, singles, triples, timeout=60), log)
        await phase(res, "outbound_e2e",
                    outbound_run(sim, proc.pid, lambda k, t: gammu_inject(rc, k, t), n_out, TEXT_1,
                                 timeout=60 + n_out * 3, children=True), log)
        res["accept"] = res["outbound_e2e"].get("accept")
        log("gammu-smsd: 200 gammu-smsd-inject from 8 workers while it sends")
        await phase(res, "accept_sending", accept_while_sending(
            sim, proc.pid, gammu_make(rc), 1, n=20 if quick else 200, drain_timeout=5 if quick else 20,
            children=True), log)
        res["memory_after_load_kb"] = memory_kb(proc.pid)
        res["cpu_total_s"] = cpu_seconds(proc.pid, children=True)
    return res


# ---------------------------------------------------------------------- the floor (reference, not a peer)
async def run_floor(work: Path, router: Router, quick: bool, log: Any) -> dict[str, Any]:
    """bench/peers/floor_bridge.py: blocking, no decoding: the inbound path's floor here, with stored
    indications (+CMTI) and direct ones (+CMT, modembridge's default), without a journal and with one
    fsync'd commit per message (the least a bridge that commits before the router hears must do);
    bench/peers/floor_gateway.py: the accept-while-sending phase's floor on modembridge's own stack."""
    singles, triples = (5, 2) if quick else (300, 60)
    d = work / "floor"
    d.mkdir(parents=True, exist_ok=True)
    res: dict[str, Any] = {}
    for key, extra in (("inbound", []), ("inbound_direct", ["--direct"]),
                       ("inbound_journal", ["--journal", str(d / "journal-cmti.db")]),
                       ("inbound_direct_journal", ["--direct", "--journal", str(d / "journal-cmt.db")])):
        what = ("+CMT" if "--direct" in extra else "+CMTI") + (", one fsync'd commit" if "--journal" in extra
                                                               else "")
        log(f"floor: inbound latency of the least a bridge can do ({what})")
        async with SimProcess(d / f"gsm-{key}", "--no-noise", profile="generic", seed=1) as sim:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, str(BENCH / "peers" / "floor_bridge.py"), "--device", str(sim.link),
                "--router-port", str(router.port), *extra, stdout=asyncio.subprocess.PIPE, env=child_env())
            try:
                assert proc.stdout is not None
                line = await asyncio.wait_for(proc.stdout.readline(), 30)
                if line.strip() != b"READY":
                    raise RuntimeError(f"floor bridge did not start: {line!r}")
                res[key] = await inbound_latency(sim, router, proc.pid, singles, triples, per_triple=3)
                res.setdefault("memory_after_load_kb", memory_kb(proc.pid))
            finally:
                await stop_process(proc)
    log("floor: sendsms accepted/s and CPU per sent message of the least durable gateway on the same stack")
    async with SimProcess(d / "gsm-gateway", "--no-noise", profile="generic", seed=1) as sim:
        res["accept_sending"] = await floor_gateway(sim, d / "gateway.db", 1 if quick else 5)
    async with SimProcess(d / "gsm-gateway-normal", "--no-noise", profile="generic", seed=1) as sim:
        res["accept_sending_normal"] = await floor_gateway(sim, d / "gateway-normal.db", 1 if quick else 5,
                                                           synchronous="NORMAL")
    log("floor: the memory of the daemon's stack alone (aiohttp server + client, sqlite3, pyserial); "
        "then with modembridge's run-path modules imported")
    for key, extra in (("stack_memory_kb", []), ("stack_code_memory_kb", ["--with-code"])):
        proc = await asyncio.create_subprocess_exec(sys.executable, str(BENCH / "peers" / "memory_floor.py"),
                                                    *extra, stdout=asyncio.subprocess.PIPE, env=child_env())
        out = (await asyncio.wait_for(proc.communicate(), 60))[0].decode().split()
        if len(out) == 4:
            res[key] = {out[0]: int(out[1]), out[2]: int(out[3])}
    log("floor: the 115200-baud line with nothing between two sends")
    async with SimProcess(d / "gsm1", "--no-noise", "--baud", "115200", profile="generic", seed=1) as sim:
        res["line"] = await floor_line(sim, 10 if quick else 80)
    return res


async def floor_gateway(sim: SimProcess, journal: Path, rounds: int, synchronous: str = "FULL"
                        ) -> dict[str, Any]:
    """bench/peers/floor_gateway.py under the accept-while-sending phase of every bridge."""
    from modembridge.sms import encode_submit

    pdu = encode_submit(TO, numbered(0, TEXT_1))[0]
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(BENCH / "peers" / "floor_gateway.py"), "--device", str(sim.link), "--port",
        str(port), "--journal", str(journal), "--pdu", pdu.hex, "--length", str(pdu.tpdu_length),
        "--synchronous", synchronous, stdout=asyncio.subprocess.PIPE, env=child_env())
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        if line.strip() != b"READY":
            raise RuntimeError(f"floor gateway did not start: {line!r}")
        return await accept_while_sending(sim, proc.pid, sendsms_make(f"http://127.0.0.1:{port}"), rounds)
    finally:
        await stop_process(proc)


async def floor_line(sim: SimProcess, n: int) -> dict[str, Any]:
    from modembridge.sms import encode_submit

    pdu = encode_submit(TO, numbered(0, TEXT_1))[0]
    procs: list[asyncio.subprocess.Process] = []

    async def submit(k: int, _text: str) -> dict[str, Any]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(BENCH / "peers" / "floor_bridge.py"), "--device", str(sim.link),
            "--router-port", "9", "--send-pdu", pdu.hex, "--send-length", str(pdu.tpdu_length),
            "--send-count", str(k), stdout=asyncio.subprocess.DEVNULL, env=child_env())
        procs.append(proc)
        return {"ok": k}

    try:
        # the floor process connects to the router only in receive mode: port 9 is never used here
        return await line_limit(sim, 0, submit, n, timeout=30 + n)
    finally:
        for proc in procs:
            await stop_process(proc)


# ---------------------------------------------------------------------- Kannel (bearerbox AT2 + smsbox)
BEARERBOX = shutil.which("bearerbox", path="/usr/sbin:/usr/local/sbin:" + os.environ.get("PATH", ""))
SMSBOX = shutil.which("smsbox", path="/usr/sbin:/usr/local/sbin:" + os.environ.get("PATH", ""))
KANNEL_USER, KANNEL_PASS = "bench", "bench-pass"

# Debian's kannel 1.4.5 as a RapidSMS site configures it: the AT2 driver on the modem, smsbox with a
# sendsms user and a catch-all sms-service whose get-url is the site's Kannel backend (max-messages = 0:
# the reply body is not sent back as an SMS). Kannel's own modem defaults: AT+CNMI=1,2,0,1,0, i.e. new
# messages come as +CMT (not stored, not acknowledged); its store file keeps queued messages.
KANNEL_CONF = """\
group = core
admin-port = {admin}
admin-password = bench
smsbox-port = {box}
box-allow-ip = "127.0.0.1"
log-file = "{d}/bearerbox.log"
log-level = 1
store-type = file
store-location = "{d}/kannel.store"

group = smsc
smsc = at
smsc-id = gsm0
modemtype = bench
device = {link}
speed = 115200
sim-buffering = false

group = modems
id = bench
name = "modembridge simulator"
init-string = "AT+CNMI=1,2,0,1,0"
speed = 115200

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {box}
sendsms-port = {sendsms}
global-sender = 12345
log-file = "{d}/smsbox.log"
log-level = 2

group = sendsms-user
username = {user}
password = {password}
max-messages = 10
concatenation = true

group = sms-service
keyword = default
catch-all = true
max-messages = 0
concatenation = true
get-url = "{router}?id=%p&text=%a&charset=%C&coding=%c"
"""


@dataclass
class Kannel:
    sim: SimProcess
    bearerbox: asyncio.subprocess.Process
    smsbox: asyncio.subprocess.Process
    http: str
    ready_s: float

    @property
    def pids(self) -> list[int]:
        return [self.bearerbox.pid, self.smsbox.pid]


@contextlib.asynccontextmanager
async def kannel_peer(work: Path, name: str, sim_args: list[str], router_url: str) -> AsyncIterator[Kannel]:
    d = work / name
    d.mkdir(parents=True, exist_ok=True)
    async with SimProcess(d / "gsm0", "--no-noise", *sim_args, profile="generic", seed=1) as sim:
        ports = {"admin": free_port(), "box": free_port(), "sendsms": free_port()}
        conf = d / "kannel.conf"
        conf.write_text(KANNEL_CONF.format(d=d, link=sim.link, router=router_url, user=KANNEL_USER,
                                           password=KANNEL_PASS, **ports))
        assert BEARERBOX is not None and SMSBOX is not None
        t0 = time.monotonic()
        procs: list[asyncio.subprocess.Process] = []
        try:
            with (d / "kannel.out").open("ab") as out:
                procs.append(await asyncio.create_subprocess_exec(BEARERBOX, str(conf), stdout=out,
                                                                  stderr=out))
                bblog = d / "bearerbox.log"
                async with asyncio.timeout(60):  # the AT2 driver opened the modem
                    while "AT SMSC successfully opened" not in (
                            bblog.read_text(errors="replace") if bblog.exists() else ""):
                        if procs[0].returncode is not None:
                            raise RuntimeError(f"bearerbox exited; see {bblog}")
                        await asyncio.sleep(0.01)
                procs.append(await asyncio.create_subprocess_exec(SMSBOX, str(conf), stdout=out, stderr=out))
            http = f"http://127.0.0.1:{ports['sendsms']}"
            async with asyncio.timeout(30), aiohttp.ClientSession() as s:
                while True:  # smsbox answers its sendsms port once it is connected to bearerbox
                    with contextlib.suppress(aiohttp.ClientError):
                        async with s.get(f"{http}/cgi-bin/sendsms") as r:
                            if r.status < 500:
                                break
                    await asyncio.sleep(0.01)
            yield Kannel(sim, procs[0], procs[1], http, time.monotonic() - t0)
        finally:
            for proc in reversed(procs):
                await stop_process(proc)


def kannel_make(http: str) -> Any:
    async def one(s: aiohttp.ClientSession, i: int) -> int:
        q = {"username": KANNEL_USER, "password": KANNEL_PASS, "to": TO, "text": numbered(i, TEXT_1)}
        async with s.get(f"{http}/cgi-bin/sendsms?" + urlencode(q)) as r:
            await r.read()
            return r.status

    return one


async def kannel_submit(http: str, n: int, text: str, concurrency: int = 8) -> dict[str, Any]:
    async def one(s: aiohttp.ClientSession, i: int) -> int:
        q = {"username": KANNEL_USER, "password": KANNEL_PASS, "to": TO, "text": numbered(i, text)}
        async with s.get(f"{http}/cgi-bin/sendsms?" + urlencode(q)) as r:
            await r.read()
            return r.status

    return await run_clients(n, concurrency, one)


async def run_kannel(work: Path, router: Router, quick: bool, log: Any) -> dict[str, Any]:
    if not (BEARERBOX and SMSBOX):
        return {"skipped": "kannel (bearerbox, smsbox) not installed"}
    res: dict[str, Any] = {}
    singles, triples = (5, 2) if quick else (300, 60)
    url = f"{router.url}/backend/kannel/"
    log("kannel: start-up, inbound latency, accepted/s while sending, CPU, memory")
    # 27.005: +CMT needs +CNMA only with +CSMS=1; Kannel stays in phase 2 (CSMS=0) and acknowledges nothing
    async with kannel_peer(work, "kannel", ["--cnma-mode", "csms1"], url) as k:
        res["ready_s"] = [k.ready_s]
        res["memory_idle_kb"] = memory_of(k.pids)
        await phase(res, "inbound", inbound_latency(k.sim, router, k.pids, singles, triples), log)
        # Kannel sends about one message per 2.3 s here: the CPU per sent message is decomposed (~20 sends
        # in the 45 s window: 10 ms ticks make that +-0.5 ms)
        await phase(res, "accept_sending", accept_while_sending(
            k.sim, k.pids, kannel_make(k.http), 1 if quick else 5, drain_timeout=5 if quick else 45), log)
        res["memory_after_load_kb"] = memory_of(k.pids)
    log("kannel: 115200-baud line")
    async with kannel_peer(work, "kannel-line", ["--baud", "115200"], url) as k:
        await phase(res, "line", line_limit(k.sim, k.pids, lambda n, t: kannel_submit(k.http, n, t),
                                            3 if quick else 6, timeout=60), log)
    return res
