"""GSM 03.38 (3GPP TS 23.038) 7-bit default alphabet: tables, septet packing and text conversion.

Tables are parameterised by national language locking/single shift identifiers (see natlang.py);
language 0 is the default alphabet and its extension table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from .errors import PduError

ESC = 0x1B
CR = 0x0D

# 23.038 6.2.1: default alphabet, indexed by septet value.
BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
# 23.038 6.2.1.1: default alphabet extension table (reached through ESC 0x1B).
EXTENSION: Mapping[int, str] = {
    0x0A: "\x0c", 0x14: "^", 0x28: "{", 0x29: "}", 0x2F: "\\",
    0x3C: "[", 0x3D: "~", 0x3E: "]", 0x40: "|", 0x65: "€",
}


@dataclass(frozen=True)
class Alphabet:
    """One locking shift table plus one single shift (extension) table, with its reverse map."""

    locking: int
    single: int
    basic: str
    ext: Mapping[int, str]
    encode_map: Mapping[str, tuple[int, ...]]
    # str.translate tables: char -> its septets / its septet count (as code points); anything not in the
    # alphabet becomes U+FFFF, so a non-ASCII result means "does not fit"
    septet_table: Mapping[int, str]
    cost_table: Mapping[int, str]
    decode_table: Mapping[int, str]  # septet (as a code point) -> character, for ESC-free input

    def cost(self, ch: str) -> int | None:
        """Septets needed for `ch`, None when the character is not in this alphabet."""
        code = self.encode_map.get(ch)
        return None if code is None else len(code)


def _build(locking: int, single: int, basic: str, ext: Mapping[int, str]) -> Alphabet:
    enc: dict[str, tuple[int, ...]] = {}
    for code, ch in ext.items():
        if code != ESC:
            enc[ch] = (ESC, code)
    for code, ch in enumerate(basic):
        if code != ESC:
            enc[ch] = (code,)  # the locking table wins over the single shift for shared characters
    septet_table: dict[int, str] = {c: "\uffff" for c in range(128)}
    cost_table: dict[int, str] = dict(septet_table)
    for ch, seq in enc.items():
        septet_table[ord(ch)] = "".join(map(chr, seq))
        cost_table[ord(ch)] = chr(len(seq))
    decode_table = dict(enumerate(basic))
    return Alphabet(locking, single, basic, dict(ext), enc, septet_table, cost_table, decode_table)


@lru_cache(maxsize=64)
def alphabet(locking: int = 0, single: int = 0, *, strict: bool = False) -> Alphabet:
    """Alphabet for the given national language identifiers (0 = default).

    Unknown identifiers fall back to the default tables (23.038 6.2.1.2.4) unless `strict`,
    in which case PduError is raised (used on encode).
    """
    from .natlang import LOCKING_SHIFT, SINGLE_SHIFT

    basic = BASIC if locking == 0 else LOCKING_SHIFT.get(locking)
    ext = EXTENSION if single == 0 else SINGLE_SHIFT.get(single)
    if strict and (basic is None or ext is None):
        raise PduError(f"unsupported national language table (locking={locking}, single={single})")
    return _build(locking, single, basic or BASIC, ext if ext is not None else EXTENSION)


DEFAULT = alphabet()


def text_to_septet_bytes(text: str, alpha: Alphabet = DEFAULT) -> bytes:
    """Septet values for `text`, one per byte; PduError names the first character that does not fit."""
    s = text.translate(alpha.septet_table)
    if s.isascii():
        return s.encode("ascii")
    for i, ch in enumerate(text):
        if ch not in alpha.encode_map:
            raise PduError(
                f"character {ch!r} (U+{ord(ch):04X}) at text index {i} is not in the GSM 7-bit alphabet"
            )
    raise AssertionError("unreachable")  # pragma: no cover


def text_to_septets(text: str, alpha: Alphabet = DEFAULT) -> list[int]:
    """Septet values for `text`; raises PduError naming the first character that does not fit."""
    return list(text_to_septet_bytes(text, alpha))


def septet_costs(text: str, alpha: Alphabet = DEFAULT) -> bytes | None:
    """Septets per character (1, or 2 for escape sequences), None if some character does not fit."""
    s = text.translate(alpha.cost_table)
    return s.encode("ascii") if s.isascii() else None


def septet_length(text: str, alpha: Alphabet = DEFAULT) -> int | None:
    """Number of septets `text` needs in `alpha`, None if some character does not fit."""
    s = text.translate(alpha.septet_table)
    return len(s) if s.isascii() else None


def septets_to_text(septets: Sequence[int], alpha: Alphabet = DEFAULT) -> str:
    """Decode septets. Unknown escape codes show the locking-table character (23.038 6.2.1.1);
    ESC ESC and a dangling final ESC show a space."""
    if ESC not in septets:
        return bytes(septets).decode("latin-1").translate(alpha.decode_table)
    out: list[str] = []
    basic = alpha.basic
    ext = alpha.ext
    i = 0
    n = len(septets)
    while i < n:
        s = septets[i]
        if s == ESC:
            if i + 1 < n:
                e = septets[i + 1]
                ch = ext.get(e)
                out.append(ch if ch is not None else (" " if e == ESC else basic[e]))
                i += 2
                continue
            out.append(" ")
        else:
            out.append(basic[s])
        i += 1
    return "".join(out)


def pack_septets(septets: Sequence[int], fill_bits: int = 0, *, cr_pad: bool = True) -> bytes:
    """Pack septets LSB-first after `fill_bits` zero bits (0-6, used after a UDH).

    With `cr_pad`, when exactly 7 bits of the last octet are spare they carry CR, as 23.038 6.1.2.3.1
    asks, so a receiver counting octets does not see a spurious '@'.
    """
    acc = 0
    shift = fill_bits
    for s in septets:
        acc |= (s & 0x7F) << shift
        shift += 7
    nbytes = (shift + 7) // 8
    if cr_pad and septets and nbytes * 8 - shift == 7:
        acc |= CR << shift
    return acc.to_bytes(nbytes, "little")


def unpack_septets(data: bytes, count: int, fill_bits: int = 0) -> list[int]:
    """Unpack `count` septets from `data` after `fill_bits` bits. `data` must hold them all."""
    acc = int.from_bytes(data, "little") >> fill_bits
    out = [0] * count
    for i in range(count):
        out[i] = acc & 0x7F
        acc >>= 7
    return out


def packed_length(septets: int, fill_bits: int = 0) -> int:
    """Octets needed to carry `septets` septets after `fill_bits` fill bits."""
    return (fill_bits + septets * 7 + 7) // 8


def decode_octet_counted(data: bytes, alpha: Alphabet = DEFAULT) -> str:
    """Decode packed GSM 7-bit text whose length is only known in octets (USSD, CBS pages).

    When the data ends on an octet boundary with CR in the last 7 bits, that CR is padding
    (or the doubled CR that 23.038 6.1.2.3.1 prescribes) and is removed.
    """
    count = len(data) * 8 // 7
    septets = unpack_septets(data, count)
    if count and count % 8 == 0 and septets[-1] == CR:
        septets.pop()
    return septets_to_text(septets, alpha)


def encode_octet_counted(text: str, alpha: Alphabet = DEFAULT) -> bytes:
    """Pack text for an octet-counted context (USSD/CBS): CR padding, and a text ending in CR at an
    octet boundary gets a second CR (23.038 6.1.2.3.1)."""
    septets = text_to_septets(text, alpha)
    if septets and len(septets) % 8 == 0 and septets[-1] == CR:
        septets.append(CR)
    return pack_septets(septets)
