"""`modembridge demo`: the bridge against the simulated modem, with a working config in a temporary folder.

It starts `modembridge sim` (a subprocess, like a real modem the daemon does not own), a tiny echo
router standing in for a RapidSMS site (it answers every inbound SMS by sending "echo: <text>" back
through the bridge's Kannel-compatible sendsms, from inside the inbound request, as RapidSMS's
BlockingRouter does), and the daemon itself; then prints curl lines to try.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import secrets
import socket
import sys
import tempfile
import urllib.parse
from pathlib import Path

import aiohttp
from aiohttp import web

from modembridge.app import serve, setup_logging
from modembridge.sim.profiles import PROFILES

log = logging.getLogger("modembridge.demo")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", help="working folder (default: a new temporary folder)")
    parser.add_argument("--port", type=int, default=13013, help="the bridge's HTTP port (0 = any free port)")
    parser.add_argument(
        "--router", help="URL of a real router (RapidSMS Kannel backend) instead of the echo stand-in"
    )
    parser.add_argument(
        "--profile", default="generic", help=f"simulated modem profile: {'|'.join(sorted(PROFILES))}"
    )
    parser.add_argument(
        "--exit-after",
        type=int,
        default=0,
        metavar="N",
        help="inject N test messages, wait for their echoes, then exit (0 = run until Ctrl-C)",
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(args: argparse.Namespace) -> int:
    setup_logging("INFO")
    workdir = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="modembridge-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        return asyncio.run(demo(args, workdir))
    except KeyboardInterrupt:
        return 0


class EchoRouter:
    """The RapidSMS stand-in: Kannel-format inbound view that replies through sendsms before answering."""

    def __init__(self, sendsms_url: str, username: str, password: str) -> None:
        self.sendsms_url = sendsms_url
        self.credentials = {"username": username, "password": password}
        self.received: list[tuple[str, str]] = []
        self.echoed = asyncio.Event()
        self.session: aiohttp.ClientSession | None = None

    async def inbound(self, request: web.Request) -> web.Response:
        sender, text = request.query.get("id", ""), request.query.get("text", "")
        if not text:
            return web.Response(status=400, text="empty text")
        self.received.append((sender, text))
        log.info("echo router: got %r from %s, replying", text, sender)
        assert self.session is not None
        query = urllib.parse.urlencode(
            {**self.credentials, "to": sender, "text": f"echo: {text}", "charset": "UTF-8", "coding": "0"}
        )
        async with self.session.get(f"{self.sendsms_url}?{query}") as resp:
            body = await resp.text()
        self.echoed.set()
        return web.Response(text=f"ok ({resp.status} {body.strip()})")


async def demo(args: argparse.Namespace, workdir: Path) -> int:
    port = args.port or free_port()
    router_port = free_port()
    link = workdir / "gsm0"
    username, password, token = "demo", secrets.token_hex(8), secrets.token_hex(12)
    sim = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "modembridge",
        "sim",
        "--link",
        str(link),
        "--control",
        "127.0.0.1:0",
        "--profile",
        args.profile,
        "--state",
        str(workdir / "sim-state.json"),
        stdout=asyncio.subprocess.PIPE,
    )
    assert sim.stdout is not None
    control = ""
    try:
        line = (await asyncio.wait_for(sim.stdout.readline(), 15)).decode()
        if not line.startswith("READY"):
            print(f"modembridge demo: the simulator did not start ({line.strip()!r})", file=sys.stderr)
            return 1
        control = dict(kv.split("=", 1) for kv in line.split()[1:])["control"]
        router_url = args.router or f"http://127.0.0.1:{router_port}/backend/demo/"
        config_path = workdir / "modembridge.toml"
        config_path.touch(mode=0o600)  # it holds the demo's secrets: only for its owner, as preflight asks
        config_path.chmod(0o600)
        config_path.write_text(DEMO_CONFIG.format(
            port=port, token=token, username=username, password=password, router=router_url, link=link,
            control=control))
        from modembridge.config import load_config

        config = load_config(config_path)
        echo = EchoRouter(f"http://127.0.0.1:{port}/cgi-bin/sendsms", username, password)
        async with aiohttp.ClientSession() as session:
            echo.session = session
            runner = None
            if not args.router:
                app = web.Application()
                app.router.add_get("/backend/demo/", echo.inbound)
                runner = web.AppRunner(app, access_log=None)
                await runner.setup()
                await web.TCPSite(runner, "127.0.0.1", router_port).start()
            ready, stop = asyncio.Event(), asyncio.Event()
            daemon = asyncio.create_task(serve(config, ready=ready, stop=stop))
            await asyncio.wait_for(ready.wait(), 30)
            print_banner(workdir, port, token, username, password, control)
            try:
                if args.exit_after:
                    return await self_test(session, control, echo, args.exit_after)
                await daemon
                return 0
            finally:
                stop.set()
                with contextlib.suppress(Exception):
                    await daemon
                if runner is not None:
                    await runner.cleanup()
    finally:
        if sim.returncode is None:
            sim.terminate()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(sim.wait(), 10)


async def self_test(session: aiohttp.ClientSession, control: str, echo: EchoRouter, count: int) -> int:
    """Inject `count` messages into the simulator and wait until each has been echoed back to it."""
    for i in range(count):
        async with session.post(
            f"{control}/inject", json={"sender": "+15550001111", "text": f"hello {i}"}
        ) as r:
            r.raise_for_status()
    for _ in range(600):
        async with session.get(f"{control}/submitted") as r:
            submitted = await r.json()
        items = submitted.get("messages", submitted) if isinstance(submitted, dict) else submitted
        if len(items) >= count:
            print(f"demo self-test: {count} message(s) in, {len(items)} echo(es) sent by the modem")
            return 0
        await asyncio.sleep(0.05)
    print("demo self-test: echoes did not arrive in time", file=sys.stderr)
    return 1


def print_banner(workdir: Path, port: int, token: str, username: str, password: str, control: str) -> None:
    base = f"http://127.0.0.1:{port}"
    print(
        f"""Console: {base}/ui/  (log in with the token {token} for actions)

modembridge demo is running (folder {workdir}); Ctrl-C stops it.

Send an SMS through the bridge (native API, then Kannel-style):
  curl -s -H 'Authorization: Bearer {token}' -H 'Content-Type: application/json' \\
       -d '{{"to": "+15550001111", "text": "Hello from modembridge"}}' {base}/api/v1/messages
  curl -s '{base}/cgi-bin/sendsms?username={username}&password={password}&to=%2B15550001111&text=Hi'

Make the simulated network deliver an SMS to the modem (the echo router answers it):
  curl -s -d '{{"sender": "+15550002222", "text": "ping"}}' {control}/inject
  curl -s {control}/submitted

Look around:
  curl -s {base}/status ; curl -s {base}/metrics | head ; curl -s {base}/readyz
  modembridge messages --config {workdir / "modembridge.toml"} list
""",
        flush=True,
    )


DEMO_CONFIG = """\
# Written by `modembridge demo`.
[store]
path = "modembridge.db"

[http]
listen = "127.0.0.1:{port}"
api_token = "{token}"

[http.kannel]
username = "{username}"
password = "{password}"

[router]
url = "{router}"
format = "kannel"

[[modem]]
id = "gsm0"
port = "{link}"
baud = 115200
sim_control = "{control}"
"""

if os.name != "posix":  # pragma: no cover
    raise SystemExit("modembridge demo needs a POSIX system (pseudo-terminals)")
