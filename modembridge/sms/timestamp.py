"""TP-SCTS / TP-DT / absolute TP-VP (23.040 9.2.3.11) and relative validity (9.2.3.12.1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from ._reader import Reader
from .errors import PduError

_SWAPPED_BCD = tuple((b & 0xF) * 10 + (b >> 4) if (b & 0xF) <= 9 and b >> 4 <= 9 else -1 for b in range(256))
_NAMES = ("year", "month", "day", "hour", "minute", "second")


def _bcd(b: int, what: str, offset: int) -> int:
    v = _SWAPPED_BCD[b]
    if v < 0:
        raise PduError(f"{what}: octet 0x{b:02X} at {offset} is not BCD")
    return v


def decode_scts(r: Reader, field: str) -> datetime:
    start = r.pos
    raw = r.take(7, field)
    vals = [_SWAPPED_BCD[b] for b in raw[:6]]
    if min(vals) < 0:
        i = vals.index(-1)
        _bcd(raw[i], f"{field} {_NAMES[i]}", start + i)
    yy, mo, dd, hh, mi, ss = vals
    tzb = raw[6]
    tens, units = tzb & 0x07, tzb >> 4  # not BCD-checked: real networks send e.g. 0xA0; stays < 24 h
    quarters = tens * 10 + units
    if tzb & 0x08:
        quarters = -quarters
    try:
        return datetime(2000 + yy, mo, dd, hh, mi, ss, tzinfo=timezone(timedelta(minutes=15 * quarters)))
    except ValueError as exc:
        raise PduError(f"{field} at octet {start}: invalid date/time ({exc})") from None


def _swap(v: int) -> int:
    return (v % 10) << 4 | (v // 10)


def encode_scts(dt: datetime) -> bytes:
    """Encode an aware datetime (naive is taken as UTC) keeping its own UTC offset in quarter-hours."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    off = dt.utcoffset() or timedelta(0)
    quarters, rem = divmod(off, timedelta(minutes=15))
    if rem or abs(quarters) > 79:
        raise PduError(f"time zone offset {off} is not a whole number of quarter-hours within ±79")
    if not 2000 <= dt.year <= 2099:
        raise PduError(f"year {dt.year} is outside 2000-2099")
    q = abs(quarters)
    tz = _swap(q) | (0x08 if quarters < 0 else 0)
    return bytes([_swap(dt.year - 2000), _swap(dt.month), _swap(dt.day), _swap(dt.hour), _swap(dt.minute),
                  _swap(dt.second), tz])


def encode_relative_vp(validity: timedelta) -> int:
    """Smallest TP-VP (relative) whose period is >= `validity`, clamped to 5 minutes .. 63 weeks."""
    minutes = validity.total_seconds() / 60
    if minutes <= 12 * 60:
        return max(0, min(143, _ceil(minutes / 5) - 1))
    if minutes <= 24 * 60:
        return 143 + _ceil((minutes - 12 * 60) / 30)
    days = minutes / (24 * 60)
    if days <= 30:
        return max(167, _ceil(days) + 166)
    weeks = days / 7
    return min(255, max(197, _ceil(weeks) + 192))


def _ceil(x: float) -> int:
    i = int(x)
    return i + 1 if x > i else i


def decode_relative_vp(vp: int) -> timedelta:
    if vp <= 143:
        return timedelta(minutes=(vp + 1) * 5)
    if vp <= 167:
        return timedelta(hours=12, minutes=(vp - 143) * 30)
    if vp <= 196:
        return timedelta(days=vp - 166)
    return timedelta(weeks=vp - 192)


def decode_enhanced_vp(raw: bytes, offset: int) -> timedelta | None:
    """Enhanced TP-VP (9.2.3.12.3): relative forms only; 'none' and reserved formats give None."""
    fmt = raw[0] & 0x07
    if fmt == 1:
        return decode_relative_vp(raw[1])
    if fmt == 2:
        return timedelta(seconds=raw[1])
    if fmt == 3:
        h = _bcd(raw[1], "TP-VP hours", offset + 1)
        m = _bcd(raw[2], "TP-VP minutes", offset + 2)
        s = _bcd(raw[3], "TP-VP seconds", offset + 3)
        return timedelta(hours=h, minutes=m, seconds=s)
    return None
