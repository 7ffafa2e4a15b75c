"""Inbound messages the way networks and handsets send them, over a real pty: look-alike messages under a
reused reference, 8-bit data in every router format, silent, replace-type and message-waiting SMS, flash."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes

import pytest

from modembridge.config import RouterConfig
from modembridge.sms import InformationElement, Ports, decode_pdu, encode_deliver, ports_ie

from .conftest import FAST_RETRY, Stack, wait_until

T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def posted(stack: Stack, **kw: Any) -> RouterConfig:
    return RouterConfig(url=f"{stack.router.url}/backend/posted/", retry=FAST_RETRY, timeout=5.0, **kw)


async def json_stack(make_stack: Any, router_url: str, **kw: Any) -> Stack:
    return await make_stack(router=RouterConfig(url=f"{router_url}/backend/posted/", format="json",
                                                retry=FAST_RETRY, timeout=5.0), **kw)


def states(stack: Stack) -> dict[str, int]:
    return {k: v for k, v in stack.store.views.counts().inbound.items() if v}


# ------------------------------------------------------------------ look-alikes


async def test_a_fixed_reference_sender_repeating_a_disclaimer_gets_both_messages_through(
    make_stack: Any,
) -> None:
    stack: Stack = await make_stack()
    await stack.wait_ready()
    disclaimer = " Never share this code with anyone, not even the bank's staff." * 3
    first, second = "Your code is 4711." + disclaimer, "Your code is 0815." + disclaimer
    await stack.sim.inject_text("BANK", first, concat_ref=0, timestamp=T0)
    await stack.sim.inject_text("BANK", second, concat_ref=0, timestamp=T0 + timedelta(minutes=1),
                                parts=[2, 1])  # the network hands the second message over parts-reversed
    await stack.router.wait(lambda: len(stack.router.delivered()) == 2)
    assert [r["text"] for r in stack.router.delivered()] == [first, second]
    await wait_until(lambda: states(stack) == {"delivered": 2})


async def test_a_stale_half_is_not_glued_to_a_new_message_reusing_its_reference(make_stack: Any) -> None:
    stack: Stack = await make_stack(reassembly_timeout=600.0)
    await stack.wait_ready()
    stale = "a message whose second part never comes " * 5
    fresh = "a new message from the same sender, same reference " * 4
    await stack.sim.inject_text("+254711000001", stale, concat_ref=9, timestamp=T0, parts=[1])
    await stack.sim.inject_text("+254711000001", fresh, concat_ref=9, timestamp=T0 + timedelta(minutes=5),
                                parts=[2, 1])
    await stack.router.wait(lambda: len(stack.router.delivered()) == 1)
    assert stack.router.delivered()[0]["text"] == fresh
    await wait_until(lambda: states(stack) == {"delivered": 1, "assembling": 1})


async def test_resends_and_a_person_sending_twice(make_stack: Any) -> None:
    stack: Stack = await make_stack()
    await stack.wait_ready()
    text = "see you at the clinic tomorrow at nine, bring the card please " * 3
    # the SMSC resends part 1 (same stamp), then the person sends the very same text again 40 s later
    await stack.sim.inject_text("+254711000002", text, concat_ref=3, timestamp=T0, parts=[1, 2, 1])
    await stack.sim.inject_text("+254711000002", text, concat_ref=3, timestamp=T0 + timedelta(seconds=40))
    await stack.router.wait(lambda: len(stack.router.delivered()) == 2)
    assert [r["text"] for r in stack.router.delivered()] == [text, text]
    await wait_until(lambda: states(stack) == {"delivered": 2})
    assert len(stack.router.requests) == 2


# ------------------------------------------------------------------ the codec's corpus, in every format


@dataclass(frozen=True)
class Case:
    """One message of the corpus: text or data, how it is encoded, and what the router must get."""

    name: str
    text: str | None = None
    data: bytes | None = None
    kw: tuple[tuple[str, Any], ...] = ()

    @property
    def binary(self) -> bool:
        return self.data is not None


CORPUS = [
    Case("gsm7", "hello @ £ $ ¥ è"),
    Case("gsm7-3-parts", "".join(f"part {i:03d} of a long GSM text. " for i in range(14))),
    Case("gsm7-escape-split", "x" * 152 + "€" + "y" * 10),  # the escape would fall on the part boundary
    Case("gsm7-turkish", "Çok güzel, teşekkürler! ş ğ ı İ " * 8, kw=(("language_shift", True),)),
    Case("ucs2", "Привет, мир"),
    Case("ucs2-emoji-3-parts", "😀 emoji, ελληνικά και русский. " * 7),
    Case("ucs2-16bit-ref", "長いメッセージ " * 20, kw=(("ref_bits", 16),)),
    Case("8bit", data=bytes(range(0, 120))),
    Case("8bit-3-parts", data=bytes(range(256)) + b"\x00\xff" * 40),
    Case("8bit-ports", data=b"\x01\x06\x03\xae\x81\xea" + b"wap push body " * 3,
         kw=(("ports", (2948, 9200)),)),
    Case("8bit-ports-2-parts", data=bytes(range(200)), kw=(("ports", (5499, 0)),)),
    Case("text-ports", "a text for an application port", kw=(("ports", (16000, 16001)),)),
]


def pdus_of(case: Case, sender: str) -> list[str]:
    kw = dict(case.kw)
    ports = kw.pop("ports", None)
    ies = [ports_ie(Ports(*ports))] if ports else []
    return [p.hex for p in encode_deliver(sender, case.text, data=case.data, timestamp=T0, concat_ref=42,
                                          ies=ies, **kw)]


def expected_udh(case: Case) -> bytes:
    ports = dict(case.kw).get("ports")
    return bytes([0x05, 4]) + ports[0].to_bytes(2, "big") + ports[1].to_bytes(2, "big") if ports else b""


async def inject_corpus(stack: Stack) -> dict[str, Case]:
    senders = {}
    for n, case in enumerate(CORPUS):
        sender = f"+2547000001{n:02d}"
        senders[sender] = case
        pdus = pdus_of(case, sender)
        assert (len(pdus) > 1) == ("parts" in case.name or "split" in case.name or "ref" in case.name
                                   or case.name == "gsm7-turkish"), case.name
        for pdu in reversed(pdus):  # every part combination arrives in the worst order
            stack.sim.inject_pdu(pdu)
    await stack.router.wait(lambda: len(stack.router.delivered()) == len(CORPUS), timeout=20)
    return senders


def check_kannel_query(raw: str, case: Case, *, text_key: str = "text") -> None:
    pairs = dict((k, v) for k, v in (p.split("=", 1) for p in raw.split("&")))
    if case.binary:
        assert unquote_to_bytes(pairs[text_key]) == case.data, case.name
        assert pairs["coding"] == "1", case.name
        assert unquote_to_bytes(pairs.get("udh", "")) == (bytes([6]) + expected_udh(case)
                                                          if expected_udh(case) else b""), case.name
    else:
        assert unquote_to_bytes(pairs[text_key]).decode("utf-8") == case.text, case.name


async def test_every_corpus_message_reaches_a_kannel_router_exact(make_stack: Any) -> None:
    stack: Stack = await make_stack()
    await stack.wait_ready()
    senders = await inject_corpus(stack)
    for req in stack.router.delivered():
        check_kannel_query(req["raw_query"], senders[req["sender"]])


async def test_every_corpus_message_reaches_a_get_url_template_exact(make_stack: Any, router: Any) -> None:
    template = f"{router.url}/backend/kannel/?id=%p&text=%b&coding=%c&udh=%u"
    stack: Stack = await make_stack(router=RouterConfig(url_template=template, retry=FAST_RETRY, timeout=5.0))
    await stack.wait_ready()
    senders = await inject_corpus(stack)
    for req in stack.router.delivered():
        case = senders[req["sender"]]
        check_kannel_query(req["raw_query"], case)
        assert dict(parse_qsl(req["raw_query"]))["coding"] == ("1" if case.binary else "0" if "ucs2" not in
                                                                case.name else "2")


@pytest.mark.parametrize("fmt", ["json", "generic"])
async def test_every_corpus_message_reaches_a_posting_router_exact(make_stack: Any, router: Any,
                                                                   fmt: str) -> None:
    config = RouterConfig(url=f"{router.url}/backend/posted/", format=fmt,  # type: ignore[arg-type]
                          identity_field="id", retry=FAST_RETRY, timeout=5.0)
    stack: Stack = await make_stack(router=config)
    await stack.wait_ready()
    senders = await inject_corpus(stack)
    for req in stack.router.delivered():
        case, fields = senders[req["sender"]], req["fields"]
        if fmt == "json":
            assert fields["data_hex"] == (case.data.hex() if case.data is not None else None), case.name
            assert fields["text"] == (case.text or ""), case.name
            ports = dict(case.kw).get("ports")
            assert fields["ports"] == ({"destination": ports[0], "source": ports[1]} if ports else None)
            assert fields["udh"] == ([{"iei": 5, "data_hex": expected_udh(case)[2:].hex()}] if ports else [])
            assert fields["parts"] == fields["total_parts"] == len(pdus_of(case, req["sender"]))
        else:
            assert fields.get("data_hex") == (case.data.hex() if case.data is not None else None), case.name
            assert fields["text"] == (case.text or ""), case.name
            assert fields.get("udh_hex", "") == expected_udh(case).hex(), case.name
            ports = dict(case.kw).get("ports")
            assert fields.get("destination_port") == (str(ports[0]) if ports else None)


# ------------------------------------------------------------------ special messages


async def test_a_silent_sms_is_acknowledged_and_discarded(make_stack: Any) -> None:
    stack: Stack = await make_stack()
    await stack.wait_ready()
    await stack.sim.inject_text("+254711000003", "", pid=0x40)
    await stack.sim.inject_text("+254711000003", "a real one after it")
    await stack.router.wait(lambda: len(stack.router.delivered()) == 1)
    assert stack.router.delivered()[0]["text"] == "a real one after it"
    await wait_until(lambda: states(stack) == {"delivered": 1, "discarded": 1})
    [silent] = stack.store.views.recent(direction="in", state="discarded", limit=5)
    view = stack.store.views.inbound(silent.id)
    assert view is not None and view.pid == 0x40 and view.note and "silent" in view.note
    assert stack.bridge.metrics.totals()["inbound_special"] == 1
    await wait_until(lambda: not stack.sim.storage()["memories"].get("SM"))  # its slot freed


async def test_a_replace_type_message_replaces_the_undelivered_one(make_stack: Any) -> None:
    stack: Stack = await make_stack()
    stack.router.fail_all = True  # the first one cannot be delivered yet
    await stack.wait_ready()
    await stack.sim.inject_text("+254711000004", "balance: 10.00", pid=0x41)
    await stack.router.wait(lambda: len(stack.router.requests) >= 1)
    await stack.sim.inject_text("+254711000004", "balance: 7.50", pid=0x41)
    await stack.sim.inject_text("+254711000004", "other type", pid=0x42)  # another type: its own message
    await wait_until(lambda: states(stack).get("replaced") == 1)
    stack.router.fail_all = False
    await stack.router.wait(lambda: len(stack.router.delivered()) == 2)
    assert [r["text"] for r in stack.router.delivered()] == ["balance: 7.50", "other type"]
    await stack.sim.inject_text("+254711000004", "balance: 5.00", pid=0x41)  # the last one was delivered
    await stack.router.wait(lambda: len(stack.router.delivered()) == 3)
    assert stack.router.delivered()[-1]["text"] == "balance: 5.00"
    [replaced] = stack.store.views.recent(direction="in", state="replaced", limit=5)
    assert replaced.text == "balance: 10.00"


@pytest.mark.parametrize("how", ["dcs", "udh"])
async def test_a_message_waiting_indication_is_recorded_not_posted(make_stack: Any, how: str) -> None:
    stack: Stack = await make_stack()
    await stack.wait_ready()
    if how == "dcs":  # DCS group 1100: voicemail waiting, active, discard the message
        await stack.sim.inject_text("+254711000005", "", dcs=0xC8)
    else:  # a special SMS message indication IE: 2 voicemails, store
        pdu = encode_deliver("+254711000005", "You have 2 new voicemails", timestamp=T0,
                             ies=[InformationElement(0x01, bytes([0x80, 2]))])[0]
        stack.sim.inject_pdu(pdu.hex)
    await stack.sim.inject_text("+254711000005", "after the indication")
    await stack.router.wait(lambda: len(stack.router.delivered()) == 1)
    assert stack.router.delivered()[0]["text"] == "after the indication"
    await wait_until(lambda: states(stack) == {"delivered": 1, "indication": 1})
    [mwi] = stack.store.views.recent(direction="in", state="indication", limit=5)
    view = stack.store.views.inbound(mwi.id)
    assert view is not None and view.note is not None and "voicemail" in view.note


async def test_a_flash_message_is_delivered_with_its_class(make_stack: Any, router: Any) -> None:
    stack = await json_stack(make_stack, router.url)
    await stack.wait_ready()
    pdus = await stack.sim.inject_text("+254711000006", "FLASH: storm warning", flash=True)
    assert decode_pdu(pdus[0]).message_class == 0  # type: ignore[union-attr]
    await stack.router.wait(lambda: len(stack.router.delivered()) == 1)
    fields = stack.router.delivered()[0]["fields"]
    assert (fields["text"], fields["message_class"], fields["pid"]) == ("FLASH: storm warning", 0, 0)
