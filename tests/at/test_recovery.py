"""The recovery ladder's policy, as plain data."""

from __future__ import annotations

import pytest

from modembridge.at.recovery import RecoveryLadder, Rung


def test_cheap_remedies_first_then_reset_within_three_failures() -> None:
    ladder = RecoveryLadder(min_delay=0.5, max_delay=60.0)
    steps = [ladder.failed() for _ in range(3)]
    assert [s.rung for s in steps] == [Rung.REINIT, Rung.REOPEN, Rung.RESET]
    assert [s.delay for s in steps] == [0.0, 0.5, 1.0]
    assert [s.failures for s in steps] == [1, 2, 3]


def test_after_a_reset_reopen_and_reset_alternate_with_a_doubling_capped_delay() -> None:
    ladder = RecoveryLadder(min_delay=0.5, max_delay=10.0)
    for _ in range(3):
        ladder.failed()
    later = [ladder.failed() for _ in range(6)]
    assert [s.rung for s in later] == [Rung.REOPEN, Rung.RESET] * 3
    assert [s.delay for s in later] == [2.0, 4.0, 8.0, 10.0, 10.0, 10.0]


def test_recovered_starts_again_at_the_bottom() -> None:
    ladder = RecoveryLadder()
    ladder.failed()
    ladder.failed()
    ladder.recovered()
    assert ladder.failures == 0
    assert ladder.failed().rung is Rung.REINIT


def test_escalate_to_skips_rungs_but_never_goes_down() -> None:
    ladder = RecoveryLadder()
    assert ladder.escalate_to(Rung.RESET).rung is Rung.RESET
    assert ladder.escalate_to(Rung.REINIT).rung is Rung.REOPEN  # already past it: just one more failure


def test_bad_delays_are_refused() -> None:
    with pytest.raises(ValueError):
        RecoveryLadder(min_delay=2.0, max_delay=1.0)
