"""Command builders and response parsers against tables of real-device strings."""

from __future__ import annotations

import pytest

from modembridge.at import commands as C
from modembridge.at.errors import CmsError, SendErrorClass, classify_cme, classify_cms
from modembridge.at.quirks import CNMI_FALLBACK, detect_profile

from .vendor_traces import PDU_ALNUM, PDU_E173, PDU_EC25, PDU_REPORT, PDU_SIM800, PDU_SUBMIT, PDU_TELIT

PDU = "07915155000000F0040C9152740000001000006211828042940005E8329BFD06"


def test_builders() -> None:
    assert C.cmgr(0) == "AT+CMGR=0"
    assert C.cmgl() == "AT+CMGL=4"
    assert C.cmgd(7) == "AT+CMGD=7"
    assert C.cmgs(24) == "AT+CMGS=24"
    assert C.cpms("SR") == 'AT+CPMS="SR"'
    assert C.cpms("SM", "SM", "SM") == 'AT+CPMS="SM","SM","SM"'
    assert C.cnmi((2, 1, 2, 1, 0)) == "AT+CNMI=2,1,2,1,0"
    assert C.csca("+254722500029") == 'AT+CSCA="+254722500029",145'
    assert C.csca("0722500029") == 'AT+CSCA="0722500029",129'
    assert C.cpin("1234") == 'AT+CPIN="1234"'
    assert C.quote('a"b\\') == '"a\\22b\\5C"'
    with pytest.raises(ValueError):
        C.cpin("12")
    with pytest.raises(ValueError):
        C.cmgs(0)


@pytest.mark.parametrize(("lines", "want"), [
    # huawei / quectel: empty alpha
    (["+CMGL: 0,1,,24", PDU], [(0, 1, 24)]),
    # SIM800: quoted empty alpha
    (['+CMGL: 1,0,"",24', PDU, '+CMGL: 2,1,"",24', PDU], [(1, 0, 24), (2, 1, 24)]),
    # alpha field missing entirely (Wavecom style)
    (["+CMGL: 3,0,24", PDU], [(3, 0, 24)]),
    # alpha with a comma inside quotes
    (['+CMGL: 4,1,"Smith, J",24', PDU], [(4, 1, 24)]),
    ([], []),
])
def test_parse_cmgl(lines: list[str], want: list[tuple[int, int, int]]) -> None:
    got = C.parse_cmgl(lines, "SM")
    assert [(p.index, p.stat, p.length) for p in got] == want
    assert all(p.pdu == PDU and p.mem == "SM" for p in got)


@pytest.mark.parametrize(("lines", "stat", "length"), [
    (["+CMGR: 0,,24", PDU], 0, 24),
    (['+CMGR: 1,"",24', PDU], 1, 24),
    (["+CMGR: 1,24", PDU], 1, 24),
])
def test_parse_cmgr(lines: list[str], stat: int, length: int) -> None:
    p = C.parse_cmgr(lines, "ME", 5)
    assert p is not None and (p.mem, p.index, p.stat, p.length, p.pdu) == ("ME", 5, stat, length, PDU)


def test_parse_cmgr_empty_slot() -> None:
    assert C.parse_cmgr([], "SM", 1) is None
    assert C.parse_cmgr(["+CMGR: 0,,0"], "SM", 1) is None


def test_parse_cmgs() -> None:
    assert C.parse_cmgs(["+CMGS: 12"]) == 12
    assert C.parse_cmgs(["+CMGS: 255,\"0011\""]) == 255
    with pytest.raises(C.ParseError):
        C.parse_cmgs([])


@pytest.mark.parametrize(("line", "rssi", "dbm"), [
    ("+CSQ: 0,99", 0, -113), ("+CSQ: 1,0", 1, -111), ("+CSQ: 17,99", 17, -79), ("+CSQ: 31,99", 31, -51),
    ("+CSQ: 99,99", 99, None), ("+CSQ: 100,99", 100, -116), ("+CSQ: 191,99", 191, -25),
])
def test_csq(line: str, rssi: int, dbm: int | None) -> None:
    assert C.parse_csq([line])[0] == rssi
    assert C.csq_to_dbm(rssi) == dbm


@pytest.mark.parametrize(("line", "unsolicited", "name", "lac", "ci", "act"), [
    ("+CREG: 0,1", False, "home", None, None, None),
    ("+CREG: 2,5,\"00A1\",\"1B2C\"", False, "roaming", "00A1", "1B2C", None),
    ("+CREG: 2,1,\"0019\",\"10C8F3A\",7", False, "home", "0019", "10C8F3A", 7),
    ("+CREG: 2,1", False, "home", None, None, None),  # SIM7600: n=2 but no location
    ("+CREG: 1,3", False, "denied", None, None, None),
    ("+CREG: 0,2", False, "searching", None, None, None),
    ("+CREG: 0,0", False, "not registered", None, None, None),
    ("+CREG: 0,4", False, "unknown", None, None, None),
    ("+CREG: 5", True, "roaming", None, None, None),  # URC form
    ("+CREG: 1,\"00A1\",\"1B2C\"", False, "home", "00A1", "1B2C", None),  # URC form (quoted second field)
    ("+CREG: 1,\"00A1\",\"1B2C\",2", True, "home", "00A1", "1B2C", 2),
])
def test_creg(line: str, unsolicited: bool, name: str, lac: str | None, ci: str | None,
              act: int | None) -> None:
    r = C.parse_creg([line], unsolicited=unsolicited)
    assert (r.name, r.lac, r.ci, r.act) == (name, lac, ci, act)
    assert r.registered == (name in ("home", "roaming"))


@pytest.mark.parametrize(("line", "want"), [
    ('+COPS: 0,0,"Safaricom",2', "Safaricom"), ('+COPS: 0,0,"T-Mobile  NL",7', "T-Mobile  NL"),
    ('+COPS: 0,2,"63902",2', "63902"), ("+COPS: 0", None), ("+COPS: 2", None),
])
def test_cops(line: str, want: str | None) -> None:
    assert C.parse_cops([line]) == want


