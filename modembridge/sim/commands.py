"""AT command handlers of the simulated modem (27.007 / 27.005 subset, V.250 basics, vendor extras).

A handler appends information lines to ``info`` and returns the final result ("OK", "ERROR", ...), or
None when it answers later itself (prompt, send delay, reset). Errors are raised as CmeError / CmsError.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from modembridge.sim.atline import Command
from modembridge.sim.results import CmeError, CmsError, cms_result
from modembridge.sim.storage import STAT_NAMES, STO_SENT, STO_UNSENT
from modembridge.sim.textmode import format_listing, format_read, text_from_charset

if TYPE_CHECKING:
    from modembridge.sim.engine import ModemEngine, Prompt

Handler = Callable[[Command, list[str]], "str | None"]
MEMS = ("SM", "ME", "SR")
HEX = re.compile(rb"^[0-9A-Fa-f]*$")


class CommandSet:
    def __init__(self, engine: ModemEngine) -> None:
        self.e = engine
        self.table: dict[str, Handler] = {
            "E": self.echo, "V": self.verbose, "Q": self.ok, "Z": self.reset, "&F": self.reset,
            "&W": self.ok, "&C": self.ok, "&D": self.ok, "&K": self.ok, "X": self.ok, "L": self.ok,
            "M": self.ok, "H": self.hang_up, "I": self.ati, "D": self.dial, "A": self.dial,
            "+CGMI": self.cgmi, "+GMI": self.cgmi, "+CGMM": self.cgmm, "+GMM": self.cgmm, "+CGMR": self.cgmr,
            "+GMR": self.cgmr,
            "+CGSN": self.cgsn, "+GSN": self.cgsn, "+CIMI": self.cimi, "+CCID": self.ccid,
            "^ICCID": self.ccid, "+QCCID": self.ccid, "+GCAP": self.gcap, "+CMEE": self.cmee,
            "+CPIN": self.cpin, "+CPINR": self.cpinr, "+QPINC": self.qpinc, "+SPIC": self.spic,
            "^CPIN": self.hcpin, "+CSQ": self.csq, "+CREG": self.creg, "+CGREG": self.cgreg,
            "+COPS": self.cops, "+CPAS": self.cpas, "+CFUN": self.cfun, "+CSCA": self.csca,
            "+CMGF": self.cmgf, "+CSCS": self.cscs, "+CSMS": self.csms, "+CPMS": self.cpms,
            "+CNMI": self.cnmi, "+CNMA": self.cnma, "+CMGL": self.cmgl, "+CMGR": self.cmgr,
            "+CMGD": self.cmgd, "+CMGS": self.cmgs, "+CMGW": self.cmgw, "+CMSS": self.cmss,
            "+CSMP": self.csmp, "+CSDH": self.csdh, "^CURC": self.curc, "+CLIP": self.clip, "+CRC": self.ok,
            "+CVHU": self.ok, "+CMMS": self.ok, "+CSCB": self.ok, "+CLCC": self.ok, "+CBST": self.ok,
            "+CSNS": self.ok, "+CHUP": self.hang_up, "+CUSD": self.cusd, "+CNUM": self.cnum,
        }
        for name in engine.profile.extra_ok:
            self.table.setdefault(name, self.ok)

    def cusd(self, cmd: Command, info: list[str]) -> str:
        """AT+CUSD=<n>[,<str>[,<dcs>]]: n=1 sends str (the answer comes as a +CUSD URC), n=2 cancels."""
        e = self.e
        if cmd.kind == "read":
            info.append("+CUSD: 1")
            return "OK"
        if cmd.kind == "test":
            info.append("+CUSD: (0-2)")
            return "OK"
        self.need_sim()
        n = cmd.int_arg(0, 0)
        if n == 2:
            e.ussd.cancel()
            return "OK"
        string = cmd.arg(1)
        if string is not None:
            if not e.registered():
                raise CmeError(30)  # no network service
            e.ussd.request(string, cmd.int_arg(2, 15) or 15)
        return "OK"

    # ------------------------------------------------------------------ dispatch
    def run(self, cmd: Command, info: list[str]) -> str | None:
        if cmd.name.startswith("S") and cmd.name[1:].isdigit():
            return self.sreg(cmd, info)
        handler = self.table.get(cmd.name)
        if handler is None:
            return self.unknown()
        return handler(cmd, info)

    def unknown(self) -> str:
        if self.e.profile.unknown_result is not None:
            return self.e.profile.unknown_result
        raise CmeError(100) if self.e.cmee else CmeError(0)

    # ------------------------------------------------------------------ gates
    def need_sim(self, sms: bool = False) -> None:
        state = self.e.pin_state
        if state == "READY":
            return
        if state == "SIM PIN":
            raise CmsError(311) if sms else CmeError(11)
        if state == "SIM PUK":
            raise CmsError(316) if sms else CmeError(12)
        raise CmsError(313) if sms else CmeError(13)

    # ------------------------------------------------------------------ V.250 basics
    def ok(self, cmd: Command, info: list[str]) -> str:
        return "OK"

    def echo(self, cmd: Command, info: list[str]) -> str:
        if cmd.raw not in ("", "0", "1"):
            return "ERROR"
        self.e.echo = cmd.raw == "1"
        return "OK"

    def verbose(self, cmd: Command, info: list[str]) -> str:
        return "OK" if cmd.raw in ("", "1") else "ERROR"  # numeric result codes (V0) are not simulated

    def reset(self, cmd: Command, info: list[str]) -> str:
        self.e.reset_settings()
        return "OK"

    def sreg(self, cmd: Command, info: list[str]) -> str:
        if cmd.kind == "read":
            defaults = {"S3": 13, "S4": 10, "S5": 8, "S0": 0, "S7": 60}
            info.append(f"{defaults.get(cmd.name, 0):03d}")
        return "OK"

    def ati(self, cmd: Command, info: list[str]) -> str:
        info.extend(self.e.profile.ati)
        return "OK"

    def dial(self, cmd: Command, info: list[str]) -> str:
        return "NO CARRIER"

    def hang_up(self, cmd: Command, info: list[str]) -> str:
        """ATH / AT+CHUP: ends a ringing call (OK whether or not one rang)."""
        self.e.calls.hang_up("ATH" if cmd.name == "H" else "AT" + cmd.name)
        return "OK"

    def cnum(self, cmd: Command, info: list[str]) -> str:
        self.need_sim()
        own = self.e.config.own_number
        if own and cmd.kind == "exec":
            info.append(f'+CNUM: "","{own}",{145 if own.startswith("+") else 129}')
        return "OK"

    def clip(self, cmd: Command, info: list[str]) -> str:
        if cmd.kind == "read":
            info.append(f"+CLIP: {int(self.e.calls.clip)},1")
            return "OK"
        if cmd.kind == "set":
            self.e.calls.clip = cmd.int_arg(0, 0) == 1
        return "OK"

    # ------------------------------------------------------------------ identity
    def _ident(self, cmd: Command, info: list[str], value: str, prefix: str = "") -> str:
        if cmd.kind == "test":
            return "OK"
        info.append(prefix + value)
        return "OK"

    def cgmi(self, cmd: Command, info: list[str]) -> str:
        return self._ident(cmd, info, self.e.profile.manufacturer)

    def cgmm(self, cmd: Command, info: list[str]) -> str:
        return self._ident(cmd, info, self.e.profile.model)

    def cgmr(self, cmd: Command, info: list[str]) -> str:
        return self._ident(cmd, info, self.e.profile.revision)

    def cgsn(self, cmd: Command, info: list[str]) -> str:
        return self._ident(cmd, info, self.e.config.imei)

    def cimi(self, cmd: Command, info: list[str]) -> str:
        self.need_sim()
        return self._ident(cmd, info, self.e.config.imsi)

    def ccid(self, cmd: Command, info: list[str]) -> str:
        prefix = {"+CCID": self.e.profile.ccid_prefix, "^ICCID": "^ICCID: ", "+QCCID": "+QCCID: "}[cmd.name]
        return self._ident(cmd, info, self.e.config.iccid, prefix)

    def gcap(self, cmd: Command, info: list[str]) -> str:
        info.append("+GCAP: +CGSM")
        return "OK"

    # ------------------------------------------------------------------ errors, PIN
    def cmee(self, cmd: Command, info: list[str]) -> str:
        if cmd.kind == "read":
            info.append(f"+CMEE: {self.e.cmee}")
        elif cmd.kind == "test":
            info.append("+CMEE: (0-2)")
        elif cmd.kind == "set":
            n = cmd.int_arg(0, 0)
            if n not in (0, 1, 2):
                raise CmeError(50)
            self.e.cmee = n
        else:
            self.e.cmee = 0
        return "OK"

    def cpin(self, cmd: Command, info: list[str]) -> str:
        e = self.e
        if cmd.kind == "read":
            info.append(f"+CPIN: {e.pin_state}")
            return "OK"
        if cmd.kind == "test":
            return "OK"
        if cmd.kind != "set":
            raise CmeError(50)
        code, new = cmd.arg(0), cmd.arg(1)
        if e.pin_state == "SIM PIN":
            if code == e.pin:
                e.pin_state = "READY"
                e.pin_tries = 3
                self._unlocked()
                return "OK"
            e.pin_tries -= 1
            if e.pin_tries <= 0:
                e.pin_state = "SIM PUK"
                raise CmeError(12)
            raise CmeError(16)
        if e.pin_state == "SIM PUK":
            if new is None:
                raise CmeError(12)
            if code == e.config.puk:
                e.pin, e.pin_state, e.pin_tries, e.puk_tries = new, "READY", 3, 10
                self._unlocked()
                return "OK"
            e.puk_tries -= 1
            if e.puk_tries <= 0:
                e.pin_state = "SIM BLOCKED"
                raise CmeError(13)
            raise CmeError(16)
        if e.pin_state == "READY":
            raise CmeError(3)
        raise CmeError(13)

    def _unlocked(self) -> None:
        e = self.e
        e.start_attach()
        if e.effective_creg() != 0:
            e.creg_urc()
        e.later(0.0, e.network.pump)

    def cpinr(self, cmd: Command, info: list[str]) -> str:
        which = (cmd.arg(0) or "").upper() if cmd.kind == "set" else ""
        if which in ("", "SIM PIN", "SIM*"):
            info.append(f"+CPINR: SIM PIN,{self.e.pin_tries},3")
        if which in ("", "SIM PUK", "SIM*"):
            info.append(f"+CPINR: SIM PUK,{self.e.puk_tries},10")
        return "OK"

    def qpinc(self, cmd: Command, info: list[str]) -> str:
        info.append(f'+QPINC: "SC",{self.e.pin_tries},{self.e.puk_tries}')
        info.append('+QPINC: "P2",3,10')
        return "OK"

    def spic(self, cmd: Command, info: list[str]) -> str:
        info.append(f"+SPIC: {self.e.pin_tries},{self.e.puk_tries},3,10")
        return "OK"

    def hcpin(self, cmd: Command, info: list[str]) -> str:
        e = self.e
        code = {"READY": "READY", "SIM PIN": "SIM PIN", "SIM PUK": "SIM PUK"}.get(e.pin_state, "SIM PUK")
        current = e.pin_tries if code != "SIM PUK" else e.puk_tries
        info.append(f"^CPIN: {code},{current if code != 'READY' else ''},{e.puk_tries},{e.pin_tries},10,3")
        return "OK"

    # ------------------------------------------------------------------ network status
    def csq(self, cmd: Command, info: list[str]) -> str:
        if cmd.kind == "test":
            info.append("+CSQ: (0-31,99),(0-7,99)")
        else:
            info.append(f"+CSQ: {self.e.rssi if self.e.registered() else 99},99")
        return "OK"

    def creg(self, cmd: Command, info: list[str]) -> str:
        e = self.e
        if cmd.kind == "test":
            info.append("+CREG: (0-2)")
        elif cmd.kind == "set":
            n = cmd.int_arg(0, 0)
            if n not in (0, 1, 2):
                raise CmeError(50)
            e.creg_n = n
        else:
            stat = e.effective_creg()
            extra = ',"00A1","1B2C"' if e.creg_n == 2 and stat in (1, 5) else ""
            info.append(f"+CREG: {e.creg_n},{stat}{extra}")
        return "OK"

    def cgreg(self, cmd: Command, info: list[str]) -> str:
        if cmd.kind == "read":
            info.append(f"+CGREG: 0,{self.e.effective_creg()}")
        return "OK"

    def cops(self, cmd: Command, info: list[str]) -> str:
        e = self.e
        if cmd.kind == "read":
            info.append(f'+COPS: 0,0,"{e.config.operator}",0' if e.registered() else "+COPS: 0")
        elif cmd.kind == "test":
            info.append(f'+COPS: (2,"{e.config.operator}","{e.config.operator}","00101",0),,(0-4),(0-2)')
        return "OK"

    def cpas(self, cmd: Command, info: list[str]) -> str:
        info.append("+CPAS: 0")
        return "OK"

    def cfun(self, cmd: Command, info: list[str]) -> str | None:
        e = self.e
        if cmd.kind == "read":
            info.append(f"+CFUN: {e.fun}")
            return "OK"
        if cmd.kind == "test":
            info.append("+CFUN: (0,1,4),(0-1)")
            return "OK"
        fun, rst = cmd.int_arg(0, 1), cmd.int_arg(1, 0)
        if fun not in (0, 1, 4) or rst not in (0, 1):
            raise CmeError(50)
        if rst == 1:
            e.respond(info, "OK")
            info.clear()
            e.begin_busy()
            e.later(e.config.restart_delay, e.restart)
            return None
        e.fun = fun
        e.creg_urc()
        e.network.pump()
        return "OK"

    def curc(self, cmd: Command, info: list[str]) -> str:
        if cmd.kind == "read":
            info.append(f"^CURC: {int(self.e.curc)}")
        elif cmd.kind == "set":
            self.e.curc = cmd.arg(0) != "0"
        return "OK"

    # ------------------------------------------------------------------ SMS settings
    def csca(self, cmd: Command, info: list[str]) -> str:
        self.need_sim()
        if cmd.kind == "read":
            info.append(f'+CSCA: "{self.e.smsc}",{145 if self.e.smsc.startswith("+") else 129}')
        elif cmd.kind == "set":
            number = cmd.arg(0)
            if not number:
                raise CmsError(304)
            self.e.smsc = number
        return "OK"

    def cmgf(self, cmd: Command, info: list[str]) -> str:
        if cmd.kind == "read":
            info.append(f"+CMGF: {self.e.cmgf}")
        elif cmd.kind == "test":
            info.append("+CMGF: (0,1)")
        elif cmd.kind == "set":
            n = cmd.int_arg(0, 0)
            if n not in (0, 1):
                raise CmsError(302) if self.e.cmee else CmeError(0)
            self.e.cmgf = n
        else:
            self.e.cmgf = 0
        return "OK"

    def cscs(self, cmd: Command, info: list[str]) -> str:
        if cmd.kind == "read":
            info.append(f'+CSCS: "{self.e.cscs}"')
        elif cmd.kind == "test":
            info.append('+CSCS: ("GSM","IRA","UCS2","8859-1")')
        elif cmd.kind == "set":
            cs = (cmd.arg(0) or "").upper()
            if cs not in ("GSM", "IRA", "UCS2", "8859-1", "PCCP437"):
                raise CmeError(4)
            self.e.cscs = cs
        return "OK"

    def csms(self, cmd: Command, info: list[str]) -> str:
        if cmd.kind == "read":
            info.append(f"+CSMS: {self.e.csms},1,1,1")
        elif cmd.kind == "test":
            info.append("+CSMS: (0,1)")
        elif cmd.kind == "set":
            n = cmd.int_arg(0, 0)
            if n not in (0, 1):
                raise CmsError(303)
            self.e.csms = n
            info.append("+CSMS: 1,1,1")
        return "OK"

    def csmp(self, cmd: Command, info: list[str]) -> str:
        if cmd.kind == "read":
            info.append(f"+CSMP: {self.e.csmp_fo},167,0,0")
        elif cmd.kind == "set":
            self.e.csmp_fo = cmd.int_arg(0, 17) or 17
        return "OK"

    def csdh(self, cmd: Command, info: list[str]) -> str:
        if cmd.kind == "read":
            info.append(f"+CSDH: {self.e.csdh}")
        elif cmd.kind == "set":
            self.e.csdh = cmd.int_arg(0, 0) or 0
        return "OK"

    def _cpms_status(self) -> list[str]:
        st = self.e.storage
        return [f"{st.used(m)},{st.capacity[m]}" for m in self.e.cpms]

    def cpms(self, cmd: Command, info: list[str]) -> str:
        self.need_sim(sms=True)
        e = self.e
        if cmd.kind == "test":
            info.append('+CPMS: ("SM","ME","SR"),("SM","ME"),("SM","ME")')
        elif cmd.kind == "read":
            st = e.storage
            info.append("+CPMS: " + ",".join(f'"{m}",{st.used(m)},{st.capacity[m]}' for m in e.cpms))
        elif cmd.kind == "set":
            mems = [(a or "").upper() for a in cmd.args]
            if not 1 <= len(mems) <= 3 or mems[0] not in MEMS or any(m not in ("SM", "ME") for m in mems[1:]):
                raise CmsError(302)
            for i, m in enumerate(mems):
                e.cpms[i] = m
            info.append("+CPMS: " + ",".join(self._cpms_status()))
        else:
            raise CmsError(302)
        return "OK"

    def cnmi(self, cmd: Command, info: list[str]) -> str:
        e = self.e
        if cmd.kind == "read":
            info.append("+CNMI: " + ",".join(map(str, e.cnmi)))
        elif cmd.kind == "test":
            info.append("+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)")
        elif cmd.kind == "set":
            limits = ((0, 1, 2), (0, 1, 2, 3), (0, 2), (0, 1, 2), (0, 1))
            vals = [cmd.int_arg(i, e.cnmi[i] if i else 0) for i in range(5)]
            if len(cmd.args) > 5 or any(v not in lim for v, lim in zip(vals, limits, strict=True)):
                raise CmsError(303) if e.cmee else CmeError(0)
            e.cnmi = [int(v or 0) for v in vals]
            e.later(0.0, e.network.pump)
        return "OK"

    def cnma(self, cmd: Command, info: list[str]) -> str:
        if cmd.kind == "test":
            info.append("+CNMA: (0-2)")
            return "OK"
        n = cmd.int_arg(0, 0) if cmd.kind == "set" else 0
        if not self.e.network.ack(negative=n == 2):
            raise CmsError(340)
        return "OK"

    # ------------------------------------------------------------------ storage
    def _index(self, cmd: Command, mem: str) -> int:
        idx = cmd.int_arg(0)
        if idx is None or not self.e.storage.valid_index(mem, idx):
            raise CmsError(321)
        return idx

    def cmgl(self, cmd: Command, info: list[str]) -> str:
        self.need_sim(sms=True)
        e = self.e
        if cmd.kind == "test":
            info.append("+CMGL: (0-4)" if e.cmgf == 0 else
                        '+CMGL: ("REC UNREAD","REC READ","STO UNSENT","STO SENT","ALL")')
            return "OK"
        stat = self._stat_arg(cmd)
        mem = e.cpms[0]
        for m in e.storage.listing(mem, stat):
            if e.cmgf == 0:
                info.append(f"+CMGL: {m.index},{m.stat},,{m.length}")
                info.append(m.pdu)
            else:
                info.extend(format_listing(m, e.cscs))
            if m.stat == 0:
                e.storage.set_stat(mem, m.index, 1)
        return "OK"

    def _stat_arg(self, cmd: Command) -> int:
        if cmd.kind == "exec":
            return 0  # REC UNREAD
        a = cmd.arg(0)
        if self.e.cmgf == 1:
            names = {v: k for k, v in STAT_NAMES.items()}
            if a is None or a.upper() not in names:
                raise CmsError(305)
            return names[a.upper()]
        try:
            stat = int(a or "")
        except ValueError:
            raise CmsError(304) from None
        if stat not in STAT_NAMES:
            raise CmsError(304)
        return stat

    def cmgr(self, cmd: Command, info: list[str]) -> str:
        self.need_sim(sms=True)
        e = self.e
        if cmd.kind == "test":
            return "OK"
        mem = e.cpms[0]
        idx = self._index(cmd, mem)
        m = e.storage.get(mem, idx)
        if m is None:
            raise CmsError(321)
        if e.cmgf == 0:
            info.append(f"+CMGR: {m.stat},,{m.length}")
            info.append(m.pdu)
        else:
            info.extend(format_read(m, e.cscs))
        if m.stat == 0:
            e.storage.set_stat(mem, idx, 1)
        return "OK"

    def cmgd(self, cmd: Command, info: list[str]) -> str:
        self.need_sim(sms=True)
        e = self.e
        if cmd.kind == "test":
            used = sorted(e.storage.mems[e.cpms[0]])
            info.append(f"+CMGD: ({','.join(map(str, used))}),(0-4)")
            return "OK"
        if cmd.kind != "set":
            raise CmsError(302)
        mem = e.cpms[0]
        flag = cmd.int_arg(1, 0) or 0
        if flag not in (0, 1, 2, 3, 4):
            raise CmsError(302)
        if flag == 0:
            e.storage.delete(mem, self._index(cmd, mem))
        else:
            e.storage.delete_flag(mem, flag)
        e.notify("storage")
        e.later(0.0, e.network.pump)
        return "OK"

    # ------------------------------------------------------------------ sending and writing
    def cmgs(self, cmd: Command, info: list[str]) -> str | None:
        return self._open(cmd, "CMGS")

    def cmgw(self, cmd: Command, info: list[str]) -> str | None:
        return self._open(cmd, "CMGW")

    def _open(self, cmd: Command, which: str) -> str | None:
        from modembridge.sim.engine import Prompt

        self.need_sim(sms=True)
        e = self.e
        if cmd.kind == "test":
            return "OK"
        if cmd.kind != "set":
            raise CmsError(304 if e.cmgf == 0 else 305)
        if which == "CMGW" and e.storage.is_full(e.cpms[1]):
            raise CmsError(322)
        if e.cmgf == 0:
            length = cmd.int_arg(0)
            if length is None or not 1 <= length <= 164:
                raise CmsError(304)
            stat = cmd.int_arg(1, STO_UNSENT) if which == "CMGW" else STO_UNSENT
            e.open_prompt(Prompt(which, length, None, stat if stat in (2, 3) else STO_UNSENT))  # type: ignore[arg-type]
        else:
            address = cmd.arg(0)
            if not address:
                raise CmsError(305)
            e.open_prompt(Prompt(which, None, address))  # type: ignore[arg-type]
        return None

    def prompt_done(self, prompt: Prompt, body: bytes) -> None:
        """Ctrl-Z ended the '> ' input."""
        e = self.e
        if e.cmgf == 0:
            pdu = body.strip()
            if not HEX.match(pdu) or len(pdu) % 2 or len(pdu) < 4:
                e.respond([], cms_result(304, e.cmee))
                return
            raw = bytes.fromhex(pdu.decode())
            smsc_len = raw[0]
            if prompt.length is None or len(raw) != 1 + smsc_len + prompt.length:
                e.respond([], cms_result(304, e.cmee))
                return
            hexpdu = pdu.decode().upper()
            if prompt.command == "CMGW":
                self._write(hexpdu, prompt.length, prompt.stat)
                return
            e.network.submit_pdu(hexpdu)
            return
        text = text_from_charset(body.decode("latin-1"), e.cscs)
        assert prompt.address is not None
        if prompt.command == "CMGW":
            e.respond([], cms_result(303, e.cmee))  # text-mode CMGW is not simulated
            return
        e.network.submit_text(prompt.address, text)

    def _write(self, hexpdu: str, length: int, stat: int) -> None:
        e = self.e
        idx = e.storage.store(e.cpms[1], stat, hexpdu, length)
        if idx is None:
            e.respond([], cms_result(322, e.cmee))
            return
        e.notify("storage")
        e.respond([f"+CMGW: {idx}"], "OK")

    def cmss(self, cmd: Command, info: list[str]) -> str | None:
        self.need_sim(sms=True)
        e = self.e
        if cmd.kind == "test":
            return "OK"
        mem = e.cpms[1]
        idx = self._index(cmd, mem)
        m = e.storage.get(mem, idx)
        if m is None or m.stat not in (STO_UNSENT, STO_SENT):
            raise CmsError(321)
        e.network.submit_pdu(m.pdu, stored=(mem, idx))
        return None

