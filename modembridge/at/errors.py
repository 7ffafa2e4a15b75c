"""AT errors and the classification of send failures.

Sources: 3GPP TS 27.005 §3.2.5 (+CMS ERROR), TS 24.011 annex E (RP causes), TS 23.040 §9.2.3.22 (TP-FCS).
"""

from __future__ import annotations

from enum import Enum


class SendErrorClass(Enum):
    """What the sender should do after a failed AT+CMGS."""

    RETRY_SOON = "retry_soon"  # the modem or SIM is busy: back off a few seconds and retry
    RETRY_LATER = "retry_later"  # network or temporary trouble: retry with the normal backoff
    PERMANENT = "permanent"  # the network or modem refuses this message: retrying cannot help


class AtError(Exception):
    """Anything that went wrong talking to the modem: a :class:`TransportError` or a :class:`ResultError`."""

    def __init__(self, message: str, *, command: str | None = None) -> None:
        super().__init__(message)
        self.command = command


# --- the exchange did not complete ------------------------------------------------------------------------
class TransportError(AtError):
    """The exchange did not complete: no answer, no prompt, or no port. Worth a recovery, not a verdict on
    the command."""


class AtTimeout(TransportError):
    """No final result within the command's timeout (the modem may be hung). After the PDU of AT+CMGS was
    written: the outcome of the send is unknown."""


class ResyncTimeout(AtTimeout):
    """Before a command, the check that the modem answers (after an earlier timeout) got no answer: the
    command itself was never written."""


class PromptTimeout(TransportError):
    """AT+CMGS got no ``> `` prompt in time: the PDU was never written, so the message was certainly not sent
    (unlike AtTimeout after the PDU, whose outcome is unknown)."""


class ModemUnavailable(TransportError):
    """The port is missing, busy, closed or vanished, or the modem is not ready (FAILED, stopped)."""


class PayloadWithheld(AtError):
    """At the ``> `` prompt the caller's precondition failed (the journal did not commit the send's
    ``sending`` mark): ESC was written instead of the PDU, so nothing was sent. Not a modem fault."""


# --- the modem answered, with an error or an unexpected shape -----------------------------------------------
class ResultError(AtError):
    """The modem answered, but with an error result or an answer of an unexpected shape."""


class ErrorResult(ResultError):
    """A plain error final result: ``ERROR``, ``COMMAND NOT SUPPORT``, ``TOO MANY PARAMETERS`` ..."""

    def __init__(self, message: str, *, result: str, command: str | None = None) -> None:
        super().__init__(message, command=command)
        self.result = result  # the final result line


class ParseError(ResultError):
    """A response did not have the expected shape."""


class CmeError(ResultError):
    """+CME ERROR: <code> (equipment / SIM errors, 27.007 §9.2); code None when the modem gives text only."""

    def __init__(self, code: int | None, text: str = "", *, command: str | None = None) -> None:
        self.code = code
        self.text = text or CME_TEXT.get(code or -1, "")
        label = f"+CME ERROR: {code if code is not None else self.text}"
        if code is not None and self.text:
            label += f" ({self.text})"
        super().__init__(label, command=command)
        self.error_class = classify_cme(code)


class CmsError(ResultError):
    """+CMS ERROR: <code> (message service errors, 27.005 §3.2.5), with what a sender should do about it."""

    def __init__(self, code: int | None, text: str = "", *, command: str | None = None) -> None:
        self.code = code
        self.text = text or CMS_TEXT.get(code or -1, "")
        self.error_class = classify_cms(code)
        label = f"+CMS ERROR: {code if code is not None else self.text}"
        if code is not None and self.text:
            label += f" ({self.text})"
        super().__init__(f"{label} [{self.error_class.value}]", command=command)


class SendFailed(ResultError):
    """AT+CMGS was answered with an error (+CMS ERROR, +CME ERROR, a plain ERROR) or without a message
    reference: the message was not sent.

    ``error_class`` says what a sender should do; ``result`` is the error as the modem gave it. ``code`` and
    ``text`` are those of a +CMS ERROR; for any other result ``code`` is None and ``text`` describes it.
    """

    def __init__(self, result: ResultError) -> None:
        self.result = result
        if isinstance(result, CmsError):
            self.code: int | None = result.code
            self.text = result.text
            message = str(result)
        else:
            self.code = None
            self.text = str(result)
        self.error_class = result.error_class if isinstance(result, (CmsError, CmeError)) \
            else SendErrorClass.RETRY_LATER
        if not isinstance(result, CmsError):
            message = f"{result} [{self.error_class.value}]"
        super().__init__(message, command=result.command)


