"""Table tests against real-world PDUs (oFono, python-gsmmodem, dreamfabric, diafaan), byte-exact."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from modembridge.sms import (
    Deliver,
    StatusReport,
    Submit,
    decode_pdu,
    encode_deliver,
    encode_submit,
    join_parts,
)
from modembridge.sms.gsm7 import alphabet, septets_to_text

from . import vectors as v
from .helpers import deliver_hex, septets_hex


def tz(minutes: int) -> timezone:
    return timezone(timedelta(minutes=minutes))


# ------------------------------------------------------------------ national language tables (oFono data)

TURKISH_LOCKING = (
    "@£$¥€éùıòÇ\nĞğ\rÅåΔ_ΦΓΛΩΠΨΣΘΞ ŞşßÉ !\"#¤%&'()*+,-./0123456789:;<=>?İABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "çabcdefghijklmnopqrstuvwxyzäöñüà"
)
PORTUGUESE_LOCKING = (
    "@£$¥êéúíóç\nÔô\rÁáΔ_ªÇÀ∞^\\€Ó| ÂâÊÉ !\"#º%&'()*+,-./0123456789:;<=>?ÍABCDEFGHIJKLMNOPQRSTUVWXYZÃÕÚÜ§"
    "~abcdefghijklmnopqrstuvwxyzãõ`üà"
)
DEFAULT_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ ÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)


@pytest.mark.parametrize(
    ("pdu", "locking", "single", "expected"),
    [
        (v.OFONO_ALL_SEPTETS, 0, 0, DEFAULT_TABLE),
        (v.OFONO_ALL_SEPTETS, 1, 0, TURKISH_LOCKING),
        (v.OFONO_ALL_SEPTETS, 3, 0, PORTUGUESE_LOCKING),
        (v.OFONO_DEFAULT_EXT, 0, 0, "\x0c^ {}\\[~]|€"),
        (v.OFONO_TURKISH_EXT, 1, 1, "\x0c^{}\\[~]|ĞİŞç€ğış"),
        (v.OFONO_PORTUGUESE_EXT, 3, 3, "êç\x0cÔôÁáΦΓ^ΩΠΨΣΘÊ{}\\[~]|ÀÍÓÚÃÕÂ€íóúãõâ"),
        (v.OFONO_SPANISH_EXT, 0, 2, "ç\x0c^{}\\[~]|ÁÍÓÚá€íóú"),
    ],
)
def test_national_language_tables_match_ofono(pdu: str, locking: int, single: int, expected: str) -> None:
    d = decode_pdu(pdu, smsc=False)
    assert isinstance(d, Deliver)
    assert septets_to_text(d.user_data, alphabet(locking, single)) == expected


def test_national_tables_through_udh() -> None:
    # the same septets announced with UDH IEs 0x25 (locking) / 0x24 (single) decode without out-of-band help
    ts = datetime(2024, 5, 1, 12, 0, tzinfo=tz(180))
    text = "Ğğİış ŞÇç " * 10  # 100 chars: 2 parts in UCS2, 1 with the Turkish locking shift table
    [p] = encode_deliver("+905321234567", text, timestamp=ts, language_shift=True)
    d = decode_pdu(p.hex)
    assert isinstance(d, Deliver)
    assert d.text == text
    assert d.language is not None and d.language.locking == 1
    assert {ie.iei for ie in d.udh} >= {0x25}


@pytest.mark.parametrize(
    ("udh", "septets", "expected"),
    [
        ("03250103", [0x04, 0x60, 0x7D, 0x1B, 0x3C], "ê~`["),  # Portuguese locking, default single shift
        ("03240102", [0x1B, 0x41, 0x61, 0x1B, 0x65], "Áa€"),  # Spanish single shift
        # both Turkish tables, 7-octet UDH = exactly 8 septets, no fill bits (Gemalto test TC0085070)
        ("06250101240101", [0x0B, 0x1B, 0x47, 0x07, 0x1B, 0x73, 0x40], "ĞĞışİ"),
        ("03250109", [0x41, 0x42], "AB"),  # unsupported language id: default tables (23.038 6.2.1.2.4)
    ],
)
def test_language_udh_hand_built(udh: str, septets: list[int], expected: str) -> None:
    udh_octets = len(udh) // 2
    hdr_septets = (udh_octets * 8 + 6) // 7
    ud = udh + septets_hex(septets, fill=hdr_septets * 7 - udh_octets * 8)
    d = decode_pdu(deliver_hex(0x00, hdr_septets + len(septets), ud, fo=0x44))
    assert isinstance(d, Deliver)
    assert d.text == expected


# ------------------------------------------------------------------ decode tables

def test_dreamfabric_deliver() -> None:
    d = decode_pdu("07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07")
    assert isinstance(d, Deliver)
    assert (d.smsc, d.sender, d.sender_ton, d.sender_npi) == ("+31624000000", "+31641600986", 1, 1)
    assert (d.pid, d.dcs) == (0, 0)
    assert d.timestamp == datetime(2002, 8, 26, 19, 37, 41, tzinfo=tz(0))
    assert d.text == "How are you?"
    assert (d.encoding, d.message_class, d.concat, d.udh, d.data) == ("gsm7", None, None, (), None)


def test_ofono_negative_time_zone_and_alphanumeric_sender() -> None:
    d = decode_pdu("07911326040000F0040B911346610089F60000208062917314480CC8F71D14969741F977FD07")
    assert isinstance(d, Deliver)
    assert d.timestamp.utcoffset() == timedelta(hours=-1)
    a = decode_pdu("0791447758100650040DD0F334FC1CA6970100008080312170224008D4F29CDE0EA7D9")
    assert isinstance(a, Deliver)
    assert (a.smsc, a.sender, a.sender_ton, a.sender_npi) == ("+447785016005", "sipgate", 5, 0)
    assert a.text == "Testmail"
    assert a.timestamp == datetime(2008, 8, 13, 12, 7, 22, tzinfo=tz(60))


def test_diafaan_alphanumeric_with_status_report_indication() -> None:
    d = decode_pdu("0791448720003023240DD0E474D81C0EBB010000111011315214000BE474D81C0EBB5DE3771B")
    assert isinstance(d, Deliver)
    assert (d.sender, d.text, d.status_report_indication) == ("diafaan", "diafaan.com", True)


def test_alphanumeric_length_in_octets_is_tolerated() -> None:
    # "sipgate" is 7 septets = 13 semi-octets; some SMSCs write 14 (2 x octets): no phantom '@'
    d = decode_pdu("0791447758100650040ED0F334FC1CA6970100008080312170224008D4F29CDE0EA7D9")
    assert isinstance(d, Deliver) and d.sender == "sipgate"


def test_gsmmodem_table_deliveries() -> None:
    d = decode_pdu("06917228195339040B917228214365F700003130805120618005D4F29C2E03")
    assert isinstance(d, Deliver)
    assert (d.smsc, d.sender, d.text) == ("+2782913593", "+27821234567", "Test2")
    assert d.timestamp == datetime(2013, 3, 8, 15, 2, 16, tzinfo=tz(120))
    d = decode_pdu(
        "07915892000000F0040B915892214365F700007040213252242331493A283D0795C3F33C88FE06C9CB6132885EC6D341EDF27C1E3E"
        "97E7207B3A0C0A5241E377BB1D7693E72E"
    )
    assert isinstance(d, Deliver)
    assert d.text == "It is easy to read text messages via AT commands."
    assert d.timestamp == datetime(2007, 4, 12, 23, 25, 42, tzinfo=tz(480))
    d = decode_pdu("06917228195339040B917228214365F70000313062315352800A800D8A5E98D337A910")
    assert isinstance(d, Deliver)
    assert d.text == "@{tést}!"  # leading '@' (septet 0) and escapes


def test_gsmmodem_concat_part_with_national_sender_and_trailing_space() -> None:
    d = decode_pdu(
        "0591721891F1400781721881F800003160526104848059050003C30101916536FB1DCABEEB2074D85E064941B19CAB060319A5C522"
        "289C96D3D3ED32286C0FA7D96131BBEC024941B19CAB0603DDD36C36A88C87A7E565D0DB0D82C55EB0DB4B068BCD5C20"
    )
    assert isinstance(d, Deliver)
    assert (d.smsc, d.sender, d.sender_ton) == ("+2781191", "2781188", 0)
    assert d.text == "Hello!You have R 19.50 FREE airtime available. R 19.50 will expire on 01/07/2013. "
    c = d.concat
    assert c is not None and (c.ref, c.total, c.seq, c.ref_bits) == (0xC3, 1, 1, 8)


def test_submits() -> None:
    s = decode_pdu("07911326040000F0310D0B911326880736F40000A90FF7FBDD454E87CDE1B0DB357EB701")
    assert isinstance(s, Submit)
    assert (s.smsc, s.destination, s.mr, s.validity, s.text) == (
        "+31624000000", "+31628870634", 0x0D, timedelta(days=3), "www.diafaan.com")
    assert s.status_report_request is True
    s = decode_pdu("07914346466554F601000B914316565811F9000806304253F68449")
    assert isinstance(s, Submit)
    assert (s.smsc, s.destination, s.encoding, s.text) == ("+34646456456", "+34616585119", "ucs2", "あ叶葉")
    s = decode_pdu("0591721891F101000B917228214365F700040C48656C6C6F20776F726C6421")
    assert isinstance(s, Submit)
    assert (s.encoding, s.text, s.data) == ("8bit", "", b"Hello world!")
    s = decode_pdu("0019000B917228001011F100003170013193008017D474BB3CA787DB70903DCC4E93D3F43C885E9ED301")
    assert isinstance(s, Submit)
    assert s.validity == datetime(2013, 7, 10, 13, 39, tzinfo=tz(120))
    assert s.text == "Timestamp validity test"
    s = decode_pdu("0011000B916407281553F80000AA0AE8329BFD4697D9EC37")
    assert isinstance(s, Submit)
    assert (s.smsc, s.validity, s.text) == (None, timedelta(days=4), "hellohello")


def test_ems_text_formatting_ies_are_preserved() -> None:
    s = decode_pdu(
        "0041000B915121551532F40000631A0A031906200A032104100A032705040A032E05080A043807002B8ACD29A85D9ECFC3E7F21C34"
        "0EBB41E3B79B1E4EBB41697A989D1EB340E2379BCC02B1C3F27399059AB7C36C3628EC2683C66FF65B5E2683E8653C1D"
    )
    assert isinstance(s, Submit)
    assert s.text == "EMS messages can contain italic, bold, large, small and colored text"
    assert [ie.iei for ie in s.udh] == [0x0A] * 5
    assert s.udh[4].data == bytes([0x38, 0x07, 0x00, 0x2B])
    s = decode_pdu(
        "079194712272303351030B915121340195F60000FF80230A030F07230A031806130A031E0A430A032E0D830A033D14020A035104F6"
        "0A0355010600159D9E83D2735018442FCFE98A243DCC4E97C92C90F8CD26B3407537B92C67A7DD65320B1476934173BA3CBD2ED3D1"
        "F277FD8C76299CEF3B280C92A7CF683A28CC4E9FDD6532E8FE96935D"
    )
    assert isinstance(s, Submit)
    assert s.text == (
        "This is a test\nItalied, bold, underlined, and strikethrough.\nNow a right aligned word."
    )
    assert s.validity == timedelta(weeks=63)


def test_wap_push_8bit_with_port_addressing() -> None:
    d = decode_pdu(
        "0791947122725014440185F039F501801140311480720605040B8423F00106246170706C69636174696F6E2F766E642E7761702E"
        "6D6D732D6D65737361676500AF84B4868C82984F67514B4B42008D9089088045726F74696B009650696E2D557073008A808E0240"
        "008805810303F48083687474703A2F2F657073332E64652F4F2F5A39495A4F00"
    )
    assert isinstance(d, Deliver)
    assert (d.encoding, d.text, d.pid) == ("8bit", "", 0x39)
    assert d.udh[0].iei == 0x05 and d.udh[0].data == bytes.fromhex("0B8423F0")  # port 2948
    assert d.data is not None and d.data.startswith(b"\x01\x06$application/vnd.wap.mms-message")


def test_ofono_ucs2_assembly_out_of_order() -> None:
    parts = [decode_pdu(p) for p in v.OFONO_ASSEMBLY]
    ds = [p for p in parts if isinstance(p, Deliver)]
    assert len(ds) == 3
    assert ds[0].message_class == 1 and ds[0].encoding == "ucs2" and ds[0].pid == 1
    assert join_parts([ds[2], ds[0], ds[1], ds[0]]) == v.OFONO_ASSEMBLY_TEXT


@pytest.mark.parametrize(
    ("pdu", "smsc", "mr", "recipient", "status"),
    [
        ("06040D91945152991136F00160124130340A0160124130940A00", False, 4, "+4915259911630", 0),
        ("06050D91945152991136F00160124130640A0160124130450A00", False, 5, "+4915259911630", 0),
        ("0606098121436587F9019012413064A0019012413045A000", False, 6, "123456789", 0),  # TZ octet 0xA0
        ("0006D60B911326880736F4111011719551401110117195714000", True, 214, "+31628870634", 0),
        # ZTE modem: odd recipient digits with a '#' nibble; still decodes
        ("0297F1061C0F910B487228297020F5317062419272803170624192138000", True, 28, "+#08427829207025", 0),
    ],
)
def test_status_reports(pdu: str, smsc: bool, mr: int, recipient: str, status: int) -> None:
    r = decode_pdu(pdu, smsc=smsc)
    assert isinstance(r, StatusReport)
    assert (r.mr, r.recipient, r.status) == (mr, recipient, status)
    assert (r.delivered, r.failed, r.pending) == (True, False, False)
    assert r.discharge_time >= r.scts or r.scts.year == 2010


def test_zte_status_report_times() -> None:
    r = decode_pdu("0297F1061C0F910B487228297020F5317062419272803170624192138000")
    assert isinstance(r, StatusReport)
    assert r.scts == datetime(2013, 7, 26, 14, 29, 27, tzinfo=tz(120))
    assert r.discharge_time == datetime(2013, 7, 26, 14, 29, 31, tzinfo=tz(120))


# ------------------------------------------------------------------ byte-exact encoding

def test_encode_deliver_matches_ofono_bytes() -> None:
    ts = datetime(2002, 8, 26, 19, 37, 41, tzinfo=tz(-60))
    [p] = encode_deliver("+31641600986", "How are you?", timestamp=ts, smsc="+31624000000")
    assert p.hex == "07911326040000F0040B911346610089F60000208062917314480CC8F71D14969741F977FD07"
    assert p.tpdu_length == 30
    ts = datetime(2008, 8, 13, 12, 7, 22, tzinfo=tz(60))
    [p] = encode_deliver("sipgate", "Testmail", timestamp=ts, smsc="+447785016005")
    assert p.hex == "0791447758100650040DD0F334FC1CA6970100008080312170224008D4F29CDE0EA7D9"
    assert p.tpdu_length == 27


def test_encode_submit_matches_reference_bytes() -> None:
    [p] = encode_submit("+46708251358", "hellohello", validity=timedelta(days=4))
    assert p.hex == "0011000B916407281553F80000AA0AE8329BFD4697D9EC37" and p.tpdu_length == 23
    [p] = encode_submit("+358478400241", "This is testing !", smsc="+358405202090",
                        validity=timedelta(hours=24))
    assert p.hex == "079153485002020911000C915348870420140000A71154747A0E4ACF41F4F29C9E769F4121"
    [p] = encode_submit("+27820001111", "Hello World!")
    assert p.hex == "0001000B917228001011F100000CC8329BFD065DDF72363904"
    [p] = encode_submit("+123456789", "世界您好！", validity=timedelta(weeks=52), smsc="+44000000000")
    assert p.hex == "07914400000000F01100099121436587F90008F40A4E16754C60A8597DFF01"
    [p] = encode_submit("+27820001111", "Timestamp validity test",
                        validity=datetime(2013, 7, 10, 13, 39, tzinfo=tz(120)))
    # 23 septets leave 7 spare bits: 23.038 6.1.2.3.1 wants CR there (0x0D << 1 = 0x1A), gsmmodem leaves zeros
    ref = "0019000B917228001011F100003170013193008017D474BB3CA787DB70903DCC4E93D3F43C885E9ED301"
    assert p.hex == ref[:-2] + "1B"
    s = decode_pdu(ref)
    assert isinstance(s, Submit) and s.text == decode_pdu(p.hex).text == "Timestamp validity test"


def test_encode_national_number_uses_unknown_ton() -> None:
    # python-gsmmodem writes numbers starting with 0 as TON national (A1); we write 0x81 (unknown, ISDN)
    [p] = encode_submit("0126541234", "Test message: local numbers", mr=13, validity=timedelta(days=3),
                        smsc="12345", status_report=True)
    gsmmodem = "04A12143F5310D0AA110624521430000A91BD4F29C0E6A97E7F3F0B9AC03B1DFE3301BE4AEB7C565F91C"
    assert p.hex == gsmmodem.replace("04A1", "0481", 1).replace("0AA1", "0A81", 1)


LOREM = (
    "Lorem ipsum dolor sit amet, consectetur adipisicing elit, sed do eiusmod tempor incididunt "
    "ut labore et dolore magna aliqua.Ut enim ad minim veniam, quinostrud exercitation ullamco "
    "laboris nisi ut aliquip ex ea commodo consequat.Duis aute irure dolor in reprehenderit in "
    "voluptate velit esse cillum doloe eu fugiat nulla pariatur.Excepteur sint occaecat cupidatat "
    "non proident, sunt in culpa qui officia deserunt mollit anim id est laborum"
)
LOREM_PDUS = [
    "0045000B915121551532F40000A0050003000301986F79B90D4AC3E7F53688FC66BFE5A0799A0E0AB7CB741668FC76CFCB637A995E97"
    "83C2E4343C3D4F8FD3EE33A8CC4ED359A079990C22BF41E5747DDE7E9341F4721BFE9683D2EE719A9C26D7DD74509D0E6287C56F7919"
    "54A683C86FF65B5E06B5C36777181466A7E3F5B0AB4A0795DDE936284C06B5D3EE741B642FBBD3E1360B14AFA7DD",
    "0045000B915121551532F40000A0050003000302DE73BABC4E0695F165F9384D0FD3D36F37A8CE6687DBE337881D16BFE5E939C89D9E"
    "A741753A28CC4EC7EB6938A88C0795C3A0F1BBDD7E93DFA0F1DB3D2FC7EB61BA8B584FCF41E13ABD0C4ACBEBF23288FC66BFE5A0B41B"
    "242FC3E56574D94D2ECBD37450DA0DB2BFD975383D4C2F83EC65769A0E2ACFE765D038CD66D7DB20F29BFD2E83CA",
    "0045000B915121551532F400008C050003000303EA2073FD9C0ED341EE3A9B1D06C1C3F274985E97BB8AF871194E2FD7E5A079DA4D07"
    "BDC7E370791CA683C675789A1CA687E920F7DB0D82CBDF6972D94D6781E675371D947683C675363C0C8AD7D3A0B7D99C1EA7C3207279"
    "5E96D7DD7450FBCD66A7E9A0B03BDD06A5C9A0F29C0E6287C56F79BD0D",
]


def test_encode_concatenated_submit_matches_reference_bytes() -> None:
    pdus = encode_submit("+15125551234", LOREM, concat_ref=0, reject_duplicates=True)
    assert [p.hex for p in pdus] == LOREM_PDUS
    assert [p.concat.seq if p.concat else 0 for p in pdus] == [1, 2, 3]
    decoded = [decode_pdu(p.hex) for p in pdus]
    assert "".join(d.text for d in decoded) == LOREM
