"""Child processes of the benchmark (router, daemon, peers) and what /proc says about them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from modembridge.sim.process import terminate

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
TICK = os.sysconf("SC_CLK_TCK")


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.pop("MODEMBRIDGE_LOG_LEVEL", None)
    # A deployed daemon starts from the bytecode its first start (or pip) cached; an environment that
    # forbids writing it would make every start compile modembridge's ~100 modules from source.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------------- /proc
def cpu_seconds(pid: int, children: bool = False) -> float:
    """utime + stime (and the waited-for children's, if asked) of a process, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # fields 14, 15 of proc(5)
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / TICK


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM, RssAnon (the process's own heap, no shared libraries) and RssFile in KiB."""
    out: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            out[name] = int(value.split()[0])
    return out


def machine() -> dict[str, Any]:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    disk = "?"
    with contextlib.suppress(OSError):
        st = os.stat(ROOT)
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            parts = line.split()
            if parts[2] == f"{os.major(st.st_dev)}:{os.minor(st.st_dev)}":
                sep = parts.index("-")
                disk = f"{parts[sep + 2]} ({parts[sep + 1]}) on {parts[4]}"
                break
    return {"nproc": os.cpu_count(), "cpu": cpu, "python": sys.version.split()[0], "disk": disk,
            "kernel": os.uname().release, "python_path": os.path.realpath(sys.executable)}


def git_state() -> dict[str, Any]:
    """The commit measured, and the files that differed from it (the daemon runs from the working tree)."""
    import subprocess

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True,
                                  timeout=10, check=False).stdout.rstrip("\n")
        except OSError:
            return ""

    dirty = [line[3:] for line in git("status", "--porcelain", "--untracked-files=no").splitlines()]
    return {"head": git("rev-parse", "--short", "HEAD"), "modified": dirty}


def summary_ms(values: list[float]) -> dict[str, float]:
    """median / p95 / p99 / max of values given in seconds, in milliseconds."""
    if not values:
        return {}
    ms = sorted(v * 1000 for v in values)

    def pct(p: float) -> float:
        return ms[min(len(ms) - 1, max(0, round(p / 100 * len(ms) + 0.5) - 1))]

    return {"n": len(ms), "median": statistics.median(ms), "p95": pct(95), "p99": pct(99), "max": ms[-1]}


# ---------------------------------------------------------------------- children
async def stop_process(proc: asyncio.subprocess.Process, timeout: float = 10.0) -> None:
    await terminate(proc, timeout)


class Router:
    """bench/router.py as a child; `arrivals` fills as requests come in."""

    def __init__(self) -> None:
        self.proc: asyncio.subprocess.Process | None = None
        self.port = 0
        self.arrivals: list[tuple[float, str, str]] = []
        self._changed = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> Router:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, str(BENCH / "router.py"), stdout=asyncio.subprocess.PIPE, env=child_env())
        assert self.proc.stdout is not None
        line = (await asyncio.wait_for(self.proc.stdout.readline(), 15)).decode()
        m = re.match(r"READY port=(\d+)", line)
        if not m:
            await stop_process(self.proc)
            raise RuntimeError(f"router did not start: {line!r}")
        self.port = int(m.group(1))
        self._reader = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        async for raw in self.proc.stdout:
            parts = raw.decode().split(" ", 3)
            if parts[0] == "ARR" and len(parts) == 4:
                self.arrivals.append((float(parts[1]), parts[2], parts[3].rstrip("\n")))
                self._changed.set()

    async def wait_count(self, n: int, timeout: float) -> None:
        async with asyncio.timeout(timeout):
            while len(self.arrivals) < n:
                self._changed.clear()
                await self._changed.wait()

    async def __aexit__(self, *exc: object) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self.proc is not None:
            await stop_process(self.proc)


@dataclass
class Daemon:
    """`modembridge run --config FILE` as a user runs it."""

    config: Path
    log: Path
    proc: asyncio.subprocess.Process | None = None
    spawned: float = 0.0
    ready_after: float = 0.0

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def start(self, http_url: str, timeout: float = 30.0) -> float:
        """Spawn and poll /readyz every 2 ms; returns seconds from spawn to the first 200."""
        self.spawned = time.monotonic()
        with self.log.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "modembridge", "run", "--config", str(self.config),
                stdout=log, stderr=log, env=child_env())
        async with aiohttp.ClientSession() as session:
            deadline = self.spawned + timeout
            while time.monotonic() < deadline:
                if self.proc.returncode is not None:
                    raise RuntimeError(f"daemon exited {self.proc.returncode}; see {self.log}")
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(f"{http_url}/readyz") as r:
                        if r.status == 200:
                            self.ready_after = time.monotonic() - self.spawned
                            return self.ready_after
                await asyncio.sleep(0.002)
        raise RuntimeError(f"daemon not ready after {timeout} s; see {self.log}")

    async def stop(self) -> None:
        if self.proc is not None:
            await stop_process(self.proc, timeout=15)
            self.proc = None


async def wait_exists(path: Path, timeout: float) -> None:
    async with asyncio.timeout(timeout):
        while not path.exists():
            await asyncio.sleep(0.01)