@pytest.mark.parametrize(("line", "want"), [
    ('+CPMS: "SM",3,30,"SM",3,30,"SM",3,30', [("SM", 3, 30)] * 3),
    ('+CPMS: "ME",0,23,"ME",0,23,"SR",1,50', [("ME", 0, 23), ("ME", 0, 23), ("SR", 1, 50)]),
    ("+CPMS: SM,2,50,SM,2,50,SM,2,50", [("SM", 2, 50)] * 3),  # no quotes
    ('+CPMS: "SM",0,0,"SM",0,0,"SM",0,0', [("SM", 0, 0)] * 3),  # SIM not ready yet: 0 total
    ('+CPMS: "SM",12,10', [("SM", 12, 10)]),  # misreported: used above total; kept as reported
])
def test_cpms_read(line: str, want: list[tuple[str, int, int]]) -> None:
    assert C.parse_cpms_read([line]) == want


def test_cpms_set_answers() -> None:
    assert C.parse_cpms_set(["+CPMS: 3,23,0,100,0,100"], ["ME"]) == [("ME", 3, 23)]
    assert C.parse_cpms_set(["+CPMS: 1,30,1,30,1,30"], ["SM", "SM", "SM"]) == [("SM", 1, 30)] * 3
    assert C.parse_cpms_set(['+CPMS: "SR",1,50'], ["SR"]) == [("SR", 1, 50)]


@pytest.mark.parametrize(("line", "want"), [
    ('+CPMS: ("SM","ME","SR"),("SM","ME"),("SM","ME")', [["SM", "ME", "SR"], ["SM", "ME"], ["SM", "ME"]]),
    ('+CPMS: ("ME","MT","SM","SR"),("ME","MT","SM"),("ME","SM")',
     [["ME", "MT", "SM", "SR"], ["ME", "MT", "SM"], ["ME", "SM"]]),
    ('+CPMS: ("ME","SM"),("ME","SM"),("MT")', [["ME", "SM"], ["ME", "SM"], ["MT"]]),  # Nokia
    ('+CPMS: ("SM"), ("SM"), ("SM")', [["SM"], ["SM"], ["SM"]]),
    ('+CPMS: "SM","SM","SM"', [["SM"], ["SM"], ["SM"]]),
])
def test_cpms_test(line: str, want: list[list[str]]) -> None:
    assert C.parse_cpms_test([line]) == want


@pytest.mark.parametrize(("line", "want"), [
    ("+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)", [{0, 1, 2}, {0, 1, 2, 3}, {0, 2}, {0, 1, 2}, {0, 1}]),
    ("+CNMI: (0,1,2),(0,1),(0,2),(0),(1)", [{0, 1, 2}, {0, 1}, {0, 2}, {0}, {1}]),  # Cinterion PHS8
    ("+CNMI: (0-3), (0-3), (0,2,3), (0,1), (0,1)", [{0, 1, 2, 3}, {0, 1, 2, 3}, {0, 2, 3}, {0, 1}, {0, 1}]),
    ("+CNMI: (0-2),(0,1,3),(0),(0),(0,1)", [{0, 1, 2}, {0, 1, 3}, {0}, {0}, {0, 1}]),
])
def test_cnmi_test(line: str, want: list[set[int]]) -> None:
    assert C.parse_cnmi_test([line]) == want


def test_cnmi_candidates_follow_the_fallback_order_and_adapt() -> None:
    full = C.parse_cnmi_test(["+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)"])
    assert C.cnmi_candidates(full, CNMI_FALLBACK) == list(CNMI_FALLBACK)
    no_ds1 = C.parse_cnmi_test(["+CNMI: (0-2),(0-3),(0,2),(0,2),(0,1)"])
    assert C.cnmi_candidates(no_ds1, CNMI_FALLBACK) == [(2, 1, 2, 2, 0), (2, 1, 0, 0, 0)]
    bm0 = C.parse_cnmi_test(["+CNMI: (0-2),(0,1,3),(0),(0),(0,1)"])
    assert C.cnmi_candidates(bm0, CNMI_FALLBACK) == [(2, 1, 0, 0, 0)]
    phs8 = C.parse_cnmi_test(["+CNMI: (0,1,2),(0,1),(0,2),(0),(1)"])
    assert C.cnmi_candidates(phs8, CNMI_FALLBACK) == [(2, 1, 0, 0, 1)]
    assert C.cnmi_candidates([], CNMI_FALLBACK) == list(CNMI_FALLBACK)
    assert C.parse_cnmi_read(["+CNMI: 2,1,0,0,0"]) == (2, 1, 0, 0, 0)


@pytest.mark.parametrize(("lines", "want"), [
    (["+CPIN: READY"], "READY"), (["+CPIN: SIM PIN"], "SIM PIN"), (["+CPIN: SIM PUK"], "SIM PUK"),
    (["READY"], "READY"), (['+CPIN: "READY"'], "READY"),
])
def test_cpin(lines: list[str], want: str) -> None:
    assert C.parse_cpin(lines) == want


@pytest.mark.parametrize(("lines", "want"), [
    (["356789012345678"], "356789012345678"), (["+CGSN: 356789012345678"], "356789012345678"),
    (['+CGSN: "356789012345678"'], "356789012345678"), (["+CGMI: Quectel"], "Quectel"),
    (["Revision: EC25EFAR06A06M4G"], "EC25EFAR06A06M4G"), (["+CGMR: LE20B04SIM7600G22"], "LE20B04SIM7600G22"),
    (["SIMCOM_Ltd"], "SIMCOM_Ltd"),
])
def test_identity(lines: list[str], want: str) -> None:
    assert C.parse_identity(lines) == want


@pytest.mark.parametrize(("lines", "want"), [
    (["89014103211118510720"], "89014103211118510720"),
    (["+CCID: 8944500102198304826F"], "8944500102198304826"),
    (["+QCCID: 89860317482042018017"], "89860317482042018017"),
    (["^ICCID: 89860317482042018017"], "89860317482042018017"),
    (["^ICCID: 98683071840224100871"], "89860317482042018017"),  # nibble-swapped by some firmware
    (['+CRSM: 144,0,"98102430112181507002"'], "89014203111218050720"),
])
def test_iccid(lines: list[str], want: str) -> None:
    assert C.parse_iccid(lines) == want


def test_csca_csms() -> None:
    assert C.parse_csca(['+CSCA: "+447785016005",145']) == "+447785016005"
    assert C.parse_csca(['+CSCA: "",129']) is None
    assert C.parse_csms(["+CSMS: 0,1,1,1"]) == 0


