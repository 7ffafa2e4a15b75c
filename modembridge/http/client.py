"""Outgoing HTTP: inbound messages to the router (RapidSMS) and delivery-report callbacks.

Outcome rules, shared by both: 2xx -> DELIVERED; 4xx -> REJECTED (except 408, 425 and 429, which are
RETRY); 5xx, 3xx, timeouts and connection errors -> RETRY. Redirects are never followed: a 3xx from the
router would otherwise take the message (and its HMAC signature) elsewhere and lose its query, and one
from a dlr-url would lead the daemon to any internal address. Nothing here raises on network errors.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from yarl import URL

from modembridge.config import DlrConfig, RouterConfig
from modembridge.model import DeliveryOutcome, DeliveryReportEvent, DeliveryResult, InboundMessage, MissedCall
from modembridge.observe import Metrics
from modembridge.sms import parse_udh

from .callbacks import CallbackPolicy, CallbackRefused
from .escapes import coding, dlr_url, inbound_url, kannel_udh
from .transport import HttpTransport
from .wire import HttpProtocolError

log = logging.getLogger("modembridge.http.client")

_RETRYABLE_4XX = frozenset({408, 425, 429})
_DETAIL_BODY = 120


@dataclass(frozen=True)
class PreparedRequest:
    """One HTTP request, fully built (URL already encoded)."""

    method: str
    url: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def signed_payload(self) -> bytes:
        """What X-Signature covers: the body for POST, the raw query string for GET."""
        if self.body is not None:
            return self.body
        return self.url.partition("?")[2].partition("#")[0].encode("ascii")


def sign(secret: str, timestamp: int, payload: bytes) -> str:
    """``sha256=<hex>`` HMAC-SHA256 of ``"<timestamp>." + payload``."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def classify(status: int, detail: str) -> DeliveryResult:
    if 200 <= status < 300:
        return DeliveryResult(DeliveryOutcome.DELIVERED, status, detail)
    if 400 <= status < 500 and status not in _RETRYABLE_4XX:
        return DeliveryResult(DeliveryOutcome.REJECTED, status, detail)
    return DeliveryResult(DeliveryOutcome.RETRY, status, detail)


def _append_query(base: str, query: str) -> str:
    return _query_base(base) + query


@functools.lru_cache(maxsize=16)
def _query_base(base: str) -> str:
    """`base` normalised (what needs quoting quoted, %XX kept), without its fragment, ready for a query to
    be appended: worked out once per configured URL, not per message."""
    url = str(URL(base)).partition("#")[0]
    return url + ("" if url.endswith(("?", "&")) else "&" if "?" in url else "?")


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _ies(udh: bytes) -> list[dict[str, Any]]:
    return [{"iei": ie.iei, "data_hex": ie.data.hex()} for ie in parse_udh(udh)]


def inbound_json(msg: InboundMessage) -> dict[str, Any]:
    """The ``json`` format body: every field of the message, times in ISO 8601; an 8-bit message's
    payload as ``data_hex`` (``text`` is then empty), its other UDH elements and its ports."""
    ports = None
    if msg.destination_port is not None:
        ports = {"destination": msg.destination_port, "source": msg.source_port}
    return {
        "message_id": msg.message_id,
        "sender": msg.sender,
        "text": msg.text,
        "modem_id": msg.modem_id,
        "received_at": _iso(msg.received_at),
        "smsc_timestamp": _iso(msg.smsc_timestamp),
        "parts": msg.parts,
        "total_parts": msg.total_parts,
        "encoding": msg.encoding,
        "incomplete": msg.incomplete,
        "smsc": msg.smsc,
        "data_hex": msg.data.hex() if msg.data is not None else None,
        "udh": _ies(msg.udh),
        "ports": ports,
        "message_class": msg.message_class,
        "pid": msg.pid,
    }


