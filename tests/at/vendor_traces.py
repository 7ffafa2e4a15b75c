"""Recorded-style AT byte streams from several vendors, each with the exact events the parser must emit.

A trace is what one serial port carries while the driver runs a few commands: the ``Begin``, ``Payload`` and
``End`` steps are the calls the channel makes on the parser (``begin()`` before writing a command,
``expect_echo()`` after writing a PDU at the ``> `` prompt, ``end()`` after a timeout), ``Rx`` the bytes the
modem sent in between. ``events`` is the whole expected output; ``garbage`` the number of bytes the parser
must drop (and log) as line noise.

The strings are the ones the devices print (sources: ModemManager's test tables and vendor plugins, oFono's
atmodem drivers, gammu's atgen, python-gsmmodem's fake modems, the SIMCom/Quectel/Huawei/Telit AT manuals);
the PDUs are valid 3GPP 23.040 TPDUs (the Telit one is ModemManager's HE910 capture). Garbage is made of
bytes that cannot be text (NUL and other control bytes, 0x80-0xFF): printable noise is indistinguishable
from a real line, and CR/LF/Ctrl-Z/ESC end lines by definition. Each trace's ``device`` says which device
(and firmware, where it matters) it imitates, ``source`` where its strings were checked.
"""

from __future__ import annotations

from dataclasses import dataclass

from modembridge.at.parser import Echo, Event, Final, FinalKind, Info, Prompt, Urc, UrcKind

# --- PDUs (SMSC prefix included, as +CMGL/+CMGR/+CMT print them) ------------------------------------------
# SMS-DELIVER "Hallo vom E173" from +4917612345678 via SMSC +491722270333; TPDU 33 octets
PDU_E173 = "0791947122723033040D91947116325476F80000423050417090400EC8309BFD06D9DF6D5031769B01"
# SMS-DELIVER "Ihr Guthaben" from the alphanumeric sender "Telekom"; TPDU 31 octets
PDU_ALNUM = "0791947101670000040DD0D432BBBC7EB7010000423050417090400C49B41C74ACD3D16171D90D"
# SMS-DELIVER "SIM800 test" from +8613800138000 via SMSC +8613800100500 (0x91 TON, 8-octet SMSC); TPDU 30
PDU_SIM800 = "0891683108100005F0040D91683108108300F00000423050417090400BD36413078381E8E5391D"
# SMS-DELIVER "EC25 says hi" from +12065550100; TPDU 30 octets
PDU_EC25 = "07912160130300F4040B912160550501F00000423050417090400CC5A1AC069A87F373103A0D"
# ModemManager's Telit HE910 +CMGR capture ("Darmok! Darmok and Jalad at Tanagra"); TPDU 50 octets
PDU_TELIT = ("07916163838428F9040B916121021021F700005190514164220A23C4B0BCFD5E8740C4B0BCFD5E83C26E324819"
             "6687C9A0301D440DBBC3677918")
# SMS-STATUS-REPORT for MR 7 to +4917612345678, delivered; TPDU 26 octets
PDU_REPORT = "079194712272303306070D91947116325476F8423050417090404230504170214000"
# SMS-SUBMIT "ping" to +4917612345678 with a status report requested, "00" SMSC prefix; AT+CMGS=18
PDU_SUBMIT = "0021000D91947116325476F8000004F0B4FB0C"
# SMS-SUBMIT "ping" to +8613800138000; AT+CMGS=18
PDU_SUBMIT_CN = "0001000D91683108108300F0000004F0B4FB0C"
# Cell broadcast page (serial 0x6010, message id 810, GSM 7-bit, page 1/1), 88 octets, as +CBM prints it
PDU_CBM = ("6010032A0F11C3329B0D12CBDF61F2383CA783E8E5395D077297E9F7B77C0D6A87D36E7AD91D768FCB20FADB9D3E"
           "A3E920584C0783B560331D0CE66A341A8D46A3D168341A8D46A3D168341A8D46A3D168341A8D46A3D100")


# --- steps -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Begin:
    """``parser.begin(command, prompt=...)``: the channel is about to write ``command``."""

    command: str
    prompt: bool = False


@dataclass(frozen=True)
class Payload:
    """``parser.expect_echo(text)``: the PDU written after the ``> `` prompt."""

    text: str


@dataclass(frozen=True)
class End:
    """``parser.end()``: the channel gave up on the pending command (a timeout)."""


