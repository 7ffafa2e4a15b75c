"""Validation of outbound send requests (native JSON and Kannel sendsms) into :class:`SendRequest`.

Pure functions: no aiohttp, no I/O. Every rejection is a :class:`RequestError` naming the field, with
a JSON message for the native API and a Kannel-style text for ``/cgi-bin/sendsms``.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_to_bytes

from modembridge.model import Encoding, SendRequest

from .callbacks import CallbackPolicy, CallbackRefused
from .segments import count_parts

MAX_RECIPIENTS = 100
MIN_VALIDITY = 60  # seconds
MAX_VALIDITY = 63 * 7 * 86400  # the longest relative TP-VP (63 weeks)
MAX_CLIENT_ID = 128
_NUMBER = re.compile(r"\+[0-9]{3,15}|[0-9]{3,20}")
_STRIP = str.maketrans("", "", " -.()\t")
_KANNEL_NUMBER_CHARS = frozenset("0123456789+-")  # Kannel's default sendsms-chars (space splits)
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # a JSON string may carry one ("\\ud83d" alone)
# Kannel's charset names Python spells otherwise (Kannel hands them to iconv)
_CHARSET_ALIASES = {"ucs-2": "utf-16-be", "ucs2": "utf-16-be", "iso-10646-ucs-2": "utf-16-be",
                    "ucs-2be": "utf-16-be", "unicodebig": "utf-16-be"}
# codecs Python decodes text with that are not charsets a message is written in
_NOT_CHARSETS = frozenset({"utf-7", "idna", "punycode", "unicode-escape", "raw-unicode-escape", "undefined",
                           "mbcs", "oem", "palmos"})


class RequestError(ValueError):
    """A rejected request: `field` is None for whole-body problems."""

    def __init__(self, field: str | None, message: str, kannel: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.kannel = kannel or f"{message}, rejected"
        self.status = status


@dataclass(frozen=True)
class Checked:
    """A validated request with the codec's view of its text."""

    request: SendRequest
    encoding: Encoding
    parts: int


def normalize_number(raw: str) -> str | None:
    """Canonical recipient: spaces, dashes, dots and parentheses removed; ``+`` then 3-15 digits or
    3-20 digits (national numbers, short codes). None when invalid."""
    n = raw.translate(_STRIP)
    return n if _NUMBER.fullmatch(n) else None


def check_text(text: str, max_parts: int, field: str = "text") -> tuple[Encoding, int]:
    if text == "":
        raise RequestError(field, "text is empty", "Empty text not allowed, rejected")
    if _LONE_SURROGATE.search(text):
        raise RequestError(field, "contains a lone UTF-16 surrogate (U+D800-U+DFFF): not a character",
                           "Text field misformed, rejected")
    encoding, parts = count_parts(text)
    if parts > max_parts:
        msg = f"text needs {parts} SMS parts, at most {max_parts} allowed"
        raise RequestError(field, msg, f"Text too long ({parts} parts, at most {max_parts}), rejected")
    return encoding, parts


def check_dlr_url(url: str, field: str, policy: CallbackPolicy) -> str:
    """The dlr-url as it will be called (spaces and non-ASCII percent-encoded), if the policy allows it."""
    try:
        return policy.check(url)
    except CallbackRefused as exc:
        raise RequestError(field, str(exc), "DLR-URL field misformed, rejected") from None
    except UnicodeError:  # a lone surrogate from a JSON string: not text at all
        raise RequestError(field, "is not valid text (a lone UTF-16 surrogate)",
                           "DLR-URL field misformed, rejected") from None


def _check_modem(modem: str | None, modem_ids: tuple[str, ...], field: str) -> None:
    if modem is not None and modem not in modem_ids:
        raise RequestError(field, f"unknown modem {modem!r}", "Not routable. Do not try again.")


# -- native JSON API --------------------------------------------------------------------------

_NATIVE_FIELDS = frozenset(
    {"to", "text", "id", "status_report", "validity", "flash", "modem", "dlr_url", "dlr_mask"}
)


def _bool(body: Mapping[str, Any], key: str) -> bool:
    v = body.get(key, False)
    if not isinstance(v, bool):
        raise RequestError(key, "must be true or false")
    return v


def _int(body: Mapping[str, Any], key: str) -> int | None:
    v = body.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int):
        raise RequestError(key, "must be an integer")
    return v


def _recipients(raw: Any, field: str = "to") -> tuple[str, ...]:
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not items:
        raise RequestError(field, "must be a phone number or a non-empty list of phone numbers")
    out: dict[str, None] = {}  # in order, each number once
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise RequestError(field, f"recipient #{i + 1} is not a string")
        n = normalize_number(item)
        if n is None:
            raise RequestError(
                field, f"invalid phone number {item[:32]!r}: want + and 3-15 digits, or 3-20 digits"
            )
        out[n] = None
        if len(out) > MAX_RECIPIENTS:  # counted once duplicates are gone; no need to read further
            raise RequestError(field, f"too many recipients (more than {MAX_RECIPIENTS})")
    return tuple(out)