@pytest.mark.parametrize(("code", "cls"), [
    (515, SendErrorClass.RETRY_SOON), (314, SendErrorClass.RETRY_SOON), (192, SendErrorClass.RETRY_SOON),
    (27, SendErrorClass.RETRY_LATER), (38, SendErrorClass.RETRY_LATER), (41, SendErrorClass.RETRY_LATER),
    (42, SendErrorClass.RETRY_LATER), (47, SendErrorClass.RETRY_LATER), (331, SendErrorClass.RETRY_LATER),
    (332, SendErrorClass.RETRY_LATER), (500, SendErrorClass.RETRY_LATER), (330, SendErrorClass.RETRY_LATER),
    (999, SendErrorClass.RETRY_LATER), (None, SendErrorClass.RETRY_LATER),
    (1, SendErrorClass.PERMANENT), (8, SendErrorClass.PERMANENT), (21, SendErrorClass.PERMANENT),
    (28, SendErrorClass.PERMANENT), (29, SendErrorClass.PERMANENT), (30, SendErrorClass.PERMANENT),
    (50, SendErrorClass.PERMANENT), (96, SendErrorClass.PERMANENT), (304, SendErrorClass.PERMANENT),
    (305, SendErrorClass.PERMANENT), (144, SendErrorClass.PERMANENT), (195, SendErrorClass.PERMANENT),
])
def test_classify_cms(code: int | None, cls: SendErrorClass) -> None:
    assert classify_cms(code) is cls
    e = CmsError(code)
    assert e.error_class is cls and (code is None or str(code) in str(e))


def test_classify_cme() -> None:
    assert classify_cme(14) is SendErrorClass.RETRY_SOON
    assert classify_cme(4) is SendErrorClass.PERMANENT
    assert classify_cme(30) is SendErrorClass.RETRY_LATER


@pytest.mark.parametrize(("manufacturer", "model", "profile"), [
    ("huawei", "E173", "huawei"), ("Huawei Technologies", "E3372", "huawei"),
    ("SIMCOM_Ltd", "SIMCOM_SIM800L", "sim800"), ("SIMCOM INCORPORATED", "SIMCOM_SIM7600G-H", "sim800"),
    ("Quectel", "EC25", "quectel"), ("Quectel_Ltd", "Quectel_M95", "quectel"),
    ("WAVECOM MODEM", "MULTIBAND 900E 1800", "generic"), ("", "", "generic"),
])
def test_detect_profile(manufacturer: str, model: str, profile: str) -> None:
    assert detect_profile(manufacturer, model).name == profile


# --- tables of real-device answers, several vendors each (sources: tests/at/vendor_traces.py, below) -----
# ModemManager test-modem-helpers.c: Pantech UM185 (+CMGL without alpha, stat 3) and the generic 147-octet one
PDU_PANTECH = "079100F40D1101000F001000B917118336058F300001954747A0E4ACF41F27298CDCE83C6EF371B0402814020"
PDU_MM_LONG = ("07914306073011F00405812261F700003130916191314095C274D96D2FBBD3E437280CB2BEC961F3DB5D76818EF2F"
               "0381D9E83E06F39A8CC2E9FD372F77BEE0249CBE37A594E0E83E2F532085E2F93CB73D0B93CA7A7DFEEB01C447F93"
               "DF7310BD3E07CDCB727B7A9C7ECF41E432C8FC96B7C32079189E26874179D0F8DD7E93C3A0B21B246AA641D63739"
               "6C7EBBCB22D0FD7E77B5D376B3AB3C07")


@pytest.mark.parametrize(("lines", "want"), [
    pytest.param(["+CMGL: 0,1,,33", PDU_E173], [(0, 1, 33, PDU_E173)], id="huawei-e173-index0"),
    pytest.param(["+CMGL: 0,1,,147", PDU_MM_LONG], [(0, 1, 147, PDU_MM_LONG)], id="mm-generic-147"),
    pytest.param(['+CMGL: 1,0,"",30', PDU_SIM800, '+CMGL: 2,1,"",31', PDU_ALNUM],
                 [(1, 0, 30, PDU_SIM800), (2, 1, 31, PDU_ALNUM)], id="sim800-quoted-empty-alpha"),
    pytest.param(["+CMGL: 0,0,,30", PDU_EC25, "+CMGL: 1,1,,30", PDU_EC25],
                 [(0, 0, 30, PDU_EC25), (1, 1, 30, PDU_EC25)], id="quectel-ec25"),
    pytest.param(['+CMGL: 1,1,"",50', PDU_TELIT], [(1, 1, 50, PDU_TELIT)], id="telit-he910"),
    pytest.param(["+CMGL: 17,3,35", PDU_PANTECH, "+CMGL: 15,3,35", PDU_PANTECH],
                 [(17, 3, 35, PDU_PANTECH), (15, 3, 35, PDU_PANTECH)], id="pantech-no-alpha-stat3"),
    pytest.param(["+CMGL: 3,0,24", PDU], [(3, 0, 24, PDU)], id="wavecom-no-alpha"),
    pytest.param(['+CMGL: 4,1,"Smith, J",24', PDU], [(4, 1, 24, PDU)], id="alpha-with-comma"),
    pytest.param(["+CMGL: 5, 1, , 24", " " + PDU + " "], [(5, 1, 24, PDU)], id="extra-spaces"),
    pytest.param(["+cmgl: 6,0,,24", PDU.lower()], [(6, 0, 24, PDU.lower())], id="lowercase"),
    pytest.param(["+CMGL:7,1,,26", PDU_REPORT], [(7, 1, 26, PDU_REPORT)], id="no-space-after-colon"),
    pytest.param(["stray line", "+CMGL: 8,0,,24", PDU], [(8, 0, 24, PDU)], id="stray-line-before"),
    pytest.param([], [], id="empty-storage"),
])
def test_cmgl_vendors(lines: list[str], want: list[tuple[int, int, int, str]]) -> None:
    got = C.parse_cmgl(lines, "SM")
    assert [(p.index, p.stat, p.length, p.pdu) for p in got] == want
    assert all(p.mem == "SM" for p in got)


@pytest.mark.parametrize("lines", [
    pytest.param(["+CMGL: 1", PDU], id="header-too-short"),
    pytest.param(["+CMGL: x,0,,24", PDU], id="index-not-a-number"),
    pytest.param(["+CMGL: 1,0,,2A", PDU], id="length-not-a-number"),
])
def test_cmgl_malformed(lines: list[str]) -> None:
    with pytest.raises(C.ParseError):
        C.parse_cmgl(lines, "SM")


