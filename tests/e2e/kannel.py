"""What Kannel does, for tests: a sendsms stand-in server and dlr-url escape expansion."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, unquote_to_bytes

from aiohttp import web


@dataclass(frozen=True)
class SendsmsRequest:
    """One GET /cgi-bin/sendsms as received: the raw query and its decoded parameters."""

    raw_query: str
    params: list[tuple[str, bytes]]  # in order; values as bytes (text is in the sender's charset)

    def get(self, name: str) -> bytes:
        values = [v for k, v in self.params if k == name]
        assert len(values) == 1, f"{name!r} occurs {len(values)} times in {self.raw_query}"
        return values[0]

    def value(self, name: str) -> str:
        return self.get(name).decode("utf-8")

    def names(self) -> list[str]:
        return [k for k, _ in self.params]


def parse_query(raw: str) -> list[tuple[str, bytes]]:
    out: list[tuple[str, bytes]] = []
    for pair in raw.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        out.append((unquote(name.replace("+", " ")), unquote_to_bytes(value.replace("+", " "))))
    return out


@dataclass
class KannelStandIn:
    """A real aiohttp server on 127.0.0.1 answering sendsms like Kannel (202 "0: Accepted for delivery").

    status/body change the answer; `hold`, when set, is awaited before answering (to keep RapidSMS's
    request open); on_request runs first, with the request (e.g. to check what else is still open).
    """

    status: int = 202
    body: str = "0: Accepted for delivery"
    hold: asyncio.Event | None = None
    on_request: Callable[[SendsmsRequest], None] | None = None
    requests: list[SendsmsRequest] = field(default_factory=list)
    url: str = ""
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)
    _runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        raw = request.raw_path.partition("?")[2]
        req = SendsmsRequest(raw, parse_query(raw))
        if self.on_request is not None:
            self.on_request(req)
        async with self._arrived:
            self.requests.append(req)
            self._arrived.notify_all()
        if self.hold is not None:
            await self.hold.wait()
        return web.Response(status=self.status, text=self.body)

    def reset(self) -> None:
        """Back to a plain 202 server with no recorded requests (for a server shared by tests)."""
        if self.hold is not None:
            self.hold.set()
        self.status, self.body, self.hold, self.on_request = 202, "0: Accepted for delivery", None, None
        self.requests.clear()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/cgi-bin/sendsms", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/cgi-bin/sendsms"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def wait_requests(self, n: int, timeout: float = 10.0) -> list[SendsmsRequest]:
        async def enough() -> None:
            async with self._arrived:
                await self._arrived.wait_for(lambda: len(self.requests) >= n)

        await asyncio.wait_for(enough(), timeout)
        return self.requests


def expand_dlr_url(
    template: str,
    *,
    status: int,
    status_text: str,
    smsc: str,
    sms_id: str,
    date_sent: str,
    receiver: str,
) -> str:
    """Substitute Kannel's dlr-url escapes the way Kannel does (values URL-encoded).

    %d status, %A SMSC reply text, %i SMSC id, %I internal message id, %t send time
    ("YYYY-MM-DD HH:MM:SS"), %p receiver (the phone the SMS went to).
    """
    values = {
        "d": str(status),
        "A": status_text,
        "i": smsc,
        "I": sms_id,
        "t": date_sent,
        "p": receiver,
    }
    out: list[str] = []
    i = 0
    while i < len(template):
        ch = template[i]
        if ch == "%" and i + 1 < len(template) and template[i + 1] in values:
            out.append(quote(values[template[i + 1]], safe=""))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)
