"""Text-mode (+CMGF=1) renderings of stored PDUs, as 27.005 §4 lays them out. Pure functions."""

from __future__ import annotations

from datetime import datetime, timedelta

from modembridge.sim.storage import STAT_NAMES, StoredMessage


def scts(ts: datetime) -> str:
    """'yy/MM/dd,hh:mm:ss+zz' with the zone in quarter hours."""
    off = ts.utcoffset() or timedelta(0)
    q = int(off.total_seconds() // 900)
    return ts.strftime("%y/%m/%d,%H:%M:%S") + f"{'+' if q >= 0 else '-'}{abs(q):02d}"


def text_to_charset(text: str, cscs: str) -> str:
    if cscs == "UCS2":
        return text.encode("utf-16-be").hex().upper()
    return text


def text_from_charset(text: str, cscs: str) -> str:
    if cscs == "UCS2":
        try:
            return bytes.fromhex("".join(text.split())).decode("utf-16-be")
        except ValueError:
            return text
    return text


def _toa(number: str) -> int:
    return 145 if number.startswith("+") else 129


def _decode(pdu: str) -> object:
    from modembridge.sms import PduError, decode_pdu

    try:
        return decode_pdu(pdu)
    except PduError:
        return None


def _render(pdu: str, cscs: str) -> tuple[str, str | None]:
    """(header fields after <stat>, body line or None)."""
    from modembridge.sms import Deliver, StatusReport, Submit

    msg = _decode(pdu)
    if isinstance(msg, Deliver):
        return f'"{msg.sender}",,"{scts(msg.timestamp)}"', text_to_charset(msg.text, cscs)
    if isinstance(msg, Submit):
        return f'"{msg.destination}",', text_to_charset(msg.text, cscs)
    if isinstance(msg, StatusReport):
        return (f'6,{msg.mr},"{msg.recipient}",{_toa(msg.recipient)},"{scts(msg.scts)}",'
                f'"{scts(msg.discharge_time)}",{msg.status}'), None
    return '"",', ""


def format_listing(m: StoredMessage, cscs: str) -> list[str]:
    head, body = _render(m.pdu, cscs)
    lines = [f'+CMGL: {m.index},"{STAT_NAMES[m.stat]}",{head}']
    return [*lines, body] if body is not None else lines


def format_read(m: StoredMessage, cscs: str) -> list[str]:
    head, body = _render(m.pdu, cscs)
    lines = [f'+CMGR: "{STAT_NAMES[m.stat]}",{head}']
    return [*lines, body] if body is not None else lines


def format_cmt(pdu: str, cscs: str) -> list[str]:
    head, body = _render(pdu, cscs)
    return [f"+CMT: {head}", body or ""]


def format_cds(pdu: str) -> str:
    head, _ = _render(pdu, "GSM")
    return f"+CDS: {head}"