def check_client_id(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_CLIENT_ID or not value.isprintable():
        raise RequestError(field, f"must be a printable string of 1-{MAX_CLIENT_ID} characters")
    return value


def parse_native(
    body: Any, idempotency_key: str | None, modem_ids: tuple[str, ...], max_parts: int,
    callbacks: CallbackPolicy,
) -> Checked:
    """Validate a decoded JSON body of ``POST /api/v1/messages``."""
    if not isinstance(body, dict):
        raise RequestError(None, "body must be a JSON object")
    for key in body:
        if key not in _NATIVE_FIELDS:
            raise RequestError(str(key), "unknown field")
    if "to" not in body:
        raise RequestError("to", "missing")
    recipients = _recipients(body["to"])
    text = body.get("text")
    if text is None:
        raise RequestError("text", "missing")
    if not isinstance(text, str):
        raise RequestError("text", "must be a string")
    encoding, parts = check_text(text, max_parts)
    client_id: str | None = None
    if body.get("id") is not None:
        client_id = check_client_id(body["id"], "id")
    if idempotency_key is not None:
        key = check_client_id(idempotency_key, "Idempotency-Key")
        if client_id is not None and client_id != key:
            raise RequestError("id", "differs from the Idempotency-Key header")
        client_id = key
    validity = _int(body, "validity")
    if validity is not None and not MIN_VALIDITY <= validity <= MAX_VALIDITY:
        raise RequestError("validity", f"must be between {MIN_VALIDITY} and {MAX_VALIDITY} seconds")
    modem = body.get("modem")
    if modem is not None and not isinstance(modem, str):
        raise RequestError("modem", "must be a string")
    _check_modem(modem, modem_ids, "modem")
    status_report = _bool(body, "status_report")
    dlr_url: str | None = None
    dlr_mask = 0
    if body.get("dlr_url") is not None:
        if not isinstance(body["dlr_url"], str):
            raise RequestError("dlr_url", "must be a string")
        dlr_url = check_dlr_url(body["dlr_url"], "dlr_url", callbacks)
        mask = _int(body, "dlr_mask")
        dlr_mask = 3 if mask is None else mask
    elif body.get("dlr_mask") is not None:
        raise RequestError("dlr_mask", "needs dlr_url")
    if not 0 <= dlr_mask <= 31:
        raise RequestError("dlr_mask", "must be between 0 and 31")
    request = SendRequest(
        recipients=recipients,
        text=text,
        client_id=client_id,
        status_report=status_report or bool(dlr_mask & 3),
        validity=validity,
        flash=_bool(body, "flash"),
        modem=modem,
        dlr_url=dlr_url,
        dlr_mask=dlr_mask,
        source="api",
    )
    return Checked(request, encoding, parts)


# -- Kannel sendsms -----------------------------------------------------------------------------


def parse_form(raw: bytes) -> dict[str, bytes]:
    """``application/x-www-form-urlencoded`` bytes to {name: raw value bytes}; the first occurrence wins
    (as Kannel's ``http_cgi_variable``). Values stay bytes: their charset is only known later."""
    out: dict[str, bytes] = {}
    for pair in raw.split(b"&"):
        if not pair:
            continue
        name, _, value = pair.partition(b"=")
        key = unquote_to_bytes(name.replace(b"+", b" ")).decode("latin-1")
        out.setdefault(key, unquote_to_bytes(value.replace(b"+", b" ")))
    return out


def _kannel_str(fields: Mapping[str, bytes], *names: str) -> str | None:
    for name in names:
        v = fields.get(name)
        if v is not None:
            try:
                return v.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise RequestError(name, "is not UTF-8", f"{name} field misformed, rejected") from exc
    return None


def _kannel_int(fields: Mapping[str, bytes], name: str, label: str) -> int | None:
    """An integer parameter; absent, empty or -1 (Kannel's "undefined") give None."""
    raw = _kannel_str(fields, name)
    if raw is None or raw.strip() in ("", "-1"):
        return None
    try:
        return int(raw.strip())
    except ValueError as exc:
        raise RequestError(name, "must be an integer", f"{label} field misformed, rejected") from exc


def text_codec(charset: str) -> str:
    """The Python codec for a charset name as Kannel clients give it (UCS-2 is UTF-16BE); LookupError for
    an unknown name or one that is not a charset text is written in (UTF-7, IDNA, escape codecs ...)."""
    name = charset.strip().lower()
    name = _CHARSET_ALIASES.get(name, name)
    info = codecs.lookup(name)  # LookupError when unknown
    if info.name.replace("_", "-") in _NOT_CHARSETS or not getattr(info, "_is_text_encoding", True):
        raise LookupError(f"{charset} is not a text charset")
    return info.name


def decode_text(raw: bytes, charset: str | None, coding: int) -> str:
    """Decode the raw text bytes; the default charset is UTF-8, UTF-16BE with coding=2 (as Kannel)."""
    name = charset or ("UTF-16BE" if coding == 2 else "UTF-8")
    try:
        return raw.decode(text_codec(name))
    except (LookupError, UnicodeDecodeError) as exc:
        raise RequestError("charset", f"text cannot be decoded as {name[:40]!r}",
                           "Charset or body misformed, rejected") from exc


def kannel_credentials(fields: Mapping[str, bytes]) -> tuple[str | None, str | None]:
    """(username, password) as Kannel reads them (``username``/``user``, ``password``/``pass``)."""
    user = fields.get("username", fields.get("user"))
    password = fields.get("password", fields.get("pass"))
    return (
        None if user is None else user.decode("utf-8", "replace"),
        None if password is None else password.decode("utf-8", "replace"),
    )


def parse_kannel(
    fields: Mapping[str, bytes], modem_ids: tuple[str, ...], max_parts: int, callbacks: CallbackPolicy
) -> tuple[Checked, list[str]]:
    """Validate Kannel sendsms parameters (credentials already checked).

    Returns the checked request and the receivers that were dropped: like Kannel, receivers with
    characters outside ``0-9 + -`` (or, here, an invalid length) are skipped; if none is left the request
    is rejected.
    """
    to = _kannel_str(fields, "to")
    if to is None:
        raise RequestError("to", "missing", "Missing receiver number, rejected")
    if not to.strip():
        raise RequestError("to", "empty", "Empty receiver number not allowed, rejected")
    recipients: dict[str, None] = {}  # in order, each number once
    denied: list[str] = []
    for word in to.split():
        n = normalize_number(word) if _KANNEL_NUMBER_CHARS.issuperset(word) else None
        if n is None:
            denied.append(word[:32])
            continue
        recipients[n] = None
        if len(recipients) > MAX_RECIPIENTS:
            raise RequestError("to", f"too many receivers (more than {MAX_RECIPIENTS})",
                               f"Too many receivers (more than {MAX_RECIPIENTS}), rejected")
    if not recipients:
        raise RequestError("to", "no valid receiver",
                           "Number(s) has/have been denied by white- and/or black-lists.")
    coding = _kannel_int(fields, "coding", "Coding")
    if coding is not None and not 0 <= coding <= 2:
        raise RequestError("coding", "must be 0, 1 or 2", "Coding field misformed, rejected")
    if coding == 1:
        raise RequestError("coding", "8-bit data (coding=1) is not supported",
                           "8-bit data (coding=1) not supported, rejected")
    mclass = _kannel_int(fields, "mclass", "MClass")
    if mclass is not None and not 0 <= mclass <= 3:
        raise RequestError("mclass", "must be 0-3", "MClass field misformed, rejected")
    dlr_mask = _kannel_int(fields, "dlr-mask", "DLR-Mask")
    if dlr_mask is None:
        dlr_mask = _kannel_int(fields, "dlrmask", "DLR-Mask")
    if dlr_mask is not None and not 0 <= dlr_mask <= 63:
        raise RequestError("dlr-mask", "must be 0-63", "DLR-Mask field misformed, rejected")
    dlr_url = _kannel_str(fields, "dlr-url", "dlrurl") or None
    if dlr_url is not None:
        dlr_url = check_dlr_url(dlr_url, "dlr-url", callbacks)
    validity_min = _kannel_int(fields, "validity", "Validity")
    validity: int | None = None
    if validity_min is not None:
        validity = validity_min * 60
        if not MIN_VALIDITY <= validity <= MAX_VALIDITY:
            raise RequestError("validity", "out of range (minutes)", "Validity field misformed, rejected")
    charset = _kannel_str(fields, "charset") or None
    raw_text = fields.get("text")
    if raw_text is None:
        raise RequestError("text", "missing", "Missing text, rejected")
    text = decode_text(raw_text, charset, coding or 0)
    encoding, parts = check_text(text, max_parts)
    modem = _kannel_str(fields, "smsc") or None
    _check_modem(modem, modem_ids, "smsc")
    mask = dlr_mask or 0
    request = SendRequest(
        recipients=tuple(recipients),
        text=text,
        status_report=bool(mask & 3),
        validity=validity,
        flash=mclass == 0,
        modem=modem,
        dlr_url=dlr_url,
        dlr_mask=mask,
        sender=_kannel_str(fields, "from") or None,
        source="kannel",
    )
    return Checked(request, encoding, parts), denied