@pytest.mark.parametrize(("lines", "want"), [
    pytest.param(["+CMGR: 0,,33", PDU_E173], (0, 33, PDU_E173), id="huawei-empty-alpha"),
    pytest.param(['+CMGR: 1,"",30', PDU_SIM800], (1, 30, PDU_SIM800), id="sim800-quoted-empty-alpha"),
    pytest.param(['+CMGR: 0,"",50', PDU_TELIT], (0, 50, PDU_TELIT), id="telit-he910-mm-capture"),
    pytest.param(["+CMGR: 1,24", PDU], (1, 24, PDU), id="wavecom-no-alpha"),
    pytest.param(['+CMGR: 0,"Mum",31', PDU_ALNUM], (0, 31, PDU_ALNUM), id="phonebook-alpha"),
    pytest.param(["+CMGR: 2,,18", "00" + PDU_SUBMIT[2:]], (2, 18, "00" + PDU_SUBMIT[2:]), id="stored-unsent"),
    pytest.param(["+CMGR: 0, ,26", PDU_REPORT], (0, 26, PDU_REPORT), id="extra-spaces"),
    pytest.param(["+cmgr: 1,,30", PDU_EC25], (1, 30, PDU_EC25), id="lowercase"),
])
def test_cmgr_vendors(lines: list[str], want: tuple[int, int, str]) -> None:
    p = C.parse_cmgr(lines, "SM", 0)
    assert p is not None and (p.mem, p.index) == ("SM", 0)
    assert (p.stat, p.length, p.pdu) == want


@pytest.mark.parametrize("lines", [
    pytest.param([], id="sim800-bare-ok"),
    pytest.param(["+CMGR: 0,,0"], id="zero-length-no-pdu"),
    pytest.param(["+CMGR: 0,,0", "00"], id="zero-length-empty-pdu"),
])
def test_cmgr_empty_slot_vendors(lines: list[str]) -> None:
    assert C.parse_cmgr(lines, "SM", 3) is None


@pytest.mark.parametrize(("lines", "mr"), [
    pytest.param(["+CMGS: 12"], 12, id="sim800"), pytest.param(["+CMGS: 0"], 0, id="first-mr-zero"),
    pytest.param(["+CMGS:255"], 255, id="no-space"), pytest.param(["+CMGS: 7,\"0011\""], 7, id="with-ackpdu"),
    pytest.param(["+cmgs: 3"], 3, id="lowercase"), pytest.param(["+CMGS: 13", ""], 13, id="trailing-blank"),
])
def test_cmgs_vendors(lines: list[str], mr: int) -> None:
    assert C.parse_cmgs(lines) == mr


@pytest.mark.parametrize("lines", [[], ["+CMGS: "], ["+CMGS: x"], ["OK"]])
def test_cmgs_malformed(lines: list[str]) -> None:
    with pytest.raises(C.ParseError):
        C.parse_cmgs(lines)


@pytest.mark.parametrize(("line", "rssi", "ber", "dbm"), [
    pytest.param("+CSQ: 14,99", 14, 99, -85, id="huawei-e173"),
    pytest.param("+CSQ: 19,0", 19, 0, -75, id="sim800"),
    pytest.param("+CSQ: 31,99", 31, 99, -51, id="quectel-ec25-best"),
    pytest.param("+CSQ:17,99", 17, 99, -79, id="no-space"),
    pytest.param("+CSQ: 2, 7", 2, 7, -109, id="space-before-ber"),
    pytest.param("+CSQ: 23", 23, 99, -67, id="no-ber"),
    pytest.param("+csq: 5,99", 5, 99, -103, id="lowercase"),
    pytest.param("+CSQ: 99,99", 99, 99, None, id="unknown"),
    pytest.param("+CSQ: 32,99", 32, 99, None, id="out-of-range"),
    pytest.param("+CSQ: 120,99", 120, 99, -96, id="td-scdma"),
])
def test_csq_vendors(line: str, rssi: int, ber: int, dbm: int | None) -> None:
    assert C.parse_csq([line]) == (rssi, ber)
    assert C.csq_to_dbm(rssi) == dbm


