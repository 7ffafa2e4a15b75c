"""A full disk under the journal, with the router failing, never costs an inbound SMS (issue 12, item 1).

While the disk is full every injected SMS is, at every instant, still in the network, on the SIM, or in a
*committed* journal row (read through a second connection, which sees only what is durable). When space
and the router come back, every one of them reaches the router and the SIM is emptied.

Two disks: a real tmpfs of a few hundred kilobytes filled to the last byte (needs root and mount), and an
injected one (DiskFullConnection: failing COMMITs and statements, SQLite's own rollbacks included), which
runs everywhere.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from modembridge.config import StoreConfig
from modembridge.sms import encode_deliver

from .conftest import Stack, wait_until
from .faults import disk_full

MESSAGES = 12  # every third one concatenated (two parts)


@dataclass
class Disk:
    """Where the journal lives and how to fill and free it."""

    path: Path
    fill: Callable[[Stack], None]
    free: Callable[[Stack], None]


def _mount_tmpfs(folder: Path, size: str) -> bool:
    if os.geteuid() != 0:
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                          capture_output=True, check=False)
    return done.returncode == 0


@pytest.fixture
def tmpfs_disk(tmp_path: Path) -> Iterator[Disk]:
    folder = tmp_path / "tmpfs"
    folder.mkdir()
    if not _mount_tmpfs(folder, "2m"):
        pytest.skip("needs root and mount(8) for a real tmpfs (the injected full disk runs anyway)")
    filler = folder / "filler"

    def fill(_stack: Stack) -> None:
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            with contextlib.suppress(OSError):  # ENOSPC: the disk is full to the last block
                while True:
                    os.write(fd, b"\0" * 4096)
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0")
        finally:
            os.close(fd)

    def free(_stack: Stack) -> None:
        filler.unlink()

    try:
        yield Disk(folder, fill, free)
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True, check=False)


@pytest.fixture
def injected_disk(tmp_path: Path) -> Disk:
    conns: dict[int, Any] = {}

    def conn(stack: Stack) -> Any:
        if id(stack.store) not in conns:
            conns[id(stack.store)] = disk_full(stack.store, statement_every=3)
        return conns[id(stack.store)]

    def fill(stack: Stack) -> None:
        conn(stack).full = True

    def free(stack: Stack) -> None:
        conn(stack).full = False

    return Disk(tmp_path, fill, free)


@pytest.fixture(params=["tmpfs", "injected"])
def disk(request: pytest.FixtureRequest) -> Disk:
    return request.getfixturevalue(f"{request.param}_disk")  # type: ignore[no-any-return]


def committed_pdus(path: Path) -> set[str]:
    """PDUs in committed journal rows: a second connection sees nothing uncommitted."""
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        return {str(row[0]).upper() for row in db.execute("SELECT pdu FROM in_part")}


async def test_no_sms_vanishes_on_a_full_disk_with_the_router_down(make_stack: Any, disk: Disk) -> None:
    journal = disk.path / "journal.db"
    stack: Stack = await make_stack(store=StoreConfig(path=str(journal)))
    stack.router.fail_all = True
    await stack.wait_ready()
    disk.fill(stack)

    sent: dict[str, list[str]] = {}  # text -> its PDUs
    start = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    for i in range(MESSAGES):
        text = f"full disk {i:02d} " + ("and a long tail " * 12 if i % 3 == 0 else "")
        pdus = encode_deliver(f"+2547110000{i:02d}", text, timestamp=start + timedelta(minutes=i),
                              concat_ref=i + 1)
        for p in pdus:
            stack.sim.inject_pdu(p.hex)
        sent[text] = [p.hex.upper() for p in pdus]
    every_pdu = {p for pdus in sent.values() for p in pdus}

    vanished: set[str] = set()

    def check() -> bool:
        """Nothing is ever gone: each PDU is in the network, on the SIM or committed in the journal."""
        e = stack.sim.e
        in_network = {item.pdu.upper() for item in e.network.queue}
        if e.network.awaiting is not None:
            in_network.add(e.network.awaiting.pdu.upper())
        on_sim = {m.pdu.upper() for box in e.storage.mems.values() for m in box.values()}
        vanished.update(every_pdu - in_network - on_sim - committed_pdus(journal))
        return bool(vanished)

    async def watch(until: Callable[[], bool], timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await stack.sim.wait_for(lambda: check() or until(), timeout)
        assert not vanished, f"{len(vanished)} PDU(s) vanished while the disk was full"

    # The whole load arrives while the disk is full; the reader fails, sweeps and fails again.
    await watch(lambda: not stack.sim.e.network.queue and stack.store.rollbacks >= 3, 15.0)
    assert not stack.sim.e.network.queue, "the network could not deliver every SMS to the modem"
    assert stack.store.rollbacks >= 3, "the disk never refused a write"
    failed = stack.store.rollbacks
    await watch(lambda: stack.store.rollbacks >= failed + 2, 15.0)  # more sweeps fail on the full disk
    assert stack.store.rollbacks >= failed + 2

    disk.free(stack)
    stack.router.fail_all = False
    await stack.router.wait(lambda: {r["text"] for r in stack.router.delivered()} >= set(sent), 30.0)
    await wait_until(lambda: not any(stack.sim.storage()["memories"].values()), 10.0)
    assert every_pdu <= committed_pdus(journal)
    # at-least-once with a stable id: a message the router saw more than once always had the same id
    ids: dict[str, set[str]] = {}
    for r in stack.router.requests:
        ids.setdefault(r["text"], set()).add(r["message_id"])
    assert all(len(v) == 1 for v in ids.values()), ids