def kannel_fields(msg: InboundMessage) -> list[tuple[str, str]]:
    """The ``kannel`` format's query, percent-encoded: ``id`` and ``text`` (UTF-8), as RapidSMS's Kannel
    backend reads them; an 8-bit message as Kannel's get-url gives it: ``text`` the raw octets, with
    ``coding=1`` and, when the UDH has elements other than concatenation, ``udh`` (raw, length first)."""
    if msg.data is None:
        return [("id", quote(msg.sender, safe="")), ("text", quote(msg.text, safe=""))]
    fields = [("id", quote(msg.sender, safe="")), ("text", quote(msg.data, safe="")), ("coding", coding(msg))]
    if msg.udh:
        fields.append(("udh", quote(kannel_udh(msg), safe="")))
    return fields


def generic_fields(msg: InboundMessage, identity_field: str, text_field: str) -> list[tuple[str, str]]:
    """The ``generic`` format's form fields: the identity and the text, then what else the message carries
    (``encoding`` always; ``data_hex``, ``udh_hex``, ``destination_port``/``source_port``,
    ``message_class`` when present)."""
    fields = [(identity_field, msg.sender), (text_field, msg.text), ("encoding", msg.encoding)]
    if msg.data is not None:
        fields.append(("data_hex", msg.data.hex()))
    if msg.udh:
        fields.append(("udh_hex", msg.udh.hex()))
    if msg.destination_port is not None:
        fields += [("destination_port", str(msg.destination_port)), ("source_port", str(msg.source_port))]
    if msg.message_class is not None:
        fields.append(("message_class", str(msg.message_class)))
    return fields


def _one_line(text: str) -> str:
    return " ".join(text.split())[:_DETAIL_BODY]


async def _perform(
    http: HttpTransport, req: PreparedRequest, timeout: float, *, read_body: bool = True
) -> DeliveryResult:
    """Make the request, never following a redirect; never raises for network trouble. `read_body`: a
    short excerpt of the answer goes into the detail (kept in the journal); else the status alone."""
    try:
        answer = await http.request(req.method, req.url, req.headers, req.body, timeout=timeout,
                                    keep=_DETAIL_BODY if read_body else 0)
    except TimeoutError:
        return DeliveryResult(DeliveryOutcome.RETRY, None, f"timeout after {timeout:g}s")
    except HttpProtocolError as exc:  # an unencoded URL, or an answer that is not HTTP
        return DeliveryResult(DeliveryOutcome.RETRY, None, f"HTTP error: {exc}"[:200])
    except (OSError, ValueError) as exc:  # refused, reset, TLS, DNS
        return DeliveryResult(DeliveryOutcome.RETRY, None, f"connection error: {type(exc).__name__}")
    status = answer.status
    if not read_body:
        return classify(status, f"HTTP {status}")
    if 300 <= status < 400:  # the router is the operator's site: say where it points
        where = answer.headers.get("location", "?")[:200]
        return classify(status, f"HTTP {status}: redirect to {where} not followed (fix the router URL)")
    snippet = answer.body.decode("utf-8", "replace")
    detail = f"HTTP {status}" + (f": {_one_line(snippet)}" if snippet.strip() else "")
    return classify(status, detail)