@dataclass(frozen=True)
class Rx:
    """Bytes from the modem."""

    data: bytes


Step = Begin | Payload | End | Rx


@dataclass(frozen=True)
class Trace:
    name: str
    device: str  # what the trace imitates
    source: str  # where its strings come from
    steps: tuple[Step, ...]
    events: tuple[Event, ...]
    garbage: int = 0  # bytes the parser must drop as line noise


OK = Final(FinalKind.OK, "OK")
ERROR = Final(FinalKind.ERROR, "ERROR")


def status(name: str, text: str) -> Urc:
    return Urc(name, text, UrcKind.STATUS)


def noise(name: str, text: str | None = None) -> Urc:
    return Urc(name, text if text is not None else name, UrcKind.NOISE)


def message(name: str, text: str, pdu: str | None = None) -> Urc:
    return Urc(name, text, UrcKind.MESSAGE, pdu)


def restart(name: str) -> Urc:
    return Urc(name, name, UrcKind.RESTART)


def cme(code: int | str) -> Final:
    if isinstance(code, int):
        return Final(FinalKind.CME, f"+CME ERROR: {code}", code)
    return Final(FinalKind.CME, f"+CME ERROR: {code}", None, code)


def cms(code: int | str) -> Final:
    if isinstance(code, int):
        return Final(FinalKind.CMS, f"+CMS ERROR: {code}", code)
    return Final(FinalKind.CMS, f"+CMS ERROR: {code}", None, code)


DSFLOWRPT = ("^DSFLOWRPT:0000003C,00000000,00000000,0000000000000000,0000000000000000,0003E800,"
             "0003E800")
CUSD = '+CUSD: 0,"C2303BEC1E97413D90B1DC06",15'

