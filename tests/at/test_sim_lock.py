"""SIM PIN handling that cannot lock a SIM, and SIM swap detection (modembridge/at/sim_lock.py), with the
simulated modem; unit tests of check_sim_identity and pin_fingerprint; the unlock decision as a table."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from modembridge.at import CmeError, ErrorResult, ModemState
from modembridge.at.facts import VolatileFacts, pin_fingerprint
from modembridge.at.quirks import get_profile
from modembridge.at.sim_lock import (
    UNREAD,
    Act,
    GiveUp,
    SimAction,
    SimProblem,
    SimSwap,
    SimView,
    check_sim_identity,
    decide,
)
from modembridge.sim.harness import SimModem

from .helpers import fast_config, running, wait_state

SimFactory = Callable[..., SimModem]

RIGHT_PIN, WRONG_PIN = "4826", "1357"
OLD_IMSI, OLD_ICCID = "001019999999999", "8901260000000099999"


def rx_commands(sim: SimModem) -> list[str]:
    """Every command line the host wrote (the sim's rx log split on CR), in order."""
    lines = sim.traffic_bytes("rx").decode("latin-1").split("\r")
    return [line.strip("\n\x1b") for line in lines if line.strip("\n\x1b").upper().startswith("AT")]


def pin_entries(sim: SimModem) -> list[str]:
    return [c for c in rx_commands(sim) if c.upper().startswith("AT+CPIN=")]


# ====================================================================== PIN entry over the pty


async def test_a_rejected_pin_is_never_entered_again_even_by_a_new_modem(sim_factory: SimFactory) -> None:
    facts = VolatileFacts()  # outlives each Modem, as the journal outlives a daemon process
    async with sim_factory(pin=RIGHT_PIN) as sim:
        async with running(fast_config(str(sim.link), pin=WRONG_PIN), ready=False, facts=facts) as modem:
            failed = await wait_state(modem, ModemState.FAILED, timeout=10.0)
            assert "rejected" in failed.reason
            assert sim.e.pin_tries == 2 and sim.e.pin_state == "SIM PIN"
            assert pin_entries(sim) == [f'AT+CPIN="{WRONG_PIN}"']
        assert facts.recall("pin_rejected") == pin_fingerprint(WRONG_PIN, "gsm0")

        # "after a restart": a new Modem with the same facts and the same (wrong) pin does not try it
        sim.clear_traffic()
        async with running(fast_config(str(sim.link), pin=WRONG_PIN), ready=False, facts=facts) as modem:
            failed = await wait_state(modem, ModemState.FAILED, timeout=10.0)
            assert "rejected the configured pin before" in failed.reason
            assert "AT+CPIN?" in rx_commands(sim)  # it did look at the SIM ...
            assert pin_entries(sim) == []  # ... but entered nothing
            assert sim.e.pin_tries == 2 and sim.e.pin_state == "SIM PIN"
        assert facts.recall("pin_rejected") is not None

        # the operator fixes `pin` in the config: the new pin is entered once; the wrong one stays known
        sim.clear_traffic()
        async with running(fast_config(str(sim.link), pin=RIGHT_PIN), facts=facts) as modem:
            assert modem.state is ModemState.READY
            assert pin_entries(sim) == [f'AT+CPIN="{RIGHT_PIN}"']
            assert sim.e.pin_state == "READY" and sim.e.pin_tries == 3
        assert facts.recall("pin_rejected") == pin_fingerprint(WRONG_PIN, "gsm0")
        assert facts.recall("pin_unconfirmed") is None


async def test_a_bare_error_to_the_pin_is_a_rejection_too(sim_factory: SimFactory) -> None:
    """Without AT+CMEE a wrong PIN is answered with a plain ERROR: still never entered a second time."""
    async with sim_factory(pin=RIGHT_PIN) as sim:
        del sim.e.commands.table["+CMEE"]
        del sim.e.commands.table["+CPINR"]  # and no attempt counter to fall back on
        async with running(fast_config(str(sim.link), pin=WRONG_PIN), ready=False) as modem:
            failed = await wait_state(modem, ModemState.FAILED, timeout=10.0)
            assert "rejected" in failed.reason
            sim.restart()  # even a modem restart does not bring a second attempt
            await sim.wait_for(lambda: sim.e.mode == "command")
        assert pin_entries(sim) == [f'AT+CPIN="{WRONG_PIN}"'] and sim.e.pin_tries == 2


async def test_every_rejected_pin_is_remembered_not_just_the_last(sim_factory: SimFactory) -> None:
    facts = VolatileFacts()
    async with sim_factory(pin=RIGHT_PIN) as sim:
        del sim.e.commands.table["+CPINR"]  # no counter: only the remembered facts protect the SIM
        for pin in (WRONG_PIN, "2468", WRONG_PIN):
            async with running(fast_config(str(sim.link), pin=pin), ready=False, facts=facts) as modem:
                await wait_state(modem, ModemState.FAILED, timeout=10.0)
        assert pin_entries(sim) == [f'AT+CPIN="{WRONG_PIN}"', 'AT+CPIN="2468"']
        assert sim.e.pin_tries == 1 and sim.e.pin_state == "SIM PIN"  # one left, for a person


async def test_a_pin_whose_answer_was_lost_is_judged_by_the_sim_next_time(sim_factory: SimFactory) -> None:
    """AT+CPIN=<pin> sent, answer lost (crash, timeout): READY next time means it worked; SIM PIN with a
    spent attempt means it was wrong; a full counter means it was never checked and may be tried."""
    fp = pin_fingerprint(RIGHT_PIN, "gsm0")
    async with sim_factory(pin=RIGHT_PIN) as sim:
        facts = VolatileFacts()
        await facts.remember("pin_unconfirmed", fp)  # never checked: counter full, so it is entered
        async with running(fast_config(str(sim.link), pin=RIGHT_PIN), facts=facts) as modem:
            assert modem.state is ModemState.READY
        assert facts.recall("pin_unconfirmed") is None and facts.recall("pin_rejected") is None

    async with sim_factory(pin=RIGHT_PIN) as sim:
        sim.e.pin_tries = 2  # an attempt was spent: the lost answer was "wrong"
        facts = VolatileFacts()
        await facts.remember("pin_unconfirmed", fp)
        async with running(fast_config(str(sim.link), pin=RIGHT_PIN), ready=False, facts=facts) as modem:
            failed = await wait_state(modem, ModemState.FAILED, timeout=10.0)
            assert "answer was lost" in failed.reason
        assert pin_entries(sim) == [] and facts.recall("pin_rejected") == fp


@pytest.mark.parametrize("profile", ["generic", "huawei", "sim800", "quectel"])
async def test_the_last_pin_attempt_is_left_to_a_person(sim_factory: SimFactory, profile: str) -> None:
    counter = get_profile(profile).pin_retries[0]  # each vendor asks its own counter first
    async with sim_factory(profile=profile, pin=RIGHT_PIN) as sim:
        sim.e.pin_tries = 1
        config = fast_config(str(sim.link), pin=RIGHT_PIN, profile=profile)
        async with running(config, ready=False) as modem:
            failed = await wait_state(modem, ModemState.FAILED, timeout=10.0)
            assert "1 PIN attempt(s) left" in failed.reason
            assert counter in rx_commands(sim)
            assert pin_entries(sim) == []
            assert sim.e.pin_tries == 1 and sim.e.pin_state == "SIM PIN"


async def test_a_puk_locked_sim_fails_and_nothing_needing_the_sim_is_sent(sim_factory: SimFactory) -> None:
    async with sim_factory(pin=RIGHT_PIN) as sim:
        sim.e.pin_tries = 0
        sim.e.pin_state = "SIM PUK"
        async with running(fast_config(str(sim.link), pin=RIGHT_PIN), ready=False) as modem:
            failed = await wait_state(modem, ModemState.FAILED, timeout=10.0)
            assert "PUK" in failed.reason
            commands = rx_commands(sim)
        assert pin_entries(sim) == []
        # AT+CPIN? was the last thing asked: no PIN/PUK entry, no IMSI/ICCID, no SMS set-up after it
        assert commands[-1] == "AT+CPIN?"
        assert rx_commands(sim) == commands  # nothing more while stopping either
        assert sim.e.pin_state == "SIM PUK" and sim.e.puk_tries == 10


async def test_no_pin_is_entered_when_the_sim_does_not_ask_for_one(sim: SimModem) -> None:
    async with running(fast_config(str(sim.link), pin=RIGHT_PIN)) as modem:
        assert modem.state is ModemState.READY
        assert "AT+CPIN?" in rx_commands(sim)
        assert pin_entries(sim) == []


# ====================================================================== SIM swap over the pty


async def test_a_swapped_sim_is_reported_once_and_remembered(
    sim: SimModem, caplog: pytest.LogCaptureFixture
) -> None:
    new_imsi, new_iccid = sim.e.config.imsi, sim.e.config.iccid
    facts = VolatileFacts()
    facts.values.update(imsi=OLD_IMSI, iccid=OLD_ICCID)
    with caplog.at_level(logging.WARNING, logger="modembridge.at.modem"):
        async with running(fast_config(str(sim.link)), facts=facts) as modem:
            swap = modem.snapshot().sim_swap
            assert swap is not None and OLD_ICCID in swap and new_iccid in swap
            assert OLD_IMSI in swap and new_imsi in swap
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "SIM changed" in r.getMessage()]
    assert len(warnings) == 1 and OLD_ICCID in warnings[0].getMessage()
    assert facts.values == {"imsi": new_imsi, "iccid": new_iccid}

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="modembridge.at.modem"):
        async with running(fast_config(str(sim.link)), facts=facts) as modem:
            assert modem.snapshot().sim_swap is None
    assert not [r for r in caplog.records if "SIM changed" in r.getMessage()]
    assert facts.values == {"imsi": new_imsi, "iccid": new_iccid}


