"""Data-driven vendor profiles: a generic modem plus what differs per vendor (as in ModemManager)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from modembridge.at.parser import DEFAULT_NOISE, DEFAULT_RESTART

CNMI_FALLBACK: tuple[tuple[int, ...], ...] = ((2, 1, 2, 1, 0), (2, 1, 2, 2, 0), (2, 1, 0, 0, 0))
# indication = "direct": messages as +CMT, status reports as +CDS (or stored, +CDSI), each acknowledged
CNMI_DIRECT: tuple[tuple[int, ...], ...] = ((2, 2, 0, 1, 0), (2, 2, 0, 2, 0))


@dataclass(frozen=True)
class QuirkProfile:
    name: str
    match: str = ""  # regex searched (case-insensitive) in "<CGMI> <CGMM>"; "" never matches
    noise: tuple[str, ...] = DEFAULT_NOISE  # lines to ignore (exact, or as "NAME:" / "NAME " prefix)
    restart: tuple[str, ...] = DEFAULT_RESTART  # unsolicited lines that mean "I rebooted: re-initialise me"
    init_extra: tuple[str, ...] = ()  # best-effort commands after the standard init (errors ignored)
    cnmi: tuple[tuple[int, ...], ...] = CNMI_FALLBACK  # tried in order; the first accepted wins
    ccid: tuple[str, ...] = ("AT+CCID", "AT+CRSM=176,12258,0,0,10")  # ICCID queries, first success wins
    boot_settle: float = 0.0  # seconds to wait after a restart banner before talking (SIMCom ignores input)
    # PIN attempts-left queries, first success wins (u-blox answers the generic list's AT+UPINCNT)
    pin_retries: tuple[str, ...] = ('AT+CPINR="SIM PIN"', "AT+UPINCNT")
    reset: str = "AT+CFUN=1,1"  # the last rung of recovery: restart the module
    ussd: Literal["text", "packed", "ucs2"] = "text"  # how AT+CUSD strings go both ways (ussd_encoding)
    hangup: str = "ATH"  # rejects an incoming call (calls = "reject")


GENERIC = QuirkProfile(name="generic")

HUAWEI = QuirkProfile(
    name="huawei",
    match=r"huawei",
    noise=(*DEFAULT_NOISE, "^RSSI", "^MODE", "^BOOT", "^SIMST", "^SRVST", "^DSFLOWRPT", "^HCSQ", "^SYSINFOEX",
           "^ACTIVEBAND", "^RFSWITCH", "^NDISSTAT", "^CSNR", "^EONS", "^CRSSI", "^ANLEVEL"),
    # ^CURC=0 stops the periodic ^RSSI/^MODE/^DSFLOWRPT chatter that otherwise lands inside responses.
    init_extra=("AT^CURC=0",),
    ccid=("AT^ICCID?", "AT+CRSM=176,12258,0,0,10", "AT+CCID"),
    pin_retries=("AT^CPIN?", 'AT+CPINR="SIM PIN"'),
    ussd="packed",  # Huawei sticks take and give USSD strings as packed GSM 7-bit in hex
    hangup="AT+CHUP",  # ATH does not end a ringing voice call on many Huawei sticks (a data-call hang-up)
)

SIM800 = QuirkProfile(
    name="sim800",
    match=r"simcom|sim800|sim900|sim7",
    noise=(*DEFAULT_NOISE, "+CFUN", "+CPIN", "Call Ready", "SMS Ready", "+SAPBR", "+CIEV"),
    ccid=("AT+CCID", "AT+CRSM=176,12258,0,0,10"),
    boot_settle=0.5,
    pin_retries=("AT+SPIC", 'AT+CPINR="SIM PIN"'),
)

QUECTEL = QuirkProfile(
    name="quectel",
    match=r"quectel|\bEC2\d|\bEG\d\d|\bBG9\d|\bM95\b|\bUC20\b",
    noise=(*DEFAULT_NOISE, "+QIND", "+QUSIM", "+CFUN", "+CPIN", "+QSTK", "+QNITZ"),
    ccid=("AT+QCCID", "AT+CCID", "AT+CRSM=176,12258,0,0,10"),
    pin_retries=('AT+QPINC="SC"', "AT+QTRPIN", 'AT+CPINR="SIM PIN"'),  # AT+QTRPIN: M95 and older
)

PROFILES: dict[str, QuirkProfile] = {p.name: p for p in (GENERIC, HUAWEI, SIM800, QUECTEL)}


def get_profile(name: str) -> QuirkProfile:
    try:
        return PROFILES[name]
    except KeyError:
        choices = ", ".join(PROFILES)
        raise ValueError(f"unknown modem profile {name!r}; choose auto or one of {choices}") from None


def detect_profile(manufacturer: str, model: str) -> QuirkProfile:
    """The profile whose pattern matches ``+CGMI``/``+CGMM``; generic when none does."""
    text = f"{manufacturer} {model}"
    for p in PROFILES.values():
        if p.match and re.search(p.match, text, re.IGNORECASE):
            return p
    return GENERIC
