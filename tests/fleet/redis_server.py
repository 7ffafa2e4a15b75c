"""A real ``redis-server`` on 127.0.0.1 for the fleet tests: its own directory and port, persistence as the
fleet requires (``appendonly yes``, ``appendfsync always``) unless told otherwise; stopped by its PID."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
from pathlib import Path

import redis.asyncio as aioredis

from tests.e2e.site import free_port

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
DURABLE = ("--appendonly", "yes", "--appendfsync", "always")


class RedisServer:
    def __init__(self, workdir: Path, *options: str, port: int | None = None) -> None:
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.options = options or DURABLE
        self.port = port or free_port()
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self, timeout: float = 10.0) -> None:
        log = open(self.dir / "redis.log", "ab")  # noqa: SIM115 (the child owns it)
        self.proc = await asyncio.create_subprocess_exec(
            REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
            "--save", "", "--daemonize", "no", *self.options, stdout=log, stderr=log)
        log.close()
        client = aioredis.Redis(port=self.port, socket_connect_timeout=0.5)
        try:
            async with asyncio.timeout(timeout):
                while True:
                    with contextlib.suppress(OSError, aioredis.ConnectionError, aioredis.BusyLoadingError):
                        if await client.ping():
                            return
                    if self.proc.returncode is not None:
                        log_text = (self.dir / "redis.log").read_text()[-500:]
                        raise RuntimeError(f"redis-server exited: {log_text}")
                    await asyncio.sleep(0.02)
        finally:
            await client.aclose()

    async def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.proc.pid, sig)
        try:
            await asyncio.wait_for(self.proc.wait(), 10)
        except TimeoutError:
            os.kill(self.proc.pid, signal.SIGKILL)
            await self.proc.wait()

    async def __aenter__(self) -> RedisServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def client(self) -> aioredis.Redis:
        return aioredis.Redis(port=self.port, decode_responses=True)
