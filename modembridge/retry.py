"""Retry timing shared by every queue (router deliveries, DLR callbacks, outbound parts):
exponential backoff with full jitter and a cap."""

from __future__ import annotations

import random

from modembridge.config import RetryPolicy


def backoff_delay(policy: RetryPolicy, attempts: int, rng: random.Random | None = None) -> float:
    """Seconds to wait after `attempts` failed tries (>= 1): uniform in [0, min(cap, initial * factor^(n-1))].

    Full jitter spreads the retries of many entries that failed together (a router outage), and the
    cap bounds the wait however long the outage lasts.
    """
    try:
        ceiling = policy.initial * policy.factor ** max(0, attempts - 1)
    except OverflowError:
        ceiling = policy.cap
    return (rng or random).uniform(0.0, max(0.0, min(policy.cap, ceiling)))


def exhausted(policy: RetryPolicy, attempts: int) -> bool:
    """True when `attempts` failed tries use up the policy (max_attempts 0 = never)."""
    return policy.max_attempts > 0 and attempts >= policy.max_attempts
