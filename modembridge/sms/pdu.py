"""SMS-DELIVER, SMS-SUBMIT and SMS-STATUS-REPORT TPDUs (3GPP TS 23.040 9.2.2): decode and encode."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from . import gsm7
from ._reader import Reader
from .address import (
    TON_ALPHANUMERIC,
    Address,
    alphanumeric,
    decode_smsc,
    decode_tp_address,
    encode_smsc,
    encode_tp_address,
    is_numeric,
    parse_address,
)
from .dcs import Encoding, Mwi, build_dcs, parse_dcs
from .errors import PduError
from .segment import plan_data, plan_text
from .timestamp import (
    decode_enhanced_vp,
    decode_relative_vp,
    decode_scts,
    encode_relative_vp,
    encode_scts,
)
from .udh import (
    Concat,
    InformationElement,
    Language,
    build_udh,
    concat_ie,
    find_concat,
    find_language,
    language_ies,
    parse_udh,
)


@dataclass(frozen=True)
class EncodedPdu:
    hex: str  # uppercase hex of the whole PDU, SMSC part included ("00" when no SMSC given)
    tpdu_length: int  # octets after the SMSC part: the <length> of AT+CMGS / AT+CMGW
    concat: Concat | None = None


@dataclass(frozen=True)
class Deliver:
    """SMS-DELIVER (MTI 0). `user_data` is the payload after the UDH: septet values for gsm7, else octets."""

    smsc: str | None
    sender: str
    sender_ton: int
    sender_npi: int
    pid: int
    dcs: int
    encoding: Encoding
    message_class: int | None
    timestamp: datetime
    text: str
    data: bytes | None = None
    udh: tuple[InformationElement, ...] = ()
    concat: Concat | None = None
    more_messages: bool = False
    reply_path: bool = False
    status_report_indication: bool = False
    mwi: Mwi | None = None
    language: Language | None = None
    compressed: bool = False
    user_data: bytes = b""


@dataclass(frozen=True)
class Submit:
    """SMS-SUBMIT (MTI 1), as stored by a modem or received by a simulated network."""

    smsc: str | None
    destination: str
    destination_ton: int
    mr: int
    pid: int
    dcs: int
    encoding: Encoding
    message_class: int | None
    validity: timedelta | datetime | None
    status_report_request: bool
    reject_duplicates: bool
    text: str
    data: bytes | None = None
    udh: tuple[InformationElement, ...] = ()
    concat: Concat | None = None
    destination_npi: int = 1
    reply_path: bool = False
    mwi: Mwi | None = None
    language: Language | None = None
    compressed: bool = False
    user_data: bytes = b""


@dataclass(frozen=True)
class StatusReport:
    """SMS-STATUS-REPORT (MTI 2). TP-ST: 0x00-0x1F delivered, 0x20-0x3F pending, >= 0x40 failed."""

    smsc: str | None
    mr: int
    recipient: str
    scts: datetime
    discharge_time: datetime
    status: int
    recipient_ton: int = 0
    more_messages: bool = False
    report_qualifier: bool = False  # TP-SRQ: True = result of an SMS-COMMAND
    pid: int | None = None
    dcs: int | None = None
    text: str = ""
    udh: tuple[InformationElement, ...] = ()

    @property
    def delivered(self) -> bool:
        return self.status <= 0x1F

    @property
    def pending(self) -> bool:
        return 0x20 <= self.status <= 0x3F

    @property
    def failed(self) -> bool:
        return self.status >= 0x40


# ---------------------------------------------------------------- decoding


def _to_bytes(pdu: str | bytes | bytearray | memoryview) -> bytes:
    if isinstance(pdu, str):
        s = "".join(pdu.split())
        try:
            buf = bytes.fromhex(s)
        except ValueError:
            bad = next((i for i, ch in enumerate(s) if ch not in "0123456789abcdefABCDEF"), None)
            if bad is None:
                raise PduError(f"hex PDU has an odd number of digits ({len(s)})") from None
            raise PduError(f"invalid hex digit {s[bad]!r} at character {bad}") from None
    elif isinstance(pdu, bytes | bytearray | memoryview):
        buf = bytes(pdu)
    else:
        raise PduError(f"PDU must be a hex string or bytes, not {type(pdu).__name__}")
    if not buf:
        raise PduError("empty PDU")
    return buf


@dataclass(frozen=True)
class _UserData:
    text: str
    data: bytes | None
    udh: tuple[InformationElement, ...]
    concat: Concat | None
    language: Language | None
    user_data: bytes


def _decode_ud(r: Reader, encoding: Encoding, udhi: bool) -> _UserData:
    udl_pos = r.pos
    udl = r.u8("TP-UDL")
    nbytes = (udl * 7 + 7) // 8 if encoding == "gsm7" else udl
    if r.remaining() < nbytes:
        size = f"{udl} septets ({nbytes} octets)" if encoding == "gsm7" else f"{udl} octets"
        raise PduError(
            f"TP-UDL at octet {udl_pos} declares {size} of user data, only {r.remaining()} octets follow"
        )
    ud_start = r.pos
    ud = r.take(nbytes, "TP-UD")
    ies: tuple[InformationElement, ...] = ()
    hdr = 0
    if udhi:
        if nbytes == 0:
            raise PduError(f"TP-UDHI set but TP-UDL at octet {udl_pos} is 0")
        udhl = ud[0]
        if 1 + udhl > nbytes:
            raise PduError(f"TP-UDHL {udhl} at octet {ud_start} exceeds the {nbytes} octets of user data")
        ies = parse_udh(ud[1:1 + udhl], ud_start + 1)
        hdr = 1 + udhl
    concat = find_concat(ies)
    if encoding == "gsm7":
        hdr_septets = (hdr * 8 + 6) // 7
        count = udl - hdr_septets
        if count < 0:
            raise PduError(f"TP-UDL {udl} at octet {udl_pos} is smaller than the {hdr}-octet UDH")
        septets = gsm7.unpack_septets(ud[hdr:], count, hdr_septets * 7 - hdr * 8)
        lang = find_language(ies)
        alpha = gsm7.alphabet(lang.locking, lang.single) if lang else gsm7.DEFAULT
        return _UserData(gsm7.septets_to_text(septets, alpha), None, ies, concat, lang, bytes(septets))
    payload = ud[hdr:]
    if encoding == "ucs2":
        return _UserData(payload.decode("utf-16-be", "replace"), None, ies, concat, None, payload)
    return _UserData("", payload, ies, concat, None, payload)


def decode_pdu(pdu: str | bytes, *, smsc: bool = True,
               tpdu_length: int | None = None) -> Deliver | Submit | StatusReport:
    """Decode a PDU as modems print it (+CMGR, +CMGL, +CMT, +CDS). `smsc=False` when it has no SMSC prefix.

    `tpdu_length`: the <length> the modem printed with the PDU (TPDU octets). When given, whether an
    SMSC prefix is present is worked out from it (some modems omit the prefix) instead of assumed.
    Raises PduError (only) for malformed input, naming the field and octet offset.
    """
    buf = _to_bytes(pdu)
    if tpdu_length is not None:
        extra = len(buf) - tpdu_length
        if extra == 0:
            smsc = False
        elif extra > 0 and buf[0] + 1 == extra:
            smsc = True
        else:
            raise PduError(
                f"PDU has {len(buf)} octets, which fits neither <length> {tpdu_length} alone nor "
                f"<length> plus its SMSC part ({buf[0]} + 1 octets)"
            )
    r = Reader(buf)
    sc = decode_smsc(r) if smsc else None
    fo = r.u8("first octet")
    mti = fo & 0x03
    if mti == 0:
        return _decode_deliver(r, sc, fo)
    if mti == 1:
        return _decode_submit(r, sc, fo)
    if mti == 2:
        return _decode_status_report(r, sc, fo)
    raise PduError(f"reserved TP-MTI 3 in first octet 0x{fo:02X} at octet {r.pos - 1}")


def _decode_deliver(r: Reader, sc: str | None, fo: int) -> Deliver:
    oa = decode_tp_address(r, "TP-OA")
    pid = r.u8("TP-PID")
    dcs = r.u8("TP-DCS")
    info = parse_dcs(dcs)
    ts = decode_scts(r, "TP-SCTS")
    ud = _decode_ud(r, info.encoding, bool(fo & 0x40))
    return Deliver(
        smsc=sc, sender=oa.text, sender_ton=oa.ton, sender_npi=oa.npi, pid=pid, dcs=dcs,
        encoding=info.encoding, message_class=info.message_class, timestamp=ts, text=ud.text, data=ud.data,
        udh=ud.udh, concat=ud.concat, more_messages=not fo & 0x04, reply_path=bool(fo & 0x80),
        status_report_indication=bool(fo & 0x20), mwi=info.mwi, language=ud.language,
        compressed=info.compressed, user_data=ud.user_data,
    )


def _decode_submit(r: Reader, sc: str | None, fo: int) -> Submit:
    mr = r.u8("TP-MR")
    da = decode_tp_address(r, "TP-DA")
    pid = r.u8("TP-PID")
    dcs = r.u8("TP-DCS")
    info = parse_dcs(dcs)
    vpf = (fo >> 3) & 0x03
    validity: timedelta | datetime | None = None
    if vpf == 2:
        validity = decode_relative_vp(r.u8("TP-VP"))
    elif vpf == 3:
        validity = decode_scts(r, "TP-VP")
    elif vpf == 1:
        pos = r.pos
        validity = decode_enhanced_vp(r.take(7, "TP-VP"), pos)
    ud = _decode_ud(r, info.encoding, bool(fo & 0x40))
    return Submit(
        smsc=sc, destination=da.text, destination_ton=da.ton, mr=mr, pid=pid, dcs=dcs, encoding=info.encoding,
        message_class=info.message_class, validity=validity, status_report_request=bool(fo & 0x20),
        reject_duplicates=bool(fo & 0x04), text=ud.text, data=ud.data, udh=ud.udh, concat=ud.concat,
        destination_npi=da.npi, reply_path=bool(fo & 0x80), mwi=info.mwi, language=ud.language,
        compressed=info.compressed, user_data=ud.user_data,
    )


def _decode_status_report(r: Reader, sc: str | None, fo: int) -> StatusReport:
    mr = r.u8("TP-MR")
    ra = decode_tp_address(r, "TP-RA")
    scts = decode_scts(r, "TP-SCTS")
    dt = decode_scts(r, "TP-DT")
    st = r.u8("TP-ST")
    pid = dcs = None
    text = ""
    udh: tuple[InformationElement, ...] = ()
    if r.remaining():
        # optional TP-PI and parameters; modems often pad here, so a bad tail is ignored
        try:
            pi = r.u8("TP-PI")
            if not pi & 0x80:
                if pi & 0x01:
                    pid = r.u8("TP-PID")
                if pi & 0x02:
                    dcs = r.u8("TP-DCS")
                if pi & 0x04:
                    ud = _decode_ud(r, parse_dcs(dcs or 0).encoding, bool(fo & 0x40))
                    text, udh = ud.text, ud.udh
        except PduError:
            pass
    return StatusReport(
        smsc=sc, mr=mr, recipient=ra.text, scts=scts, discharge_time=dt, status=st, recipient_ton=ra.ton,
        more_messages=not fo & 0x04, report_qualifier=bool(fo & 0x20), pid=pid, dcs=dcs, text=text, udh=udh,
    )


# ---------------------------------------------------------------- encoding


def _build_ud(encoding: Encoding, payload: str | bytes, ies: Sequence[InformationElement],
              alpha: gsm7.Alphabet) -> tuple[int, bytes]:
    udh = build_udh(ies)
    if encoding == "gsm7":
        assert isinstance(payload, str)
        septets = gsm7.text_to_septet_bytes(payload, alpha)
        hdr_septets = (len(udh) * 8 + 6) // 7
        body = gsm7.pack_septets(septets, hdr_septets * 7 - len(udh) * 8)
        return hdr_septets + len(septets), udh + body
    if encoding == "ucs2":
        assert isinstance(payload, str)
        try:
            raw = payload.encode("utf-16-be")
        except UnicodeEncodeError as exc:
            raise PduError(f"text contains an unpaired surrogate at index {exc.start}") from None
    else:
        assert isinstance(payload, bytes)
        raw = payload
    return len(udh) + len(raw), udh + raw


def _parts(text: str | None, data: bytes | None, encoding: Encoding | None, ref_bits: int,
           language_shift: bool, extra_udh: int) -> tuple[Encoding, Language | None, Sequence[str | bytes]]:
    if data is not None:
        if text is not None:
            raise PduError("pass either text or data, not both")
        if encoding not in (None, "8bit"):
            raise PduError(f"data= is sent as 8-bit, not {encoding}")
        if ref_bits not in (8, 16):
            raise PduError(f"ref_bits must be 8 or 16, not {ref_bits}")
        return "8bit", None, plan_data(bytes(data), ref_bits, extra_udh)
    plan = plan_text(text or "", encoding=encoding, ref_bits=ref_bits, language_shift=language_shift,
                     extra_udh=extra_udh)
    return plan.encoding, plan.language, list(plan.chunks)


def _concat_ref(concat_ref: int | None, ref_bits: int, nparts: int) -> int:
    limit = 1 << ref_bits
    if concat_ref is None:
        return random.randrange(limit) if nparts > 1 else 0
    if not 0 <= concat_ref < limit:
        raise PduError(f"concat_ref {concat_ref} does not fit {ref_bits} bits")
    return concat_ref


def _encode_parts(build_tpdu: Callable[[bool, int], bytes], smsc: str | None, text: str | None,
                  data: bytes | None, encoding: Encoding | None, ref_bits: int, concat_ref: int | None,
                  language_shift: bool, message_class: int | None,
                  extra_ies: Sequence[InformationElement] = (), dcs: int | None = None) -> list[EncodedPdu]:
    extra_udh = sum(2 + len(ie.data) for ie in extra_ies)
    enc, lang, parts = _parts(text, data, encoding, ref_bits, language_shift, extra_udh)
    sc = encode_smsc(smsc)
    ref = _concat_ref(concat_ref, ref_bits, len(parts))
    alpha = gsm7.alphabet(lang.locking, lang.single, strict=True) if lang else gsm7.DEFAULT
    dcs = build_dcs(enc, message_class) if dcs is None else dcs
    out: list[EncodedPdu] = []
    for i, payload in enumerate(parts):
        c = Concat(ref, len(parts), i + 1, ref_bits) if len(parts) > 1 else None
        ies = ([concat_ie(c)] if c else []) + list(extra_ies) + language_ies(lang)
        udl, ud = _build_ud(enc, payload, ies, alpha)
        tpdu = build_tpdu(bool(ies), dcs) + bytes([udl]) + ud
        out.append(EncodedPdu((sc + tpdu).hex().upper(), len(tpdu), c))
    return out


def encode_submit(destination: str, text: str | None = None, *, data: bytes | None = None,
                  status_report: bool = False, validity: timedelta | datetime | None = None,
                  flash: bool = False, reject_duplicates: bool = False, mr: int = 0,
                  concat_ref: int | None = None, ref_bits: int = 8, smsc: str | None = None,
                  encoding: Encoding | None = None, language_shift: bool = False) -> list[EncodedPdu]:
    """SMS-SUBMIT PDUs, one per part, all with TP-MR `mr` (modems usually assign their own on AT+CMGS).

    validity: a timedelta gives a relative TP-VP, rounded up to the next representable period
    (5 min .. 63 weeks); a datetime gives an absolute TP-VP.
    flash: message class 0. encoding None: gsm7 when every character fits, else ucs2.
    """
    da = encode_tp_address(parse_address(destination, "destination"))
    if not 0 <= mr <= 255:
        raise PduError(f"mr {mr} is not 0-255")
    if validity is None:
        vp, vpf = b"", 0x00
    elif isinstance(validity, datetime):
        vp, vpf = encode_scts(validity), 0x18
    else:
        vp, vpf = bytes([encode_relative_vp(validity)]), 0x10
    fo = 0x01 | (0x04 if reject_duplicates else 0) | vpf | (0x20 if status_report else 0)

    def header(udhi: bool, dcs: int) -> bytes:
        return bytes([fo | (0x40 if udhi else 0), mr]) + da + bytes([0, dcs]) + vp

    return _encode_parts(header, smsc, text, data, encoding, ref_bits, concat_ref, language_shift,
                         0 if flash else None)


def _sender_address(sender: str) -> Address:
    if is_numeric(sender):
        return parse_address(sender, "sender")
    if not sender:
        raise PduError("sender is empty")
    return alphanumeric(sender)


def encode_deliver(sender: str, text: str | None = None, *, data: bytes | None = None, timestamp: datetime,
                   smsc: str | None = None, concat_ref: int | None = None, ref_bits: int = 8,
                   flash: bool = False, encoding: Encoding | None = None,
                   status_report_indication: bool = False, language_shift: bool = False,
                   more_messages: bool = False, pid: int = 0, ies: Sequence[InformationElement] = (),
                   dcs: int | None = None) -> list[EncodedPdu]:
    """SMS-DELIVER PDUs (what a network hands to a modem), one per part.

    A sender that is not '+digits'/digits is encoded alphanumeric (TON 5, packed GSM 7-bit, max 11 chars).
    `ies`: more information elements for every part's UDH (port addressing, ...); `dcs`: a TP-DCS octet
    to use instead of the one the encoding implies (message waiting groups; it must fit the encoding).
    """
    oa = encode_tp_address(_sender_address(sender))
    ts = encode_scts(timestamp)
    fo = 0x00 | (0 if more_messages else 0x04) | (0x20 if status_report_indication else 0)

    def header(udhi: bool, dcs: int) -> bytes:
        return bytes([fo | (0x40 if udhi else 0)]) + oa + bytes([pid & 0xFF, dcs]) + ts

    return _encode_parts(header, smsc, text, data, encoding, ref_bits, concat_ref, language_shift,
                         0 if flash else None, ies, dcs)


def encode_status_report(*, mr: int, recipient: str, scts: datetime, discharge_time: datetime, status: int,
                         smsc: str | None = None, more_messages: bool = False) -> EncodedPdu:
    """SMS-STATUS-REPORT PDU (no optional parameters)."""
    if not 0 <= mr <= 255 or not 0 <= status <= 255:
        raise PduError(f"mr {mr} / status {status} must be 0-255")
    addr = parse_address(recipient, "recipient")
    fo = 0x02 | (0 if more_messages else 0x04)
    tpdu = (bytes([fo, mr]) + encode_tp_address(addr) + encode_scts(scts) + encode_scts(discharge_time)
            + bytes([status]))
    return EncodedPdu((encode_smsc(smsc) + tpdu).hex().upper(), len(tpdu))


__all__ = [
    "TON_ALPHANUMERIC", "Deliver", "EncodedPdu", "StatusReport", "Submit", "decode_pdu", "encode_deliver",
    "encode_status_report", "encode_submit",
]
