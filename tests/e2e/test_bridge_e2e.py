"""Issue 5 "Done means": simulated modem <-> `modembridge run` <-> a real RapidSMS site, all as processes.

An SMS "echo ..." enters the simulated modem; the bridge delivers it to RapidSMS's Kannel view; RapidSMS
replies through the bridge's /cgi-bin/sendsms from inside that request; the bridge submits the reply
with AT+CMGS (the simulator records it); the simulated network returns a status report; the bridge
calls RapidSMS's dlr-url, and RapidSMS stores a DeliveryReport row with status 1.
"""

from __future__ import annotations

import asyncio
import importlib.util
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from .bridge import BridgeConfig, BridgeProcess
from .site import DeliveryReportRow, RapidSMSSite, SiteFactory, free_port

pytest.importorskip("rapidsms", reason="e2e extra not installed: pip install -e '.[e2e]'")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("modembridge.app") is None
        or importlib.util.find_spec("modembridge.sim.process") is None,
        reason="daemon not landed",
    ),
]

SENDER = "+254700000001"


class Stack:
    def __init__(self, sim: Any, site: RapidSMSSite, bridge: BridgeProcess) -> None:
        self.sim, self.site, self.bridge = sim, site, bridge

    def diagnostics(self) -> str:
        return f"--- modembridge log ---\n{self.bridge.log()}\n--- RapidSMS log ---\n{self.site.log()}"


@pytest.fixture
def bridge_extra_toml() -> str:
    """Extra TOML for the bridge's config; override in a test with @pytest.mark.parametrize (indirect)."""
    return ""


@pytest.fixture
def sim_profile() -> str:
    """The simulated modem's vendor profile; override with @pytest.mark.parametrize (indirect)."""
    return "generic"


@pytest_asyncio.fixture
async def stack(
    tmp_path: Path, rapidsms_site_factory: SiteFactory, bridge_extra_toml: str, sim_profile: str
) -> AsyncIterator[Stack]:
    from modembridge.sim.process import SimProcess

    port = free_port()  # the bridge's port first: the site's KannelBackend needs its sendsms URL
    site = rapidsms_site_factory(f"http://127.0.0.1:{port}/cgi-bin/sendsms")
    # --baud paces the pty like a real 115200 serial link
    async with SimProcess(tmp_path / "gsm0", "--baud", "115200", profile=sim_profile, seed=5) as sim:
        config = BridgeConfig(
            port=port,
            journal=tmp_path / "journal.db",
            router_url=site.inbound_url,
            modem_port=str(sim.link),
            extra_toml=bridge_extra_toml,
        )
        bridge = BridgeProcess(config, tmp_path)
        try:
            await bridge.start()
            yield Stack(sim, site, bridge)
        finally:
            code = await bridge.stop()
        assert code == 0, f"modembridge exited with {code} on SIGTERM\n{bridge.log()}"


