"""Kannel URL escape codes (``%p``, ``%a``, ``%d`` ...) for get-url style templates and dlr-urls.

Pure functions. Semantics follow Kannel's ``urltrans_fill_escape_codes``: each value is URL-encoded,
``%%`` is a literal ``%``, an unknown escape is left untouched, ``%t`` is ``YYYY-MM-DD+HH:MM:SS`` (UTC;
the ``+`` decodes to a space), ``%a``/``%r`` join URL-encoded words with ``+``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from urllib.parse import quote

from modembridge.model import DeliveryReportEvent, DlrStatus, InboundMessage

_SAFE = "-_.!~*'()"  # unreserved characters left as they are (space becomes %20, + becomes %2B)
MAX_DLR_ID = 36  # RapidSMS stores %I in a CharField(max_length=36)


def url_encode(value: str) -> str:
    """Percent-encode a value for a query string (UTF-8; ``+`` as %2B, space as %20)."""
    return quote(value, safe=_SAFE, encoding="utf-8")


def plus_number(number: str) -> str:
    """``%q``/``%Q``: like ``%p`` but a leading ``00`` becomes ``+`` (encoded as %2B)."""
    return "%2B" + url_encode(number[2:]) if number.startswith("00") else url_encode(number)


def kannel_time(at: datetime) -> str:
    """``%t``: the time in UTC as Kannel writes it, ``YYYY-MM-DD+HH:MM:SS``."""
    if at.tzinfo is not None:
        at = at.astimezone(UTC)
    return at.strftime("%Y-%m-%d+%H:%M:%S")


def unix_time(at: datetime) -> str:
    """``%T``: seconds since the epoch (naive datetimes are taken as UTC)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return str(int(at.timestamp()))


def binary_encode(data: bytes) -> str:
    """Percent-encode raw octets (an 8-bit message's payload or UDH), as Kannel's ``%b`` and ``%u`` do."""
    return quote(data, safe=_SAFE)


def _latin1_encode(word: str) -> str:
    return binary_encode(word.encode("latin-1"))


def fill(pattern: str, values: Mapping[str, str], words: list[str] | None = None,
         encode: Callable[[str], str] = url_encode) -> str:
    """Replace Kannel escapes in `pattern`.

    `values` maps an escape letter to its final (already URL-encoded) text. `words` (the message text
    split on whitespace) enables the word escapes ``%k`` (first word), ``%s`` (next word), ``%S`` (next
    word with ``*`` as ``~``, not encoded), ``%r`` (remaining words) and ``%a`` (all words); `encode`
    is how a word is encoded.
    """
    out: list[str] = []
    pos, n = 0, len(pattern)
    nextarg = 1
    ws = words or []
    while pos < n:
        c = pattern[pos]
        if c != "%" or pos + 1 >= n:
            out.append(c)
            pos += 1
            continue
        code = pattern[pos + 1]
        pos += 2
        if code == "%":
            out.append("%")
        elif words is not None and code == "a":
            out.append("+".join(encode(w) for w in ws))
        elif words is not None and code == "k":
            out.append(encode(ws[0]) if ws else "")
        elif words is not None and code == "r":
            out.append("+".join(encode(w) for w in ws[nextarg:]))
        elif words is not None and code in "sS":
            if nextarg < len(ws):
                w = ws[nextarg]
                out.append(encode(w) if code == "s" else w.replace("*", "~"))
                nextarg += 1
        elif code in values:
            out.append(values[code])
        else:
            out.append("%" + code)
    return "".join(out)


_CODING = {"gsm7": "0", "8bit": "1", "ucs2": "2"}


def coding(msg: InboundMessage) -> str:
    """Kannel's ``coding`` (``%c``): 0 GSM 7-bit, 1 8-bit data, 2 UCS2 (the alphabet on the air; the text
    itself is always delivered as UTF-8)."""
    return _CODING.get(msg.encoding, "0")


def kannel_udh(msg: InboundMessage) -> bytes:
    """The UDH as Kannel's ``%u`` gives it: the length octet and the information elements (those other
    than concatenation: the message arrives reassembled); empty when there are none."""
    return bytes([len(msg.udh)]) + msg.udh if msg.udh else b""


def inbound_url(pattern: str, msg: InboundMessage, receiver: str = "") -> str:
    """A router get-url for an inbound message (Kannel sms-service ``get-url`` escapes).

    An 8-bit message gives its raw octets, percent-encoded, where Kannel does (``%b``, ``%A``, ``%a`` and
    the word escapes), and ``%e`` gives them in hex."""
    at = msg.smsc_timestamp or msg.received_at
    body = binary_encode(msg.data) if msg.data is not None else url_encode(msg.text)
    values = {
        "p": url_encode(msg.sender),
        "q": plus_number(msg.sender),
        "P": url_encode(receiver),
        "Q": plus_number(receiver),
        "A": body,
        "b": body,
        "e": msg.data.hex() if msg.data is not None else msg.text.encode("utf-8").hex(),
        "t": kannel_time(at),
        "T": unix_time(at),
        "i": url_encode(msg.modem_id),
        "I": url_encode(msg.message_id),
        "c": coding(msg),
        "C": "8-BIT" if msg.data is not None else "UTF-8",
        "m": str(msg.message_class) if msg.message_class is not None else "-1",
        "M": "-1",
        "f": url_encode(msg.smsc or ""),
        "n": "",
        "u": binary_encode(kannel_udh(msg)),
        "B": "",
        "o": "",
        "D": "",
        "F": "",
    }
    if msg.data is not None:
        return fill(pattern, values, [w.decode("latin-1") for w in msg.data.split()], _latin1_encode)
    return fill(pattern, values, msg.text.split())


# %A when the modem gave no text: RapidSMS's delivery-report view refuses an empty status_text
DEFAULT_REPLY = {
    DlrStatus.DELIVERED: "Delivered",
    DlrStatus.FAILED: "Failed",
    DlrStatus.BUFFERED: "Buffered",
    DlrStatus.SMSC_ACK: "ACK/",
    DlrStatus.SMSC_REJECT: "NACK/",
}


def dlr_url(event: DeliveryReportEvent, sender: str = "") -> str:
    """The dlr-url of a send with its escapes substituted for one delivery report."""
    reply = event.reply or DEFAULT_REPLY.get(event.status, str(int(event.status)))
    values = {
        "d": str(int(event.status)),
        "A": url_encode(reply),
        "i": url_encode(event.modem_id),
        "I": url_encode(event.message_id[:MAX_DLR_ID]),
        "F": url_encode(event.smsc_message_id),
        "p": url_encode(event.recipient),
        "q": plus_number(event.recipient),
        "P": url_encode(sender),
        "Q": plus_number(sender),
        "t": kannel_time(event.at),
        "T": unix_time(event.at),
        "n": "",
        "f": "",
        "B": "",
        "o": "",
        "D": "",
        "u": "",
    }
    return fill(event.url_template, values)
