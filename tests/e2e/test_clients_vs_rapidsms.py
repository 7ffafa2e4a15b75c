"""modembridge's HTTP clients (router poster, dlr-url caller) against the real RapidSMS site.

In-process and fast: RouterClient and DlrClient from modembridge.http.client talk to the RapidSMS
subprocess; a stand-in plays the bridge's sendsms, so the reply RapidSMS produces is checked too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import pytest_asyncio

from modembridge.config import DlrConfig, RouterConfig
from modembridge.http import HttpTransport
from modembridge.http.callbacks import CallbackPolicy
from modembridge.http.client import DlrClient, RouterClient
from modembridge.model import DeliveryOutcome, DeliveryReportEvent, DlrStatus, InboundMessage

from .kannel import KannelStandIn
from .site import RapidSMSSite

pytest.importorskip("rapidsms", reason="e2e extra not installed: pip install -e '.[e2e]'")

pytestmark = pytest.mark.asyncio(loop_scope="module")

SENDER = "+254700000001"


@pytest.fixture
def kannel_standin(shared_kannel_standin: KannelStandIn) -> KannelStandIn:
    shared_kannel_standin.reset()
    return shared_kannel_standin


@pytest.fixture
def rapidsms_site(shared_rapidsms_site: RapidSMSSite, kannel_standin: KannelStandIn) -> RapidSMSSite:
    shared_rapidsms_site.reset()
    return shared_rapidsms_site


@pytest_asyncio.fixture(loop_scope="module")
async def http() -> AsyncIterator[HttpTransport]:
    transport = HttpTransport()
    yield transport
    await transport.close()


def inbound(text: str, sender: str = SENDER) -> InboundMessage:
    return InboundMessage(
        message_id="in-0001",
        sender=sender,
        text=text,
        modem_id="modem1",
        received_at=datetime.now(UTC),
        smsc_timestamp=None,
        parts=1,
        total_parts=1,
        encoding="ucs2" if any(ord(c) > 127 for c in text) else "gsm7",
    )


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("echo hello", "hello"),
        ("echo a+b & c=d; 100% ☺ é €", "a+b & c=d; 100% ☺ é €"),  # query metacharacters, non-Latin
        ("ping", "pong"),
    ],
)
async def test_router_client_delivers_to_rapidsms_kannel_view(
    rapidsms_site: RapidSMSSite,
    kannel_standin: KannelStandIn,
    http: HttpTransport,
    text: str,
    reply: str,
) -> None:
    client = RouterClient(RouterConfig(url=rapidsms_site.inbound_url, format="kannel"), http)
    result = await client.deliver(inbound(text))
    assert (result.outcome, result.status) == (DeliveryOutcome.DELIVERED, 200)
    assert [(m.direction, m.text, m.identity) for m in rapidsms_site.messages()] == [
        ("I", text, SENDER),
        ("O", reply, SENDER),
    ]
    [req] = kannel_standin.requests
    assert (req.value("to"), req.get("text")) == (SENDER, reply.encode())


@pytest.mark.parametrize("text", ["", "   "])
async def test_router_client_classifies_empty_text_as_rejected(
    rapidsms_site: RapidSMSSite, http: HttpTransport, text: str
) -> None:
    client = RouterClient(RouterConfig(url=rapidsms_site.inbound_url, format="kannel"), http)
    result = await client.deliver(inbound(text))
    assert (result.outcome, result.status) == (DeliveryOutcome.REJECTED, 400)
    assert rapidsms_site.messages() == []


async def test_router_client_does_not_follow_the_append_slash_redirect_and_says_why(
    rapidsms_site: RapidSMSSite, kannel_standin: KannelStandIn, http: HttpTransport
) -> None:
    url = rapidsms_site.inbound_url.rstrip("/")  # the trailing slash forgotten in router.url: 301
    result = await RouterClient(RouterConfig(url=url, format="kannel"), http).deliver(inbound("echo x"))
    assert (result.outcome, result.status) == (DeliveryOutcome.RETRY, 301)  # retried, visible, not lost
    assert "not followed" in result.detail and "/backend/kannel-bridge/" in result.detail
    assert rapidsms_site.messages() == []


async def test_router_client_wrong_path_is_rejected_not_retried(
    rapidsms_site: RapidSMSSite, http: HttpTransport
) -> None:
    url = rapidsms_site.base_url + "/backend/no-such-backend/"
    result = await RouterClient(RouterConfig(url=url, format="kannel"), http).deliver(inbound("echo x"))
    assert (result.outcome, result.status) == (DeliveryOutcome.REJECTED, 404)
    assert rapidsms_site.messages() == []


@pytest.mark.parametrize(
    ("status", "reply"),
    [(DlrStatus.SMSC_ACK, "mr=17"), (DlrStatus.DELIVERED, "status=0x00"), (DlrStatus.FAILED, "status=0x41")],
)
async def test_dlr_client_calls_rapidsms_delivery_report_view(
    rapidsms_site: RapidSMSSite,
    kannel_standin: KannelStandIn,
    http: HttpTransport,
    status: DlrStatus,
    reply: str,
) -> None:
    router = RouterClient(RouterConfig(url=rapidsms_site.inbound_url, format="kannel"), http)
    assert (await router.deliver(inbound("echo report me"))).outcome is DeliveryOutcome.DELIVERED
    [req] = kannel_standin.requests
    template = req.value("dlr-url")  # what the bridge stores with the send and substitutes later
    rapidsms_id = template.split("message_id=")[1].split("&")[0]
    at = datetime(2026, 11, 28, 8, 30, 5, tzinfo=UTC)
    event = DeliveryReportEvent(
        url_template=template,
        status=status,
        message_id="0b6c4d8e-2f1a-4c3b-9d7e-5a6f7e8d9c0b-and-more",  # longer than RapidSMS's 36
        recipient=req.value("to"),
        modem_id="modem1",
        smsc_message_id="17",
        at=at,
        reply=reply,
    )
    policy = CallbackPolicy.for_router([rapidsms_site.inbound_url])
    result = await DlrClient(DlrConfig(), http, policy=policy).call(event)
    assert (result.outcome, result.status) == (DeliveryOutcome.DELIVERED, 200), rapidsms_site.log()
    [row] = rapidsms_site.delivery_reports()
    assert (row.message_id, row.status, row.status_text) == (rapidsms_id, int(status), reply)
    assert (row.identity, row.smsc) == (SENDER, "modem1")
    assert row.sms_id == "0b6c4d8e-2f1a-4c3b-9d7e-5a6f7e8d9c0b"
    assert row.date_sent.startswith("2026-11-28 08:30:05")


async def test_dlr_without_reply_text_still_gives_rapidsms_a_status_text(
    rapidsms_site: RapidSMSSite, kannel_standin: KannelStandIn, http: HttpTransport
) -> None:
    """status_text (%A) is required by RapidSMS (empty -> 400): the client must fill it in itself."""
    router = RouterClient(RouterConfig(url=rapidsms_site.inbound_url, format="kannel"), http)
    await router.deliver(inbound("echo x"))
    [req] = kannel_standin.requests
    event = DeliveryReportEvent(
        url_template=req.value("dlr-url"),
        status=DlrStatus.DELIVERED,
        message_id="m1",
        recipient=SENDER,
        modem_id="modem1",
        smsc_message_id="1",
        at=datetime.now(UTC),
        reply="",
    )
    policy = CallbackPolicy.for_router([rapidsms_site.inbound_url])
    result = await DlrClient(DlrConfig(), http, policy=policy).call(event)
    assert (result.outcome, result.status) == (DeliveryOutcome.DELIVERED, 200), rapidsms_site.log()
    [row] = rapidsms_site.delivery_reports()
    assert row.status == 1 and row.status_text


def generic_config(site: RapidSMSSite) -> RouterConfig:
    return RouterConfig(url=site.generic_url, format="generic", identity_field="phone", text_field="message")


async def test_router_client_generic_format_posts_to_rapidsms_http_view(
    rapidsms_site: RapidSMSSite, kannel_standin: KannelStandIn, http: HttpTransport
) -> None:
    text = "echo generic ☺ a&b=c+d"
    result = await RouterClient(generic_config(rapidsms_site), http).deliver(inbound(text))
    assert (result.outcome, result.status) == (DeliveryOutcome.DELIVERED, 200)
    assert [(m.direction, m.text, m.identity) for m in rapidsms_site.messages()] == [
        ("I", text, SENDER),
        ("O", "generic ☺ a&b=c+d", SENDER),
    ]
    [req] = kannel_standin.requests
    assert req.value("to") == SENDER


async def test_router_client_generic_format_empty_text_is_rejected(
    rapidsms_site: RapidSMSSite, http: HttpTransport
) -> None:
    result = await RouterClient(generic_config(rapidsms_site), http).deliver(inbound(""))
    assert (result.outcome, result.status) == (DeliveryOutcome.REJECTED, 400)
    assert rapidsms_site.messages() == []


async def test_site_slower_than_router_timeout_processes_the_message_anyway(
    rapidsms_site: RapidSMSSite, kannel_standin: KannelStandIn, http: HttpTransport
) -> None:
    """The timeout makes the bridge retry, but RapidSMS already handled it: the retry will be a duplicate.

    RapidSMS's Kannel view cannot dedupe (it ignores X-Message-Id): router.timeout must exceed the
    site's slowest answer.
    """
    config = RouterConfig(url=rapidsms_site.inbound_url, format="kannel", timeout=0.3)
    result = await RouterClient(config, http).deliver(inbound("slow 1"))
    assert (result.outcome, result.status) == (DeliveryOutcome.RETRY, None)
    [req] = await kannel_standin.wait_requests(1)  # the reply still goes out, after the bridge gave up
    assert req.get("text") == b"done 1"
    assert [m.direction for m in rapidsms_site.messages()] == ["I", "O"]
