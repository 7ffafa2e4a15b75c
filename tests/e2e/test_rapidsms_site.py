"""RapidSMS 2.2's real behaviour as a Kannel peer, observed with a stand-in for Kannel's sendsms.

These tests need no modembridge: they pin down what the bridge must accept (sendsms requests,
dlr-url templates) and what it can expect (status codes of the inbound and delivery-report views).
docs/rapidsms.md describes the same facts for users.
"""

from __future__ import annotations

import asyncio
from urllib.parse import quote

import aiohttp
import pytest
from yarl import URL

from .kannel import KannelStandIn, SendsmsRequest, expand_dlr_url
from .site import RapidSMSSite, SiteFactory

pytest.importorskip("rapidsms", reason="e2e extra not installed: pip install -e '.[e2e]'")

pytestmark = pytest.mark.asyncio(loop_scope="module")

SENDER = "+254700000001"
DLR_TAIL = "&status=%d&status_text=%A&smsc=%i&sms_id=%I&date_sent=%t&identity=%p"


@pytest.fixture
def kannel_standin(shared_kannel_standin: KannelStandIn) -> KannelStandIn:
    """One stand-in and one site serve the whole module (a site takes ~0.7 s to start): reset both."""
    shared_kannel_standin.reset()
    return shared_kannel_standin


@pytest.fixture
def rapidsms_site(shared_rapidsms_site: RapidSMSSite, kannel_standin: KannelStandIn) -> RapidSMSSite:
    shared_rapidsms_site.reset()
    return shared_rapidsms_site


async def get(url: str, method: str = "GET") -> tuple[int, str]:
    """Request url exactly as written (no re-encoding of the query, no following of redirects)."""
    return (await request(url, method))[:2]


async def request(url: str, method: str = "GET") -> tuple[int, str, str]:
    """(status, body, Location header)."""
    async with (
        aiohttp.ClientSession() as session,
        session.request(
            method, URL(url, encoded=True), timeout=aiohttp.ClientTimeout(total=30), allow_redirects=False
        ) as resp,
    ):
        return resp.status, await resp.text(), resp.headers.get("Location", "")


def inbound(site: RapidSMSSite, text: str, sender: str = SENDER) -> str:
    return f"{site.inbound_url}?id={quote(sender, safe='')}&text={quote(text, safe='')}"


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("echo hi", "hi"),
        ("ping", "pong"),
        ("ECHO Héllo wörld ☺ €", "Héllo wörld ☺ €"),
    ],
)
async def test_reply_reaches_sendsms_with_kannel_parameters(
    rapidsms_site: RapidSMSSite, kannel_standin: KannelStandIn, text: str, reply: str
) -> None:
    status, body = await get(inbound(rapidsms_site, text))
    assert (status, body) == (200, "")
    [req] = kannel_standin.requests  # sent from inside the inbound request: already there
    assert req.names() == [
        "smsc",
        "from",
        "username",
        "password",
        "to",
        "text",
        "coding",
        "charset",
        "dlr-mask",
        "dlr-url",
    ]
    assert req.value("smsc") == "modem1"
    assert req.value("from") == "rapidsms"
    assert (req.value("username"), req.value("password")) == ("rapidsms", "secret")
    assert req.value("to") == SENDER
    assert "to=%2B254700000001" in req.raw_query
    assert req.get("text") == reply.encode("utf-8")
    assert (req.value("coding"), req.value("charset"), req.value("dlr-mask")) == ("0", "UTF-8", "31")
    dlr_url = req.value("dlr-url")
    prefix = rapidsms_site.delivery_report_url + "?message_id="
    assert dlr_url.startswith(prefix) and dlr_url.endswith(DLR_TAIL), dlr_url
    message_id = dlr_url[len(prefix) : -len(DLR_TAIL)]
    assert len(message_id) == 32 and int(message_id, 16) >= 0  # uuid4().hex
    logged = [(m.direction, m.text, m.identity, m.backend) for m in rapidsms_site.messages()]
    assert logged == [("I", text, SENDER, "kannel-bridge"), ("O", reply, SENDER, "kannel-bridge")]


