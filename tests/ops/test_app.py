"""The daemon as `modembridge run` starts it (modembridge.app.serve), in process against a simulated modem:
what it warns about at start and what it tells systemd (issue 12, items 5, 7 and 10)."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from modembridge import preflight
from modembridge.app import serve
from modembridge.config import load_config
from modembridge.observe import LoopMonitor
from modembridge.sim.harness import SimModem

CONFIG = """\
[store]
path = "journal.db"

[http]
listen = "127.0.0.1:{port}"
api_token = "{token}"
status_token = "{status}"

[http.kannel]
username = "rapidsms"
password = "{password}"

[[modem]]
id = "gsm0"
port = "{link}"
command_timeout = 2.0
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(folder: Path, link: Path, *, mode: int = 0o600, **values: str) -> Path:
    path = folder / "modembridge.toml"
    fields = {"port": str(free_port()), "token": "a-real-token", "status": "", "password": "", **values}
    path.write_text(CONFIG.format(link=link, **fields))
    path.chmod(mode)
    return path


# -- what it warns about -------------------------------------------------------------------------------

def test_warnings_name_each_exposure(tmp_path: Path) -> None:
    path = write_config(tmp_path, tmp_path / "gsm0", mode=0o644, token="change-me")
    path.write_text(path.read_text().replace("127.0.0.1:", "0.0.0.0:"))
    found = preflight.warnings(load_config(path, env={}), euid=0)
    text = "\n".join(found)
    assert "readable by others" in text and "http.api_token" in text  # the secret is in the file, mode 644
    assert "running as root" in text
    assert "http.api_token is the example's 'change-me'" in text
    assert "/status and /metrics are open on 0.0.0.0" in text
    assert "http.kannel.password is empty: /cgi-bin/sendsms is disabled" in text


def test_a_careful_setup_gets_no_warning(tmp_path: Path) -> None:
    path = write_config(tmp_path, tmp_path / "gsm0", mode=0o600, password="a-real-password")
    assert preflight.warnings(load_config(path, env={}), euid=1000) == []
    os.chmod(path, 0o644)  # readable by others, but every secret comes from the environment
    path.write_text(path.read_text().replace('api_token = "a-real-token"', 'api_token = ""')
                    .replace('password = "a-real-password"', 'password = ""'))
    env = {"MODEMBRIDGE_HTTP_API_TOKEN": "t0ken", "MODEMBRIDGE_HTTP_KANNEL_PASSWORD": "pw"}
    assert preflight.warnings(load_config(path, env=env), euid=1000) == []


# -- the daemon ------------------------------------------------------------------------------------------

@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify.sock"))
    sock.setblocking(False)
    old = {k: os.environ.get(k) for k in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")}
    os.environ.update(NOTIFY_SOCKET=str(tmp_path / "notify.sock"), WATCHDOG_USEC="300000",
                      WATCHDOG_PID=str(os.getpid()))
    yield sock
    for key, value in old.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    sock.close()


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    """serve() on a simulated modem; yields its config path, base URL and the stop event."""
    async with SimModem(tmp_path / "gsm0", seed=1, control=None) as sim:
        path = write_config(tmp_path, sim.link, password="a-real-password")
        config = load_config(path, env={})
        ready, stop = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(serve(config, ready=ready, stop=stop))
        await asyncio.wait_for(ready.wait(), 30)
        yield {"config": config, "base": f"http://{config.http.listen}", "stop": stop, "task": task}
        stop.set()
        assert await asyncio.wait_for(task, 30) == 0


async def datagrams(sock: socket.socket, until: str, timeout: float = 5.0) -> list[str]:
    loop = asyncio.get_running_loop()
    seen: list[str] = []
    async with asyncio.timeout(timeout):
        while until not in seen:
            seen.append((await loop.sock_recv(sock, 256)).decode())
    return seen


async def test_systemd_hears_ready_watchdog_pings_and_stopping(notify_socket: socket.socket,
                                                              running: dict[str, Any]) -> None:
    seen = await datagrams(notify_socket, "READY=1")
    seen += await datagrams(notify_socket, "WATCHDOG=1")
    seen += await datagrams(notify_socket, "WATCHDOG=1")  # again: pinged from the running loop
    running["stop"].set()
    assert await asyncio.wait_for(running["task"], 30) == 0
    seen += await datagrams(notify_socket, "STOPPING=1")
    assert seen.index("READY=1") < seen.index("WATCHDOG=1") < seen.index("STOPPING=1")


async def test_the_daemon_says_at_start_what_its_settings_expose(tmp_path: Path,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    async with SimModem(tmp_path / "gsm0", seed=1, control=None) as sim:
        path = write_config(tmp_path, sim.link, mode=0o644, token="change-me")
        ready, stop = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(serve(load_config(path, env={}), ready=ready, stop=stop))
        await asyncio.wait_for(ready.wait(), 30)
        stop.set()
        assert await asyncio.wait_for(task, 30) == 0
    assert "readable by others" in caplog.text and "'change-me'" in caplog.text
    assert "/cgi-bin/sendsms is disabled" in caplog.text


async def test_a_stall_of_the_event_loop_is_measured() -> None:
    monitor = LoopMonitor(interval=0.05, threshold=0.5)
    task = asyncio.create_task(monitor.run())
    await asyncio.sleep(0)  # the monitor is asleep now, due in 0.05 s
    time.sleep(0.8)  # what an fsync on a frozen disk does to the one loop
    async with asyncio.timeout(5):
        while monitor.last is None:  # it wakes up late, once
            await asyncio.sleep(0.01)
    task.cancel()
    assert 0.7 <= monitor.last.seconds <= 2.0


def test_run_hides_what_the_imports_made_from_the_garbage_collector(tmp_path: Path) -> None:
    """`modembridge run` freezes the objects its imports made before the loop starts, so a full collection
    (a pause of the one loop) walks only what the daemon makes at run time."""
    config = write_config(tmp_path, tmp_path / "no-modem")
    probe = (
        "import gc, sys, modembridge.app as app\n"
        "async def serve(config):\n"
        "    print(gc.get_freeze_count(), len(gc.get_objects()), 'modembridge.bridge' in sys.modules)\n"
        "    return 0\n"
        "app.serve = serve\n"
        "from modembridge.cli import main\n"
        f"sys.exit(main(['run', '--config', {str(config)!r}]))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr
    frozen, tracked, bridge_loaded = done.stdout.split()
    assert bridge_loaded == "True" and int(frozen) > 20_000 and int(tracked) < int(frozen) // 5
