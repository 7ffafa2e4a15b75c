"""A fleet host for tests: `modembridge run` with [fleet], and a `modembridge sim` child process per modem.

    host = FleetHost(tmp_path, "a", redis.url, router.url, modems=2, send_delay=0.1)
    await host.start()
    status = await host.sendsms("+254711000001", "hi")   # 202
    texts = await host.submitted_texts()                  # what its modems sent
"""

from __future__ import annotations

import contextlib
import json
import urllib.parse
from pathlib import Path
from typing import Any

import aiohttp

from modembridge.sim.process import SimProcess
from tests.e2e.bridge import BridgeConfig, BridgeProcess
from tests.e2e.site import free_port


class FleetHost:
    def __init__(self, tmp: Path, name: str, redis_url: str, router_url: str, *, modems: int = 1,
                 send_delay: float = 0.0, lease: float = 1.0, policy: str = "fail", extra: str = "") -> None:
        self.name = name
        self.dir = tmp / f"host-{name}"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.modem_ids = [f"{name}{i}" for i in range(modems)]
        sim_args = ["--send-delay", str(send_delay)] if send_delay else []
        self.sims = [SimProcess(self.dir / f"{mid}.pty", *sim_args, seed=i + 1,
                                state=self.dir / f"{mid}.json") for i, mid in enumerate(self.modem_ids)]
        more = "".join(f'[[modem]]\nid = "{mid}"\nport = "{self.dir / (mid + ".pty")}"\n\n'
                       for mid in self.modem_ids[1:])
        self.bridge = BridgeProcess(BridgeConfig(
            port=free_port(), journal=self.dir / "journal.db", router_url=f"{router_url}/backend/kannel/",
            modem_port=str(self.dir / f"{self.modem_ids[0]}.pty"), modem_id=self.modem_ids[0],
            extra_toml=more + f'[fleet]\nredis_url = "{redis_url}"\nhost_id = "{name}"\n'
            f"lease_seconds = {lease}\n"
            f'[outbound]\nunknown_policy = "{policy}"\n[outbound.retry]\ninitial = 0.2\ncap = 1.0\n'
            "[router.retry]\ninitial = 0.05\ncap = 0.5\n" + extra), self.dir)
        self.url = self.bridge.base_url

    async def start(self, *, sims: bool = True) -> None:
        if sims:
            for sim in self.sims:
                await sim.start()
        await self.bridge.start()

    async def stop(self) -> None:
        await self.bridge.stop()
        for sim in self.sims:
            await sim.stop()

    async def sendsms(self, to: str, text: str, **params: str) -> int:
        query = urllib.parse.urlencode({"username": "rapidsms", "password": "secret", "to": to, "text": text,
                                        **params})
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as s, \
                s.get(f"{self.url}/cgi-bin/sendsms?{query}") as resp:
            return resp.status

    async def post(self, body: dict[str, Any], key: str | None = None) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": "Bearer e2e-token", **({"Idempotency-Key": key} if key else {})}
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as s, \
                s.post(f"{self.url}/api/v1/messages", json=body, headers=headers) as resp:
            return resp.status, await resp.json()

    async def get(self, path: str) -> tuple[int, str]:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as s, \
                s.get(self.url + path) as resp:
            return resp.status, await resp.text()

    async def fleet_status(self) -> dict[str, Any]:
        status, text = await self.get("/status?fleet=1")
        assert status == 200, text
        data: dict[str, Any] = json.loads(text)
        return data

    async def submitted_texts(self) -> list[str]:
        """Every text this host's modems sent, in the order each modem sent them."""
        out: list[str] = []
        for sim in self.sims:
            with contextlib.suppress(aiohttp.ClientError):
                out += [str(s.get("text")) for s in await sim.submitted()]
        return out