class RouterClient:
    """Delivers inbound messages to the router (``router.url`` / ``router.url_template``).

    At most ``config.concurrency`` requests are in flight; every request carries ``X-Message-Id``.
    """

    def __init__(
        self,
        config: RouterConfig,
        http: HttpTransport,
        metrics: Metrics | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.http = http
        self.metrics = metrics
        self._clock = clock
        self._slots = asyncio.Semaphore(max(1, config.concurrency))

    def prepare(self, msg: InboundMessage) -> PreparedRequest:
        """The request for `msg` (pure, apart from the signature time stamp)."""
        c = self.config
        headers = {"X-Message-Id": msg.message_id}
        if c.url_template:
            req = PreparedRequest("GET", inbound_url(c.url_template, msg), None, headers)
        elif c.format == "kannel":
            query = "&".join(f"{k}={v}" for k, v in kannel_fields(msg))
            req = PreparedRequest("GET", _append_query(c.url, query), None, headers)
        elif c.format == "generic":
            body = urlencode(generic_fields(msg, c.identity_field, c.text_field), quote_via=quote, safe="")
            headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
            req = PreparedRequest("POST", str(URL(c.url)), body.encode("ascii"), headers)
        else:
            payload = json.dumps(inbound_json(msg), ensure_ascii=False, separators=(",", ":"))
            headers["Content-Type"] = "application/json; charset=utf-8"
            req = PreparedRequest("POST", str(URL(c.url)), payload.encode("utf-8"), headers)
        return self._signed(req)

    def _signed(self, req: PreparedRequest) -> PreparedRequest:
        """With hmac_secret: X-Timestamp and X-Signature over the body (POST) or the query (GET)."""
        if self.config.hmac_secret:
            ts = int(self._clock())
            req.headers["X-Timestamp"] = str(ts)
            req.headers["X-Signature"] = sign(self.config.hmac_secret, ts, req.signed_payload)
        return req

    def prepare_call(self, call: MissedCall) -> PreparedRequest:
        """The call_url request for a missed call: a JSON event, signed like the router's requests."""
        body = {"event": "missed_call", "from": call.number, "modem_id": call.modem_id,
                "at": call.at.isoformat(), "action": call.action, "id": call.call_id}
        headers = {"Content-Type": "application/json; charset=utf-8", "X-Call-Id": str(call.call_id)}
        payload = json.dumps(body, separators=(",", ":")).encode("utf-8")
        return self._signed(PreparedRequest("POST", str(URL(self.config.call_url)), payload, headers))

    async def deliver_call(self, call: MissedCall) -> DeliveryResult:
        """POST a missed call to call_url; classified like an inbound delivery. Never raises for network
        errors."""
        try:
            req = self.prepare_call(call)
        except ValueError as exc:
            return DeliveryResult(DeliveryOutcome.RETRY, None, f"bad call_url: {exc}"[:200])
        async with self._slots:
            return await _perform(self.http, req, self.config.timeout)

    async def deliver(self, msg: InboundMessage) -> DeliveryResult:
        """POST/GET `msg` to the router and classify the answer. Never raises for network errors."""
        try:
            req = self.prepare(msg)
        except ValueError as exc:  # an unusable url / template: a configuration problem, keep the message
            return DeliveryResult(DeliveryOutcome.RETRY, None, f"bad router url: {exc}"[:200])
        async with self._slots:
            started = time.monotonic()
            result = await _perform(self.http, req, self.config.timeout)
            elapsed = time.monotonic() - started
        if self.metrics is not None:
            self.metrics.router_attempt(result.outcome.value, elapsed)
        log.debug("router delivery of %s: %s (%s)", msg.message_id, result.outcome.value, result.detail)
        return result


class DlrClient:
    """Calls a send's dlr-url (Kannel escapes substituted) for one delivery report, if `policy` allows the
    URL; only the answer's status is kept (a client-chosen URL's body is neither stored nor logged)."""

    def __init__(
        self, config: DlrConfig, http: HttpTransport, metrics: Metrics | None = None, *,
        policy: CallbackPolicy,
    ) -> None:
        self.config = config
        self.http = http
        self.metrics = metrics
        self.policy = policy

    def prepare(self, event: DeliveryReportEvent) -> PreparedRequest:
        return PreparedRequest("GET", dlr_url(event), None, {"X-Message-Id": event.message_id})

    async def call(self, event: DeliveryReportEvent) -> DeliveryResult:
        req = self.prepare(event)
        try:
            req = replace(req, url=self.policy.check(req.url))
        except CallbackRefused as exc:
            result = DeliveryResult(DeliveryOutcome.REJECTED, None, f"dlr-url refused: {exc}")
        else:
            result = await _perform(self.http, req, self.config.timeout, read_body=False)
        if self.metrics is not None:
            self.metrics.dlr_callback(result.outcome.value)
        log.debug("dlr callback for %s: %s (%s)", event.message_id, result.outcome.value, result.detail)
        return result
