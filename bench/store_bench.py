"""Journal throughput: durable accepts/s (add_outbound + commit) with synchronous FULL vs NORMAL, with and
without group commit; claim/mark rates of the send path; inbound journalling and delivery marking.

    .venv/bin/python bench/store_bench.py [--dir DIR] [--count N] [--clients C]

DIR must be on the disk the daemon will use (tmpfs makes every fsync free). Prints a markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from modembridge.model import SendRequest
from modembridge.store import PartFields, Store

Sync = Literal["FULL", "NORMAL"]


def _request(i: int) -> tuple[SendRequest, dict[str, list[tuple[str, int]]]]:
    number = f"+2547{i % 100_000_000:08d}"
    pdu = "0011000C915247" + f"{i:016X}" + "0000AA05E8329BFD06"
    request = SendRequest(recipients=(number,), text="hello world", client_id=f"bench-{i}")
    return request, {number: [(pdu, 20)]}


def _fresh(folder: Path, name: str, sync: Sync) -> Store:
    path = folder / f"{name}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return Store(path, synchronous=sync)


def accepts_serial(folder: Path, sync: Sync, count: int) -> float:
    """One accept, one COMMIT: what a server without group commit can do."""
    store = _fresh(folder, f"serial-{sync}", sync)
    t0 = time.perf_counter()
    for i in range(count):
        req, pdus = _request(i)
        store.outbox.add(req, pdus, encoding="gsm7", now=time.time(), expires_at=None)
        store.commit_now()
    rate = count / (time.perf_counter() - t0)
    store.close()
    return rate


def accepts_grouped(folder: Path, sync: Sync, count: int, clients: int) -> tuple[float, float]:
    """`clients` concurrent requests in one loop, each awaiting commit(). Returns (accepts/s, per COMMIT)."""
    store = _fresh(folder, f"group-{sync}", sync)

    async def client(k: int) -> None:
        for i in range(k, count, clients):
            req, pdus = _request(i)
            store.outbox.add(req, pdus, encoding="gsm7", now=time.time(), expires_at=None)
            await store.commit()

    async def main() -> float:
        t0 = time.perf_counter()
        await asyncio.gather(*(client(k) for k in range(clients)))
        return time.perf_counter() - t0

    elapsed = asyncio.run(main())
    per_commit = count / max(1, store.commits)
    store.close()
    return count / elapsed, per_commit


def send_path(folder: Path, sync: Sync, count: int) -> tuple[float, float]:
    """Per part: claim, mark_sending + COMMIT (before AT+CMGS), mark_sent + COMMIT. Returns
    (parts/s with the two commits, parts/s of the statements alone)."""
    store = _fresh(folder, f"send-{sync}", sync)
    for i in range(2 * count):
        req, pdus = _request(i)
        store.outbox.add(req, pdus, encoding="gsm7", now=0.0, expires_at=None)
    store.commit_now()

    def run(commit: Callable[[], None]) -> float:
        t0 = time.perf_counter()
        for _ in range(count):
            part = store.outbox.claim_next_part("gsm0", 1.0)
            assert part is not None
            store.outbox.mark_sending(part.part_id, 1.0)
            commit()
            store.outbox.mark_sent(part.part_id, 1, 1.0)
            commit()
        return count / (time.perf_counter() - t0)

    durable = run(store.commit_now)
    statements = run(lambda: None)
    store.commit_now()
    store.close()
    return durable, statements


def inbound_path(folder: Path, sync: Sync, count: int) -> tuple[float, float]:
    """add_inbound_part + COMMIT per PDU (before CMGD); then due_inbound(50) + mark delivered + COMMIT."""
    store = _fresh(folder, f"in-{sync}", sync)
    t0 = time.perf_counter()
    for i in range(count):
        part = PartFields(sender=f"+2547{i % 1000:08d}", text="hi", encoding="gsm7")
        store.inbox.add_part(modem_id="gsm0", mem="SM", index=i % 50, pdu=f"07{i:020X}", received_at=1.0,
                               part=part, error=None)
        store.commit_now()
    journal = count / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    done = 0
    while done < count:
        batch = store.inbox.due(2.0, 50)
        assert batch
        for m in batch:
            store.inbox.mark_delivered(m.message_id, 2.0)
        store.commit_now()
        done += len(batch)
    deliver = count / (time.perf_counter() - t0)
    store.close()
    return journal, deliver


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--dir", type=Path, default=None,
                    help="folder for the journal files (default: a temp dir here, removed afterwards)")
    ap.add_argument("--count", type=int, default=2000, help="operations per case")
    ap.add_argument("--clients", type=int, default=64, help="concurrent requests for the group-commit case")
    args = ap.parse_args()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="store-bench-", dir=os.getcwd()))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        print(f"# store_bench: {platform.platform()}, Python {platform.python_version()}, "
              f"SQLite {__import__('sqlite3').sqlite_version}, {os.cpu_count()} CPUs, dir {folder}\n")
        print("| case | FULL | NORMAL |")
        print("|---|---:|---:|")
        rows: dict[str, dict[str, str]] = {}
        modes: tuple[Sync, ...] = ("FULL", "NORMAL")
        for s in modes:
            sync = str(s)
            serial = accepts_serial(folder, s, args.count)
            rows.setdefault("durable accepts/s, one COMMIT each", {})[sync] = f"{serial:,.0f}"
            rate, per = accepts_grouped(folder, s, args.count, args.clients)
            rows.setdefault(f"durable accepts/s, group commit ({args.clients} concurrent)", {})[sync] = (
                f"{rate:,.0f} ({per:.0f}/COMMIT)")
            durable, statements = send_path(folder, s, args.count // 2)
            rows.setdefault("send path parts/s (claim, 2 COMMITs)", {})[sync] = f"{durable:,.0f}"
            rows.setdefault("send path parts/s (statements only)", {})[sync] = f"{statements:,.0f}"
            journal, deliver = inbound_path(folder, s, args.count)
            rows.setdefault("inbound parts journalled/s (COMMIT each)", {})[sync] = f"{journal:,.0f}"
            rows.setdefault("inbound delivered/s (batches of 50)", {})[sync] = f"{deliver:,.0f}"
        for case, values in rows.items():
            print(f"| {case} | {values['FULL']} | {values['NORMAL']} |")
    finally:
        if args.dir is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
