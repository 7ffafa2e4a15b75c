"""Retry timing shared by every queue: exponential backoff with full jitter and a cap."""

from __future__ import annotations

import random

from modembridge.config import RetryPolicy


def backoff_delay(policy: RetryPolicy, attempts: int, rng: random.Random | None = None) -> float:
    """Seconds to wait before the next try after `attempts` failed tries (attempts >= 1).

    Full jitter (uniform between half the exponential step and the step) spreads retries of many
    entries that failed together, and the cap bounds the wait however long an outage lasts.
    """
    step = min(policy.cap, policy.initial * policy.factor ** max(0, attempts - 1))
    return (rng or random).uniform(step / 2, step)


def exhausted(policy: RetryPolicy, attempts: int) -> bool:
    """True when `attempts` failed tries use up the policy (max_attempts 0 = never)."""
    return policy.max_attempts > 0 and attempts >= policy.max_attempts
