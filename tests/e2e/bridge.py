"""`modembridge run` as a subprocess for end-to-end tests: config file, start, wait until it answers, stop."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from modembridge.sim.process import terminate

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class BridgeConfig:
    """The few settings an e2e test varies; everything else is modembridge's defaults."""

    port: int
    journal: Path
    router_url: str
    modem_port: str
    modem_id: str = "modem1"
    username: str = "rapidsms"
    password: str = "secret"
    api_token: str = "e2e-token"
    extra_toml: str = ""  # more sections, appended as is (e.g. "[router.retry]\ninitial = 0.2\n")

    def toml(self) -> str:
        return f"""\
[store]
path = "{self.journal}"

[http]
listen = "127.0.0.1:{self.port}"
api_token = "{self.api_token}"

[http.kannel]
username = "{self.username}"
password = "{self.password}"

[router]
url = "{self.router_url}"
format = "kannel"

[[modem]]
id = "{self.modem_id}"
port = "{self.modem_port}"
baud = 115200

{self.extra_toml}"""


class BridgeProcess:
    """`python -m modembridge run --config FILE`, its output in a log file; stop() by PID (SIGTERM)."""

    def __init__(self, config: BridgeConfig, workdir: Path) -> None:
        self.config = config
        self.config_path = workdir / "modembridge.toml"
        self.log_path = workdir / "modembridge.log"
        self.base_url = f"http://127.0.0.1:{config.port}"
        self.proc: asyncio.subprocess.Process | None = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    async def status(self) -> dict[str, Any]:
        """GET /status (modems, queues, counters) as JSON."""
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session,
            session.get(self.base_url + "/status") as resp,
        ):
            resp.raise_for_status()
            data: dict[str, Any] = await resp.json()
            return data

    async def start(self, timeout: float = 20.0) -> None:
        self.config_path.write_text(self.config.toml())
        env = dict(os.environ)
        env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        with self.log_path.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "modembridge", "run", "--config", str(self.config_path),
                "--log-level", "DEBUG",
                stdout=log, stderr=asyncio.subprocess.STDOUT, stdin=asyncio.subprocess.DEVNULL, env=env,
            )  # fmt: skip
        await self._wait_healthy(timeout)

    async def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
            while time.monotonic() < deadline:
                assert self.proc is not None
                if self.proc.returncode is not None:
                    raise RuntimeError(f"modembridge exited with {self.proc.returncode}:\n{self.log()}")
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with session.get(self.base_url + "/healthz") as resp:
                        if resp.status == 200:
                            return
                await asyncio.sleep(0.05)
        raise RuntimeError(f"modembridge did not answer /healthz within {timeout}s:\n{self.log()}")

    async def kill(self) -> int | None:
        """SIGKILL: a crash at an arbitrary instant (start() again to recover from the same journal)."""
        proc, self.proc = self.proc, None
        if proc is None:
            return None
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        return await proc.wait()

    async def stop(self, timeout: float = 15.0) -> int | None:
        proc, self.proc = self.proc, None
        if proc is None:
            return None
        return await terminate(proc, timeout)
