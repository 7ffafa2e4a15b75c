"""Load generators: wrk (Debian's, if installed) and a concurrent aiohttp client."""

from __future__ import annotations

import asyncio
import re
import shutil
import time
from pathlib import Path
from typing import Any

import aiohttp

WRK = shutil.which("wrk")


def wrk_post_script(path: Path, body: str, headers: dict[str, str]) -> Path:
    lines = ['wrk.method = "POST"', f"wrk.body = [[{body}]]"]
    lines += [f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


async def run_wrk(url: str, seconds: float, connections: int = 16, threads: int = 1,
                  script: Path | None = None) -> dict[str, Any]:
    """wrk for `seconds`; returns requests, non-2xx count, requests/s and latency percentiles (ms)."""
    assert WRK is not None
    args = [WRK, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"]
    if script is not None:
        args += ["-s", str(script)]
    proc = await asyncio.create_subprocess_exec(*args, url, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.STDOUT)
    out = (await proc.communicate())[0].decode()
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed: {out}")
    m = re.search(r"(\d+) requests in ([\d.]+)(m?s)", out)
    if not m:
        raise RuntimeError(f"cannot read wrk output: {out}")
    requests = int(m.group(1))
    elapsed = float(m.group(2)) * (0.001 if m.group(3) == "ms" else 1.0)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    lat: dict[str, float] = {}
    for p, val, unit in re.findall(r"^\s+(50|90|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M):
        lat[f"p{p}"] = float(val) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    non2xx = int(bad.group(1)) if bad else 0
    return {"tool": "wrk", "requests": requests, "non_2xx": non2xx, "seconds": elapsed,
            "ok_per_s": (requests - non2xx) / elapsed, "latency_ms": lat,
            "socket_errors": errors.group(1) if errors else ""}


async def run_clients(n: int, concurrency: int, make: Any) -> dict[str, Any]:
    """`make(session, i)` -> awaitable status code; n requests with `concurrency` in flight."""
    ok = 0
    statuses: dict[int, int] = {}
    lat: list[float] = []
    it = iter(range(n))

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal ok
        for i in it:
            t0 = time.monotonic()
            status = await make(session, i)
            lat.append(time.monotonic() - t0)
            statuses[status] = statuses.get(status, 0) + 1
            ok += 200 <= status < 300

    conn = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=conn, timeout=aiohttp.ClientTimeout(total=120)) as session:
        t0 = time.monotonic()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        elapsed = time.monotonic() - t0
    lat.sort()
    return {"tool": "aiohttp", "requests": n, "ok": ok, "statuses": statuses, "seconds": elapsed,
            "ok_per_s": ok / elapsed if elapsed else 0.0,
            "latency_ms": {"p50": lat[len(lat) // 2] * 1000, "p99": lat[int(len(lat) * 0.99)] * 1000}
            if lat else {}}
