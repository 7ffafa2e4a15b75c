"""What a hostile or careless client finds (issue 12): SSRF through dlr-url, redirects from the router and
from callbacks, credentials in URLs. Real aiohttp servers on 127.0.0.1 play the site and the "internal
service" an attacker aims at."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from httpfakes import AUTH, KANNEL_PASS, KANNEL_USER, Client, ClientFactory, FakeGateway, make_config
from yarl import URL

from modembridge.config import DlrConfig, KannelConfig, RouterConfig
from modembridge.http import DlrClient, HttpTransport, RouterClient, create_app
from modembridge.http.callbacks import CallbackPolicy, CallbackRefused
from modembridge.model import DeliveryOutcome, DeliveryReportEvent, DlrStatus, InboundMessage
from modembridge.observe import Metrics

SECRET = "internal service: do not leak this body"


@dataclass
class Server:
    """A server that records its requests; /go redirects to `redirect_to`, everything else answers `body`."""

    url: str = ""
    hits: list[str] = field(default_factory=list)
    redirect_to: str = ""
    body: str = SECRET

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.hits.append(request.path_qs)
        if request.path.startswith("/go") and self.redirect_to:
            raise web.HTTPFound(self.redirect_to)
        return web.Response(text=self.body)


async def _server(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> Server:
    rec = Server()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", rec.handle)
    server = await aiohttp_server(app)
    rec.url = str(server.make_url("/")).rstrip("/")
    return rec


@pytest.fixture
async def site(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> Server:
    return await _server(aiohttp_server)


@pytest.fixture
async def internal(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> Server:
    return await _server(aiohttp_server)


@pytest.fixture
async def http() -> AsyncIterator[HttpTransport]:
    transport = HttpTransport()
    yield transport
    await transport.close()


def report(url: str) -> DeliveryReportEvent:
    return DeliveryReportEvent(url_template=url, status=DlrStatus.DELIVERED, message_id="m1",
                               recipient="+2547", modem_id="gsm0", smsc_message_id="5",
                               at=datetime(2026, 1, 1, tzinfo=UTC))


# -- the policy ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "http://site/dlr?s=%d", "http://site:80/x", "HTTP://SITE/", "http://site/dlr?s=%d&t=%A",
])
def test_urls_under_the_router_origin_are_allowed(url: str) -> None:
    assert CallbackPolicy.for_router(["http://site/backend/kannel/"]).check(url)


@pytest.mark.parametrize(("url", "why"), [
    ("http://127.0.0.1:6379/", "not under"),  # another service on the host
    ("http://site:8080/dlr", "not under"),  # another port
    ("https://site/dlr", "not under"),  # another scheme
    ("http://169.254.169.254/latest/meta-data/", "not under"),  # link-local: cloud metadata
    ("http://user:secret@site/dlr", "credentials"),
    ("http://site@127.0.0.1/", "credentials"),
    ("http://site.evil.example/", "not under"),
    ("ftp://site/", "http"),
    ("file:///etc/passwd", "http"),
    ("http://site/" + "x" * 3000, "longer"),
    ("http://site/dlr/../admin", "segments"),  # a server resolves these outside the prefix
    ("http://site/dlr/%2e%2e/admin", "segments"),
    ("http://site/dlr/..%2fadmin", "segments"),
    ("http://site/dlr\\..\\admin", "segments"),
])
def test_other_targets_are_refused(url: str, why: str) -> None:
    with pytest.raises(CallbackRefused, match=why):
        CallbackPolicy.for_router(["http://site/backend/kannel/"]).check(url)


def test_explicit_prefixes_widen_it_at_a_path_boundary() -> None:
    policy = CallbackPolicy.for_router(["http://site/"], ["https://hooks.example/sms/dlr"])
    assert policy.check("https://hooks.example/sms/dlr?id=%I")
    assert policy.check("https://hooks.example/sms/dlr/more")
    with pytest.raises(CallbackRefused):
        policy.check("https://hooks.example/sms/dlrx")
    with pytest.raises(CallbackRefused):
        policy.check("https://hooks.example/other")
    assert CallbackPolicy.for_router([]).prefixes == ()  # no router, no prefixes: nothing is called back


def test_spaces_and_non_ascii_are_percent_encoded_escapes_kept() -> None:
    policy = CallbackPolicy.for_router(["http://site/"])
    assert policy.check("http://site/dlr?note=caf\u00e9 ok&s=%d") == "http://site/dlr?note=caf%C3%A9%20ok&s=%d"


# -- at accept time -----------------------------------------------------------------------------------

async def test_a_refused_dlr_url_is_a_400_at_accept_time(client: Client, gateway: FakeGateway) -> None:
    params = {"username": KANNEL_USER, "password": KANNEL_PASS, "to": "+254700000001", "text": "x",
              "dlr-mask": "1", "dlr-url": "http://127.0.0.1:6379/?s=%d"}
    resp = await client.get("/cgi-bin/sendsms", params=params)
    assert (resp.status, await resp.text()) == (400, "DLR-URL field misformed, rejected")
    resp = await client.post("/api/v1/messages", headers=AUTH,
                             json={"to": "+254700000001", "text": "x", "dlr_url": "http://u:p@site/d"})
    assert resp.status == 400 and (await resp.json())["field"] == "dlr_url"
    assert gateway.submitted == []  # nothing reached the journal
    params["dlr-url"] = "http://site/dlr?s=%d&who=caf\u00e9 x"
    assert (await client.get("/cgi-bin/sendsms", params=params)).status == 202
    assert gateway.submitted[0].dlr_url == "http://site/dlr?s=%d&who=caf%C3%A9%20x"


# -- at call time ---------------------------------------------------------------------------------------

async def test_a_journalled_dlr_url_outside_the_policy_is_never_called(
        http: HttpTransport, internal: Server) -> None:
    client = DlrClient(DlrConfig(), http, policy=CallbackPolicy.for_router(["http://site/"]))
    result = await client.call(report(internal.url + "/?s=%d"))  # accepted under an older rule
    assert result.outcome is DeliveryOutcome.REJECTED and "refused" in result.detail
    assert internal.hits == []


async def test_callbacks_follow_no_redirect_and_keep_no_body(http: HttpTransport, site: Server,
                                                             internal: Server) -> None:
    site.redirect_to = internal.url + "/admin"
    client = DlrClient(DlrConfig(), http, policy=CallbackPolicy.for_router([site.url]))
    result = await client.call(report(site.url + "/go?s=%d"))
    assert result.outcome is DeliveryOutcome.RETRY and result.detail == "HTTP 302"
    assert internal.hits == []  # the redirect target was never fetched
    ok = await client.call(report(site.url + "/dlr?s=%d"))
    assert ok.outcome is DeliveryOutcome.DELIVERED and ok.detail == "HTTP 200"  # the body is not kept
    assert SECRET not in ok.detail


# -- the router -----------------------------------------------------------------------------------------

MSG = InboundMessage(message_id="in-1", sender="+254700000001", text="hello", modem_id="m1",
                     received_at=datetime(2026, 1, 1, tzinfo=UTC), smsc_timestamp=None, parts=1,
                     total_parts=1, encoding="gsm7")


@pytest.mark.parametrize("format_", ["kannel", "generic", "json"])
async def test_a_router_redirect_is_a_failure_to_retry_never_followed(
        http: HttpTransport, site: Server, internal: Server, format_: str) -> None:
    site.redirect_to = internal.url + "/elsewhere"
    config = RouterConfig(url=site.url + "/go/backend/", format=format_,  # type: ignore[arg-type]
                          hmac_secret="shh")
    result = await RouterClient(config, http).deliver(MSG)
    assert result.outcome is DeliveryOutcome.RETRY and result.status == 302
    assert internal.hits == []  # neither the message nor its signature went to the other host
    assert len(site.hits) == 1


# -- fail-open Kannel auth (item 5) -------------------------------------------------------------------

@pytest.mark.parametrize(("username", "password"), [("rapidsms", ""), ("", "secret"), ("", "")])
async def test_sendsms_is_off_unless_both_username_and_password_are_set(
        aiohttp_client: ClientFactory, gateway: FakeGateway, username: str, password: str) -> None:
    config = make_config(kannel=KannelConfig(username=username, password=password))
    client = await aiohttp_client(create_app(config, gateway, Metrics()))
    for query in ({"username": username, "password": password}, {"username": username}, {}):
        resp = await client.get("/cgi-bin/sendsms", params={**query, "to": "+254700000001", "text": "x"})
        assert (resp.status, await resp.text()) == (403, "Authorization failed for sendsms")
    assert gateway.submitted == []


# -- identifiers on an open /status (item 6) -----------------------------------------------------------

async def test_an_open_status_leaves_out_imei_imsi_and_iccid(client: Client, aiohttp_client: ClientFactory,
                                                             gateway: FakeGateway) -> None:
    body = await (await client.get("/status")).text()  # no status_token: open on loopback
    info = json.loads(body)["modems"]["m1"]["info"]
    assert (info["imei"], info["imsi"], info["iccid"], info["model"]) == (None, None, None, "SIM800")
    for identifier in ("356938035643809", "001010123456789", "8901260000000000001", "8902"):
        assert identifier not in body  # the SIM-swap text said ICCID 8901 -> 8902
    assert json.loads(body)["modems"]["m1"]["sim_swap"] == "SIM changed"
    with_token = await aiohttp_client(create_app(make_config(status_token="st"), gateway, Metrics()))
    full = await (await with_token.get("/status", headers={"Authorization": "Bearer st"})).json()
    assert full["modems"]["m1"]["info"]["imei"] == "356938035643809"
    assert full["modems"]["m1"]["sim_swap"] == "SIM changed: ICCID 8901 -> 8902"


# -- bad input answered rightly (item 8) ----------------------------------------------------------------

async def test_a_lone_surrogate_is_a_400_naming_the_field(client: Client, gateway: FakeGateway) -> None:
    raw = '{"to": "+254700000001", "text": "broken \\ud83d emoji"}'  # JSON may carry half a pair
    headers = {**AUTH, "Content-Type": "application/json"}
    resp = await client.post("/api/v1/messages", headers=headers, data=raw)
    assert resp.status == 400 and (await resp.json())["field"] == "text"  # not a 503 to retry for ever
    assert gateway.submitted == []


async def test_the_same_client_id_with_another_body_is_a_409(client: Client) -> None:
    first = await client.post("/api/v1/messages", headers=AUTH,
                              json={"to": "+254700000001", "text": "one", "id": "order-1"})
    assert first.status == 202
    first_id = (await first.json())["id"]
    again = await client.post("/api/v1/messages", headers=AUTH,
                              json={"to": "+254700000001", "text": "one", "id": "order-1"})
    assert again.status == 202 and (await again.json())["duplicate"] is True
    other = await client.post("/api/v1/messages", headers=AUTH,
                              json={"to": "+254700000001", "text": "two", "id": "order-1"})
    body = await other.json()
    assert other.status == 409 and body["id"] == first_id and body["field"] == "id"
    kannel = await client.get("/cgi-bin/sendsms", headers={"Idempotency-Key": "order-1"}, params={
        "username": KANNEL_USER, "password": KANNEL_PASS, "to": "+254700000009", "text": "three"})
    assert kannel.status == 409 and first_id in await kannel.text()


async def test_recipients_are_counted_once_duplicates_are_gone(client: Client, gateway: FakeGateway) -> None:
    resp = await client.post("/api/v1/messages", headers=AUTH,
                             json={"to": ["+254700000001"] * 3000, "text": "once"})
    assert resp.status == 202 and (await resp.json())["recipients"] == ["+254700000001"]
    many = [f"+2547000{i:05d}" for i in range(101)]
    assert (await client.post("/api/v1/messages", headers=AUTH, json={"to": many, "text": "x"})).status == 400


@pytest.mark.parametrize(("charset", "status"), [
    ("UCS-2", 202), ("ucs2", 202), ("UTF-16BE", 202), ("utf-7", 400), ("idna", 400), ("unicode_escape", 400),
    ("base64", 400), ("no-such-charset", 400),
])
async def test_only_real_text_charsets(client: Client, gateway: FakeGateway, charset: str,
                                       status: int) -> None:
    text = "héllo ☺".encode("utf-16-be") if status == 202 else b"hello"
    query = urlencode({"username": KANNEL_USER, "password": KANNEL_PASS, "to": "+254700000001", "text": text,
                       "charset": charset, "coding": "2"})
    resp = await client.get(URL(f"/cgi-bin/sendsms?{query}", encoded=True))
    assert resp.status == status, await resp.text()
    if status == 202:
        assert gateway.submitted[-1].text == "héllo ☺"


def test_the_router_urls_credentials_are_no_part_of_its_origin() -> None:
    policy = CallbackPolicy.for_router(["http://user:secret@site:8000/backend/"])
    assert policy.check("http://site:8000/dlr?s=%d")  # the site itself, without the credentials
    with pytest.raises(CallbackRefused, match="credentials"):
        policy.check("http://user:secret@site:8000/dlr")
    assert CallbackPolicy.for_router(["http://site:99999/"]).prefixes == ()  # the config refuses that port


async def test_a_lone_surrogate_in_a_dlr_url_is_a_400(client: Client, gateway: FakeGateway) -> None:
    raw = '{"to": "+254700000001", "text": "x", "dlr_url": "http://site/dlr?x=\\ud800"}'
    headers = {**AUTH, "Content-Type": "application/json"}
    resp = await client.post("/api/v1/messages", data=raw, headers=headers)
    assert resp.status == 400 and (await resp.json())["field"] == "dlr_url"
    assert gateway.submitted == []


async def test_a_huge_list_of_recipients_is_refused_without_reading_it_all(client: Client) -> None:
    many = [f"+2547{i:08d}" for i in range(60_000)]
    resp = await client.post("/api/v1/messages", headers=AUTH, json={"to": many, "text": "x"})
    assert resp.status in (400, 413)  # too many distinct numbers (or a body over max_body_bytes)