@pytest.mark.parametrize(("lines", "prefix", "unsolicited", "want"), [
    # read form <n>,<stat>[,<lac>,<ci>[,<AcT>]]
    pytest.param(["+CREG: 1,3"], "+CREG", False, (3, None, None, None), id="mm-creg1-solicited"),
    pytest.param(["+CREG: 0,1,84CD,00D30173"], "+CREG", False, (1, "84CD", "00D30173", None),
                 id="mm-sierra-mercury-n0-with-location"),
    pytest.param(['+CREG: 2,1,"CE00","01CEAD8F"'], "+CREG", False, (1, "CE00", "01CEAD8F", None),
                 id="mm-sony-ericsson-k850i"),
    pytest.param(["+CREG: 2,0,00,0"],
                 "+CREG", False, (0, "00", "0", None), id="mm-huawei-e160g-unregistered"),
    pytest.param(["+CREG: 2,1,8BE3,2BAF"], "+CREG", False, (1, "8BE3", "2BAF", None), id="mm-huawei-e160g"),
    pytest.param(['+CREG:002,001,"18d8","ffff"'], "+CREG", False, (1, "18d8", "ffff", None),
                 id="mm-iridium-leading-zeros"),
    pytest.param(["+CREG:2,1,0001,0010"], "+CREG", False, (1, "0001", "0010", None), id="mm-no-space"),
    pytest.param(['+CREG: 2,5,"0502","0404736D"'], "+CREG", False, (5, "0502", "0404736D", None),
                 id="mm-sony-ericsson-md400-roaming"),
    pytest.param(['+CREG: 2,1,"2F1A","0C8E1F03",7'], "+CREG", False, (1, "2F1A", "0C8E1F03", 7),
                 id="quectel-ec25-lte"),
    pytest.param(["+CREG: 2,1"], "+CREG", False, (1, None, None, None), id="sim7600-n2-without-location"),
    pytest.param(["+creg: 0,5"], "+CREG", False, (5, None, None, None), id="lowercase"),
    # URC form <stat>[,<lac>,<ci>[,<AcT>]]
    pytest.param(["+CREG: 3"], "+CREG", True, (3, None, None, None), id="mm-creg1-unsolicited"),
    pytest.param(["+CREG: 1,84CD,00D30156"], "+CREG", True, (1, "84CD", "00D30156", None),
                 id="mm-sierra-mercury-unsolicited"),
    pytest.param(['+CREG: 1,"CE00","00005449"'], "+CREG", True, (1, "CE00", "00005449", None),
                 id="mm-k850i-unsolicited"),
    pytest.param(["+CREG: 2,8BE3,2BAF"], "+CREG", True, (2, "8BE3", "2BAF", None), id="mm-e160g-unsolicited"),
    pytest.param(["+CREG: 2,,"], "+CREG", True, (2, None, None, None), id="mm-novatel-xu870-empty-location"),
    pytest.param(["+CREG: 1,0001,0010,0"], "+CREG", True, (1, "0001", "0010", 0), id="mm-unsolicited-act"),
    pytest.param(['+CREG: 001,"0001","0010",000'], "+CREG", True, (1, "0001", "0010", 0),
                 id="mm-unsolicited-leading-zeros"),
    pytest.param(["+CREG: 2,1,000B,2816, B, C2816"], "+CREG", True, (1, "000B", "2816", None),
                 id="mm-samsung-s8500-unsolicited-with-n"),
    # the same URC lines when they arrive while AT+CREG? is pending (then they are information lines)
    pytest.param(["+CREG: 1,84CD,00D30156"], "+CREG", False, (1, "84CD", "00D30156", None),
                 id="urc-line-as-read-answer"),
    pytest.param(["+CREG: 2,8BE3,2BAF"], "+CREG", False, (2, "8BE3", "2BAF", None), id="urc-e160g-as-read"),
    # GPRS and EPS registration
    pytest.param(["+CGREG: 1,3"], "+CGREG", False, (3, None, None, None), id="mm-cgreg1-solicited"),
    pytest.param(["+CGREG: 3"], "+CGREG", True, (3, None, None, None), id="mm-cgreg1-unsolicited"),
    pytest.param(['+CGREG: 2,1,"8BE3","00002B5D",3'], "+CGREG", False, (1, "8BE3", "00002B5D", 3),
                 id="mm-ericsson-f3607gw"),
    pytest.param(['+CGREG: 1,"8BE3","00002B5D",3'], "+CGREG", True, (1, "8BE3", "00002B5D", 3),
                 id="mm-f3607gw-unsolicited"),
    pytest.param(['+CGREG: 5,"0502","0404736D",2'], "+CGREG", True, (5, "0502", "0404736D", 2),
                 id="mm-md400-unsolicited"),
    pytest.param(["+CGREG: 2,1, 81ED, 1A9CEB"], "+CGREG", False, (1, "81ED", "1A9CEB", None),
                 id="mm-alcatel-x220d-spaces"),
    pytest.param(['+CGREG: 1,"1422","00000142",3,"00"'], "+CGREG", True, (1, "1422", "00000142", 3),
                 id="mm-unsolicited-with-rac"),
    pytest.param(['+CEREG: 2,1,"1A2B","01A2B3C4",7'], "+CEREG", False, (1, "1A2B", "01A2B3C4", 7),
                 id="cereg-lte"),
    pytest.param(['+CEREG: 5,"1A2B","01A2B3C4",7'], "+CEREG", True, (5, "1A2B", "01A2B3C4", 7),
                 id="cereg-unsolicited-roaming"),
    pytest.param(["+CEREG: 0,4"], "+CEREG", False, (4, None, None, None), id="cereg-unknown"),
    pytest.param(["+CGREG: 0,1", "+CREG: 0,5"], "+CREG", False, (5, None, None, None),
                 id="picks-its-own-prefix"),
])
def test_creg_vendors(lines: list[str], prefix: str, unsolicited: bool,
                      want: tuple[int, str | None, str | None, int | None]) -> None:
    r = C.parse_creg(lines, prefix=prefix, unsolicited=unsolicited)
    assert (r.stat, r.lac, r.ci, r.act) == want


@pytest.mark.parametrize(("stat", "name", "registered"), [
    (0, "not registered", False), (1, "home", True), (2, "searching", False), (3, "denied", False),
    (4, "unknown", False), (5, "roaming", True), (6, "home", True), (7, "roaming", True),
    (8, "not registered", False), (9, "home", True), (10, "roaming", True), (11, "unknown", False),
])
def test_registration_names(stat: int, name: str, registered: bool) -> None:
    r = C.parse_creg([f"+CREG: 0,{stat}"])
    assert (r.name, r.registered) == (name, registered)


@pytest.mark.parametrize(("line", "want"), [
    pytest.param('+COPS: 1,0,"CHINA MOBILE"', "CHINA MOBILE", id="mm-manual-no-act"),
    pytest.param('+COPS: 1,0,"CHINA MOBILE",7', "CHINA MOBILE", id="mm-manual-lte"),
    pytest.param('+COPS: 1,2,"46000"', "46000", id="mm-numeric"),
    pytest.param('+COPS: 0,0,"Telekom.de",2', "Telekom.de", id="huawei-e173-umts"),
    pytest.param('+COPS: 0,0,"CMCC"', "CMCC", id="sim800"),
    pytest.param('+COPS: 0,0,"Vodafone.de Vodafone.de",7', "Vodafone.de Vodafone.de", id="quectel-ec25"),
    pytest.param("+COPS: 0,0,Orange F,2", "Orange F", id="unquoted"),
    pytest.param('+COPS: 0,0,"Smart, Inc",0', "Smart, Inc", id="comma-in-name"),
    pytest.param("+COPS: 0", None, id="not-registered"),
    pytest.param('+COPS: 0,0,""', None, id="empty-name"),
])
def test_cops_vendors(line: str, want: str | None) -> None:
    assert C.parse_cops([line]) == want


