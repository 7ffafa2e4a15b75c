"""RouterClient and DlrClient against real aiohttp receivers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from modembridge.config import DlrConfig, RouterConfig
from modembridge.http import DlrClient, HttpTransport, RouterClient
from modembridge.http.callbacks import CallbackPolicy
from modembridge.model import DeliveryOutcome, DeliveryReportEvent, DlrStatus, InboundMessage
from modembridge.observe import Metrics

WHEN = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
MSG = InboundMessage(
    message_id="in-0001", sender="+254700000001", text="Hi there+ & café ✓ 😀", modem_id="m1",
    received_at=WHEN, smsc_timestamp=datetime(2026, 3, 4, 5, 6, 0, tzinfo=UTC), parts=2, total_parts=2,
    encoding="ucs2", smsc="+254722000000",
)


@dataclass
class Seen:
    method: str
    raw_path: str
    headers: dict[str, str]
    body: bytes

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.raw_path).query, keep_blank_values=True)


@dataclass
class Receiver:
    """A test router: records every request and answers `status` (or runs `hook`)."""

    url: str = ""
    status: int = 200
    seen: list[Seen] = field(default_factory=list)
    hook: Callable[[web.Request], Awaitable[None]] | None = None

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append(Seen(request.method, request.raw_path, dict(request.headers), await request.read()))
        if self.hook is not None:
            await self.hook(request)
        return web.Response(status=self.status, text="" if self.status < 400 else "form failed to validate")


@pytest.fixture
async def receiver(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> Receiver:
    rec = Receiver()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", rec.handle)
    server = await aiohttp_server(app)
    rec.url = str(server.make_url("/backend/kannel-fake-smsc/"))
    return rec


@pytest.fixture
async def http() -> AsyncIterator[HttpTransport]:
    transport = HttpTransport()
    yield transport
    await transport.close()


def router(url: str, **kw: Any) -> RouterConfig:
    return RouterConfig(url=url, **kw)


async def test_kannel_format(receiver: Receiver, http: HttpTransport) -> None:
    result = await RouterClient(router(receiver.url), http).deliver(MSG)
    assert result.outcome is DeliveryOutcome.DELIVERED and result.status == 200
    seen = receiver.seen[0]
    assert seen.method == "GET"
    assert seen.raw_path.startswith("/backend/kannel-fake-smsc/?id=%2B254700000001&text=")
    assert seen.query == {"id": ["+254700000001"], "text": [MSG.text]}
    assert "%2B" in seen.raw_path.split("text=")[1]  # the '+' in the text too
    assert seen.headers["X-Message-Id"] == "in-0001"


async def test_kannel_format_keeps_existing_query(receiver: Receiver, http: HttpTransport) -> None:
    await RouterClient(router(receiver.url + "?backend=x&k=a%26b"), http).deliver(MSG)
    want = {"backend": ["x"], "k": ["a&b"], "id": ["+254700000001"], "text": [MSG.text]}
    assert receiver.seen[0].query == want


async def test_generic_format(receiver: Receiver, http: HttpTransport) -> None:
    cfg = router(receiver.url, format="generic", identity_field="from", text_field="msg")
    result = await RouterClient(cfg, http).deliver(MSG)
    assert result.outcome is DeliveryOutcome.DELIVERED
    seen = receiver.seen[0]
    assert seen.method == "POST"
    assert seen.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert parse_qs(seen.body.decode()) == {"from": ["+254700000001"], "msg": [MSG.text],
                                            "encoding": [MSG.encoding]}
    assert seen.headers["X-Message-Id"] == "in-0001"


async def test_json_format(receiver: Receiver, http: HttpTransport) -> None:
    await RouterClient(router(receiver.url, format="json"), http).deliver(MSG)
    body = json.loads(receiver.seen[0].body)
    assert body == {
        "message_id": "in-0001", "sender": "+254700000001", "text": MSG.text, "modem_id": "m1",
        "received_at": "2026-03-04T05:06:07+00:00", "smsc_timestamp": "2026-03-04T05:06:00+00:00",
        "parts": 2, "total_parts": 2, "encoding": "ucs2", "incomplete": False, "smsc": "+254722000000",
        "data_hex": None, "udh": [], "ports": None, "message_class": None, "pid": 0,
    }


def _verify(secret: str, seen: Seen, payload: bytes) -> bool:
    ts = seen.headers["X-Timestamp"]
    mac = hmac.new(secret.encode(), ts.encode() + b"." + payload, hashlib.sha256).hexdigest()
    return hmac.compare_digest(seen.headers["X-Signature"], "sha256=" + mac)


@pytest.mark.parametrize("fmt", ["kannel", "generic", "json"])
async def test_hmac_signature(receiver: Receiver, http: HttpTransport, fmt: str) -> None:
    cfg = router(receiver.url, format=fmt, hmac_secret="k3y")
    await RouterClient(cfg, http, clock=lambda: 1_700_000_000.9).deliver(MSG)
    seen = receiver.seen[0]
    assert seen.headers["X-Timestamp"] == "1700000000"
    payload = seen.body if fmt != "kannel" else urlsplit(seen.raw_path).query.encode()
    assert _verify("k3y", seen, payload)
    assert not _verify("other", seen, payload)


async def test_no_signature_without_secret(receiver: Receiver, http: HttpTransport) -> None:
    await RouterClient(router(receiver.url), http).deliver(MSG)
    headers = receiver.seen[0].headers
    assert "X-Signature" not in headers and "X-Timestamp" not in headers


@pytest.mark.parametrize(("status", "outcome"), [
    (200, DeliveryOutcome.DELIVERED), (201, DeliveryOutcome.DELIVERED), (204, DeliveryOutcome.DELIVERED),
    (400, DeliveryOutcome.REJECTED), (404, DeliveryOutcome.REJECTED), (403, DeliveryOutcome.REJECTED),
    (408, DeliveryOutcome.RETRY), (429, DeliveryOutcome.RETRY),
    (500, DeliveryOutcome.RETRY), (502, DeliveryOutcome.RETRY), (503, DeliveryOutcome.RETRY),
])
async def test_status_classification(
    receiver: Receiver, http: HttpTransport, status: int, outcome: DeliveryOutcome
) -> None:
    receiver.status = status
    metrics = Metrics()
    result = await RouterClient(router(receiver.url), http, metrics).deliver(MSG)
    assert (result.outcome, result.status) == (outcome, status)
    assert result.detail.startswith(f"HTTP {status}")
    line = f'modembridge_router_deliveries_total{{outcome="{outcome.value}"}} 1.0'
    assert line.encode() in metrics.render()


async def test_timeout_is_retry(receiver: Receiver, http: HttpTransport) -> None:
    release = asyncio.Event()

    async def stall(_: web.Request) -> None:
        await release.wait()

    receiver.hook = stall
    try:
        result = await RouterClient(router(receiver.url, timeout=0.2), http).deliver(MSG)
    finally:
        release.set()
    assert (result.outcome, result.status) == (DeliveryOutcome.RETRY, None)
    assert "timeout" in result.detail


async def test_connection_refused_is_retry(http: HttpTransport) -> None:
    with socket.socket() as s:  # a port that was free a moment ago and has no listener
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = await RouterClient(router(f"http://127.0.0.1:{port}/backend/"), http).deliver(MSG)
    assert (result.outcome, result.status) == (DeliveryOutcome.RETRY, None)
    assert "connection error" in result.detail


async def test_bad_url_is_retry_not_exception(http: HttpTransport) -> None:
    result = await RouterClient(router("not a url"), http).deliver(MSG)
    assert result.outcome is DeliveryOutcome.RETRY


async def test_url_template_escapes(receiver: Receiver, http: HttpTransport) -> None:
    tpl = receiver.url + ("?from=%p&q=%q&all=%a&k=%k&rest=%r&t=%t&T=%T&smsc=%i&id=%I&c=%c&C=%C&f=%f"
                          "&x=%Z&pct=%%")
    await RouterClient(router("", url_template=tpl), http).deliver(MSG)
    q = receiver.seen[0].query
    assert q["from"] == ["+254700000001"] and q["q"] == ["+254700000001"]
    assert q["all"] == [" ".join(MSG.text.split())]
    assert q["k"] == ["Hi"] and q["rest"] == ["there+ & café ✓ 😀"]
    assert q["t"] == ["2026-03-04 05:06:00"] and q["T"] == [str(int(MSG.smsc_timestamp.timestamp()))]  # type: ignore[union-attr]
    assert q["smsc"] == ["m1"] and q["id"] == ["in-0001"] and q["c"] == ["2"] and q["C"] == ["UTF-8"]
    assert q["f"] == ["+254722000000"]
    assert "&x=%Z&" in receiver.seen[0].raw_path  # unknown escapes stay as they are
    assert receiver.seen[0].headers["X-Message-Id"] == "in-0001"


async def test_concurrency_limit(receiver: Receiver, http: HttpTransport) -> None:
    inflight = 0
    peak = 0
    both_in = asyncio.Event()

    async def hold(_: web.Request) -> None:
        nonlocal inflight, peak
        inflight += 1
        peak = max(peak, inflight)
        if inflight == 2:
            both_in.set()
        await asyncio.wait_for(both_in.wait(), 5)  # the first two wait for each other
        inflight -= 1

    receiver.hook = hold
    client = RouterClient(router(receiver.url, concurrency=2), http)
    results = await asyncio.gather(*(client.deliver(MSG) for _ in range(10)))
    assert all(r.outcome is DeliveryOutcome.DELIVERED for r in results)
    assert peak == 2 and len(receiver.seen) == 10


# -- delivery reports ---------------------------------------------------------------------------------

RAPIDSMS_DLR = ("{base}delivery-report/?message_id=42&status=%d&status_text=%A&smsc=%i&sms_id=%I"
                "&date_sent=%t&identity=%p")


def event(url: str, **kw: Any) -> DeliveryReportEvent:
    base: dict[str, Any] = {
        "url_template": url, "status": DlrStatus.DELIVERED, "message_id": "0f" * 25,
        "recipient": "+254700000001", "modem_id": "m 1", "smsc_message_id": "17", "at": WHEN,
        "reply": "Delivered OK & more",
    }
    base.update(kw)
    return DeliveryReportEvent(**base)


async def test_dlr_rapidsms_escapes(receiver: Receiver, http: HttpTransport) -> None:
    result = await DlrClient(DlrConfig(), http, policy=allow(receiver.url)).call(
        event(RAPIDSMS_DLR.format(base=receiver.url)))
    assert result.outcome is DeliveryOutcome.DELIVERED
    seen = receiver.seen[0]
    assert seen.query == {
        "message_id": ["42"], "status": ["1"], "status_text": ["Delivered OK & more"], "smsc": ["m 1"],
        "sms_id": ["0f" * 18], "date_sent": ["2026-03-04 05:06:07"], "identity": ["+254700000001"],
    }
    assert "identity=%2B254700000001" in seen.raw_path and "date_sent=2026-03-04+05:06:07" in seen.raw_path


@pytest.mark.parametrize(("status", "text"), [
    (DlrStatus.DELIVERED, "Delivered"), (DlrStatus.FAILED, "Failed"), (DlrStatus.BUFFERED, "Buffered"),
    (DlrStatus.SMSC_ACK, "ACK/"), (DlrStatus.SMSC_REJECT, "NACK/"),
])
async def test_dlr_status_text_never_empty(
    receiver: Receiver, http: HttpTransport, status: DlrStatus, text: str
) -> None:
    # RapidSMS's delivery-report view answers 400 to an empty status_text
    await DlrClient(DlrConfig(), http, policy=allow(receiver.url)).call(
        event(receiver.url + "?s=%d&t=%A", status=status, reply=""))
    assert receiver.seen[0].query == {"s": [str(int(status))], "t": [text]}


async def test_dlr_other_escapes(receiver: Receiver, http: HttpTransport) -> None:
    url = receiver.url + "?P=%P&T=%T&F=%F&pct=100%%&d=%d"
    client = DlrClient(DlrConfig(), http, policy=allow(receiver.url))
    await client.call(event(url, status=DlrStatus.SMSC_REJECT))
    q = receiver.seen[0].query
    assert q == {"P": [""], "T": [str(int(WHEN.timestamp()))], "F": ["17"], "pct": ["100%"], "d": ["16"]}


@pytest.mark.parametrize(("status", "outcome"), [
    (200, DeliveryOutcome.DELIVERED), (400, DeliveryOutcome.REJECTED), (500, DeliveryOutcome.RETRY),
])
async def test_dlr_classification(
    receiver: Receiver, http: HttpTransport, status: int, outcome: DeliveryOutcome
) -> None:
    receiver.status = status
    metrics = Metrics()
    result = await DlrClient(DlrConfig(), http, metrics, policy=allow(receiver.url)).call(
        event(receiver.url + "?s=%d"))
    assert result.outcome is outcome
    assert f'modembridge_dlr_callbacks_total{{outcome="{outcome.value}"}} 1.0'.encode() in metrics.render()


async def test_dlr_timeout_and_refused(receiver: Receiver, http: HttpTransport) -> None:
    release = asyncio.Event()

    async def stall(_: web.Request) -> None:
        await release.wait()

    receiver.hook = stall
    try:
        result = await DlrClient(DlrConfig(timeout=0.2), http, policy=allow(receiver.url)).call(
            event(receiver.url))
    finally:
        release.set()
    assert result.outcome is DeliveryOutcome.RETRY and "timeout" in result.detail
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    closed = f"http://127.0.0.1:{port}/?s=%d"
    result = await DlrClient(DlrConfig(), http, policy=allow(closed)).call(event(closed))
    assert result.outcome is DeliveryOutcome.RETRY


async def test_dlr_non_http_url_is_rejected(http: HttpTransport) -> None:
    result = await DlrClient(DlrConfig(), http, policy=allow("http://127.0.0.1")).call(
        event("file:///etc/passwd"))
    assert result.outcome is DeliveryOutcome.REJECTED


def allow(url: str) -> CallbackPolicy:
    """Callbacks to the origin (scheme, host, port) of `url` only."""
    return CallbackPolicy.for_router([url])


async def test_an_answer_that_is_not_http_is_retried_with_the_reason(http: HttpTransport) -> None:
    async def junk(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"SSH-2.0-OpenSSH_9.2\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(junk, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        result = await RouterClient(router(f"http://127.0.0.1:{port}/backend/"), http).deliver(MSG)
    finally:
        server.close()
    assert result.outcome is DeliveryOutcome.RETRY and result.detail.startswith("HTTP error: not an HTTP/1.1")
