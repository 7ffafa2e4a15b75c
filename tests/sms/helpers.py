"""Hand-built PDUs for tests (independent of the encoder under test)."""

from __future__ import annotations

OA = "0B915121551532F4"  # +15121551234
SCTS = "42103021436500"  # 2024-01-03 12:34:56 +00:00


def deliver_hex(dcs: int, udl: int, ud: str, *, fo: int = 0x04, pid: int = 0, smsc: str = "00") -> str:
    """SMS-DELIVER with the given DCS, TP-UDL and raw user data (hex)."""
    return f"{smsc}{fo:02X}{OA}{pid:02X}{dcs:02X}{SCTS}{udl:02X}{ud}"


def septets_hex(septets: list[int], fill: int = 0) -> str:
    acc = 0
    for i, s in enumerate(septets):
        acc |= s << (fill + 7 * i)
    n = (fill + 7 * len(septets) + 7) // 8
    return acc.to_bytes(n, "little").hex().upper()
