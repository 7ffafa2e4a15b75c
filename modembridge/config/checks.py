"""Value checks for settings, run after a value has its type: each returns the (normalised) value or raises
ValueError with the reason, which the loader reports after the file and the key.

Also the one parser of listen addresses (``parse_listen``), used by the config, the HTTP server and the CLI.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
BAUD_RATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 500000, 576000, 921600,
              1000000, 1152000, 1500000, 2000000, 3000000, 4000000)
AUTO_PROFILE = "auto"
_MODEM_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
_LISTEN = re.compile(r"\[([0-9A-Fa-f:.]+)\]:(\d{1,5})|([^:\[\]\s]+):(\d{1,5})")


def parse_listen(listen: str) -> tuple[str, int]:
    """``host:port`` or ``[v6]:port`` -> (host, port); ValueError with the reason when malformed.

    The host is required: ``:8080`` and ``8080`` are refused, because tools disagree on what they mean (all
    interfaces for Go and Kannel, loopback for others); write ``127.0.0.1:8080`` or ``0.0.0.0:8080``.
    Port 0 means any free port. Surrounding whitespace is ignored.
    """
    m = _LISTEN.fullmatch(listen.strip())
    if m is None:
        raise ValueError(f"{listen!r} is not host:port (IPv6 as [addr]:port)")
    host = m.group(1) or m.group(3)
    port = int(m.group(2) or m.group(4))
    if port > 65535:
        raise ValueError(f"port {port} is out of range 0-65535")
    if m.group(1):
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"{host!r} is not an IPv6 address") from None
    return host, port


def is_loopback(listen: str) -> bool:
    """Whether the listen address is reachable from this host only (127.0.0.0/8, ::1, localhost)."""
    host, _ = parse_listen(listen)
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def modem_profiles() -> tuple[str, ...]:
    """``auto`` and the names of the driver's quirk profiles (modembridge.at.quirks.PROFILES), in its order.

    Imported here, when a check or the docs need it, not at module level: ``modembridge.at`` (its package
    runs the driver, which imports modembridge.config) cannot be imported while this package initialises.
    By the time a config is validated or documented, modembridge.config is complete and the import is safe.
    """
    from modembridge.at.quirks import PROFILES

    return (AUTO_PROFILE, *PROFILES)


def positive(v: object) -> object:
    if not isinstance(v, int | float) or v <= 0:
        raise ValueError(f"must be greater than 0, not {v!r}")
    return v


def non_negative(v: object) -> object:
    if not isinstance(v, int | float) or v < 0:
        raise ValueError(f"must not be negative, not {v!r}")
    return v


def at_least_one(v: object) -> object:
    if not isinstance(v, int | float) or v < 1:
        raise ValueError(f"must be at least 1, not {v!r}")
    return v


def non_empty(v: object) -> object:
    if not isinstance(v, str) or not v.strip():
        raise ValueError("must not be empty")
    return v


def listen(v: object) -> object:
    assert isinstance(v, str)
    parse_listen(v)
    return v.strip()


def url(v: object) -> object:
    assert isinstance(v, str)
    if v and not re.match(r"^https?://[^/\s?#]+", v):
        raise ValueError(f"must be an http:// or https:// URL (or empty), not {v!r}")
    if v:
        try:
            urlsplit(v).port  # noqa: B018  (raises for a port that is not a number in 0-65535)
        except ValueError as exc:
            raise ValueError(f"{v!r}: {exc}") from None
    return v


def url_prefixes(v: object) -> object:
    """http(s) URL prefixes with a host and no credentials (callback targets)."""
    assert isinstance(v, tuple)
    for prefix in v:
        split = urlsplit(prefix)
        try:
            split.port  # noqa: B018
        except ValueError as exc:
            raise ValueError(f"{prefix!r}: {exc}") from None
        if split.scheme.lower() not in ("http", "https") or not split.hostname:
            raise ValueError(f"must be http:// or https:// URLs with a host, not {prefix!r}")
        if split.username is not None or split.password is not None:
            raise ValueError(f"must not carry credentials (user:password@): {prefix!r}")
    return v


def max_parts(v: object) -> object:
    if not isinstance(v, int) or not 1 <= v <= 255:
        raise ValueError(f"must be between 1 and 255, not {v!r}")
    return v


def redis_url(v: object) -> object:
    assert isinstance(v, str)
    if v and not re.match(r"^(redis|rediss|unix)://", v):
        raise ValueError(f"must be a redis://, rediss:// or unix:// URL (or empty), not {v!r}")
    return v


def fleet_name(v: object) -> object:
    """A fleet's group or host name: part of Redis key names and consumer names."""
    if not isinstance(v, str) or (v and not _MODEM_ID.match(v)):
        raise ValueError(f"must be 1-32 letters, digits, '_', '-' or '.' (starting with a letter or digit),"
                         f" not {v!r}")
    return v


def modem_id(v: object) -> object:
    if not isinstance(v, str) or not _MODEM_ID.match(v):
        raise ValueError(f"must be 1-32 letters, digits, '_', '-' or '.' (starting with a letter or digit),"
                         f" not {v!r}")
    return v


def baud(v: object) -> object:
    if v not in BAUD_RATES:
        raise ValueError(f"{v!r} is not a standard baud rate ({', '.join(map(str, BAUD_RATES))})")
    return v


def pin(v: object) -> object:
    if not isinstance(v, str) or not re.fullmatch(r"(\d{4,8})?", v):
        raise ValueError("must be empty or 4 to 8 digits")
    return v


def profile(v: object) -> object:
    choices = modem_profiles()
    if v not in choices:
        raise ValueError(f"must be one of {', '.join(choices)}, not {v!r}")
    return v


def storage(v: object) -> object:
    if not isinstance(v, str) or not re.fullmatch(r"[A-Z]{2}", v.upper()):
        raise ValueError(f"must be a two-letter memory name such as SM, ME or MT, not {v!r}")
    return v.upper()


def smsc(v: object) -> object:
    if not isinstance(v, str) or not re.fullmatch(r"(\+?\d{3,20})?", v):
        raise ValueError(f"must be empty or a phone number such as +254722500029, not {v!r}")
    return v


def loopback_url(v: object) -> object:
    """Empty, or an http URL on this host (127.0.0.1, localhost, [::1])."""
    if not isinstance(v, str) or not (v == "" or re.fullmatch(
            r"http://(127\.0\.0\.1|localhost|\[::1\])(:\d{1,5})?/?", v)):
        raise ValueError(f"must be empty or http://127.0.0.1:<port> (the simulator on this host), not {v!r}")
    return v.rstrip("/")


def ussd_code(v: object) -> object:
    if not isinstance(v, str) or not re.fullmatch(r"[0-9*#+]{0,182}", v):
        raise ValueError(f"must be empty or a USSD code such as *100# (0-9 * # +), not {v!r}")
    return v


def amount_pattern(v: object) -> object:
    """A regular expression with a named group ``amount``."""
    if not isinstance(v, str):
        raise ValueError(f"must be a regular expression, not {v!r}")
    try:
        compiled = re.compile(v)
    except re.error as exc:
        raise ValueError(f"is not a regular expression: {exc}") from None
    if "amount" not in compiled.groupindex:
        raise ValueError("needs a named group (?P<amount>...)")
    return v


def log_level(v: object) -> object:
    if not isinstance(v, str) or v.upper() not in LOG_LEVELS:
        raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}, not {v!r}")
    return v.upper()
