"""Not a product: the least a durable SMS gateway does on modembridge's stack, to measure the floor of the
accept-while-sending figures (sendsms accepted/s, CPU per sent message) on this machine.

    python bench/peers/floor_gateway.py --device /dev/gsm0 --port 8080 --journal f.db --pdu HEX --length N

One asyncio loop, aiohttp's web server, SQLite in WAL mode with synchronous FULL (the daemon's settings).
`GET /cgi-bin/sendsms` INSERTs the text and answers 202 once its COMMIT is done; writers share a COMMIT
(one fsync) the way modembridge's journal groups them (it waits while other callbacks are ready, up to 8
loop turns). One sender takes the oldest queued row, marks it `sending`, writes `AT+CMGS=<length>` while
that mark commits, the pre-encoded PDU at the `> ` prompt once it is durable, reads to `OK` and marks it
`sent` (committed with the next write): modembridge's send path, without the rest. Nothing else: no
authentication, validation, encoding, logging, pacing, status reports or recovery (a `+CMS ERROR` would
hang it). What modembridge spends above this is its own; this is aiohttp, the fsyncs the durability
contract needs, the simulator and the pty.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sqlite3
import sys
import termios
import tty

from aiohttp import web


class Port:
    """The pty, non-blocking, read by the loop (no pyserial: less than the daemon does)."""

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(self.fd, termios.TCSANOW)
        self.buf = bytearray()
        self.changed = asyncio.Event()
        asyncio.get_running_loop().add_reader(self.fd, self._readable)

    def _readable(self) -> None:
        try:
            self.buf += os.read(self.fd, 4096)
        except BlockingIOError:
            return
        self.changed.set()

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            with contextlib.suppress(BlockingIOError):  # a full pty (rare at these sizes): try again
                view = view[os.write(self.fd, view):]

    async def read_until(self, needle: bytes) -> bytes:
        while (at := self.buf.find(needle)) < 0:
            self.changed.clear()
            await self.changed.wait()
        head = bytes(self.buf[:at + len(needle)])
        del self.buf[:at + len(needle)]
        return head

    async def cmd(self, line: str) -> bytes:
        self.write(line.encode() + b"\r")
        return await self.read_until(b"OK\r\n")


class Journal:
    """One connection; writes join the open transaction, `commit()` gives the future of its COMMIT."""

    def __init__(self, path: str, synchronous: str) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute(f"PRAGMA synchronous = {synchronous}")
        self.db.execute("CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY, recipient TEXT NOT NULL,"
                        " text TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'queued')")
        self.db.execute("CREATE INDEX IF NOT EXISTS outbox_queued ON outbox(id) WHERE state = 'queued'")
        self.open = False
        self.pending: asyncio.Future[None] | None = None

    def write(self, sql: str, args: tuple[object, ...]) -> None:
        if not self.open:
            self.db.execute("BEGIN IMMEDIATE")
            self.open = True
        self.db.execute(sql, args)

    def commit(self) -> asyncio.Future[None]:
        if self.pending is None:
            loop = asyncio.get_running_loop()
            self.pending = loop.create_future()
            loop.call_soon(self._commit, 0)
        return self.pending

    def _commit(self, turns: int) -> None:
        # modembridge's group commit: wait while other callbacks are ready (more writers join), at most
        # 8 turns (store/journal.py, GROUP_COMMIT_MAX_TURNS)
        loop = asyncio.get_running_loop()
        if turns < 8 and getattr(loop, "_ready", None):
            loop.call_soon(self._commit, turns + 1)
            return
        done, self.pending = self.pending, None
        if self.open:
            self.db.execute("COMMIT")
            self.open = False
        assert done is not None
        done.set_result(None)


async def sender(journal: Journal, port: Port, pdu: bytes, length: int, wake: asyncio.Event) -> None:
    while True:
        wake.clear()  # before the look: a request that comes after it sets it again
        row = journal.db.execute("SELECT id FROM outbox WHERE state = 'queued' ORDER BY id LIMIT 1"
                                 ).fetchone()
        if row is None:
            await journal.commit()  # the last 'sent' mark
            await wake.wait()
            continue
        journal.write("UPDATE outbox SET state = 'sending' WHERE id = ?", (row[0],))
        durable = journal.commit()
        port.write(b"AT+CMGS=%d\r" % length)  # as modembridge: the command line while the mark commits,
        await port.read_until(b"> ")
        await durable  # the PDU only once it is durable
        port.write(pdu + b"\x1a")
        await port.read_until(b"OK\r\n")
        journal.write("UPDATE outbox SET state = 'sent' WHERE id = ?", (row[0],))


async def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--device", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--journal", required=True)
    p.add_argument("--pdu", required=True, help="the PDU sent for every message (hex, SMSC octet included)")
    p.add_argument("--length", type=int, required=True, help="its TPDU length (AT+CMGS=<length>)")
    p.add_argument("--synchronous", default="FULL", choices=("FULL", "NORMAL"),
                   help="NORMAL: no fsync per COMMIT (what the durability contract costs, by difference)")
    args = p.parse_args()
    journal = Journal(args.journal, args.synchronous)
    port = Port(args.device)
    for line in ("ATE0", "AT+CMGF=0"):
        await port.cmd(line)
    wake = asyncio.Event()

    async def sendsms(request: web.Request) -> web.Response:
        q = request.query
        journal.write("INSERT INTO outbox (recipient, text) VALUES (?, ?)",
                      (q.get("to", ""), q.get("text", "")))
        await journal.commit()
        wake.set()
        return web.Response(status=202, text="0: Accepted for delivery")

    app = web.Application()
    app.router.add_get("/cgi-bin/sendsms", sendsms)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", args.port).start()
    task = asyncio.create_task(sender(journal, port, args.pdu.encode(), args.length, wake))
    sys.stdout.write("READY\n")
    sys.stdout.flush()
    await task
    return 0


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main()))
    except KeyboardInterrupt:
        sys.exit(0)
