"""Segment planning: encoding choice, per-part capacity, splitting text into parts (23.040 9.2.3.24)."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate

from . import gsm7, natlang
from .dcs import Encoding
from .errors import PduError
from .udh import Language

MAX_PARTS = 255
_UD_OCTETS = 140


@dataclass(frozen=True)
class Segments:
    """What `segment_info` reports; `units` are septets (gsm7), UTF-16 code units (ucs2) or octets (8bit)."""

    encoding: Encoding
    parts: int
    units: int
    per_part: int
    remaining_in_last_part: int
    language: Language | None = None


@dataclass(frozen=True)
class Plan:
    encoding: Encoding
    language: Language | None
    chunks: tuple[str, ...]
    units: int
    per_part: int
    last_units: int


def udh_octets(concat: bool, ref_bits: int = 8, language: Language | None = None, extra: int = 0) -> int:
    """UDH size in octets including the UDHL octet (0 when no IE is needed); `extra`: octets of other IEs
    (port addressing ...), their headers included."""
    n = ((5 if ref_bits == 8 else 6) if concat else 0) + extra
    if language is not None:
        n += 3 * (bool(language.locking) + bool(language.single))
    return n + 1 if n else 0


def capacity(encoding: Encoding, udh: int) -> int:
    """Units of payload per part after a UDH of `udh` octets."""
    if encoding == "gsm7":
        return (_UD_OCTETS * 8) // 7 - (udh * 8 + 6) // 7
    if encoding == "ucs2":
        return (_UD_OCTETS - udh) // 2
    return _UD_OCTETS - udh


def _split(text: str, costs: Sequence[int], cap: int) -> tuple[list[str], int]:
    """Greedy split at character boundaries, each chunk costing at most `cap` units.

    Returns the chunks and the units used by the last one.
    """
    if not text:
        return [""], 0
    cum = list(accumulate(costs))  # cum[i] = units of text[:i + 1]
    chunks: list[str] = []
    start = base = 0
    while start < len(text):
        end = bisect_right(cum, base + cap, lo=start)  # text[start:end] is the longest chunk that fits
        chunks.append(text[start:end])
        last = cum[end - 1] - base
        base, start = cum[end - 1], end
    return chunks, last


def _plan_costs(text: str, encoding: Encoding, costs: Sequence[int], ref_bits: int,
                language: Language | None, extra_udh: int = 0) -> Plan:
    total = sum(costs)
    single_cap = capacity(encoding, udh_octets(False, ref_bits, language, extra_udh))
    if total <= single_cap:
        return Plan(encoding, language, (text,), total, single_cap, total)
    cap = capacity(encoding, udh_octets(True, ref_bits, language, extra_udh))
    chunks, last = _split(text, costs, cap)
    return Plan(encoding, language, tuple(chunks), total, cap, last)


def plan_text(text: str, *, encoding: Encoding | None = None, ref_bits: int = 8,
              language_shift: bool = False, extra_udh: int = 0) -> Plan:
    """Choose encoding (and national tables when `language_shift`) giving the fewest parts, and split.

    GSM 7-bit is used when every character fits; escape sequences and surrogate pairs are never split.
    `extra_udh`: octets of other IEs every part carries.
    """
    if ref_bits not in (8, 16):
        raise PduError(f"ref_bits must be 8 or 16, not {ref_bits}")
    if encoding == "8bit":
        raise PduError("8-bit messages carry bytes: pass data=..., not text")
    best: Plan | None = None
    if encoding in (None, "gsm7"):
        pairs = natlang.shift_candidates() if language_shift else [(0, 0)]
        for lk, ss in pairs:
            costs = gsm7.septet_costs(text, gsm7.alphabet(lk, ss))
            if costs is None:
                continue
            lang = Language(lk, ss) if (lk or ss) else None
            plan = _plan_costs(text, "gsm7", costs, ref_bits, lang, extra_udh)
            if best is None or len(plan.chunks) < len(best.chunks):
                best = plan
    if encoding == "gsm7" and best is None:
        gsm7.text_to_septets(text)  # raises PduError naming the offending character
    if encoding == "ucs2" or (encoding is None and (best is None or best.language is not None)):
        units = [1] * len(text) if text.isascii() or max(text) <= "\uffff" else [
            2 if ord(ch) > 0xFFFF else 1 for ch in text]
        plan = _plan_costs(text, "ucs2", units, ref_bits, None, extra_udh)
        # national tables only when they beat UCS2; the default alphabet always wins ties
        if best is None or len(plan.chunks) < len(best.chunks) or (
            best.language is not None and len(plan.chunks) == len(best.chunks)
        ):
            best = plan
    assert best is not None
    if len(best.chunks) > MAX_PARTS:
        raise PduError(f"text needs {len(best.chunks)} parts, more than {MAX_PARTS}")
    return best


def plan_data(data: bytes, ref_bits: int = 8, extra_udh: int = 0) -> list[bytes]:
    single = capacity("8bit", udh_octets(False, ref_bits, None, extra_udh))
    if len(data) <= single:
        return [data]
    cap = capacity("8bit", udh_octets(True, ref_bits, None, extra_udh))
    parts = [data[i:i + cap] for i in range(0, len(data), cap)]
    if len(parts) > MAX_PARTS:
        raise PduError(f"data needs {len(parts)} parts, more than {MAX_PARTS}")
    return parts


def segment_info(text: str, *, language_shift: bool = False, ref_bits: int = 8,
                 encoding: Encoding | None = None) -> Segments:
    """How `text` would be sent: encoding, number of parts, units used and left in the last part."""
    p = plan_text(text, encoding=encoding, ref_bits=ref_bits, language_shift=language_shift)
    return Segments(p.encoding, len(p.chunks), p.units, p.per_part, p.per_part - p.last_units, p.language)


def split_text(text: str, *, encoding: Encoding | None = None, ref_bits: int = 8,
               language_shift: bool = False) -> list[str]:
    """The text of each part, as encode_submit/encode_deliver would send them."""
    return list(plan_text(text, encoding=encoding, ref_bits=ref_bits, language_shift=language_shift).chunks)
