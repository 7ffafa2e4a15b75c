"""Vendor profiles for the simulated modem: identity strings and the quirks that differ per vendor."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Profile:
    name: str
    manufacturer: str
    model: str
    revision: str
    ati: tuple[str, ...]
    # Lines emitted at power-up (after boot_delay) and after a restart (CFUN=1,1 / fault). Input before the
    # banner is ignored (SIMCom: nothing is answered before RDY).
    boot_lines: tuple[str, ...] = ()
    restart_lines: tuple[str, ...] = ("RDY",)
    boot_delay: float = 0.0
    # Final result for an unknown command (None: ERROR / +CME ERROR per CMEE).
    unknown_result: str | None = None
    # Spontaneous vendor noise: candidate lines, and the probability of one landing inside a response.
    noise_lines: tuple[str, ...] = ()
    noise_in_response: float = 0.0
    noise_interval: float = 0.0  # mean seconds between spontaneous noise lines (0: none)
    # Status reports always stored in SR and announced with +CDSI, whatever CNMI ds asks (Quectel).
    reports_always_stored: bool = False
    index_base: int = 1
    memory_full_urc: str | None = None  # said once when an inbound message finds the memory full
    ccid_prefix: str = "+CCID: "
    extra_ok: frozenset[str] = field(default_factory=frozenset)


GENERIC = Profile(
    name="generic",
    manufacturer="SIMULATED",
    model="SIM-GSM-1",
    revision="1.0.0",
    ati=("SIMULATED SIM-GSM-1", "Revision: 1.0.0"),
)

HUAWEI = Profile(
    name="huawei",
    manufacturer="huawei",
    model="E173",
    revision="11.126.85.00.209",
    ati=("Manufacturer: huawei", "Model: E173", "Revision: 11.126.85.00.209", "IMEI: 356789012345678",
         "+GCAP: +CGSM,+DS,+ES"),
    restart_lines=("^SYSSTART",),
    unknown_result="COMMAND NOT SUPPORT",
    noise_lines=("^RSSI:17", "^RSSI:21", "^MODE:5,4", "^MODE:3,3", "^BOOT:20195929,0,0,0,72",
                 "^DSFLOWRPT:00000010,00000000,00000000,0000000000000000,0000000000000000,0000BB80,0000BB80",
                 "^SRVST:2", "^SIMST:1"),
    noise_in_response=0.25,
    noise_interval=3.0,
    index_base=0,
    memory_full_urc='^SMMEMFULL:"SM"',
    extra_ok=frozenset({"^CURC", "^PORTSEL", "^U2DIAG"}),
)

SIM800 = Profile(
    name="sim800",
    manufacturer="SIMCOM_Ltd",
    model="SIMCOM_SIM800L",
    revision="Revision:1418B04SIM800L24",
    ati=("SIM800 R14.18",),
    boot_lines=("RDY", "+CFUN: 1", "+CPIN: READY", "Call Ready", "SMS Ready"),
    restart_lines=("RDY", "+CFUN: 1", "+CPIN: READY", "Call Ready", "SMS Ready"),
    boot_delay=0.3,
    memory_full_urc="+CIEV: \"SMSFULL\",1",
    ccid_prefix="",
)

QUECTEL = Profile(
    name="quectel",
    manufacturer="Quectel",
    model="EC25",
    revision="EC25EFAR06A06M4G",
    ati=("Quectel", "EC25", "Revision: EC25EFAR06A06M4G"),
    boot_lines=("RDY", "+CFUN: 1", "+CPIN: READY", "+QUSIM: 1", "+QIND: SMS DONE"),
    restart_lines=("RDY", "+CFUN: 1", "+CPIN: READY", "+QUSIM: 1", "+QIND: SMS DONE"),
    reports_always_stored=True,
    extra_ok=frozenset({"+QURCCFG", "+QCFG"}),
)

PROFILES: dict[str, Profile] = {p.name: p for p in (GENERIC, HUAWEI, SIM800, QUECTEL)}


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}; choose one of {', '.join(PROFILES)}") from None
