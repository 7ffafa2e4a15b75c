"""User data header (23.040 9.2.3.24): information elements, concatenation, language shift IEs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .errors import PduError

IEI_CONCAT_8 = 0x00
IEI_SPECIAL_SMS = 0x01  # special SMS message indication (message waiting, 23.040 9.2.3.24.2)
IEI_PORTS_8 = 0x04
IEI_PORTS_16 = 0x05
IEI_CONCAT_16 = 0x08
IEI_SINGLE_SHIFT = 0x24
IEI_LOCKING_SHIFT = 0x25


@dataclass(frozen=True)
class InformationElement:
    iei: int
    data: bytes


@dataclass(frozen=True)
class Concat:
    ref: int
    total: int
    seq: int  # 1-based
    ref_bits: int = 8


@dataclass(frozen=True)
class Language:
    """National language tables in use (0 = default alphabet / extension table)."""

    locking: int = 0
    single: int = 0


def parse_udh(udh: bytes, offset: int = 0) -> tuple[InformationElement, ...]:
    """Split the UDH (without its UDHL octet) into IEs; `offset` is only used in error messages."""
    ies: list[InformationElement] = []
    i = 0
    n = len(udh)
    while i < n:
        if i + 2 > n:
            raise PduError(f"UDH: information element at octet {offset + i} truncated (no length octet)")
        iei, length = udh[i], udh[i + 1]
        if i + 2 + length > n:
            raise PduError(
                f"UDH: IE 0x{iei:02X} at octet {offset + i} declares {length} octets, "
                f"only {n - i - 2} left in UDH"
            )
        ies.append(InformationElement(iei, bytes(udh[i + 2:i + 2 + length])))
        i += 2 + length
    return tuple(ies)


def build_udh(ies: Iterable[InformationElement]) -> bytes:
    """Encode IEs with the leading UDHL octet; empty input gives b''."""
    body = b"".join(bytes([ie.iei, len(ie.data)]) + ie.data for ie in ies)
    return bytes([len(body)]) + body if body else b""


def find_concat(ies: Iterable[InformationElement]) -> Concat | None:
    """The concatenation IE, if valid; IEs with seq 0, seq > total or bad length are ignored (23.040)."""
    for ie in ies:
        if ie.iei == IEI_CONCAT_8 and len(ie.data) == 3:
            ref, total, seq, bits = ie.data[0], ie.data[1], ie.data[2], 8
        elif ie.iei == IEI_CONCAT_16 and len(ie.data) == 4:
            ref, total, seq, bits = (ie.data[0] << 8) | ie.data[1], ie.data[2], ie.data[3], 16
        else:
            continue
        if total >= 1 and 1 <= seq <= total:
            return Concat(ref, total, seq, bits)
    return None


@dataclass(frozen=True)
class Ports:
    """Application port addressing (23.040 9.2.3.24.3 / .4): which application the data is for."""

    destination: int
    source: int


def find_ports(ies: Iterable[InformationElement]) -> Ports | None:
    for ie in ies:
        if ie.iei == IEI_PORTS_16 and len(ie.data) == 4:
            return Ports((ie.data[0] << 8) | ie.data[1], (ie.data[2] << 8) | ie.data[3])
        if ie.iei == IEI_PORTS_8 and len(ie.data) == 2:
            return Ports(ie.data[0], ie.data[1])
    return None


def ports_ie(ports: Ports) -> InformationElement:
    """The 16-bit port addressing IE (the 8-bit form is reserved for ports below 256)."""
    d, s = ports.destination, ports.source
    return InformationElement(IEI_PORTS_16, bytes([(d >> 8) & 0xFF, d & 0xFF, (s >> 8) & 0xFF, s & 0xFF]))


@dataclass(frozen=True)
class SpecialIndication:
    """A special SMS message indication IE (23.040 9.2.3.24.2): messages waiting of one kind."""

    kind: int  # 0 voice mail, 1 fax, 2 e-mail, 3 other (bits 0-1 of the first octet)
    count: int  # messages waiting (0 clears the indication)
    store: bool  # bit 7: keep the message (True) or discard it after updating the indication

    @property
    def kind_name(self) -> str:
        return ("voicemail", "fax", "email", "other")[self.kind]


def find_special_indication(ies: Iterable[InformationElement]) -> SpecialIndication | None:
    for ie in ies:
        if ie.iei == IEI_SPECIAL_SMS and len(ie.data) == 2:
            return SpecialIndication(ie.data[0] & 0x03, ie.data[1], bool(ie.data[0] & 0x80))
    return None


def decoding_ie(ie: InformationElement) -> bool:
    """An IE the codec itself uses to build a message's text (concatenation, national language tables):
    nothing an application needs once the text is decoded."""
    return ie.iei in (IEI_CONCAT_8, IEI_CONCAT_16, IEI_SINGLE_SHIFT, IEI_LOCKING_SHIFT)


def find_language(ies: Iterable[InformationElement]) -> Language | None:
    locking = single = 0
    for ie in ies:
        if ie.iei == IEI_LOCKING_SHIFT and len(ie.data) == 1:
            locking = ie.data[0]
        elif ie.iei == IEI_SINGLE_SHIFT and len(ie.data) == 1:
            single = ie.data[0]
    return Language(locking, single) if locking or single else None


def concat_ie(c: Concat) -> InformationElement:
    if c.ref_bits == 16:
        return InformationElement(IEI_CONCAT_16, bytes([(c.ref >> 8) & 0xFF, c.ref & 0xFF, c.total, c.seq]))
    return InformationElement(IEI_CONCAT_8, bytes([c.ref & 0xFF, c.total, c.seq]))


def language_ies(lang: Language | None) -> list[InformationElement]:
    out: list[InformationElement] = []
    if lang is not None and lang.single:
        out.append(InformationElement(IEI_SINGLE_SHIFT, bytes([lang.single])))
    if lang is not None and lang.locking:
        out.append(InformationElement(IEI_LOCKING_SHIFT, bytes([lang.locking])))
    return out
