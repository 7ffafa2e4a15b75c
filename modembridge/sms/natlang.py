"""National language locking/single shift tables (3GPP TS 23.038 annex A) and UDH language IEs.

Locking shift tables replace the default alphabet (UDH IEI 0x25); single shift tables replace the
extension table reached through ESC (UDH IEI 0x24). Identifiers follow 23.038 6.2.1.2.4.
"""

from __future__ import annotations

from collections.abc import Mapping

TURKISH = 1
SPANISH = 2
PORTUGUESE = 3

NAMES: Mapping[int, str] = {0: "default", TURKISH: "turkish", SPANISH: "spanish", PORTUGUESE: "portuguese"}

IEI_SINGLE_SHIFT = 0x24
IEI_LOCKING_SHIFT = 0x25


def _columns(*cols: str) -> str:
    """Build a 128-entry table from 8 columns of 16 cells (the layout the spec prints)."""
    assert len(cols) == 8 and all(len(c) == 16 for c in cols)
    return "".join(cols)


# A.3.1 Turkish National Language Locking Shift Table
_TURKISH_LOCKING = _columns(
    "@£$¥€éùıòÇ\nĞğ\rÅå",
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bŞşßÉ",
    " !\"#¤%&'()*+,-./",
    "0123456789:;<=>?",
    "İABCDEFGHIJKLMNO",
    "PQRSTUVWXYZÄÖÑÜ§",
    "çabcdefghijklmno",
    "pqrstuvwxyzäöñüà",
)
# A.3.3 Portuguese National Language Locking Shift Table
_PORTUGUESE_LOCKING = _columns(
    "@£$¥êéúíóç\nÔô\rÁá",
    "Δ_ªÇÀ∞^\\€Ó|\x1bÂâÊÉ",
    " !\"#º%&'()*+,-./",
    "0123456789:;<=>?",
    "ÍABCDEFGHIJKLMNO",
    "PQRSTUVWXYZÃÕÚÜ§",
    "~abcdefghijklmno",
    "pqrstuvwxyzãõ`üà",
)

_COMMON_SINGLE: Mapping[int, str] = {
    0x0A: "\x0c", 0x14: "^", 0x28: "{", 0x29: "}", 0x2F: "\\",
    0x3C: "[", 0x3D: "~", 0x3E: "]", 0x40: "|", 0x65: "€",
}
# A.2.1 Turkish National Language Single Shift Table
_TURKISH_SINGLE = {
    **_COMMON_SINGLE, 0x47: "Ğ", 0x49: "İ", 0x53: "Ş", 0x63: "ç", 0x67: "ğ", 0x69: "ı", 0x73: "ş",
}
# A.2.2 Spanish National Language Single Shift Table
_SPANISH_SINGLE = {
    **_COMMON_SINGLE, 0x09: "ç", 0x41: "Á", 0x49: "Í", 0x4F: "Ó", 0x55: "Ú",
    0x61: "á", 0x69: "í", 0x6F: "ó", 0x75: "ú",
}
# A.2.3 Portuguese National Language Single Shift Table
_PORTUGUESE_SINGLE = {
    **_COMMON_SINGLE, 0x05: "ê", 0x09: "ç", 0x0B: "Ô", 0x0C: "ô", 0x0E: "Á", 0x0F: "á",
    0x12: "Φ", 0x13: "Γ", 0x15: "Ω", 0x16: "Π", 0x17: "Ψ", 0x18: "Σ", 0x19: "Θ", 0x1F: "Ê",
    0x41: "À", 0x49: "Í", 0x4F: "Ó", 0x55: "Ú", 0x5B: "Ã", 0x5C: "Õ", 0x61: "Â",
    0x69: "í", 0x6F: "ó", 0x75: "ú", 0x7B: "ã", 0x7C: "õ", 0x7F: "â",
}

LOCKING_SHIFT: Mapping[int, str] = {TURKISH: _TURKISH_LOCKING, PORTUGUESE: _PORTUGUESE_LOCKING}
SINGLE_SHIFT: Mapping[int, Mapping[int, str]] = {
    TURKISH: _TURKISH_SINGLE, SPANISH: _SPANISH_SINGLE, PORTUGUESE: _PORTUGUESE_SINGLE,
}


def shift_candidates() -> list[tuple[int, int]]:
    """(locking, single) pairs worth trying on encode, cheapest UDH first; (0, 0) is the default."""
    pairs: list[tuple[int, int]] = [(0, 0)]
    pairs += [(0, s) for s in SINGLE_SHIFT]
    pairs += [(lk, 0) for lk in LOCKING_SHIFT]
    pairs += [(lk, lk) for lk in LOCKING_SHIFT if lk in SINGLE_SHIFT]
    return pairs
