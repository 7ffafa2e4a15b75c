"""Send pacing and quotas per modem, over real ptys and a real journal: caps hold parts `queued` with the
reason (never failed), another modem takes what it may (SIM rotation), counters survive a restart."""

from __future__ import annotations

import itertools
import json
import os
import random
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from modembridge.bridge import Bridge
from modembridge.bridge.pacing import Pacer, day_key, month_key, next_day, next_month
from modembridge.cli.render import render_status
from modembridge.config import ModemConfig
from modembridge.http import HttpTransport
from modembridge.http.callbacks import CallbackPolicy
from modembridge.http.client import DlrClient, RouterClient
from modembridge.model import BridgeStatus, SendRequest
from modembridge.model.wire import from_wire, to_wire
from modembridge.observe import Metrics
from modembridge.store import Store

from .conftest import Stack, wait_until


def part_views(stack: Stack, message_id: str) -> list[Any]:
    view = stack.store.views.outbound(message_id)
    assert view is not None
    return [p for r in view.recipients for p in r.parts]


async def send(stack: Stack, to: str, text: str = "hello", modem: str | None = None) -> str:
    return (await stack.bridge.submit(SendRequest(recipients=(to,), text=text, modem=modem))).message_id


def sent_by(stack: Stack) -> dict[str, int]:
    return {mid: len(sim.submitted()) for mid, sim in stack.sims.items()}


async def test_two_modems_capped_at_three_a_day_carry_six_and_hold_the_seventh(make_stack: Any) -> None:
    stack: Stack = await make_stack(modems=2, modem_kw={"max_parts_per_day": 3})
    await stack.wait_ready()
    before = datetime.now().timestamp()  # the next local midnight from now (the test may run across one)
    ids = [await send(stack, f"+25471100020{i}") for i in range(7)]
    await wait_until(lambda: sum(sent_by(stack).values()) == 6)
    assert sent_by(stack) == {"gsm0": 3, "gsm1": 3}  # rotation: each SIM up to its cap
    await wait_until(lambda: any((p.error or "").startswith("waiting:")
                                 for m in ids for p in part_views(stack, m)))
    waiting = [p for m in ids for p in part_views(stack, m) if p.state == "queued"]
    assert len(waiting) == 1 and "max_parts_per_day 3 reached" in (waiting[0].error or "")
    assert "next send at" in (waiting[0].error or "")
    status = stack.bridge.status()
    assert {m: (u.sent_today, u.max_parts_per_day) for m, u in status.usage.items()} == {
        "gsm0": (3, 3), "gsm1": (3, 3)}
    usage = status.usage["gsm0"]
    assert usage.waiting and usage.next_send_at is not None
    assert usage.next_send_at.timestamp() in (next_day(before), next_day(datetime.now().timestamp()))
    wire = json.loads(json.dumps(to_wire(status)))
    assert from_wire(BridgeStatus, wire).usage == status.usage  # what `modembridge status` reads back
    assert "3/3 parts today" in render_status(from_wire(BridgeStatus, wire))
    stack.bridge.metrics.bind_status(stack.bridge.status)  # as the daemon does
    metrics = stack.bridge.metrics.render().decode()
    assert 'modembridge_modem_sent_today{modem="gsm1"} 3.0' in metrics
    assert sum(sent_by(stack).values()) == 6  # nothing failed, nothing more went out


async def test_a_pinned_message_waits_for_its_capped_modem_with_the_reason(make_stack: Any) -> None:
    stack: Stack = await make_stack(modems=2, modem_kw={"max_parts_per_day": 1})
    await stack.wait_ready()
    before = datetime.now().timestamp()
    first = await send(stack, "+254711000210", modem="gsm0")
    await wait_until(lambda: part_views(stack, first)[0].state == "sent")
    second = await send(stack, "+254711000211", modem="gsm0")
    await wait_until(lambda: "max_parts_per_day 1" in (part_views(stack, second)[0].error or ""))
    part = part_views(stack, second)[0]
    assert part.state == "queued" and part.next_attempt_at is not None
    assert part.next_attempt_at.timestamp() in (next_day(before), next_day(datetime.now().timestamp()))
    assert sent_by(stack)["gsm1"] == 0  # pinned: never rotated


async def test_the_days_counters_survive_a_restart(make_stack: Any) -> None:
    stack: Stack = await make_stack(modem_kw={"max_parts_per_day": 2})
    await stack.wait_ready()
    for i in range(2):
        await send(stack, f"+25471100022{i}")
    await wait_until(lambda: sent_by(stack)["gsm0"] == 2)
    await stack.bridge.stop()
    async with HttpTransport() as http:
        metrics = Metrics()
        bridge = Bridge(stack.config, stack.store, metrics=metrics,
                        router=RouterClient(stack.config.router, http, metrics).deliver,
                        dlr=DlrClient(stack.config.dlr, http, metrics,
                                      policy=CallbackPolicy.from_config(stack.config)).call)
        await bridge.start()
        try:
            await wait_until(lambda: bool(bridge.readiness()[0]))
            third = (await bridge.submit(SendRequest(recipients=("+254711000229",), text="third"))).message_id
            await wait_until(lambda: "max_parts_per_day 2" in (part_views(stack, third)[0].error or ""))
            assert bridge.status().usage["gsm0"].sent_today == 2 and sent_by(stack)["gsm0"] == 2
        finally:
            await bridge.stop()


