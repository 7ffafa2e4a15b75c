"""Quick round trips through the public API (detailed tables live in the other test modules)."""

from datetime import UTC, datetime, timedelta, timezone

from modembridge.sms import (
    Deliver,
    StatusReport,
    Submit,
    decode_pdu,
    encode_deliver,
    encode_status_report,
    encode_submit,
    join_parts,
    segment_info,
)


def test_submit_round_trip() -> None:
    [p] = encode_submit("+254712345678", "hello world", status_report=True, validity=timedelta(days=1), mr=7)
    assert p.hex.startswith("00")
    assert p.tpdu_length == len(p.hex) // 2 - 1
    s = decode_pdu(p.hex)
    assert isinstance(s, Submit)
    assert (s.destination, s.text, s.mr, s.status_report_request, s.validity) == (
        "+254712345678", "hello world", 7, True, timedelta(days=1))


def test_deliver_multipart_alphanumeric_negative_tz() -> None:
    ts = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-3, minutes=-30)))
    parts = encode_deliver("Vodafone", "x" * 200 + "€", timestamp=ts, concat_ref=9)
    ds = [decode_pdu(p.hex) for p in parts]
    assert all(isinstance(d, Deliver) for d in ds)
    dd = [d for d in ds if isinstance(d, Deliver)]
    assert dd[0].sender == "Vodafone" and dd[0].sender_ton == 5
    assert dd[0].timestamp == ts and dd[0].timestamp.utcoffset() == ts.utcoffset()
    assert join_parts(list(reversed(dd))) == "x" * 200 + "€"


def test_status_report_round_trip() -> None:
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    p = encode_status_report(mr=5, recipient="+1555", scts=t0, discharge_time=t0 + timedelta(seconds=5),
                             status=0)
    r = decode_pdu(p.hex)
    assert isinstance(r, StatusReport)
    assert (r.mr, r.recipient, r.delivered) == (5, "+1555", True)
    assert r.discharge_time - r.scts == timedelta(seconds=5)


def test_segment_info_basics() -> None:
    assert segment_info("a" * 160).parts == 1
    assert segment_info("a" * 161).parts == 2
    assert segment_info("😀" * 35).encoding == "ucs2"
    assert segment_info("😀" * 35).parts == 1
