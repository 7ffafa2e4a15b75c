"""``SimProcess``: the simulator as a child process (`python -m modembridge sim`), driven over its HTTP API.

For tests where the daemon is killed and restarted while the modem keeps running (or the reverse, with
``state=`` keeping the SIM). Every method is a coroutine; names mirror ``SimModem``.

    async with SimProcess(tmp_path / "gsm0", "--profile", "huawei", seed=3) as sim:
        await sim.inject_text("+254700000001", "hello")
        subs = await sim.wait_submitted(1, timeout=10)
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sys
from pathlib import Path
from typing import Any

import aiohttp

READY_RE = re.compile(r"^READY link=(\S+) control=(\S+)$")


class SimProcess:
    def __init__(self, link: str | Path, *extra_args: str, profile: str = "generic", seed: int | None = None,
                 state: str | Path | None = None, start_timeout: float = 15.0) -> None:
        self.link = Path(link)
        self.args = ["--link", str(self.link), "--profile", profile, "--control", "127.0.0.1:0"]
        if seed is not None:
            self.args += ["--seed", str(seed)]
        if state is not None:
            self.args += ["--state", str(state)]
        self.args += list(extra_args)
        self.start_timeout = start_timeout
        self.proc: asyncio.subprocess.Process | None = None
        self.control_url: str = ""
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> SimProcess:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        env = dict(os.environ)
        src = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "modembridge", "sim", *self.args,
            stdout=asyncio.subprocess.PIPE, env=env)
        assert self.proc.stdout is not None
        try:
            async with asyncio.timeout(self.start_timeout):
                while True:
                    line = (await self.proc.stdout.readline()).decode()
                    if not line:
                        raise RuntimeError("simulator exited before READY (its stderr says why)")
                    m = READY_RE.match(line.strip())
                    if m:
                        self.control_url = m.group(2)
                        break
        except BaseException:
            await self.stop()
            raise
        self._session = aiohttp.ClientSession(base_url=self.control_url,
                                              timeout=aiohttp.ClientTimeout(total=60))

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def stop(self, timeout: float = 5.0) -> int | None:
        """SIGTERM (then SIGKILL after ``timeout``); returns the exit code."""
        if self._session is not None:
            await self._session.close()
            self._session = None
        proc, self.proc = self.proc, None
        if proc is None:
            return None
        return await terminate(proc, timeout)

    # ------------------------------------------------------------------ HTTP plumbing
    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None,
                    params: dict[str, str] | None = None) -> Any:
        assert self._session is not None, "SimProcess not started"
        async with self._session.request(method, path, json=body, params=params) as resp:
            if resp.status == 408:
                raise TimeoutError(f"{method} {path}: timed out")
            if resp.status >= 400:
                raise RuntimeError(f"{method} {path}: {resp.status} {await resp.text()}")
            return await resp.json()

    # ------------------------------------------------------------------ mirror of SimModem
    async def status(self) -> dict[str, Any]:
        return dict(await self._call("GET", "/status"))

    async def inject_text(self, sender: str, text: str | None = None, **kw: Any) -> list[str]:
        body = {"sender": sender, "text": text, **kw}
        if "data" in body:
            body["data_hex"] = body.pop("data").hex()
        if "timestamp" in body:
            body["timestamp"] = body["timestamp"].isoformat()
        return list((await self._call("POST", "/inject", body))["pdus"])

    async def inject_pdu(self, pdu_hex: str, kind: str = "deliver") -> None:
        await self._call("POST", "/inject", {"pdu": pdu_hex, "kind": kind})

    async def submitted(self) -> list[dict[str, Any]]:
        return list(await self._call("GET", "/submitted"))

    async def clear_submitted(self) -> None:
        await self._call("DELETE", "/submitted")

    async def wait_submitted(self, n: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        return list(await self._call("GET", "/submitted", params={"wait": str(n), "timeout": str(timeout)}))

    async def storage(self) -> dict[str, Any]:
        return dict(await self._call("GET", "/storage"))

    async def traffic(self) -> list[dict[str, Any]]:
        return list(await self._call("GET", "/traffic"))

    async def set_unreachable(self, number: str, status: int | None = 0x41) -> None:
        if status is None:
            await self._call("DELETE", "/unreachable", {"number": number})
        else:
            await self._call("POST", "/unreachable", {"number": number, "status": status})

    async def set_registration(self, stat: int) -> None:
        await self._call("POST", "/network", {"registration": stat})

    async def set_signal(self, rssi: int) -> None:
        await self._call("POST", "/network", {"rssi": rssi})

    async def set_hang(self, on: bool = True) -> None:
        await self._call("POST", "/fault/hang", {"on": on})

    async def fail_sends(self, count: int = 1, cms: int | None = None, result: str | None = None) -> None:
        await self._call("POST", "/fault/send-error", {"count": count, "cms": cms, "result": result})

    async def set_wedged(self, on: bool = True) -> None:
        await self._call("POST", "/fault/wedge", {"on": on})

    async def set_sim_full(self, on: bool = True) -> None:
        await self._call("POST", "/fault/sim-full", {"on": on})

    async def garbage(self, n: int = 16) -> bytes:
        return bytes.fromhex((await self._call("POST", "/fault/garbage", {"bytes": n}))["hex"])

    async def restart(self) -> None:
        await self._call("POST", "/fault/restart")

    async def vanish(self, seconds: float) -> None:
        await self._call("POST", "/fault/vanish", {"seconds": seconds})


async def terminate(proc: asyncio.subprocess.Process, timeout: float = 10.0) -> int:
    """SIGTERM a child, SIGKILL it if it has not exited after `timeout` seconds; its exit code."""
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            async with asyncio.timeout(timeout):
                await proc.wait()
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
    return proc.returncode if proc.returncode is not None else -1
