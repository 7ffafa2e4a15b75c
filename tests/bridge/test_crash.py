"""The no-loss contract under kill -9: a continuous inbound and outbound load, the daemon killed at random
moments and restarted on the same journal while the simulated modem (and its SIM) keeps running.

At the end every message injected into the modem reached the router at least once, and every send the
daemon accepted (HTTP 202) reached the modem at least once. Duplicates are allowed (at-least-once) and
reported; set MODEMBRIDGE_CRASH_KILLS to run longer."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import os
import random
import sqlite3
import urllib.parse
from pathlib import Path

import aiohttp
import pytest

from modembridge.sim.process import SimProcess
from tests.e2e.bridge import BridgeConfig, BridgeProcess
from tests.e2e.site import free_port

from .conftest import Router

pytestmark = pytest.mark.slow

KILLS = int(os.environ.get("MODEMBRIDGE_CRASH_KILLS", "8"))


async def _load(
    sim: SimProcess, bridge: BridgeProcess, stop: asyncio.Event, injected: list[str], accepted: list[str]
) -> None:
    """Alternate inbound injections and outbound sends until stopped; records what must arrive."""
    n = 0
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        while not stop.is_set():
            n += 1
            text = f"in-{n}"
            await sim.inject_text(f"+25470{n % 7:07d}", text)
            injected.append(text)
            query = urllib.parse.urlencode(
                {"username": "rapidsms", "password": "secret", "to": f"+25471{n % 5:07d}", "text": f"out-{n}"}
            )
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with session.get(f"{bridge.base_url}/cgi-bin/sendsms?{query}") as resp:
                    if resp.status == 202:
                        accepted.append(f"out-{n}")
            await asyncio.sleep(0.01)


async def test_kill_9_at_random_moments_loses_nothing(tmp_path: Path, router: Router) -> None:
    rng = random.Random(20261128)
    async with SimProcess(tmp_path / "gsm0", seed=1, state=tmp_path / "sim.json") as sim:
        bridge = BridgeProcess(
            BridgeConfig(
                port=free_port(),
                journal=tmp_path / "journal.db",
                router_url=f"{router.url}/backend/kannel/",
                modem_port=str(tmp_path / "gsm0"),
                extra_toml='[outbound]\nunknown_policy = "resend"\n'
                "[router.retry]\ninitial = 0.05\ncap = 0.5\n",
            ),
            tmp_path,
        )
        await bridge.start()
        injected: list[str] = []
        accepted: list[str] = []
        stop = asyncio.Event()
        load = asyncio.create_task(_load(sim, bridge, stop, injected, accepted))
        try:
            for _ in range(KILLS):
                await asyncio.sleep(rng.uniform(0.1, 0.6))  # the crash instant is the experiment's variable
                await bridge.kill()
                await bridge.start()
            await asyncio.sleep(0.3)
        finally:
            stop.set()
            await load

        async def submitted_texts() -> list[str]:
            return [str(r["text"]) for r in await sim.submitted()]

        await router.wait(lambda: set(injected) <= {r["text"] for r in router.delivered()}, timeout=60)
        seen_out: list[str] = []
        for _ in range(600):
            seen_out = await submitted_texts()
            if set(accepted) <= set(seen_out):
                break
            await asyncio.sleep(0.1)
        assert set(accepted) <= set(seen_out), sorted(set(accepted) - set(seen_out))[:10]
        assert await bridge.stop() == 0

    with sqlite3.connect(tmp_path / "journal.db") as db:
        unknown_resent = db.execute(
            "SELECT count(*) FROM out_part WHERE resent_after_unknown = 1"
        ).fetchone()[0]
    in_counts = collections.Counter(r["text"] for r in router.delivered())
    out_counts = collections.Counter(seen_out)
    summary = {
        "kills": KILLS,
        "inbound_injected": len(injected),
        "outbound_accepted": len(accepted),
        "inbound_duplicates": sum(c - 1 for c in in_counts.values() if c > 1),
        "outbound_duplicates": sum(c - 1 for c in out_counts.values() if c > 1),
        "unknown_parts_resent": unknown_resent,
    }
    (tmp_path / "crash-summary.json").write_text(json.dumps(summary))
    print("crash test:", json.dumps(summary))
    assert len(injected) > KILLS and len(accepted) > KILLS  # the load really ran across the crashes
