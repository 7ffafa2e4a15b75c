"""USSD strings (sms/ussd.py): the three request modes, answers by their data coding scheme."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modembridge.at.commands import UssdResult, cusd, parse_cusd
from modembridge.at.parser import AtParser, Info, Urc
from modembridge.sms import PduError, decode_ussd, encode_ussd, valid_code
from modembridge.sms.ussd import alphabet


def test_requests_in_each_mode() -> None:
    assert encode_ussd("*100#", "text") == ("*100#", 15)
    assert encode_ussd("*100#", "packed") == ("AA180C3602", 15)  # the value Huawei sticks are known to take
    assert encode_ussd("*100#", "ucs2") == ("002A0031003000300023", 72)
    with pytest.raises(PduError):
        encode_ussd("*100#€€€\u4e00", "packed")


@pytest.mark.parametrize(("string", "dcs", "mode", "text"), [
    ("Balance 12.50", 15, "text", "Balance 12.50"),
    ("C2303BEC1E97413199AB06", 15, "packed", "Balance 12.5"),  # packed, as Huawei sticks answer
    ("04110430043B0430043D0441", 72, "text", "Баланс"),  # UCS2 is hex in any mode
    ("04110430043B0430043D0441", 72, "packed", "Баланс"),
    ("not hex at all", 72, "text", "not hex at all"),  # a firmware that decoded it already
    ("414243", 68, "text", "ABC"),  # 8-bit data
])
def test_answers_by_their_coding(string: str, dcs: int, mode: str, text: str) -> None:
    assert decode_ussd(string, dcs, mode) == text  # type: ignore[arg-type]


KEYS = "0123456789*#ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz .,:\n"


@given(st.text(alphabet=KEYS, max_size=182))
def test_packed_and_ucs2_round_trip(text: str) -> None:
    for mode, dcs in (("packed", 15), ("ucs2", 72)):
        string, got_dcs = encode_ussd(text, mode)  # type: ignore[arg-type]
        assert got_dcs == dcs and decode_ussd(string, dcs, mode) == text  # type: ignore[arg-type]


def test_the_cbs_coding_groups() -> None:
    assert [alphabet(d) for d in (0x0F, 0x00, 0x11, 0x44, 0x48, 0xF4, 0xF0, None)] == [
        "gsm7", "gsm7", "ucs2", "8bit", "ucs2", "8bit", "gsm7", "gsm7"]


def test_codes_a_keypad_can_type() -> None:
    assert all(valid_code(c) for c in ("*100#", "1", "*123*2*1#", "+254"))
    assert not any(valid_code(c) for c in ("", "*100#\r\nAT+CFUN=0", '*1"#', "1" * 183, "abc"))
    with pytest.raises(ValueError):
        cusd('*1"#', 15)


def test_cusd_lines() -> None:
    assert parse_cusd('+CUSD: 0,"Balance: 1,50",15') == UssdResult(0, "Balance: 1,50", 15)
    assert parse_cusd("+CUSD: 4") == UssdResult(4, None, None)
    assert parse_cusd('+CUSD: 1,"Menu\n1. A\n2. B",72') == UssdResult(1, "Menu\n1. A\n2. B", 72)
    assert parse_cusd("+CUSD: 2,AA180C3602,15") == UssdResult(2, "AA180C3602", 15)


@pytest.mark.parametrize("chunk", [1, 3, 1000])
def test_a_menu_with_raw_line_feeds_is_one_answer_in_any_chunking(chunk: int) -> None:
    data = b'\r\n+CUSD: 1,"Welcome\n1. Balance\r\n2. Data\n\n3. Exit",15\r\n\r\n+CREG: 1\r\n'
    p = AtParser()
    events = [e for i in range(0, len(data), chunk) for e in p.feed(data[i:i + chunk])]
    assert [e.text for e in events if isinstance(e, Urc)] == [
        '+CUSD: 1,"Welcome\n1. Balance\n2. Data\n3. Exit",15', "+CREG: 1"]
    p.begin('AT+CUSD=1,"*123#",15')
    answer = p.feed(b'\r\n+CUSD: 0,"A\nB",15\r\nOK\r\n')
    assert isinstance(answer[0], Info) and answer[0].text == '+CUSD: 0,"A\nB",15'


def test_a_ussd_answer_whose_closing_quote_is_lost_does_not_swallow_what_follows() -> None:
    p = AtParser()
    events = p.feed(b'\r\n+CUSD: 0,"Your balance\r\n+CMTI: "SM",3\r\n')
    assert [e.text for e in events if isinstance(e, Urc)] == ['+CUSD: 0,"Your balance', '+CMTI: "SM",3']
    p.feed(b'\r\n+CUSD: 1,"Menu\r\n1. A\r\n')
    p.begin("AT+CSQ")
    events = p.feed(b"\r\n+CSQ: 20,99\r\nOK\r\n")
    assert [type(e).__name__ for e in events][-2:] == ["Info", "Final"]  # the command still gets its answer