@pytest.mark.slow
async def test_pacing_at_30_a_minute_spaces_sends_by_two_seconds(make_stack: Any) -> None:
    stack: Stack = await make_stack(modem_kw={"max_parts_per_minute": 30.0})
    await stack.wait_ready()
    for i in range(3):
        await send(stack, f"+25471100023{i}")
    submitted = await stack.sim.wait_submitted(3, timeout=15)
    times = [datetime.fromisoformat(s["time"]).timestamp() for s in submitted]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(1.95 <= g <= 2.5 for g in gaps), gaps  # the recorded submit times, 2 s apart


async def test_a_recipient_cap_serves_known_recipients_and_holds_new_ones(make_stack: Any) -> None:
    stack: Stack = await make_stack(modem_kw={"max_recipients_per_month": 2})
    await stack.wait_ready()
    for to in ("+254711000241", "+254711000242"):
        await send(stack, to)
    await wait_until(lambda: sent_by(stack)["gsm0"] == 2)
    new = await send(stack, "+254711000243")
    known = await send(stack, "+254711000241", "again")
    await wait_until(lambda: part_views(stack, known)[0].state == "sent")
    await wait_until(lambda: "max_recipients_per_month 2" in (part_views(stack, new)[0].error or ""))
    assert part_views(stack, new)[0].state == "queued"
    usage = stack.bridge.status().usage["gsm0"]
    assert (usage.recipients_this_month, usage.max_recipients_per_month) == (2, 2)


# ------------------------------------------------------------------ the pacer alone, on a real journal


def pacer(tmp_path: Path, **caps: Any) -> Pacer:
    return Pacer(ModemConfig(id="gsm0", port="/dev/null", **caps), Store(tmp_path / "j.db"),
                 rng=random.Random(1))


def test_the_calendar_is_the_hosts_local_one() -> None:
    t = datetime(2026, 12, 31, 23, 59, 30).timestamp()  # local time
    assert (day_key(t), month_key(t)) == ("2026-12-31", "2026-12")
    assert datetime.fromtimestamp(next_day(t)) == datetime(2027, 1, 1)
    assert datetime.fromtimestamp(next_month(t)) == datetime(2027, 1, 1)
    assert datetime.fromtimestamp(next_month(datetime(2026, 1, 31, 12).timestamp())) == datetime(2026, 2, 1)


def test_the_calendar_keys_follow_the_clock_across_midnight_and_back() -> None:
    """The keys are cached for the day: each instant still gets its own day's (and month's) keys."""
    instants = [datetime(2026, 12, 31, 23, 59, 59, 999_000), datetime(2027, 1, 1), datetime(2026, 12, 31),
                datetime(2026, 12, 30, 23, 59, 59), datetime(2027, 1, 1, 0, 0, 1), datetime(2026, 12, 31, 12)]
    for local in instants:
        t = local.timestamp()
        assert (day_key(t), month_key(t)) == (local.strftime("%Y-%m-%d"), local.strftime("%Y-%m")), local


def test_the_calendar_keys_across_a_dst_change_at_midnight() -> None:
    """In a zone whose clocks jumped at midnight (Sao Paulo, 2018-11-04 00:00 -> 01:00), every minute
    around the change gets the day and month of its own local time (a subprocess: the zone is its TZ)."""
    script = (
        "from datetime import datetime\n"
        "from modembridge.bridge.pacing import day_key, month_key\n"
        "t0 = datetime(2018, 11, 3, 12).timestamp()\n"
        "for t in [t0 + 60 * i for i in range(0, 36 * 60)] + [t0 + 60 * i for i in range(36 * 60, 0, -7)]:\n"
        "    local = datetime.fromtimestamp(t)\n"
        "    assert (day_key(t), month_key(t)) == (local.strftime('%Y-%m-%d'), local.strftime('%Y-%m')), t\n"
        "print('ok')\n")
    if not Path("/usr/share/zoneinfo/America/Sao_Paulo").exists():
        pytest.skip("no tzdata for America/Sao_Paulo")
    out = subprocess.run([sys.executable, "-c", script], env={**os.environ, "TZ": "America/Sao_Paulo"},
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_pacing_with_jitter_spaces_between_the_pace_and_the_pace_plus_jitter(tmp_path: Path) -> None:
    p = pacer(tmp_path, max_parts_per_minute=60.0, send_jitter=2.0)
    now = 1_800_000_000.0
    assert p.gate(now).wait_until is None
    waits = []
    for _ in range(20):
        p.sending("+1", now)
        gate = p.gate(now)
        assert gate.wait_until is not None and not gate.quota
        waits.append(gate.wait_until - now)
        now = gate.wait_until
    assert all(1.0 <= w <= 3.0 for w in waits) and len(set(waits)) > 10  # 1 s pace + 0..2 s, not regular


def test_a_new_day_resets_the_day_but_not_the_month(tmp_path: Path) -> None:
    p = pacer(tmp_path, max_parts_per_day=1, max_recipients_per_month=1)
    day1 = datetime(2026, 5, 10, 12).timestamp()
    p.sending("+1", day1)
    assert p.gate(day1).quota
    day2 = datetime(2026, 5, 11, 0, 0, 1).timestamp()
    gate = p.gate(day2)
    assert gate.wait_until is None and gate.known_only == "2026-05"  # the month's one recipient is taken
    assert p.gate(datetime(2026, 6, 1, 0, 0, 1).timestamp()).known_only is None