# ====================================================================== units


async def test_check_sim_identity_first_sight_remembers_without_reporting() -> None:
    facts = VolatileFacts()
    assert await check_sim_identity(facts, "001010000000001", "8901000000000000001") is None
    assert facts.values == {"imsi": "001010000000001", "iccid": "8901000000000000001"}
    assert await check_sim_identity(facts, "001010000000001", "8901000000000000001") is None


async def test_check_sim_identity_reports_a_changed_iccid_or_imsi() -> None:
    facts = VolatileFacts()
    facts.values.update(imsi="001010000000001", iccid="8901000000000000001")
    swap = await check_sim_identity(facts, "001010000000002", "8901000000000000002")
    assert swap == SimSwap(old_imsi="001010000000001", new_imsi="001010000000002",
                           old_iccid="8901000000000000001", new_iccid="8901000000000000002")
    assert swap.describe() == ("SIM changed: ICCID 8901000000000000001 -> 8901000000000000002, "
                               "IMSI 001010000000001 -> 001010000000002")
    assert facts.values == {"imsi": "001010000000002", "iccid": "8901000000000000002"}

    only_imsi = await check_sim_identity(facts, "001010000000003", "8901000000000000002")
    assert only_imsi is not None
    assert only_imsi.describe() == "SIM changed: IMSI 001010000000002 -> 001010000000003"


