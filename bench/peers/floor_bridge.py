"""Not a product: the least work a bridge can do, to measure the floor of the inbound path on this machine.

    python bench/peers/floor_bridge.py --device /dev/gsm0 --router-port 8000   # prints READY

Blocking I/O, one thread, no journal, no decoding: on `+CMTI: "SM",n` it writes AT+CMGR=n, reads to OK,
GETs the router (one keep-alive socket), writes AT+CMGD=n; with --direct, on `+CMT` it GETs the router and
writes AT+CNMA. Whatever modembridge spends above this
floor is its own; the floor itself is the simulator, the pty and the loopback HTTP hop. With
--journal FILE it also does what durability costs at the least: the raw answer INSERTed into an SQLite
file (WAL, synchronous FULL, the daemon's settings) and COMMITted (one fsync) before the router is asked.
With --send-count it sends one pre-encoded PDU back to back instead: the floor of the outbound line.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import sqlite3
import sys
import termios
import tty

CMTI = re.compile(rb'\+CMTI: "(\w+)",(\d+)')
CMT = re.compile(rb"\+CMT: [^\r]*\r\n([0-9A-Fa-f]+)\r\n")


class Port:
    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(self.fd, termios.TCSANOW)
        self.buf = b""

    def read_until(self, needle: bytes) -> bytes:
        while needle not in self.buf:
            self.buf += os.read(self.fd, 4096)
        head, _, self.buf = self.buf.partition(needle)
        return head + needle

    def cmd(self, line: str) -> bytes:
        os.write(self.fd, line.encode() + b"\r")
        return self.read_until(b"OK\r\n")


class Journal:
    """The least a durable bridge writes: one row per message, committed with an fsync (WAL, FULL)."""

    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = FULL")
        self.db.execute("CREATE TABLE IF NOT EXISTS inbox (id INTEGER PRIMARY KEY, raw BLOB NOT NULL)")

    def store(self, raw: bytes) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        self.db.execute("INSERT INTO inbox (raw) VALUES (?)", (raw,))
        self.db.execute("COMMIT")


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--device", required=True)
    p.add_argument("--router-port", type=int, required=True)
    p.add_argument("--path", default="/backend/floor/")
    p.add_argument("--send-pdu", default="", help="send mode: this PDU (hex, SMSC octet included) ...")
    p.add_argument("--send-length", type=int, default=0, help="... with this TPDU length ...")
    p.add_argument("--send-count", type=int, default=0, help="... this many times back to back, then exit")
    p.add_argument("--direct", action="store_true", help="+CMT (AT+CSMS=1, AT+CNMI=2,2): GET, then AT+CNMA")
    p.add_argument("--journal", default="", help="commit each message to this SQLite file before the GET")
    args = p.parse_args()
    journal = Journal(args.journal) if args.journal else None
    port = Port(args.device)
    cnmi = ("AT+CSMS=1", "AT+CNMI=2,2,0,0,0") if args.direct else ("AT+CNMI=2,1,0,0,0",)
    for line in ("ATE0", "AT+CMGF=0", 'AT+CPMS="SM","SM","SM"', *cnmi):
        port.cmd(line)
    port.buf = b""
    if args.send_count:
        # the line's floor: nothing between +CMGS/OK and the next AT+CMGS but two writes
        for _ in range(args.send_count):
            os.write(port.fd, f"AT+CMGS={args.send_length}\r".encode())
            port.read_until(b"> ")
            os.write(port.fd, args.send_pdu.encode() + b"\x1a")
            port.read_until(b"OK\r\n")
        return 0
    http = socket.create_connection(("127.0.0.1", args.router_port))
    http.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sys.stdout.write("READY\n")
    sys.stdout.flush()
    n = 0
    while args.direct:  # the PDU comes inside +CMT: one GET, then the acknowledgement
        m = CMT.search(port.buf)
        while m is None:
            port.buf += os.read(port.fd, 4096)
            m = CMT.search(port.buf)
        port.buf = port.buf[m.end():]
        n += 1
        if journal is not None:
            journal.store(m.group(1))
        http.sendall(f"GET {args.path}?n={n} HTTP/1.1\r\nHost: r\r\n\r\n".encode())
        reply = b""
        while b"\r\n\r\nok" not in reply:
            reply += http.recv(4096)
        port.cmd("AT+CNMA")
    while True:
        m = CMTI.search(port.buf)
        while m is None:
            port.buf += os.read(port.fd, 4096)
            m = CMTI.search(port.buf)
        port.buf = port.buf[m.end():]
        index = m.group(2).decode()
        answer = port.cmd(f"AT+CMGR={index}")
        n += 1
        if journal is not None:
            journal.store(answer)
        http.sendall(f"GET {args.path}?n={n} HTTP/1.1\r\nHost: r\r\n\r\n".encode())
        reply = b""
        while b"\r\n\r\nok" not in reply:
            reply += http.recv(4096)
        port.cmd(f"AT+CMGD={index}")

if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(0)
