"""TP-DCS (3GPP TS 23.038 clause 4): alphabet, message class, compression, message waiting groups."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Encoding = Literal["gsm7", "ucs2", "8bit"]

MWI_VOICEMAIL = 0
MWI_FAX = 1
MWI_EMAIL = 2
MWI_OTHER = 3
_MWI_NAMES = ("voicemail", "fax", "email", "other")


@dataclass(frozen=True)
class Mwi:
    """Message waiting indication carried by DCS groups 1100/1101/1110."""

    active: bool  # indication set (True) or cleared (False)
    kind: int  # MWI_VOICEMAIL, MWI_FAX, MWI_EMAIL, MWI_OTHER
    store: bool  # False for the "discard message" group (1100)

    @property
    def kind_name(self) -> str:
        return _MWI_NAMES[self.kind]


@dataclass(frozen=True)
class DcsInfo:
    encoding: Encoding
    message_class: int | None
    compressed: bool = False
    auto_delete: bool = False
    mwi: Mwi | None = None
    reserved: bool = False  # a reserved coding; decoded as 8-bit data


_ALPHABET: tuple[Encoding, Encoding, Encoding, Encoding] = ("gsm7", "8bit", "ucs2", "8bit")


def parse_dcs(dcs: int) -> DcsInfo:
    """Interpret a DCS octet. Reserved codings are reported as 8-bit data (the raw octets are kept)."""
    group = dcs >> 4
    if group <= 0x7:  # general data coding (00xx) and automatic deletion (01xx)
        compressed = bool(dcs & 0x20)
        alpha = (dcs >> 2) & 0x3
        enc: Encoding = "8bit" if compressed else _ALPHABET[alpha]
        cls = dcs & 0x3 if dcs & 0x10 else None
        return DcsInfo(enc, cls, compressed, bool(dcs & 0x40), None, alpha == 3)
    if group in (0xC, 0xD, 0xE):
        mwi = Mwi(bool(dcs & 0x08), dcs & 0x3, group != 0xC)
        return DcsInfo("ucs2" if group == 0xE else "gsm7", None, mwi=mwi)
    if group == 0xF:
        return DcsInfo("8bit" if dcs & 0x04 else "gsm7", dcs & 0x3)
    return DcsInfo("8bit", None, reserved=True)  # 1000..1011 reserved coding groups


def build_dcs(encoding: Encoding, message_class: int | None = None) -> int:
    alpha = {"gsm7": 0x00, "8bit": 0x04, "ucs2": 0x08}[encoding]
    if message_class is None:
        return alpha
    return 0x10 | alpha | (message_class & 0x3)