async def test_check_sim_identity_unknown_values_neither_report_nor_forget() -> None:
    facts = VolatileFacts()
    facts.values.update(imsi="001010000000001", iccid="8901000000000000001")
    # a modem that did not answer AT+CIMI / AT+CCID this time: no swap, and the last SIM is kept
    assert await check_sim_identity(facts, None, None) is None
    assert facts.values == {"imsi": "001010000000001", "iccid": "8901000000000000001"}
    swap = await check_sim_identity(facts, None, "8901000000000000009")
    assert swap is not None
    assert (swap.old_iccid, swap.new_iccid) == ("8901000000000000001", "8901000000000000009")
    assert swap.describe().startswith("SIM changed: ICCID 8901000000000000001 -> 8901000000000000009")
    assert facts.values == {"imsi": "001010000000001", "iccid": "8901000000000000009"}


def test_pin_fingerprint_hides_the_pin_and_depends_on_the_modem() -> None:
    pin = "73915864"
    fp = pin_fingerprint(pin, "gsm0")
    assert pin not in fp and pin[:4] not in fp and pin[-4:] not in fp
    assert fp == pin_fingerprint(pin, "gsm0")  # recognisable again, e.g. after a restart
    assert fp != pin_fingerprint(pin, "gsm1")
    assert fp != pin_fingerprint("73915865", "gsm0")
    assert len(fp) == 24 and set(fp) <= set("0123456789abcdef")


# ====================================================================== the decision, as a table

def view(cpin: str | CmeError = "SIM PIN", **kw: Any) -> SimView:
    base: dict[str, Any] = {"patient": True, "pin": RIGHT_PIN, "unconfirmed": False, "rejected": False,
                            "attempts_left": 3}
    return SimView(cpin=cpin, **{**base, **kw})


Check = Callable[[SimAction], bool]


def gives_up(problem: SimProblem, *, retry: bool = False, reject: bool = False) -> Check:
    def check(action: SimAction) -> bool:
        return (isinstance(action, GiveUp) and action.problem is problem and action.retry is retry
                and action.reject is reject)

    return check


def is_(act: Act) -> Check:
    return lambda action: action is act