@pytest.mark.parametrize(("line", "want"), [
    pytest.param('+CPMS: "SM",2,30,"SM",2,30,"SM",2,30', [("SM", 2, 30)] * 3, id="huawei-e173"),
    pytest.param('+CPMS: "ME",1,100,"MT",5,100,"TA",1,100', [("ME", 1, 100), ("MT", 5, 100), ("TA", 1, 100)],
                 id="mm-me-mt-ta"),
    pytest.param('+CPMS: "SM",100,100,"SR",5,10,"TA",1,100',
                 [("SM", 100, 100), ("SR", 5, 10), ("TA", 1, 100)],
                 id="mm-sm-full"),
    pytest.param('+CPMS: "SM_P",0,40,"SM_P",0,40,"SM_P",0,40', [("SM", 0, 40)] * 3, id="simcom-sm-preferred"),
    pytest.param('+CPMS: "ME_P",3,50,"ME_P",3,50,"SM_P",1,40', [("ME", 3, 50)] * 2 + [("SM", 1, 40)],
                 id="simcom-me-preferred"),
    pytest.param('+CPMS: "SM", 3, 30, "SM", 3, 30, "SR", 0, 10', [("SM", 3, 30)] * 2 + [("SR", 0, 10)],
                 id="extra-spaces"),
    pytest.param('+cpms: "sm",1,30,"sm",1,30,"sm",1,30', [("SM", 1, 30)] * 3, id="lowercase"),
    pytest.param('+CPMS: "SM",0,0,"SM",0,0,"SM",0,0', [("SM", 0, 0)] * 3, id="sim-not-ready"),
    pytest.param('+CPMS: "SM",12,10', [("SM", 12, 10)], id="used-above-total-kept"),
])
def test_cpms_read_vendors(line: str, want: list[tuple[str, int, int]]) -> None:
    assert C.parse_cpms_read([line]) == want


@pytest.mark.parametrize("line", [
    pytest.param("+CPMS: ,,,,,,,,", id="nokia-n79-not-supported"),
    pytest.param("+CPMS: 1,30,1,30", id="set-form-without-names"),
    pytest.param("+CPMS: ", id="empty"),
])
def test_cpms_read_malformed(line: str) -> None:
    with pytest.raises(C.ParseError):
        C.parse_cpms_read([line])


@pytest.mark.parametrize(("line", "mems", "want"), [
    pytest.param("+CPMS: 2,30,2,30,2,30", ["SM", "SM", "SM"], [("SM", 2, 30)] * 3, id="huawei-three"),
    pytest.param("+CPMS: 14,50,14,50", ["SM", "SM"], [("SM", 14, 50)] * 2, id="wavecom-two"),
    pytest.param("+CPMS: 0,50,0,50,0,50", ["SR"], [("SR", 0, 50)], id="simcom-one-of-three"),
    pytest.param("+CPMS: 3, 23, 0, 100",
                 ["me", "sm"], [("ME", 3, 23), ("SM", 0, 100)], id="spaces-lowercase"),
    pytest.param("+CPMS: 1,30", ["SM", "SM", "SM"], [("SM", 1, 30)], id="fewer-values-than-memories"),
    pytest.param('+CPMS: "SR",1,50,"SM",0,30,"SM",0,30',
                 ["SR"], [("SR", 1, 50), ("SM", 0, 30), ("SM", 0, 30)],
                 id="answers-in-read-form"),
])
def test_cpms_set_vendors(line: str, mems: list[str], want: list[tuple[str, int, int]]) -> None:
    assert C.parse_cpms_set([line], mems) == want


@pytest.mark.parametrize(("line", "want"), [
    pytest.param('+CPMS: ("ME","MT"),("ME","SM","MT"),("SM","MT")',
                 [["ME", "MT"], ["ME", "SM", "MT"], ["SM", "MT"]],
                 id="mm-cinterion"),
    pytest.param('+CPMS: "ME","MT","SM"', [["ME"], ["MT"], ["SM"]], id="mm-huawei-mu609"),
    pytest.param("+CPMS: (),(),()", [[], [], []], id="mm-nokia-c6"),
    pytest.param('+CPMS: ("ME","MT"),"ME",("SM")', [["ME", "MT"], ["ME"], ["SM"]], id="mm-mixed"),
    pytest.param('+CPMS:     (  "ME"  ,  "MT"  )   ,  "ME" ,   (  "SM"  )', [["ME", "MT"], ["ME"], ["SM"]],
                 id="mm-mixed-spaces"),
    pytest.param("+CPMS: (),,(  )", [[], [], []], id="mm-empty-fields"),
    pytest.param('+CPMS: ("ME","MT","SM","SR"),("ME","MT","SM","SR"),("ME","MT","SM","SR")',
                 [["ME", "MT", "SM", "SR"]] * 3, id="huawei-k3715-zte"),
    pytest.param('+CPMS: (("SM","BM","SR"),("SM"))', [["SM", "BM", "SR"], ["SM"]], id="wavecom-nested"),
    pytest.param('+CPMS: ("sm","me"),("sm","me"),("sm","me")', [["SM", "ME"]] * 3, id="lowercase"),
])
def test_cpms_test_vendors(line: str, want: list[list[str]]) -> None:
    assert C.parse_cpms_test([line]) == want


@pytest.mark.parametrize(("line", "want"), [
    pytest.param("+CNMI: (0,1,2),(0,1,2,3),(0,2),(0,1,2),(0,1)",
                 [{0, 1, 2}, {0, 1, 2, 3}, {0, 2}, {0, 1, 2}, {0, 1}], id="huawei-e173"),
    pytest.param("+CNMI: (0-3),(0-3),(0,2),(0-2),(0,1)",
                 [{0, 1, 2, 3}, {0, 1, 2, 3}, {0, 2}, {0, 1, 2}, {0, 1}],
                 id="sim800"),
    pytest.param("+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)", [{0, 1, 2}, {0, 1, 2, 3}, {0, 2}, {0, 1, 2}, {0, 1}],
                 id="quectel-ec25"),
    pytest.param("+CNMI: (0-3),(0-3),(0-3),(0-2),(0,1)", [{0, 1, 2, 3}] * 3 + [{0, 1, 2}, {0, 1}],
                 id="u-blox"),
    pytest.param("+CNMI: (0-2),(0-3),(0,2),(0,1)",
                 [{0, 1, 2}, {0, 1, 2, 3}, {0, 2}, {0, 1}], id="four-fields"),
    pytest.param("+CNMI: ( 0 - 2 ),( 0 , 1 ),0,(0),(1)",
                 [{0, 1, 2}, {0, 1}, {0}, {0}, {1}], id="spaces-bare"),
    pytest.param("+cnmi: (0-2),(0-3),(0,2),(0-2),(0,1)", [{0, 1, 2}, {0, 1, 2, 3}, {0, 2}, {0, 1, 2}, {0, 1}],
                 id="lowercase"),
])
def test_cnmi_test_vendors(line: str, want: list[set[int]]) -> None:
    assert C.parse_cnmi_test([line]) == want


