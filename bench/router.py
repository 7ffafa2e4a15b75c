"""A minimal router (stands in for a RapidSMS site): answers every HTTP request `200 ok` at once.

Run as a child process: `python bench/router.py [--port 0]` prints `READY port=N`, then one line per
request, `ARR <time.monotonic()> <method> <target>`, flushed. CLOCK_MONOTONIC is one clock for every
process of a Linux machine, the same clock the simulator stamps its traffic log with (asyncio loop
time), so arrival minus URC emission is a latency across processes.

Raw asyncio (no framework): the arrival stamp is taken when the first bytes of a request are read.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"


class RouterProtocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.buf = b""
        self.started: float | None = None
        self.need: int | None = None  # bytes of the whole request (head + body) once the head is parsed
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if not self.buf:
            self.started = time.monotonic()
        self.buf += data
        while True:
            if self.need is None:
                end = self.buf.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = self.buf[:end].decode("latin-1")
                length = 0
                for line in head.split("\r\n")[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value.strip())
                self.need = end + 4 + length
            if len(self.buf) < self.need:
                return
            head_line = self.buf.split(b"\r\n", 1)[0].decode("latin-1")
            method, _, rest = head_line.partition(" ")
            target = rest.rsplit(" ", 1)[0]
            sys.stdout.write(f"ARR {self.started:.6f} {method} {target}\n")
            sys.stdout.flush()
            assert self.transport is not None
            self.transport.write(RESPONSE)
            self.buf = self.buf[self.need:]
            self.need = None
            self.started = time.monotonic() if self.buf else None
            if not self.buf:
                return


async def main(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(RouterProtocol, "127.0.0.1", port)
    real = server.sockets[0].getsockname()[1]
    sys.stdout.write(f"READY port={real}\n")
    sys.stdout.flush()
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(parser.parse_args().port))
