"""Segment calculator and splitting at the 160/161, 153n, 70/71, 67n boundaries."""

from __future__ import annotations

import pytest

from modembridge.sms import PduError, Segments, decode_pdu, encode_submit, segment_info, split_text


def gsm7_parts(n: int, per: int = 153) -> int:
    return 1 if n <= 160 else -(-n // per)


def ucs2_parts(n: int, per: int = 67) -> int:
    return 1 if n <= 70 else -(-n // per)


@pytest.mark.parametrize("n", [0, 1, 152, 153, 154, 159, 160, 161, 305, 306, 307, 458, 459, 460, 1530, 1531])
def test_gsm7_boundaries(n: int) -> None:
    s = segment_info("a" * n)
    assert (s.encoding, s.units, s.parts) == ("gsm7", n, gsm7_parts(n))
    assert s.per_part == (160 if s.parts == 1 else 153)
    assert s.remaining_in_last_part == s.per_part - (n - (s.parts - 1) * 153 if s.parts > 1 else n)
    pdus = encode_submit("+15550001", "a" * n, concat_ref=1)
    assert len(pdus) == s.parts
    assert "".join(decode_pdu(p.hex).text for p in pdus) == "a" * n


@pytest.mark.parametrize("n", [1, 66, 67, 68, 69, 70, 71, 133, 134, 135, 200, 201, 202])
def test_ucs2_boundaries(n: int) -> None:
    s = segment_info("Ж" * n)
    assert (s.encoding, s.units, s.parts) == ("ucs2", n, ucs2_parts(n))
    assert s.per_part == (70 if s.parts == 1 else 67)
    assert len(encode_submit("+15550001", "Ж" * n)) == s.parts


@pytest.mark.parametrize("n", [161, 304, 305, 456, 457])
def test_16bit_reference_capacity(n: int) -> None:
    s = segment_info("a" * n, ref_bits=16)
    assert (s.parts, s.per_part) == (-(-n // 152), 152)
    assert segment_info("Ж" * 140, ref_bits=16).parts == 3  # 66 per part
    assert segment_info("Ж" * 132, ref_bits=16).parts == 2


def test_escape_sequence_never_split() -> None:
    text = "a" * 152 + "€" + "b" * 10  # the euro's two septets would straddle septet 153
    chunks = split_text(text)
    assert chunks == ["a" * 152, "€" + "b" * 10]
    assert segment_info(text).remaining_in_last_part == 153 - 12


def test_surrogate_pair_never_split() -> None:
    text = "a" * 66 + "😀" + "b" * 10  # 78 UTF-16 units
    chunks = split_text(text)
    assert chunks == ["a" * 66, "😀" + "b" * 10]
    pdus = encode_submit("+15550001", text)
    assert [decode_pdu(p.hex).text for p in pdus] == chunks


def test_emoji_counts_two_units() -> None:
    s = segment_info("😀" * 35)
    assert (s.encoding, s.parts, s.units, s.remaining_in_last_part) == ("ucs2", 1, 70, 0)
    assert segment_info("😀" * 36).parts == 2


def test_ext_chars_count_double() -> None:
    assert segment_info("€" * 80).parts == 1
    assert segment_info("€" * 80 + "a").parts == 2


def test_language_shift_saves_parts() -> None:
    text = "Şişli'de güzel bir gün, çok teşekkürler! " * 4  # Turkish: not in the default alphabet
    plain = segment_info(text)
    shifted = segment_info(text, language_shift=True)
    assert plain.encoding == "ucs2"
    assert shifted.encoding == "gsm7" and shifted.language is not None
    assert shifted.parts < plain.parts
    pdus = encode_submit("+905551112233", text, language_shift=True)
    assert len(pdus) == shifted.parts
    assert "".join(decode_pdu(p.hex).text for p in pdus) == text


def test_language_shift_not_used_when_it_does_not_help() -> None:
    assert segment_info("plain ascii", language_shift=True).language is None
    assert segment_info("Şı", language_shift=True).encoding == "ucs2"  # one part either way


def test_segments_type_and_limits() -> None:
    assert isinstance(segment_info(""), Segments)
    assert segment_info("").parts == 1
    with pytest.raises(PduError, match="255"):
        segment_info("a" * (153 * 255 + 1))
    assert segment_info("a" * 153 * 255).parts == 255


def test_forced_encodings() -> None:
    assert segment_info("abc", encoding="ucs2").encoding == "ucs2"
    with pytest.raises(PduError):
        segment_info("😀", encoding="gsm7")
    with pytest.raises(PduError):
        segment_info("abc", encoding="8bit")