TRACES: tuple[Trace, ...] = (
    Trace(
        "huawei-e173-init",
        "Huawei E173 (firmware 11.126) USB stick, PC UI port, ^CURC still on: ^SIMST/^SRVST/^MODE/^RSSI "
        "chatter at start, ^BOOT and ^DSFLOWRPT landing inside responses, COMMAND NOT SUPPORT for an "
        "unknown command",
        "ModemManager huawei plugin URC list; chan_dongle at_response table; python-gsmmodem HuaweiE1752",
        (
            Rx(b"\r\n^SIMST:1\r\n\r\n^SRVST:2\r\n\r\n^MODE:3,2\r\n\r\n^RSSI:14\r\n"),
            Begin("ATE0"),
            Rx(b"ATE0\r\r\nOK\r\n"),
            Begin("AT+CMEE=1"),
            Rx(b"\r\nOK\r\n"),
            Begin("AT+CGSN"),
            Rx(b"\r\n^RSSI:15\r\n\r\n353143041234567\r\n\r\n^BOOT:20952301,0,0,0,72\r\n\r\nOK\r\n"),
            Begin("AT+CPMS?"),
            Rx(b'\r\n+CPMS: "SM",2,30,"SM",2,30,"SM",2,30\r\n\r\n' + DSFLOWRPT.encode() + b"\r\n\r\nOK\r\n"),
            Begin("AT+WIND?"),
            Rx(b"\r\nCOMMAND NOT SUPPORT\r\n"),
            Begin("AT^SYSCFG=2,2,3FFFFFFF,1,2,9"),
            Rx(b"\r\nTOO MANY PARAMETERS\r\n"),
            Begin("AT^CURC=0"),
            Rx(b"\r\nOK\r\n"),
        ),
        (
            status("^SIMST", "^SIMST:1"), status("^SRVST", "^SRVST:2"), status("^MODE", "^MODE:3,2"),
            status("^RSSI", "^RSSI:14"),
            Echo("ATE0"), OK,
            OK,
            status("^RSSI", "^RSSI:15"), Info("353143041234567"), noise("^BOOT", "^BOOT:20952301,0,0,0,72"),
            OK,
            Info('+CPMS: "SM",2,30,"SM",2,30,"SM",2,30'), noise("^DSFLOWRPT", DSFLOWRPT), OK,
            Final(FinalKind.COMMAND_NOT_SUPPORT, "COMMAND NOT SUPPORT"),
            Final(FinalKind.TOO_MANY_PARAMETERS, "TOO MANY PARAMETERS"),
            OK,
        ),
    ),
    Trace(
        "huawei-e173-cmgl-interleaved",
        "Huawei E173 answering AT+CMGL=4 (empty alpha, index 0) while ^RSSI, +CMTI (even between a "
        "+CMGL header and its PDU), RING/+CLIP of a call and an unquoted +CREG (CREG=2) arrive; the same "
        "+CMTI repeated afterwards",
        "ModemManager test-modem-helpers (+CMGL: 0,1,,147 layout; Huawei E160G unquoted +CREG URC)",
        (
            Begin("AT+CMGL=4"),
            Rx(b"\r\n+CMGL: 0,1,,33\r\n" + PDU_E173.encode() + b"\r\n"
               b"\r\n^RSSI:12\r\n"
               b"\r\n+CMGL: 1,0,,31\r\n"
               b'\r\n+CMTI: "SM",3\r\n' + PDU_ALNUM.encode() + b"\r\n"
               b"\r\nRING\r\n"
               b'\r\n+CLIP: "+4917612345678",145,,,,0\r\n'
               b"\r\n+CREG: 1,8BE3,2BAF\r\n"
               b"\r\n+CMGL: 3,0,,33\r\n" + PDU_E173.encode() + b"\r\n"
               b"\r\nOK\r\n"),
            Rx(b'\r\n+CMTI: "SM",3\r\n'),
        ),
        (
            Info("+CMGL: 0,1,,33"), Info(PDU_E173),
            status("^RSSI", "^RSSI:12"),
            Info("+CMGL: 1,0,,31"), message("+CMTI", '+CMTI: "SM",3'), Info(PDU_ALNUM),
            noise("RING"), status("+CLIP", '+CLIP: "+4917612345678",145,,,,0'),
            status("+CREG", "+CREG: 1,8BE3,2BAF"),
            Info("+CMGL: 3,0,,33"), Info(PDU_E173),
            OK,
            message("+CMTI", '+CMTI: "SM",3'),
        ),
    ),
    Trace(
        "huawei-e3372-direct",
        "Huawei E3372h-153 in stick (modem) mode with CNMI=2,2,0,1,0: +CMT and +CDS two-line URCs idle and "
        "inside a response, +CBM, ^HCSQ, ^SMMEMFULL, verbose errors after AT+CMEE=2, a +CUSD answer "
        "arriving inside the next command's response",
        "ModemManager huawei plugin (^HCSQ, ^SMMEMFULL), 27.005 3.4.1 (+CMT/+CDS/+CBM layouts), "
        "27.007 9.2 / 27.005 3.2.5 error texts",
        (
            Rx(b'\r\n^HCSQ:"LTE",46,42,131,27\r\n'),
            Rx(b"\r\n+CMT: ,33\r\n" + PDU_E173.encode() + b"\r\n"),
            Begin("AT+CNMA"),
            Rx(b"\r\nOK\r\n"),
            Begin("AT+CSQ"),
            Rx(b"\r\n+CSQ: 20,99\r\n\r\n+CDS: 26\r\n" + PDU_REPORT.encode() + b"\r\n\r\nOK\r\n"),
            Rx(b"\r\n+CBM: 88\r\n" + PDU_CBM.encode() + b"\r\n"),
            Begin("AT+CMEE=2"),
            Rx(b"\r\nOK\r\n"),
            Begin("AT+CMGR=40"),
            Rx(b"\r\n+CMS ERROR: invalid memory index\r\n"),
            Begin("AT+CPIN?"),
            Rx(b"\r\n+CME ERROR: SIM busy\r\n"),
            Rx(b'\r\n^SMMEMFULL: "SM"\r\n'),
            Begin('AT+CUSD=1,"AA180C3602",15'),
            Rx(b"\r\nOK\r\n"),
            Begin("AT+CSQ"),
            Rx(b"\r\n" + CUSD.encode() + b"\r\n\r\n+CSQ: 21,99\r\n\r\nOK\r\n"),
        ),
        (
            status("^HCSQ", '^HCSQ:"LTE",46,42,131,27'),
            message("+CMT", "+CMT: ,33", PDU_E173),
            OK,
            Info("+CSQ: 20,99"), message("+CDS", "+CDS: 26", PDU_REPORT), OK,
            message("+CBM", "+CBM: 88", PDU_CBM),
            OK,
            cms("invalid memory index"),
            cme("SIM busy"),
            status("^SMMEMFULL", '^SMMEMFULL: "SM"'),
            OK,
            status("+CUSD", CUSD), Info("+CSQ: 21,99"), OK,
        ),
    ),
    Trace(
        "huawei-me909-restart",
        "Huawei ME909s-120 module: echo switched off, then the module resets (a burst of NULs and 0xFF on "
        "the line, ^SYSSTART) and echoes again although ATE0 was sent",
        "Huawei ME909s AT command interface specification (^SYSSTART); ModemManager (echo after reset)",
        (
            Begin("ATE0"),
            Rx(b"ATE0\r\r\nOK\r\n"),
            Begin("AT+CSQ"),
            Rx(b"\r\n+CSQ: 18,99\r\n\r\nOK\r\n"),
            Rx(b"\x00\x00\x00\xff\xff\xff\xff\r\n\r\n^SYSSTART\r\n"),
            Begin("AT+CSQ"),
            Rx(b"AT+CSQ\r\r\n+CSQ: 99,99\r\n\r\nOK\r\n"),
        ),
        (
            Echo("ATE0"), OK,
            Info("+CSQ: 18,99"), OK,
            restart("^SYSSTART"),
            Echo("AT+CSQ"), Info("+CSQ: 99,99"), OK,
        ),
        garbage=7,
    ),
    Trace(
        "sim800-boot-and-send",
        "SIMCom SIM800L (Revision 1418B04SIM800L24): power-up noise then RDY, +CFUN: 1, +CPIN: READY, Call "
        "Ready, SMS Ready; PDU send with the prompt; network time and +CIEV chatter; +CMGR with a quoted "
        "empty alpha; an empty slot answered with a bare OK; after AT+CNMI=2,2 a +CMT (quoted empty "
        "alpha) inside the AT+CSQ answer",
        "SIM800 Series AT Command Manual V1.09 (URC summary, AT+CMGS, AT+CMGR); ModemManager simtech plugin",
        (
            Rx(b"\x00\xf8\xff\r\nRDY\r\n\r\n+CFUN: 1\r\n\r\n+CPIN: READY\r\n\r\nCall Ready\r\n"
               b"\r\nSMS Ready\r\n"),
            Begin("ATE0"),
            Rx(b"ATE0\r\r\nOK\r\n"),
            Begin("AT+CMGS=18", prompt=True),
            Rx(b"\r\n> "),
            Payload(PDU_SUBMIT_CN),
            Rx(b"\r\n+CMGS: 12\r\n\r\nOK\r\n"),
            Rx(b'\r\n*PSUTTZ: 2024,3,5,13,7,9,"+32",0\r\n\r\nDST: 0\r\n'
               b'\r\n+CIEV: 10,"46000","CMCC","CMCC", 0, 0\r\n'),
            Begin("AT+CMGR=1"),
            Rx(b'\r\n+CMGR: 0,"",30\r\n' + PDU_SIM800.encode() + b"\r\n\r\nOK\r\n"),
            Begin("AT+CMGR=2"),
            Rx(b"\r\nOK\r\n"),
            Begin("AT+CNMI=2,2,0,1,0"),
            Rx(b"\r\nOK\r\n"),
            Begin("AT+CSQ"),
            Rx(b'\r\n+CMT: "",31\r\n' + PDU_ALNUM.encode() + b"\r\n\r\n+CSQ: 19,0\r\n\r\nOK\r\n"),
        ),
        (
            restart("RDY"), status("+CFUN", "+CFUN: 1"), status("+CPIN", "+CPIN: READY"),
            noise("Call Ready"), noise("SMS Ready"),
            Echo("ATE0"), OK,
            Prompt(), Info("+CMGS: 12"), OK,
            noise("*PSUTTZ", '*PSUTTZ: 2024,3,5,13,7,9,"+32",0'), noise("DST", "DST: 0"),
            status("+CIEV", '+CIEV: 10,"46000","CMCC","CMCC", 0, 0'),
            Info('+CMGR: 0,"",30'), Info(PDU_SIM800), OK,
            OK,
            OK,
            message("+CMT", '+CMT: "",31', PDU_ALNUM), Info("+CSQ: 19,0"), OK,
        ),
        garbage=3,
    ),
    Trace(
        "sim800-call-during-send",
        "SIMCom SIM800 with echo on: someone calls the SIM while AT+CMGS is in flight and hangs up before "
        "it is answered (RING, +CLIP, NO CARRIER) before the +CMGS result; the PDU is echoed up to the "
        "Ctrl-Z; later ATA without a call is answered NO CARRIER, and ATD gets BUSY / NO DIALTONE",
        "gammu atgen (NO CARRIER handled as an incoming-call frame); SIM800 manual (ATA/ATD results, +CLIP)",
        (
            Begin("AT+CMGS=18", prompt=True),
            Rx(b"AT+CMGS=18\r\r\n> "),
            Payload(PDU_SUBMIT_CN),
            Rx(PDU_SUBMIT_CN.encode() + b"\x1a"
               b'\r\nRING\r\n\r\n+CLIP: "+8613800138000",145,"",0,"",0\r\n\r\nNO CARRIER\r\n'
               b"\r\n+CMGS: 13\r\n\r\nOK\r\n"),
            Rx(b"\r\nRING\r\n\r\nNO CARRIER\r\n"),
            Begin("ATA"),
            Rx(b"ATA\r\r\nNO CARRIER\r\n"),
            Begin("ATD+8613800138000;"),
            Rx(b"ATD+8613800138000;\r\r\nBUSY\r\n"),
            Begin("ATD+8613800138000;"),
            Rx(b"ATD+8613800138000;\r\r\nNO DIALTONE\r\n"),
        ),
        (
            Echo("AT+CMGS=18"), Prompt(), Echo(PDU_SUBMIT_CN),
            noise("RING"), status("+CLIP", '+CLIP: "+8613800138000",145,"",0,"",0'), noise("NO CARRIER"),
            Info("+CMGS: 13"), OK,
            noise("RING"), noise("NO CARRIER"),
            Echo("ATA"), Final(FinalKind.NO_CARRIER, "NO CARRIER"),
            Echo("ATD+8613800138000;"), Final(FinalKind.BUSY, "BUSY"),
            Echo("ATD+8613800138000;"), Final(FinalKind.NO_DIALTONE, "NO DIALTONE"),
        ),
    ),
    Trace(
        "sim7600-pin-then-init",
        "SIMCom SIM7600E-H (echo on by default): after AT+CPIN the SIM comes up and the module reports "
        "+CPIN: READY, SMS DONE and PB DONE while the next commands run; +CMTI for slot 0 of ME storage",
        "SIM7600 Series AT Command Manual (AT+CPIN, AT+SPIC, +CMTI); public SIM7600 drivers expecting "
        "'+CPIN: READY / SMS DONE / PB DONE' after the PIN",
        (
            Begin('AT+CPIN="1234"'),
            Rx(b'AT+CPIN="1234"\r\r\nOK\r\n'),
            Rx(b"\r\n+CPIN: READY\r\n"),
            Begin("AT+CIMI"),
            Rx(b"AT+CIMI\r\r\nSMS DONE\r\n\r\n460001234567890\r\n\r\nOK\r\n\r\nPB DONE\r\n"),
            Begin("AT+SPIC"),
            Rx(b"AT+SPIC\r\r\n+SPIC: 3,10,3,10\r\n\r\nOK\r\n"),
            Rx(b'\r\n+CMTI: "ME",0\r\n'),
        ),
        (
            Echo('AT+CPIN="1234"'), OK,
            status("+CPIN", "+CPIN: READY"),
            Echo("AT+CIMI"), noise("SMS DONE"), Info("460001234567890"), OK, noise("PB DONE"),
            Echo("AT+SPIC"), Info("+SPIC: 3,10,3,10"), OK,
            message("+CMTI", '+CMTI: "ME",0'),
        ),
    ),
    Trace(
        "quectel-ec25-boot-and-sms",
        "Quectel EC25-E (EC25EFAR06A06M4G), ATE0: boot banner RDY/+CFUN/+CPIN/+QUSIM/+QIND, PIN counter, "
        "a send whose +CMTI lands between the PDU and +CMGS, +CDSI for a stored report, +CMGL with index 0 "
        "and line noise inside a PDU line and on a line of its own, SIM-busy errors",
        "Quectel EC2x AT Commands Manual (+QIND, +QUSIM, AT+QPINC, +CDSI); oFono/ModemManager quectel "
        "plugins",
        (
            Rx(b"\r\nRDY\r\n\r\n+CFUN: 1\r\n\r\n+CPIN: READY\r\n\r\n+QUSIM: 1\r\n\r\n+QIND: SMS DONE\r\n"
               b"\r\n+QIND: PB DONE\r\n"),
            Begin('AT+QPINC="SC"'),
            Rx(b'\r\n+QPINC: "SC",3,10\r\n\r\nOK\r\n'),
            Begin("AT+CPMS?"),
            Rx(b"\r\n+CME ERROR: 14\r\n"),
            Begin("AT+CMGS=18", prompt=True),
            Rx(b"\r\n> "),
            Payload(PDU_SUBMIT),
            Rx(b'\r\n+CMTI: "SM",4\r\n\r\n+CMGS: 3\r\n\r\nOK\r\n'),
            Rx(b'\r\n+CDSI: "SR",2\r\n'),
            Begin("AT+CMGL=4"),
            Rx(b"\r\n+CMGL: 0,0,,30\r\n" + PDU_EC25[:20].encode() + b"\x00\xff\x81" + PDU_EC25[20:].encode()
               + b"\r\n\r\n+CMGL: 1,1,,30\r\n" + PDU_EC25.encode() + b"\r\n\xff\xff\xff\xff\r\n\r\nOK\r\n"),
            Begin("AT+CMGD=4"),
            Rx(b"\r\n+CMS ERROR: 515\r\n"),
        ),
        (
            restart("RDY"), status("+CFUN", "+CFUN: 1"), status("+CPIN", "+CPIN: READY"),
            status("+QUSIM", "+QUSIM: 1"), status("+QIND", "+QIND: SMS DONE"),
            status("+QIND", "+QIND: PB DONE"),
            Info('+QPINC: "SC",3,10'), OK,
            cme(14),
            Prompt(), message("+CMTI", '+CMTI: "SM",4'), Info("+CMGS: 3"), OK,
            message("+CDSI", '+CDSI: "SR",2'),
            Info("+CMGL: 0,0,,30"), Info(PDU_EC25), Info("+CMGL: 1,1,,30"), Info(PDU_EC25), OK,
            cms(515),
        ),
        garbage=7,
    ),
    Trace(
        "quectel-m95-verbose",
        "Quectel M95 (M95FAR02A08), echo on, AT+CMEE=2: boot RDY/Call Ready/SMS Ready, a send refused with "
        "a verbose +CMS ERROR after the echoed PDU, a verbose +CME ERROR",
        "Quectel M95 AT Commands Manual V3.2 (URCs, AT+CMEE=2 texts)",
        (
            Rx(b"\r\nRDY\r\n\r\n+CFUN: 1\r\n\r\n+CPIN: READY\r\n\r\nCall Ready\r\n\r\nSMS Ready\r\n"),
            Begin("AT+CMGS=18", prompt=True),
            Rx(b"AT+CMGS=18\r\r\n> "),
            Payload(PDU_SUBMIT),
            Rx(PDU_SUBMIT.encode() + b"\r\n+CMS ERROR: unknown error\r\n"),
            Begin("AT+CPIN?"),
            Rx(b"AT+CPIN?\r\r\n+CME ERROR: SIM not inserted\r\n"),
        ),
        (
            restart("RDY"), status("+CFUN", "+CFUN: 1"), status("+CPIN", "+CPIN: READY"),
            noise("Call Ready"), noise("SMS Ready"),
            Echo("AT+CMGS=18"), Prompt(), Echo(PDU_SUBMIT), cms("unknown error"),
            Echo("AT+CPIN?"), cme("SIM not inserted"),
        ),
    ),
    Trace(
        "telit-he910",
        "Telit HE910-D: +CMGR with a quoted empty alpha and index 0 (ModemManager's capture), the #PCT PIN "
        "counter, a #QSS SIM-status URC, CNMI fallback after +CMS ERROR: 303, a send refused by the network, "
        "an idle +CDS",
        "ModemManager test-modem-helpers (test_cmgr_response_telit); Telit HE910 AT Commands Reference "
        "Guide (#PCT, #QSS); oFono telit plugin",
        (
            Begin("AT+CMGR=0"),
            Rx(b'\r\n+CMGR: 0,"",50\r\n' + PDU_TELIT.encode() + b"\r\n\r\nOK\r\n"),
            Begin("AT#PCT"),
            Rx(b"\r\n#PCT: 3\r\n\r\nOK\r\n"),
            Rx(b"\r\n#QSS: 1\r\n"),
            Begin("AT+CNMI=2,1,2,1,0"),
            Rx(b"\r\n+CMS ERROR: 303\r\n"),
            Begin("AT+CNMI=2,1,2,2,0"),
            Rx(b"\r\nOK\r\n"),
            Begin("AT+CMGS=18", prompt=True),
            Rx(b"\r\n> "),
            Payload(PDU_SUBMIT),
            Rx(b"\r\n+CMS ERROR: 38\r\n"),
            Rx(b"\r\n+CDS: 26\r\n" + PDU_REPORT.encode() + b"\r\n"),
        ),
        (
            Info('+CMGR: 0,"",50'), Info(PDU_TELIT), OK,
            Info("#PCT: 3"), OK,
            noise("#QSS", "#QSS: 1"),
            cms(303),
            OK,
            Prompt(), cms(38),
            message("+CDS", "+CDS: 26", PDU_REPORT),
        ),
    ),
    Trace(
        "ublox-sara-u201",
        "u-blox SARA-U201: an operator scan aborted by the next character (ABORTED), the +UPINCNT PIN "
        "counter, storage full (+CMS ERROR: 322), NO ANSWER to a dial, a +CMTI and a +CIEV while idle",
        "u-blox AT Commands Manual (ABORTED final result of abortable commands, +UPINCNT, +CIEV)",
        (
            Begin("AT+COPS=?"),
            Rx(b"\r\nABORTED\r\n"),
            Begin("AT+UPINCNT"),
            Rx(b"\r\n+UPINCNT: 3,3,10,10\r\n\r\nOK\r\n"),
            Begin("AT+CMGW=18", prompt=True),
            Rx(b"\r\n> "),
            Payload(PDU_SUBMIT),
            Rx(b"\r\n+CMS ERROR: 322\r\n"),
            Begin("ATD+4917612345678;"),
            Rx(b"\r\nNO ANSWER\r\n"),
            Rx(b'\r\n+CIEV: 2,3\r\n\r\n+CMTI: "SM",7\r\n'),
        ),
        (
            Final(FinalKind.ABORTED, "ABORTED"),
            Info("+UPINCNT: 3,3,10,10"), OK,
            Prompt(), cms(322),
            Final(FinalKind.NO_ANSWER, "NO ANSWER"),
            status("+CIEV", "+CIEV: 2,3"), message("+CMTI", '+CMTI: "SM",7'),
        ),
    ),
    Trace(
        "zte-mf627",
        "ZTE MF627 USB stick: the +ZUSIMR:2 nag (until a +CPMS?), +ZPASR and the bare +ZEND of the SIM "
        "toolkit arriving while AT+CGSN waits for its unprefixed answer; ERROR for Huawei's ^CURC",
        "ModemManager zte plugin (+ZUSIMR/+ZDONR/+ZPASR/+ZPSTM/+ZEND regexes); python-gsmmodem ZteK3565Z",
        (
            Rx(b'\r\n+ZUSIMR:2\r\n\r\n+ZPASR: "UMTS"\r\n'),
            Begin("AT+CGSN"),
            Rx(b"\r\n+ZEND\r\n\r\n+ZUSIMR:2\r\n\r\n354321012345678\r\n\r\nOK\r\n"),
            Begin("AT^CURC=0"),
            Rx(b"\r\nERROR\r\n"),
            Begin("AT+CPMS?"),
            Rx(b'\r\n+CPMS: "SM",0,50,"SM",0,50,"SM",0,50\r\n\r\nOK\r\n'),
        ),
        (
            noise("+ZUSIMR", "+ZUSIMR:2"), noise("+ZPASR", '+ZPASR: "UMTS"'),
            noise("+ZEND"), noise("+ZUSIMR", "+ZUSIMR:2"), Info("354321012345678"), OK,
            ERROR,
            Info('+CPMS: "SM",0,50,"SM",0,50,"SM",0,50'), OK,
        ),
    ),
    Trace(
        "late-answer-after-timeout",
        "Huawei E173 answering AT+CMGL=4 after the driver timed out and forgot it (echo on): the late echo, "
        "list and OK must not be taken for the next command's answer",
        "ModemManager serial port handling of late replies; modembridge channel resync",
        (
            Begin("AT+CMGL=4"),
            End(),
            Rx(b"AT+CMGL=4\r\r\n+CMGL: 0,1,,33\r\n" + PDU_E173.encode() + b"\r\n\r\nOK\r\n"),
            Begin("AT"),
            Rx(b"AT\r\r\nOK\r\n"),
        ),
        (
            Echo("AT+CMGL=4"), noise("+CMGL", "+CMGL: 0,1,,33"), noise(PDU_E173), OK,
            Echo("AT"), OK,
        ),
    ),
)
