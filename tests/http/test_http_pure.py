"""Pure helpers: Kannel escapes, raw form parsing, number normalisation, signatures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import quote, unquote_to_bytes, urlencode

from hypothesis import given
from hypothesis import strategies as st

from modembridge.http.client import classify, sign
from modembridge.http.escapes import fill, inbound_url, kannel_time, plus_number, unix_time, url_encode
from modembridge.http.validate import decode_text, normalize_number, parse_form
from modembridge.model import DeliveryOutcome, InboundMessage

texts = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=200)


def test_fill_rules() -> None:
    assert fill("a%%b", {}) == "a%b"
    assert fill("50%", {}) == "50%"  # a trailing % stays
    assert fill("%x%d", {"d": "1"}) == "%x1"  # unknown escapes stay
    assert fill("%p-%p", {"p": "%2B1"}) == "%2B1-%2B1"


def test_word_escapes() -> None:
    words = ["JOIN", "club", "now", "*x*"]
    assert fill("%k|%s|%S|%r", {}, words) == "JOIN|club|now|*x*"  # * is unreserved
    assert fill("%a", {}, [*words, "a b"]) == "JOIN+club+now+*x*+a%20b"
    assert fill("%s%s%s%s", {}, ["a", "b"]) == "b"


def test_encodings() -> None:
    assert url_encode("+254 7&=/?é") == "%2B254%207%26%3D%2F%3F%C3%A9"
    assert plus_number("00254700") == "%2B254700" and plus_number("+2547") == "%2B2547"
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=3)))
    assert kannel_time(when) == "2026-01-02+00:04:05"  # UTC, as Kannel
    assert unix_time(when) == str(int(when.timestamp()))
    assert unix_time(datetime(1970, 1, 1, 0, 1)) == "60"  # naive = UTC


def test_parse_form_first_wins_and_keeps_bytes() -> None:
    assert parse_form(b"a=1&a=2&b=x+y%2Bz&&c&d=%FF") == {"a": b"1", "b": b"x y+z", "c": b"", "d": b"\xff"}


def test_normalize_number() -> None:
    assert normalize_number("+254 (700) 000-001") == "+254700000001"
    assert normalize_number("911") == "911"
    assert normalize_number("+12") is None
    assert normalize_number("+1234567890123456") is None  # 16 digits
    assert normalize_number("0" * 20) == "0" * 20
    assert normalize_number("+") is None and normalize_number("") is None


@given(texts)
def test_charset_round_trip_utf8(text: str) -> None:
    raw = urlencode({"text": text.encode("utf-8")}).encode("ascii")
    assert decode_text(parse_form(raw)["text"], None, 0) == text


@given(texts)
def test_charset_round_trip_utf16be(text: str) -> None:
    raw = ("text=" + quote(text.encode("utf-16-be"), safe="")).encode("ascii")
    assert decode_text(parse_form(raw)["text"], "UTF-16BE", 2) == text
    assert decode_text(parse_form(raw)["text"], None, 2) == text


def test_sign_is_hmac_sha256() -> None:
    # reference value computed independently: printf '1700000000.body' | openssl dgst -sha256 -hmac k
    sig = sign("k", 1_700_000_000, b"body")
    assert sig == "sha256=75c6f5400ffe9efa801269319d42add2b0f1579efe1715c7b4eb052dd2bd4c58"
    assert sig != sign("k", 1_700_000_001, b"body") and sig != sign("k2", 1_700_000_000, b"body")


def test_classify_edges() -> None:
    assert classify(299, "").outcome is DeliveryOutcome.DELIVERED
    assert classify(301, "").outcome is DeliveryOutcome.RETRY
    assert classify(499, "").outcome is DeliveryOutcome.REJECTED
    assert classify(425, "").outcome is DeliveryOutcome.RETRY
    assert classify(600, "").outcome is DeliveryOutcome.RETRY


def test_time_escape() -> None:
    assert fill("%t", {"t": kannel_time(datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC))}) == "2026-05-06+07:08:09"


def _binary(data: bytes, udh: bytes = b"", message_class: int | None = None) -> InboundMessage:
    return InboundMessage(message_id="m1", sender="+254700000001", text="", modem_id="gsm0",
                          received_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), smsc_timestamp=None, parts=1,
                          total_parts=1, encoding="8bit", data=data, udh=udh, message_class=message_class)


def test_a_binary_message_in_a_get_url_is_what_kannel_gives() -> None:
    msg = _binary(b"\x00ab \xff+\r\ncd", udh=bytes.fromhex("05040B8423F0"), message_class=1)
    url = inbound_url("b=%b&a=%a&k=%k&r=%r&e=%e&u=%u&c=%c&C=%C&m=%m&M=%M", msg)
    fields = dict(p.split("=", 1) for p in url.split("&"))
    assert unquote_to_bytes(fields["b"]) == msg.data
    assert [unquote_to_bytes(w) for w in fields["a"].split("+")] == [b"\x00ab", b"\xff+", b"cd"]
    assert (unquote_to_bytes(fields["k"]), fields["r"]) == (b"\x00ab", "%FF%2B+cd")
    assert msg.data is not None and fields["e"] == msg.data.hex()
    assert unquote_to_bytes(fields["u"]) == bytes.fromhex("0605040B8423F0")  # with its length octet
    assert (fields["c"], fields["C"], fields["m"], fields["M"]) == ("1", "8-BIT", "1", "-1")


def test_a_text_message_keeps_its_escapes() -> None:
    msg = _binary(b"")
    text = InboundMessage(**{**msg.__dict__, "encoding": "gsm7", "data": None, "text": "hi there"})
    url = inbound_url("b=%b&u=%u&c=%c&C=%C&m=%m&e=%e", text)
    assert url == "b=hi%20there&u=&c=0&C=UTF-8&m=-1&e=" + b"hi there".hex()
