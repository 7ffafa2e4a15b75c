"""Error numbers and texts of 3GPP TS 27.007 (+CME ERROR) and 27.005 (+CMS ERROR) used by the simulator."""

from __future__ import annotations

CME_TEXT: dict[int, str] = {
    3: "operation not allowed",
    4: "operation not supported",
    10: "SIM not inserted",
    11: "SIM PIN required",
    12: "SIM PUK required",
    13: "SIM failure",
    14: "SIM busy",
    16: "incorrect password",
    21: "invalid index",
    30: "no network service",
    50: "Incorrect parameters",
    100: "unknown",
}

CMS_TEXT: dict[int, str] = {
    300: "ME failure",
    302: "operation not allowed",
    303: "operation not supported",
    304: "invalid PDU mode parameter",
    305: "invalid text mode parameter",
    310: "SIM not inserted",
    311: "SIM PIN required",
    313: "SIM failure",
    316: "SIM PUK required",
    320: "memory failure",
    321: "invalid memory index",
    322: "memory full",
    330: "SMSC address unknown",
    331: "no network service",
    332: "network timeout",
    340: "no +CNMA acknowledgement expected",
    500: "unknown error",
}


class CmeError(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class CmsError(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def cme_result(code: int, cmee: int) -> str:
    if cmee == 0:
        return "ERROR"
    if cmee == 2 and code in CME_TEXT:
        return f"+CME ERROR: {CME_TEXT[code]}"
    return f"+CME ERROR: {code}"


def cms_result(code: int, cmee: int) -> str:
    """+CMS ERROR is reported whatever CMEE says (27.005 §3.2.5); verbose text with CMEE=2."""
    if cmee == 2 and code in CMS_TEXT:
        return f"+CMS ERROR: {CMS_TEXT[code]}"
    return f"+CMS ERROR: {code}"
