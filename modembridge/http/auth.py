"""Credential checks, in constant time (hmac.compare_digest) so timing leaks nothing about secrets."""

from __future__ import annotations

import hmac

from modembridge.config import KannelConfig


def same_secret(given: str, expected: str) -> bool:
    """`given` equals the secret `expected`, compared in constant time."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def bearer_ok(authorization: str | None, token: str) -> bool:
    """True when the ``Authorization`` header is ``Bearer <token>`` (an empty token never matches)."""
    if not token or not authorization:
        return False
    scheme, _, given = authorization.strip().partition(" ")
    # compare even on a wrong scheme, so both paths take the same time
    ok = same_secret(given.strip(), token)
    return ok and scheme.lower() == "bearer"


def kannel_enabled(config: KannelConfig) -> bool:
    """Kannel sendsms is on only with both a username and a password: a missing secret (an empty
    password from a secrets file that was not there) must not open it to anyone who sends ``password=``."""
    return bool(config.username and config.password)


def kannel_ok(username: str | None, password: str | None, config: KannelConfig) -> bool:
    """Kannel sendsms credentials; always False while sendsms is disabled (see kannel_enabled)."""
    if not kannel_enabled(config):
        return False
    user_ok = same_secret(username or "", config.username)
    pass_ok = same_secret(password or "", config.password)
    return user_ok and pass_ok and username is not None and password is not None
