"""Hypothesis round trips: every alphabet, length boundaries, addresses, options, time zones."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from modembridge.sms import (
    Deliver,
    StatusReport,
    Submit,
    decode_pdu,
    decode_relative_vp,
    encode_deliver,
    encode_relative_vp,
    encode_status_report,
    encode_submit,
    join_parts,
    segment_info,
)
from modembridge.sms.gsm7 import BASIC, EXTENSION
from modembridge.sms.natlang import LOCKING_SHIFT, SINGLE_SHIFT

GSM_BASIC = [ch for ch in BASIC if ch != "\x1b"]
GSM_ALL = GSM_BASIC + list(EXTENSION.values())
NATIONAL = sorted({ch for t in LOCKING_SHIFT.values() for ch in t if ch != "\x1b"}
                  | {ch for t in SINGLE_SHIFT.values() for ch in t.values()})
EMOJI = [chr(c) for c in range(0x1F600, 0x1F650)] + ["👍🏽", "🇰🇪"]

alphabets = st.sampled_from([
    st.sampled_from(GSM_BASIC),
    st.sampled_from(GSM_ALL),
    st.sampled_from(NATIONAL),
    st.sampled_from(EMOJI),
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),  # CJK
    st.characters(min_codepoint=0x0400, max_codepoint=0x04FF),  # Cyrillic
    st.characters(codec="utf-8"),  # anything encodable (no lone surrogates)
])


@st.composite
def texts(draw: st.DrawFn) -> str:
    chars = draw(alphabets)
    # lengths cluster around part boundaries: 70/71, 67n, 160/161, 153n
    n = draw(st.one_of(st.integers(0, 30), st.sampled_from([66, 67, 68, 69, 70, 71, 72, 133, 134, 135,
                                                            152, 153, 154, 159, 160, 161, 305, 306, 307]),
                       st.integers(0, 700)))
    return "".join(draw(st.lists(chars, min_size=n, max_size=n)))


numbers = st.builds(lambda plus, digits: ("+" if plus else "") + digits, st.booleans(),
                    st.text("0123456789", min_size=1, max_size=20))
alnum_senders = st.text(st.sampled_from(GSM_BASIC[32:]), min_size=1, max_size=11).filter(
    lambda s: not s.lstrip("+").isdigit())
tzs = st.integers(-79, 79).map(lambda q: timezone(timedelta(minutes=15 * q)))
stamps = st.builds(lambda dt, tz: dt.replace(tzinfo=tz),
                   st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31, 23, 59, 59)).map(
                       lambda d: d.replace(microsecond=0)), tzs)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(text=texts(), dest=numbers, status=st.booleans(), flash=st.booleans(), rd=st.booleans(),
       mr=st.integers(0, 255), ref_bits=st.sampled_from([8, 16]), shift=st.booleans(),
       validity=st.none() | st.timedeltas(timedelta(minutes=1), timedelta(weeks=63)))
def test_submit_round_trip(text: str, dest: str, status: bool, flash: bool, rd: bool, mr: int, ref_bits: int,
                           shift: bool, validity: timedelta | None) -> None:
    seg = segment_info(text, ref_bits=ref_bits, language_shift=shift)
    pdus = encode_submit(dest, text, status_report=status, flash=flash, reject_duplicates=rd, mr=mr,
                         ref_bits=ref_bits, language_shift=shift, validity=validity)
    assert len(pdus) == seg.parts
    decoded = [decode_pdu(p.hex) for p in pdus]
    assert all(isinstance(d, Submit) for d in decoded)
    subs = [d for d in decoded if isinstance(d, Submit)]
    assert "".join(s.text for s in subs) == text
    for p, s in zip(pdus, subs, strict=True):
        assert p.tpdu_length == len(p.hex) // 2 - 1
        assert (s.destination, s.mr, s.status_report_request, s.reject_duplicates) == (dest, mr, status, rd)
        assert s.message_class == (0 if flash else None)
        assert s.encoding == seg.encoding
        if validity is not None:
            assert isinstance(s.validity, timedelta) and s.validity >= min(validity, timedelta(weeks=63))
        if len(pdus) > 1:
            assert s.concat is not None and s.concat.total == len(pdus) and s.concat.ref_bits == ref_bits
        else:
            assert s.concat is None


@settings(max_examples=300, deadline=None, derandomize=True)
@given(text=texts(), sender=numbers | alnum_senders, ts=stamps, ref=st.integers(0, 255),
       sri=st.booleans())
def test_deliver_round_trip(text: str, sender: str, ts: datetime, ref: int, sri: bool) -> None:
    pdus = encode_deliver(sender, text, timestamp=ts, concat_ref=ref, status_report_indication=sri,
                          smsc="+254700000000")
    ds = [decode_pdu(p.hex) for p in pdus]
    dels = [d for d in ds if isinstance(d, Deliver)]
    assert len(dels) == len(pdus)
    assert join_parts(list(reversed(dels))) == text
    for d in dels:
        assert d.sender == sender and d.smsc == "+254700000000"
        assert d.timestamp == ts and d.timestamp.utcoffset() == ts.utcoffset()
        assert d.status_report_indication is sri and d.more_messages is False


@settings(max_examples=200, deadline=None, derandomize=True)
@given(data=st.binary(max_size=600), sender=numbers, ts=stamps)
def test_8bit_round_trip(data: bytes, sender: str, ts: datetime) -> None:
    pdus = encode_deliver(sender, data=data, timestamp=ts)
    ds = [decode_pdu(p.hex) for p in pdus]
    assert b"".join(d.data or b"" for d in ds if isinstance(d, Deliver)) == data
    assert all(d.encoding == "8bit" for d in ds if isinstance(d, Deliver))


@settings(derandomize=True)
@given(mr=st.integers(0, 255), rcpt=numbers, a=stamps, b=stamps, status=st.integers(0, 255))
def test_status_report_round_trip(mr: int, rcpt: str, a: datetime, b: datetime, status: int) -> None:
    r = decode_pdu(encode_status_report(mr=mr, recipient=rcpt, scts=a, discharge_time=b, status=status).hex)
    assert isinstance(r, StatusReport)
    assert (r.mr, r.recipient, r.scts, r.discharge_time, r.status) == (mr, rcpt, a, b, status)
    assert [r.delivered, r.pending, r.failed].count(True) == 1


@settings(derandomize=True)
@given(st.integers(0, 255))
def test_relative_vp_round_trip(vp: int) -> None:
    assert encode_relative_vp(decode_relative_vp(vp)) == vp


@settings(derandomize=True)
@given(st.timedeltas(timedelta(0), timedelta(weeks=70)))
def test_relative_vp_never_shorter(d: timedelta) -> None:
    got = decode_relative_vp(encode_relative_vp(d))
    assert got >= min(d, timedelta(weeks=63))
    assert got >= timedelta(minutes=5)
