"""USSD strings as modems take and give them in ``AT+CUSD`` (27.007 7.15): the request encoded for the
modem's mode, the answer decoded by its data coding scheme (the CBS scheme of 23.038 clause 5).

Three modes, as modems differ: ``text`` (the string as characters of the TE character set, dcs 15),
``packed`` (Huawei and others: GSM 7-bit packed into octets, as hex, both ways) and ``ucs2`` (UTF-16BE
as hex, dcs 72). An answer in UCS2 (dcs 72) is hex whatever the mode.
"""

from __future__ import annotations

import re
from typing import Literal

from . import gsm7
from .errors import PduError

UssdMode = Literal["text", "packed", "ucs2"]
DCS_GSM7 = 15  # GSM 7-bit, language unspecified
DCS_UCS2 = 72  # general data coding, UCS2
MAX_USSD = 182  # characters in one USSD string (24.080 / 23.038: 160 octets of packed 7-bit)
_CODE = re.compile(r"^[0-9*#+]{1," + str(MAX_USSD) + r"}$")
_HEX = re.compile(r"^(?:[0-9A-Fa-f]{2})+$")


def valid_code(code: str) -> bool:
    """A service code or a menu answer as a phone keypad types it: digits, ``*``, ``#``, ``+``."""
    return bool(_CODE.match(code))


def encode_ussd(text: str, mode: UssdMode) -> tuple[str, int]:
    """The string and dcs for ``AT+CUSD=1,"<string>",<dcs>``. PduError when `text` does not fit."""
    if mode == "ucs2":
        return text.encode("utf-16-be").hex().upper(), DCS_UCS2
    gsm7.text_to_septets(text)  # raises PduError naming a character outside the GSM alphabet
    if mode == "packed":
        return gsm7.encode_octet_counted(text).hex().upper(), DCS_GSM7
    return text, DCS_GSM7


def alphabet(dcs: int | None) -> Literal["gsm7", "8bit", "ucs2"]:
    """The alphabet of a CBS data coding scheme (23.038 5): groups 0000-0011 GSM 7-bit (0001 0001:
    UCS2 preceded by a language), 01xx general data coding, 1111 data coding / message class."""
    if dcs is None:
        return "gsm7"
    group = dcs >> 4
    if dcs == 0x11:
        return "ucs2"
    if group <= 0x3:
        return "gsm7"
    if 0x4 <= group <= 0x7 or group == 0x9:
        return ("gsm7", "8bit", "ucs2", "gsm7")[(dcs >> 2) & 0x3]
    if group == 0xF:
        return "8bit" if dcs & 0x04 else "gsm7"
    return "gsm7"


def decode_ussd(string: str, dcs: int | None, mode: UssdMode) -> str:
    """The answer's text. UCS2 and (in packed mode) GSM 7-bit come as hex; a string that is not the hex
    it should be is given as it is (some firmwares decode it themselves)."""
    kind = alphabet(dcs)
    is_hex = bool(_HEX.match(string))
    try:
        if kind == "ucs2" and is_hex and len(string) % 4 == 0:
            text = bytes.fromhex(string).decode("utf-16-be", "replace")
            return text[2:] if dcs == 0x11 and len(text) >= 2 else text  # 0x11: two characters of language
        if kind == "gsm7" and mode == "packed" and is_hex:
            return gsm7.decode_octet_counted(bytes.fromhex(string))
        if kind == "8bit" and is_hex:
            return bytes.fromhex(string).decode("latin-1")
    except (ValueError, PduError):
        return string
    return string
