"""/healthz after the event loop could not run: what it waited on (issue 12, item 10). A journal whose
COMMIT blocks (a frozen disk: fsfreeze) stalls the one loop; the health check cannot answer meanwhile, but
says afterwards how long and why."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from dataclasses import replace
from typing import Any

import aiohttp

from modembridge.config import HttpConfig
from modembridge.http import create_app, start_server
from modembridge.model import SendRequest
from modembridge.observe import LoopMonitor

from .conftest import Stack, wait_until


class FrozenDisk:
    """The store's connection; while `frozen`, a COMMIT blocks the thread (and so the loop) for `seconds`."""

    def __init__(self, db: sqlite3.Connection, seconds: float) -> None:
        self._db, self.seconds, self.frozen = db, seconds, False

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if self.frozen and sql.strip().upper() == "COMMIT":
            self.frozen = False
            time.sleep(self.seconds)
        return self._db.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


async def test_healthz_says_the_loop_stalled_on_a_slow_commit(make_stack: Any) -> None:
    stack: Stack = await make_stack()
    stack.bridge.loop_monitor = monitor = LoopMonitor(interval=0.05, threshold=0.5)
    watcher = asyncio.create_task(monitor.run())
    config = replace(stack.config, http=HttpConfig(listen="127.0.0.1:0"))
    runner = await start_server(create_app(config, stack.bridge, stack.bridge.metrics), config.http.listen)
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/healthz"
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(url) as resp:
                assert (resp.status, await resp.text()) == (200, "ok")
            disk = FrozenDisk(stack.store.db, 1.2)
            stack.store.db = disk  # type: ignore[assignment]
            disk.frozen = True
            await stack.bridge.submit(SendRequest(recipients=("+254711000001",), text="frozen disk"))
            await wait_until(lambda: monitor.last is not None, 5.0)  # it wakes up late, once
            async with session.get(url) as resp:
                text = await resp.text()
    finally:
        watcher.cancel()
        await runner.cleanup()
    assert resp.status == 200 and text.startswith("ok: the event loop stalled for 1.")
    took = re.search(r"a journal COMMIT took (\d+\.\d) s: the disk was slow or frozen", text)
    assert took is not None and float(took.group(1)) >= 1.2, text  # the frozen 1.2 s, plus the real commit
