"""Address fields (23.040 9.1.2.5): SMSC (RP) address, TP-OA/TP-DA/TP-RA, BCD and alphanumeric."""

from __future__ import annotations

from dataclasses import dataclass

from . import gsm7
from ._reader import Reader
from .errors import PduError

TON_UNKNOWN = 0
TON_INTERNATIONAL = 1
TON_NATIONAL = 2
TON_ALPHANUMERIC = 5
NPI_ISDN = 1

_BCD = "0123456789*#abc"
_BCD_VALUE = {ch: i for i, ch in enumerate(_BCD)} | {"A": 12, "B": 13, "C": 14}


@dataclass(frozen=True)
class Address:
    text: str  # "+digits" (international), "digits", or decoded alphanumeric text
    ton: int
    npi: int

    @property
    def toa(self) -> int:
        return 0x80 | (self.ton << 4) | self.npi


def encode_bcd(digits: str) -> bytes:
    """Swapped-nibble BCD with F filler for odd lengths."""
    out = bytearray()
    for i in range(0, len(digits), 2):
        lo = _BCD_VALUE[digits[i]]
        hi = _BCD_VALUE[digits[i + 1]] if i + 1 < len(digits) else 0xF
        out.append(lo | (hi << 4))
    return bytes(out)


# octet -> its two digits, low nibble first, F fillers dropped
_BCD_OCTET = tuple(
    "".join(_BCD[n] for n in (b & 0xF, b >> 4) if n != 0xF) for b in range(256)
)


def decode_bcd(data: bytes, ndigits: int | None = None) -> str:
    """Decode swapped-nibble BCD; F nibbles (fillers) are skipped."""
    s = "".join([_BCD_OCTET[b] for b in data])
    return s if ndigits is None else s[:ndigits]


def parse_address(addr: str, field: str) -> Address:
    """'+digits' -> international/ISDN, digits (and * #) -> unknown/ISDN; anything else is an error."""
    body = addr[1:] if addr.startswith("+") else addr
    if not body or any(ch not in "0123456789*#" for ch in body) or len(body) > 20:
        raise PduError(f"{field}: {addr!r} is not a phone number ('+' and up to 20 digits, * or #)")
    return Address(body, TON_INTERNATIONAL if addr.startswith("+") else TON_UNKNOWN, NPI_ISDN)


def is_numeric(addr: str) -> bool:
    body = addr[1:] if addr.startswith("+") else addr
    return bool(body) and all(ch in "0123456789*#" for ch in body)


def encode_tp_address(addr: Address) -> bytes:
    """TP address: length in semi-octets of useful content, TOA, then BCD or packed GSM 7-bit."""
    if addr.ton == TON_ALPHANUMERIC:
        septets = gsm7.text_to_septets(addr.text)
        if len(septets) > 11:
            raise PduError(f"alphanumeric address {addr.text!r} exceeds 11 GSM 7-bit characters")
        packed = gsm7.pack_septets(septets, cr_pad=False)
        return bytes([(len(septets) * 7 + 3) // 4, addr.toa]) + packed
    return bytes([len(addr.text), addr.toa]) + encode_bcd(addr.text)


def alphanumeric(text: str) -> Address:
    return Address(text, TON_ALPHANUMERIC, 0)


def decode_tp_address(r: Reader, field: str) -> Address:
    start = r.pos
    ndigits = r.u8(f"{field} length")
    if ndigits > 20:
        raise PduError(f"{field} length {ndigits} semi-octets at octet {start} exceeds 20")
    toa = r.u8(f"{field} type-of-address")
    ton = (toa >> 4) & 0x7
    npi = toa & 0xF
    data = r.take((ndigits + 1) // 2, f"{field} digits")
    if ton == TON_ALPHANUMERIC:
        septets = gsm7.unpack_septets(data, ndigits * 4 // 7)
        if ndigits == 14 and septets[-1] in (0, gsm7.CR):
            # 7 characters with the length given as 2 x octets (a common sender bug): the 8th septet is
            # only the padding bits of the 7th octet, not an '@'
            septets.pop()
        return Address(gsm7.septets_to_text(septets), ton, npi)
    digits = decode_bcd(data, ndigits)
    return Address(("+" + digits) if ton == TON_INTERNATIONAL else digits, ton, npi)


def encode_smsc(smsc: str | None) -> bytes:
    """RP SMSC address as modems expect it before the TPDU: length in octets (incl. TOA); 00 = default."""
    if smsc is None or smsc == "":
        return b"\x00"
    addr = parse_address(smsc, "smsc")
    if len(addr.text) > 20:
        raise PduError(f"smsc {smsc!r} too long")
    body = bytes([addr.toa]) + encode_bcd(addr.text)
    return bytes([len(body)]) + body


def decode_smsc(r: Reader) -> str | None:
    start = r.pos
    n = r.u8("SMSC length")
    if n == 0:
        return None
    if n > 12:
        raise PduError(f"SMSC length {n} at octet {start} exceeds 12 octets")
    toa = r.u8("SMSC type-of-address")
    digits = decode_bcd(r.take(n - 1, "SMSC digits"))
    if (toa >> 4) & 0x7 == TON_INTERNATIONAL:
        return "+" + digits
    return digits