PREFS: tuple[tuple[int, ...], ...] = ((2, 1, 2, 1, 0), (2, 1, 2, 2, 0), (2, 1, 0, 0, 0))


@pytest.mark.parametrize(("line", "want"), [
    pytest.param("+CNMI: (0,1,2),(0,1,2,3),(0,2),(0,1,2),(0,1)", list(PREFS), id="huawei-e173-all"),
    pytest.param("+CNMI: (0-3),(0-3),(0,2),(0-2),(0,1)", list(PREFS), id="sim800-all"),
    pytest.param("+CNMI: (0-2),(0-3),(0,2),(0,2),(0,1)", [PREFS[1], PREFS[2]], id="no-ds1"),
    pytest.param("+CNMI: (0-2),(0,1,3),(0),(0),(0,1)", [PREFS[2]], id="no-bm2-no-ds"),
    pytest.param("+CNMI: (0,1,2),(0,1),(0,2),(0),(1)", [(2, 1, 0, 0, 1)], id="cinterion-phs8-adapted"),
    pytest.param("+CNMI: (0,1,3),(0-3),(0,2),(0-2),(0,1)", [(1, 1, 0, 2, 0)], id="no-mode2-adapted"),
    pytest.param("+CNMI: (0-2),(0,2),(0,2),(0-2),(0,1)", list(PREFS), id="no-mt1-try-anyway"),
    pytest.param("+CNMI: (0-2),(0-3),(0,2),(0-2)", list(PREFS), id="four-fields"),
    pytest.param("+CNMI: (0-2),(0-3),(0)", [PREFS[2]], id="three-fields"),
    pytest.param("+CNMI: (1),(1),(0)", [(1, 1, 0)], id="three-fields-adapted"),
])
def test_cnmi_candidates_vendors(line: str, want: list[tuple[int, ...]]) -> None:
    assert C.cnmi_candidates(C.parse_cnmi_test([line]), PREFS) == want


def test_cnmi_candidates_without_ranges() -> None:
    assert C.cnmi_candidates([], PREFS) == list(PREFS)


@pytest.mark.parametrize(("line", "want"), [
    pytest.param("+CNMI: 2,1,0,0,0", (2, 1, 0, 0, 0), id="generic"),
    pytest.param("+CNMI: 2,1,2,1,0", (2, 1, 2, 1, 0), id="with-reports"),
    pytest.param("+CNMI: 0,0,0,0,0", (0, 0, 0, 0, 0), id="forgotten-after-reset"),
    pytest.param("+CNMI: 1,1,0,2", (1, 1, 0, 2), id="four-values"),
    pytest.param("+cnmi: 2, 1, 0, 2, 1", (2, 1, 0, 2, 1), id="lowercase-spaces"),
])
def test_cnmi_read_vendors(line: str, want: tuple[int, ...]) -> None:
    assert C.parse_cnmi_read([line]) == want


@pytest.mark.parametrize(("lines", "want"), [
    pytest.param(["+CPIN: READY"], "READY", id="ready"),
    pytest.param(["+CPIN: SIM PIN"], "SIM PIN", id="pin"),
    pytest.param(["+CPIN: SIM PUK"], "SIM PUK", id="puk"),
    pytest.param(["+CPIN: SIM PIN2"], "SIM PIN2", id="pin2"),
    pytest.param(["+CPIN: PH-SIM PIN"], "PH-SIM PIN", id="phone-lock"),
    pytest.param(["+CPIN: NOT READY"], "NOT READY", id="not-ready"),
    pytest.param(["+CPIN:READY"], "READY", id="no-space"),
    pytest.param(['+CPIN: "READY"'], "READY", id="quoted"),
    pytest.param(["+cpin: sim pin"], "SIM PIN", id="lowercase"),
    pytest.param(["READY"], "READY", id="wavecom-no-prefix"),
    pytest.param(["", "+CPIN: READY"], "READY", id="blank-first"),
])
def test_cpin_vendors(lines: list[str], want: str) -> None:
    assert C.parse_cpin(lines) == want


def test_cpin_empty() -> None:
    with pytest.raises(C.ParseError):
        C.parse_cpin([])


@pytest.mark.parametrize(("line", "want"), [
    pytest.param('+CSCA: "+447785016005",145', "+447785016005", id="generic"),
    pytest.param('+CSCA: "+8613800100500",145', "+8613800100500", id="sim800"),
    pytest.param('+CSCA: "+491722270333", 145', "+491722270333", id="huawei-space"),
    pytest.param("+CSCA: +31653131313,145", "+31653131313", id="unquoted"),
    pytest.param('+CSCA: "0031653131313",129', "0031653131313", id="national-type"),
    pytest.param('+CSCA: "",129', None, id="empty"),
    pytest.param('+CSCA: ""', None, id="empty-no-type"),
])
def test_csca_vendors(line: str, want: str | None) -> None:
    assert C.parse_csca([line]) == want


@pytest.mark.parametrize(("line", "want"), [
    pytest.param("+CSMS: 0,1,1,1", 0, id="phase2"),
    pytest.param("+CSMS: 1,1,1,1", 1, id="phase2plus"),
    pytest.param("+CSMS: 128,1,1,1", 128, id="manufacturer-specific"),
    pytest.param("+CSMS: 1, 1, 1, 0", 1, id="spaces-no-bm"),
])
def test_csms_vendors(line: str, want: int) -> None:
    assert C.parse_csms([line]) == want