async def test_long_reply_is_one_request(rapidsms_site: RapidSMSSite, kannel_standin: KannelStandIn) -> None:
    text = "0123456789" * 45 + " ☺"  # 452 characters: several SMS parts, split by the gateway, not RapidSMS
    assert await get(inbound(rapidsms_site, "echo " + text)) == (200, "")
    [req] = kannel_standin.requests
    assert req.get("text") == text.encode()


async def test_reply_is_sent_while_the_inbound_request_is_still_open(
    rapidsms_site: RapidSMSSite, kannel_standin: KannelStandIn
) -> None:
    """BlockingRouter: the site calls sendsms and waits for its answer before answering the inbound GET."""
    kannel_standin.hold = asyncio.Event()
    inbound_task = asyncio.create_task(get(inbound(rapidsms_site, "echo wait for me")))
    [req] = await kannel_standin.wait_requests(1)
    assert req.get("text") == b"wait for me"
    done, _ = await asyncio.wait({inbound_task}, timeout=0.3)
    assert not done, "the inbound request completed before sendsms was answered"
    kannel_standin.hold.set()
    assert await asyncio.wait_for(inbound_task, 10) == (200, "")


@pytest.mark.parametrize("status", [403, 500, 503])
async def test_sendsms_failure_is_logged_not_retried_and_inbound_still_200(
    rapidsms_site: RapidSMSSite, kannel_standin: KannelStandIn, status: int
) -> None:
    kannel_standin.status, kannel_standin.body = status, "Authorization failed"
    assert await get(inbound(rapidsms_site, "echo lost")) == (200, "")
    assert len(kannel_standin.requests) == 1
    assert "kannel-bridge encountered an error while sending" in rapidsms_site.log()
    assert [m.direction for m in rapidsms_site.messages()] == ["I", "O"]  # logged as sent anyway


async def test_message_without_handler_gets_no_reply(
    rapidsms_site: RapidSMSSite, kannel_standin: KannelStandIn
) -> None:
    assert await get(inbound(rapidsms_site, "hello there")) == (200, "")
    assert kannel_standin.requests == []
    assert [(m.direction, m.text) for m in rapidsms_site.messages()] == [("I", "hello there")]


async def test_inbound_view_status_codes(rapidsms_site: RapidSMSSite, kannel_standin: KannelStandIn) -> None:
    url = rapidsms_site.inbound_url
    rejected = [
        f"{url}?id=%2B254700000001&text=",  # empty text
        f"{url}?id=%2B254700000001&text=%20%20",  # whitespace only: Django strips it to empty
        f"{url}?id=%2B254700000001",  # no text
        f"{url}?text=echo+hi",  # no id
        f"{url}?id=&text=echo+hi",  # empty id
    ]
    for bad in rejected:
        assert (await get(bad))[0] == 400, bad
    assert (await get(f"{url}?id=%2B254700000001&text=echo+hi", method="POST"))[0] == 405
    query = "?id=%2B254700000001&text=echo+hi"
    status, _, location = await request(url.rstrip("/") + query)  # CommonMiddleware's APPEND_SLASH
    assert (status, location) == (301, "/backend/kannel-bridge/" + query)
    assert (await get(rapidsms_site.base_url + "/backend/other/" + query))[0] == 404
    assert kannel_standin.requests == []
    assert rapidsms_site.messages() == []


async def test_unencoded_plus_in_sender_is_lost(
    rapidsms_site: RapidSMSSite, kannel_standin: KannelStandIn
) -> None:
    """`+` in a query means space; Django strips it: the bridge must send `%2B`."""
    assert await get(f"{rapidsms_site.inbound_url}?id=+254700000001&text=echo+hi") == (200, "")
    [req] = kannel_standin.requests
    assert req.value("to") == "254700000001"


async def test_inbound_text_is_utf8_whatever_the_charset_parameter_says(
    rapidsms_site: RapidSMSSite, kannel_standin: KannelStandIn
) -> None:
    """KannelForm only decodes bytes; Django has already decoded the query as UTF-8, so send UTF-8."""
    ucs2 = "".join(f"%{b:02X}" for b in "echo привет".encode("utf-16-be"))
    url = f"{rapidsms_site.inbound_url}?id=%2B254700000001&charset=UTF-16BE&coding=2&text="
    # UTF-16BE bytes are decoded as UTF-8; their NUL bytes fail Django's CharField: a permanent 400
    assert (await get(url + ucs2))[0] == 400
    assert kannel_standin.requests == []
    assert await get(url + quote("echo привет")) == (200, "")
    [req] = kannel_standin.requests
    assert req.get("text") == "привет".encode()