async def eventually(condition: Callable[[], Awaitable[bool]], what: str, timeout: float = 30) -> None:
    """Poll an async condition until it holds; fail with `what` after timeout seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await condition():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def delivered(stack: Stack, count: int) -> list[DeliveryReportRow]:
    """Wait until RapidSMS stored `count` delivery reports with status 1 (delivered)."""
    site = stack.site

    def rows() -> list[DeliveryReportRow] | None:
        done = [r for r in site.delivery_reports() if r.status == 1]
        return done if len(done) >= count else None

    what = f"{count} DeliveryReport rows with status 1\n{stack.diagnostics()}"
    return await site.wait_for(rows, timeout=60, what=what)


@pytest.mark.parametrize("sim_profile", ["generic", "huawei", "sim800", "quectel"], indirect=True)
async def test_echo_round_trip_with_delivery_report(stack: Stack) -> None:
    sim, site = stack.sim, stack.site
    await sim.inject_text(SENDER, "echo hello")
    try:
        [sub] = await sim.wait_submitted(1, timeout=60)
    except TimeoutError:
        pytest.fail(f"no reply was submitted to the modem\n{stack.diagnostics()}")
    assert (sub["destination"], sub["text"]) == (SENDER, "hello")
    assert sub["status_report_request"], "RapidSMS asked for delivery reports (dlr-mask=31)"

    [report] = await delivered(stack, 1)
    assert report.identity == SENDER
    assert report.smsc == "modem1"
    assert len(report.message_id) == 32  # RapidSMS's own id, carried through the bridge's dlr-url
    assert 0 < len(report.sms_id) <= 36  # the bridge's message id (%I)
    assert report.status_text  # %A: never empty, RapidSMS requires it
    rows = site.delivery_reports()  # Kannel semantics: 8 (SMSC accepted) and 1 (delivered)
    assert sorted(r.status for r in rows) == [1, 8]
    assert {(r.message_id, r.sms_id, r.identity) for r in rows} == {
        (report.message_id, report.sms_id, SENDER)
    }
    logged = [(m.direction, m.text, m.identity) for m in site.messages()]
    assert logged == [("I", "echo hello", SENDER), ("O", "hello", SENDER)]


async def test_unicode_and_long_reply_round_trip(stack: Stack) -> None:
    """UTF-8 from RapidSMS (charset UTF-8) becomes UCS-2 parts on the air and is reassembled intact."""
    sim, site = stack.sim, stack.site
    text = "Habari ☺ " + "é" * 80  # 89 UCS-2 characters: two parts
    await sim.inject_text(SENDER, "echo " + text)
    try:
        subs = await sim.wait_submitted(2, timeout=60)
    except TimeoutError:
        pytest.fail(f"the reply's two parts were not submitted\n{stack.diagnostics()}")
    assert [s["destination"] for s in subs] == [SENDER, SENDER]
    assert [s["concat"]["seq"] for s in subs] == [1, 2]
    assert "".join(s["text"] for s in subs) == text
    logged = [(m.direction, m.text) for m in site.messages()]
    assert logged == [("I", "echo " + text), ("O", text)]
    await delivered(stack, 1)  # like Kannel, one 8 and one 1 for the message ([dlr] multipart = "message")
    rows = site.delivery_reports()
    assert sorted(r.status for r in rows) == [1, 8]
    assert len({r.message_id for r in rows}) == 1


FAST_ROUTER_RETRY = """\
[router.retry]
initial = 0.2
cap = 1.0
"""


@pytest.mark.parametrize("bridge_extra_toml", [FAST_ROUTER_RETRY], indirect=True, ids=["fast-retry"])
async def test_site_down_messages_wait_in_the_journal_and_arrive_when_it_returns(stack: Stack) -> None:
    """RapidSMS down: the SIM is still emptied, messages wait in the journal, all arrive once it is back."""
    sim, site, bridge = stack.sim, stack.site, stack.bridge
    site.stop()
    texts = ["echo one", "echo two", "echo three"]
    for text in texts:
        await sim.inject_text(SENDER, text)

    async def sim_emptied_and_queued() -> bool:
        stored = sum(len(box) for box in (await sim.storage())["memories"].values())
        journal = (await bridge.status())["queues"]["journal"]["in"]
        return stored == 0 and journal["received"] == len(texts) and journal["delivered"] == 0

    await eventually(sim_emptied_and_queued, f"SIM emptied into the journal\n{stack.diagnostics()}")
    assert (await bridge.status())["counters"]["router_retry"] >= 1
    assert await sim.submitted() == []

    site.restart()
    subs = await sim.wait_submitted(3, timeout=60)
    assert sorted(s["text"] for s in subs) == ["one", "three", "two"]
    inbound = [m.text for m in site.messages() if m.direction == "I"]
    assert sorted(inbound) == sorted(texts)  # order is not asserted: each entry has its own jittered backoff

    async def all_delivered() -> bool:
        journal = (await bridge.status())["queues"]["journal"]["in"]
        return (journal["received"], journal["delivered"]) == (0, len(texts))

    await eventually(all_delivered, f"journal shows all delivered\n{stack.diagnostics()}")


@pytest.mark.parametrize("bridge_extra_toml", [FAST_ROUTER_RETRY], indirect=True, ids=["fast-retry"])
async def test_kill_9_with_messages_queued_for_rapidsms_loses_nothing(stack: Stack) -> None:
    """Crash while RapidSMS is down: the restarted bridge still has every message; each arrives once."""
    sim, site, bridge = stack.sim, stack.site, stack.bridge
    site.stop()
    texts = ["echo alpha", "echo beta"]
    for text in texts:
        await sim.inject_text(SENDER, text)

    async def queued() -> bool:
        stored = sum(len(box) for box in (await sim.storage())["memories"].values())
        return stored == 0 and (await bridge.status())["queues"]["journal"]["in"]["received"] == len(texts)

    await eventually(queued, f"SIM emptied into the journal\n{stack.diagnostics()}")
    assert await bridge.kill() == -9
    await bridge.start()
    site.restart()
    subs = await sim.wait_submitted(len(texts), timeout=60)
    assert sorted(s["text"] for s in subs) == ["alpha", "beta"]
    inbound = sorted(m.text for m in site.messages() if m.direction == "I")
    assert inbound == sorted(texts)  # nothing was in flight at the kill: exactly once


async def test_undeliverable_reply_gives_rapidsms_a_failed_report(stack: Stack) -> None:
    sim, site = stack.sim, stack.site
    await sim.set_unreachable(SENDER)  # the network reports "permanent error" (TP-Status 0x41)
    await sim.inject_text(SENDER, "echo into the void")
    [sub] = await sim.wait_submitted(1, timeout=60)
    assert sub["text"] == "into the void"

    def failed() -> list[DeliveryReportRow] | None:
        return [r for r in site.delivery_reports() if r.status == 2] or None

    [row] = await site.wait_for(failed, timeout=60, what=f"a status 2 row\n{stack.diagnostics()}")
    assert row.identity == SENDER
    assert [r.status for r in site.delivery_reports() if r.status == 1] == []


async def test_many_senders_each_get_their_own_reply(stack: Stack) -> None:
    """30 people text at once: every reply goes to the right person (figure printed with -s)."""
    sim, site = stack.sim, stack.site
    people = [f"+2547000001{n:02d}" for n in range(30)]
    started = time.monotonic()
    await asyncio.gather(*(sim.inject_text(p, f"echo hi {p[-2:]}") for p in people))
    subs = await sim.wait_submitted(len(people), timeout=120)
    elapsed = time.monotonic() - started
    assert sorted((s["destination"], s["text"]) for s in subs) == [(p, f"hi {p[-2:]}") for p in people]
    assert len([m for m in site.messages() if m.direction == "O"]) == len(people)
    print(f"\n{len(people)} inbound -> RapidSMS -> reply submitted: {elapsed:.2f} s")


async def test_rapidsms_initiated_send_to_two_people(stack: Stack) -> None:
    """An app-initiated send (not a reply): KannelBackend puts both recipients in one `to`, space-joined."""
    sim, site = stack.sim, stack.site
    people = ["+254700000002", "+254700000003"]
    await site.send("Reminder: clinic tomorrow ☺", people)
    subs = await sim.wait_submitted(2, timeout=60)
    assert sorted((s["destination"], s["text"]) for s in subs) == [
        (p, "Reminder: clinic tomorrow ☺") for p in people
    ]
    rows = await delivered(stack, 2)
    assert sorted(r.identity for r in rows) == people
    assert len({r.message_id for r in rows}) == 1  # one RapidSMS message, two recipients