LOOK_AGAIN = is_(Act.LOOK)

DECISIONS: list[tuple[str, SimView, Callable[[SimAction], bool]]] = [
    # the SIM is usable
    ("ready", view("READY"), is_(Act.DONE)),
    ("ready after a lost answer", view("READY", unconfirmed=True), is_(Act.DONE)),
    ("PIN2 does not block SMS", view("SIM PIN2"), is_(Act.DONE)),
    # booting: busy, not yet, "not inserted" for a moment
    ("busy while booting", view(CmeError(14)), LOOK_AGAIN),
    ("not inserted while booting", view(CmeError(10)), LOOK_AGAIN),
    ("text-only error while booting", view(CmeError(None, "wait")), LOOK_AGAIN),
    ("NOT READY while booting", view("NOT READY"), LOOK_AGAIN),
    ("no SIM after the boot", view(CmeError(10), patient=False), gives_up(SimProblem.NO_SIM, retry=True)),
    ("SIM failure", view(CmeError(15)), gives_up(SimProblem.SIM_FAILURE, retry=True)),
    ("still not ready", view("NOT READY", patient=False), gives_up(SimProblem.NOT_USABLE, retry=True)),
    ("an error that says nothing about the SIM", view(CmeError(3)), is_(Act.PROPAGATE)),
    # locks a person must lift
    ("PUK", view("SIM PUK"), gives_up(SimProblem.PUK_LOCKED)),
    ("PH-SIM PIN", view("PH-SIM PIN"), gives_up(SimProblem.OTHER_LOCK)),
    ("no pin configured", view(pin=""), gives_up(SimProblem.NO_PIN)),
    ("not a PIN", view(pin="12ab"), gives_up(SimProblem.BAD_PIN)),
    # the PIN: only after the counter was read, never rejected ones, never the last attempts
    ("counter first", view(attempts_left=UNREAD), is_(Act.COUNT_ATTEMPTS)),
    ("enter", view(), is_(Act.ENTER_PIN)),
    ("enter without a counter", view(attempts_left=None), is_(Act.ENTER_PIN)),
    ("rejected before", view(rejected=True), gives_up(SimProblem.REJECTED_BEFORE)),
    ("one attempt left", view(attempts_left=1), gives_up(SimProblem.LAST_ATTEMPTS)),
    ("lost answer, counter full: never checked", view(unconfirmed=True),
     is_(Act.FORGET_UNCONFIRMED)),
    ("lost answer, an attempt spent", view(unconfirmed=True, attempts_left=2), is_(Act.REJECT_UNCONFIRMED)),
    ("lost answer, no counter", view(unconfirmed=True, attempts_left=None), is_(Act.REJECT_UNCONFIRMED)),
    # the answer to the entry
    ("accepted", view(answer="accepted"), is_(Act.ACCEPTED)),
    ("wrong PIN", view(answer=CmeError(16)), gives_up(SimProblem.REJECTED, reject=True)),
    ("a bare ERROR is a rejection", view(answer=ErrorResult("ERROR", result="ERROR")),
     gives_up(SimProblem.REJECTED, reject=True)),
    ("busy: not proven either way", view(answer=CmeError(14)), LOOK_AGAIN),
    ("busy for too long", view(answer=CmeError(14), patient=False),
     gives_up(SimProblem.REJECTED, reject=True)),
    # at most once per start
    ("still asks after acceptance: wait", view(entered=True), LOOK_AGAIN),
    ("still asks after acceptance: give up", view(entered=True, patient=False),
     gives_up(SimProblem.STILL_LOCKED)),
]


@pytest.mark.parametrize(("case", "seen", "expected"), DECISIONS, ids=[d[0] for d in DECISIONS])
def test_decide(case: str, seen: SimView, expected: Callable[[SimAction], bool]) -> None:
    action = decide(seen)
    assert expected(action), f"{case}: {action}"


def test_decide_never_enters_a_pin_it_must_not() -> None:
    """Every combination that forbids an entry leads to something other than EnterPin."""
    for cpin in ("READY", "SIM PUK", "PH-SIM PIN", "NOT READY", CmeError(10), CmeError(14)):
        for patient in (True, False):
            assert decide(view(cpin, patient=patient)) is not Act.ENTER_PIN
    for kw in ({"pin": ""}, {"rejected": True}, {"attempts_left": 1}, {"attempts_left": 0},
               {"entered": True}, {"unconfirmed": True}, {"attempts_left": UNREAD}):
        assert decide(view(**kw)) is not Act.ENTER_PIN, kw