# 24.011 RP-cause values (0..127) and 23.040 TP-FCS (128..255) as reported by +CMS ERROR, plus 27.005 codes.
CMS_TEXT: dict[int, str] = {
    1: "unassigned (unallocated) number", 8: "operator determined barring", 10: "call barred",
    17: "network failure", 21: "short message transfer rejected", 22: "memory capacity exceeded",
    27: "destination out of service", 28: "unidentified subscriber", 29: "facility rejected",
    30: "unknown subscriber", 38: "network out of order", 41: "temporary failure", 42: "congestion",
    47: "resources unavailable, unspecified", 50: "requested facility not subscribed",
    69: "requested facility not implemented", 81: "invalid short message transfer reference value",
    95: "invalid message, unspecified", 96: "invalid mandatory information", 97: "message type non-existent",
    98: "message not compatible with short message protocol state", 99: "information element non-existent",
    111: "protocol error, unspecified", 127: "interworking, unspecified",
    128: "telematic interworking not supported", 129: "short message type 0 not supported",
    130: "cannot replace short message", 143: "unspecified TP-PID error",
    144: "data coding scheme not supported",
    145: "message class not supported", 159: "unspecified TP-DCS error", 160: "command cannot be actioned",
    161: "command unsupported", 175: "unspecified TP-command error", 176: "TPDU not supported",
    192: "SC busy", 193: "no SC subscription", 194: "SC system failure", 195: "invalid SME address",
    196: "destination SME barred", 197: "SM rejected, duplicate SM", 198: "TP-VPF not supported",
    199: "TP-VP not supported", 208: "SIM SMS storage full", 209: "no SMS storage capability in SIM",
    210: "error in MS", 211: "memory capacity exceeded", 255: "unspecified error cause",
    300: "ME failure", 301: "SMS service of ME reserved", 302: "operation not allowed",
    303: "operation not supported", 304: "invalid PDU mode parameter", 305: "invalid text mode parameter",
    310: "SIM not inserted", 311: "SIM PIN required", 312: "PH-SIM PIN required", 313: "SIM failure",
    314: "SIM busy", 315: "SIM wrong", 316: "SIM PUK required", 317: "SIM PIN2 required",
    318: "SIM PUK2 required", 320: "memory failure", 321: "invalid memory index", 322: "memory full",
    330: "SMSC address unknown", 331: "no network service", 332: "network timeout",
    340: "no +CNMA acknowledgement expected", 500: "unknown error", 515: "device busy (vendor)",
}

_SOON = frozenset({192, 314, 515})  # SC busy, SIM busy, vendor "please wait, init or command processing"
_PERMANENT = frozenset({
    1, 8, 10, 21, 28, 29, 30, 50, 69, 81, 95, 96, 97, 98, 99, 111, 127,
    128, 129, 130, 143, 144, 145, 159, 160, 161, 175, 176, 193, 195, 196, 197, 198, 199,
    301, 303, 304, 305,
})


def classify_cms(code: int | None) -> SendErrorClass:
    """What to do after +CMS ERROR: <code> on AT+CMGS.

    Busy (SIM/SC/device) -> RETRY_SOON; the message or the destination is refused (bad number, barred,
    rejected, bad PDU, unsupported coding) -> PERMANENT; everything else, including network trouble
    (27, 38, 41, 42, 47, 331, 332), SIM/PIN state, memory and unknown or vendor codes -> RETRY_LATER:
    an unknown code must not throw a message away; the outbound expiry bounds the retries.
    """
    if code is None:
        return SendErrorClass.RETRY_LATER
    if code in _SOON:
        return SendErrorClass.RETRY_SOON
    if code in _PERMANENT or 128 <= code <= 176:  # TP-PID, TP-DCS, TP-command errors, TPDU not supported
        return SendErrorClass.PERMANENT
    return SendErrorClass.RETRY_LATER


CME_TEXT: dict[int, str] = {
    0: "phone failure", 3: "operation not allowed", 4: "operation not supported", 5: "PH-SIM PIN required",
    10: "SIM not inserted", 11: "SIM PIN required", 12: "SIM PUK required", 13: "SIM failure", 14: "SIM busy",
    15: "SIM wrong", 16: "incorrect password", 17: "SIM PIN2 required", 18: "SIM PUK2 required",
    20: "memory full", 21: "invalid index", 22: "not found", 23: "memory failure", 30: "no network service",
    31: "network timeout", 32: "network not allowed - emergency calls only", 100: "unknown",
}


def classify_cme(code: int | None) -> SendErrorClass:
    """+CME ERROR on a send: SIM busy -> RETRY_SOON; "not supported" -> PERMANENT; else RETRY_LATER."""
    if code == 14:
        return SendErrorClass.RETRY_SOON
    if code == 4:
        return SendErrorClass.PERMANENT
    return SendErrorClass.RETRY_LATER