def dlr(req: SendsmsRequest, **overrides: object) -> str:
    values: dict[str, object] = {
        "status": 1,
        "status_text": "Delivered: id:1 stat:DELIVRD",
        "smsc": "modem1",
        "sms_id": "0b6c4d8e-2f1a-4c3b-9d7e-5a6f7e8d9c0b",
        "date_sent": "2026-11-28 08:30:05",
        "receiver": req.value("to"),
    }
    values.update(overrides)
    return expand_dlr_url(req.value("dlr-url"), **values)  # type: ignore[arg-type]


async def test_delivery_reports_become_rows(
    rapidsms_site: RapidSMSSite, kannel_standin: KannelStandIn
) -> None:
    await get(inbound(rapidsms_site, "echo report me"))
    [req] = kannel_standin.requests
    message_id = req.value("dlr-url").split("message_id=")[1].split("&")[0]
    assert await get(dlr(req, status=8, status_text="ACK/")) == (200, "")
    assert await get(dlr(req, status=1)) == (200, "")
    rows = rapidsms_site.delivery_reports()
    assert [(r.message_id, r.status, r.status_text) for r in rows] == [
        (message_id, 8, "ACK/"),
        (message_id, 1, "Delivered: id:1 stat:DELIVRD"),
    ]  # one row per callback: nothing is updated or de-duplicated
    row = rows[1]
    assert (row.identity, row.smsc, row.sms_id) == (SENDER, "modem1", "0b6c4d8e-2f1a-4c3b-9d7e-5a6f7e8d9c0b")
    assert row.date_sent.startswith("2026-11-28 08:30:05")


@pytest.mark.parametrize(
    "overrides",
    [
        {"status": 3},  # not one of 1/2/4/8/16
        {"status_text": ""},  # every field is required, none may be empty
        {"smsc": ""},
        {"sms_id": ""},
        {"sms_id": "x" * 37},  # max 36 characters
        {"receiver": ""},
        {"date_sent": ""},
        {"date_sent": "1764318605"},  # a unix timestamp is not a date
    ],
    ids=lambda o: ",".join(f"{k}={str(v)[:8]}" for k, v in o.items()),
)
async def test_delivery_report_view_rejects_with_400(
    rapidsms_site: RapidSMSSite, kannel_standin: KannelStandIn, overrides: dict[str, object]
) -> None:
    await get(inbound(rapidsms_site, "echo x"))
    [req] = kannel_standin.requests
    assert (await get(dlr(req, **overrides)))[0] == 400
    assert rapidsms_site.delivery_reports() == []


async def test_delivery_report_accepts_iso_date_and_unknown_message_id(
    rapidsms_site: RapidSMSSite, kannel_standin: KannelStandIn
) -> None:
    base = rapidsms_site.delivery_report_url
    url = (
        f"{base}?message_id=not-a-known-id&status=2&status_text=failed&smsc=modem1&sms_id=7"
        "&date_sent=2026-11-28T08:30:05&identity=%2B254700000001"
    )
    assert await get(url) == (200, "")
    [row] = rapidsms_site.delivery_reports()
    assert (row.message_id, row.status) == ("not-a-known-id", 2)


async def test_default_charset_is_ascii_and_drops_characters(
    kannel_standin: KannelStandIn, rapidsms_site_factory: SiteFactory
) -> None:
    """Without `charset` in INSTALLED_BACKENDS, KannelBackend encodes ascii with errors ignored."""
    site = rapidsms_site_factory(kannel_standin.url, charset="", delivery_reports=False)
    assert await get(inbound(site, "echo héllo ☺")) == (200, "")
    [req] = kannel_standin.requests
    assert req.get("text") == b"hllo "
    assert req.value("charset") == "ascii"
    assert "dlr-url" not in req.names() and "dlr-mask" not in req.names()
