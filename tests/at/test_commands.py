"""Command builders and response parsers against tables of real-device strings."""

from __future__ import annotations

import pytest

from modembridge.at import commands as C
from modembridge.at.errors import CmsError, SendErrorClass, classify_cme, classify_cms
from modembridge.at.quirks import CNMI_FALLBACK, detect_profile

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