@pytest.mark.parametrize(("lines", "want"), [
    pytest.param(["huawei"], "huawei", id="huawei-cgmi"),
    pytest.param(["E173"], "E173", id="huawei-cgmm"),
    pytest.param(["11.126.85.00.209"], "11.126.85.00.209", id="huawei-cgmr"),
    pytest.param(["SIMCOM_Ltd"], "SIMCOM_Ltd", id="sim800-cgmi"),
    pytest.param(["SIMCOM_SIM800L"], "SIMCOM_SIM800L", id="sim800-cgmm"),
    pytest.param(["Revision:1418B04SIM800L24"], "1418B04SIM800L24", id="sim800-cgmr"),
    pytest.param(["+CGMR: LE20B04SIM7600G22"], "LE20B04SIM7600G22", id="sim7600-cgmr"),
    pytest.param(["Quectel"], "Quectel", id="quectel-cgmi"),
    pytest.param(["Revision: EC25EFAR06A06M4G"], "EC25EFAR06A06M4G", id="quectel-cgmr"),
    pytest.param(["Telit"], "Telit", id="telit-cgmi"),
    pytest.param(["ZTE INCORPORATED"], "ZTE INCORPORATED", id="zte-cgmi"),
    pytest.param([" WAVECOM MODEM"], "WAVECOM MODEM", id="wavecom-leading-space"),
    pytest.param(["V ICPR72_08w44.1", "24-11-08", "RM-348"], "V ICPR72_08w44.1", id="nokia-multiline-cgmr"),
    pytest.param(["353143041234567"], "353143041234567", id="imei"),
    pytest.param(["+CGSN: 353143041234567"], "353143041234567", id="imei-prefixed"),
    pytest.param(['+CGSN: "353143041234567"'], "353143041234567", id="imei-quoted"),
    pytest.param(["+GSN: 353143041234567"], "353143041234567", id="gsn-prefixed"),
    pytest.param(["+CIMI: 262011234567890"], "262011234567890", id="imsi-prefixed"),
    pytest.param(["", "460001234567890"], "460001234567890", id="blank-line-first"),
    pytest.param(["Manufacturer: huawei", "Model: E173"], "huawei", id="ati-style"),
])
def test_identity_vendors(lines: list[str], want: str) -> None:
    assert C.parse_identity(lines) == want


@pytest.mark.parametrize(("lines", "want"), [
    pytest.param(['+CRSM: 144,0,"984402003576012594F9"'], "8944200053671052499", id="mm-crsm-swapped-19"),
    pytest.param(["+CRSM: 144,0,98231420326409614067"], "89324102234690160476", id="mm-crsm-unquoted-20"),
    pytest.param(["8944200053671052499F"], "8944200053671052499", id="mm-plain-f-padded"),
    pytest.param(['"89324102234690160476"'], "89324102234690160476", id="mm-quoted"),
    pytest.param(["+CCID: 8939107800023416395"], "8939107800023416395", id="u-blox-ccid"),
    pytest.param(["+ICCID: 89860317482042018017"], "89860317482042018017", id="sim7600-ciccid"),
    pytest.param(["#CCID: 89014103211118510720"], "89014103211118510720", id="telit-hash-ccid"),
    pytest.param(["^ICCID: 98683071840224100871"], "89860317482042018017", id="huawei-swapped"),
    pytest.param(["+qccid: 89860317482042018017"], "89860317482042018017", id="quectel-lowercase"),
])
def test_iccid_vendors(lines: list[str], want: str) -> None:
    assert C.parse_iccid(lines) == want


@pytest.mark.parametrize("lines", [
    pytest.param(["+CRSM: 148,4"], id="crsm-refused"),
    pytest.param(["+CRSM: 106,130,\"\""], id="crsm-file-not-found"),
    pytest.param([], id="empty"),
])
def test_iccid_errors(lines: list[str]) -> None:
    with pytest.raises(C.ParseError):
        C.parse_iccid(lines)


@pytest.mark.parametrize(("lines", "want"), [
    # 27.007 8.65 +CPINR: <code>,<retries>,<default_retries>
    pytest.param(["+CPINR: SIM PIN,3,3"], 3, id="cpinr"),
    pytest.param(['+CPINR: "SIM PIN",2,3'], 2, id="cpinr-quoted"),
    pytest.param(["+CPINR: SIM PIN2,1,3", "+CPINR: SIM PIN,2,3", "+CPINR: SIM PUK,10,10"], 2,
                 id="cpinr-all-codes-pin2-first"),
    pytest.param(["+CPINRE: SIM PIN,0,3", "+CPINR: SIM PIN,1,3"], 1, id="cpinre-ignored"),
    # Huawei ^CPIN: <code>,[<times>],<puk_times>,<pin_times>,<puk2_times>,<pin2_times>
    pytest.param(["^CPIN: SIM PIN,3,10,3,10,3"], 3, id="huawei-pin-wanted"),
    pytest.param(["^CPIN: READY,,10,3,10,1"], 3, id="huawei-ready-times-empty"),
    pytest.param(["^CPIN: SIM PIN2,1,10,3,10,1"], 3, id="huawei-pin2-wanted-times-is-pin2"),
    pytest.param(["^CPIN: SIM PUK,10,10,0,10,3"], 0, id="huawei-puk-locked"),
    # Quectel +QPINC: <facility>,<pincounter>,<pukcounter>
    pytest.param(['+QPINC: "SC",3,10'], 3, id="quectel-sc"),
    pytest.param(['+QPINC: "SC",3,10', '+QPINC: "P2",1,10'], 3, id="quectel-query-sc-first"),
    pytest.param(['+QPINC: "P2",1,10', '+QPINC: "SC",2,10'], 2, id="quectel-query-p2-first"),
    # SIMCom +SPIC: PIN1 first (SIM800 manual: <pin1>,<pin2>,<puk1>,<puk2>; oFono: PIN,PUK,PIN2,PUK2)
    pytest.param(["+SPIC: 3,10,3,10"], 3, id="simcom-spic"),
    pytest.param(["+SPIC: 2,3,10,10"], 2, id="sim800-manual-order"),
    # Quectel M95 +QTRPIN: <pin1>,<pin2>,<puk1>,<puk2>; u-blox +UPINCNT: same order
    pytest.param(["+QTRPIN: 3,3,10,10"], 3, id="quectel-m95-qtrpin"),
    pytest.param(["+UPINCNT: 1,3,10,10"], 1, id="ublox-upincnt"),
])
def test_pin_retries(lines: list[str], want: int) -> None:
    assert C.parse_pin_retries(lines) == want


@pytest.mark.parametrize("lines", [
    pytest.param([], id="empty"),
    pytest.param(['+QPINC: "P2",3,10'], id="quectel-only-pin2"),
    pytest.param(["+CPINR: SIM PUK,10,10"], id="cpinr-only-puk"),
    pytest.param(["^CPIN: SIM PIN,3"], id="huawei-truncated"),
    pytest.param(["#PCT: 3"], id="telit-unsupported"),
])
def test_pin_retries_unknown(lines: list[str]) -> None:
    with pytest.raises(C.ParseError):
        C.parse_pin_retries(lines)
