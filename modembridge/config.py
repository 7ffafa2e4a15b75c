"""Configuration: the typed settings every part of modembridge reads.

The TOML loader and validation live at the bottom (``load_config``); defaults here are the
documented defaults (see the README, "Configuration reference").
"""

from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import os
import re
import tomllib
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter and a cap; max_attempts 0 = forever."""

    initial: float = 2.0  # seconds before the first retry
    factor: float = 2.0
    cap: float = 300.0  # never wait longer than this between attempts
    max_attempts: int = 0  # 0 = retry forever; else the entry becomes `dead` after this many


@dataclass(frozen=True)
class StoreConfig:
    path: str = "modembridge.db"
    synchronous: Literal["FULL", "NORMAL"] = "FULL"


@dataclass(frozen=True)
class KannelConfig:
    username: str = ""
    password: str = ""  # empty username and password = Kannel sendsms disabled


@dataclass(frozen=True)
class HttpConfig:
    listen: str = "127.0.0.1:13013"
    api_token: str = ""  # bearer token for /api/v1; empty = native API disabled
    kannel: KannelConfig = field(default_factory=KannelConfig)
    max_body_bytes: int = 64 * 1024
    max_parts: int = 10  # longest text accepted, in SMS parts
    status_token: str = ""  # optional token for /status and /metrics; empty = open on loopback


@dataclass(frozen=True)
class RouterConfig:
    url: str = ""  # empty = no router: inbound messages stay in the journal as received
    format: Literal["kannel", "generic", "json"] = "kannel"
    url_template: str = ""  # optional Kannel get-url style template (%p %a %t %i ...), overrides url for GET
    identity_field: str = "identity"  # generic format field names
    text_field: str = "text"
    timeout: float = 10.0  # seconds per request (RapidSMS has none of its own)
    hmac_secret: str = ""  # when set: X-Timestamp and X-Signature (HMAC-SHA256 of timestamp + "." + body)
    concurrency: int = 4  # requests in flight to the router
    retry: RetryPolicy = field(default_factory=RetryPolicy)


@dataclass(frozen=True)
class DlrConfig:
    timeout: float = 10.0
    retry: RetryPolicy = field(default_factory=lambda: RetryPolicy(max_attempts=20))


@dataclass(frozen=True)
class ModemConfig:
    id: str
    port: str
    baud: int = 115200
    pin: str = ""
    profile: str = "auto"  # auto | generic | huawei | sim800 | quectel
    storage: str = "SM"  # preferred message storage
    # stored: the modem stores each SMS and announces it (+CMTI); read, journalled, then deleted.
    # direct: the modem passes each SMS inside a +CMT URC, acknowledged with AT+CNMA once journalled: one
    # serial round trip less per message; falls back to stored if the modem refuses it.
    indication: Literal["stored", "direct"] = "stored"
    command_timeout: float = 5.0  # silence after a command that means "no answer" (longer answers may stream)
    send_timeout: float = 60.0  # AT+CMGS may take this long on a congested network
    ping_interval: float = 5.0  # a bare AT after this long without an answer from the modem: hangs show fast
    health_interval: float = 30.0  # signal / registration poll
    sweep_interval: float = 60.0  # CMGL sweep for messages a lost URC stranded
    smsc: str = ""  # override the SIM's service centre number; empty = the SIM's own


@dataclass(frozen=True)
class InboundConfig:
    reassembly_timeout: float = 600.0  # deliver an incomplete concatenated message after this many seconds


@dataclass(frozen=True)
class OutboundConfig:
    expiry: float = 86400.0  # a message not sent within this many seconds fails instead of being sent late
    unknown_policy: Literal["resend", "fail"] = "fail"  # a part whose AT+CMGS was unconfirmed at a crash
    retry: RetryPolicy = field(default_factory=lambda: RetryPolicy(initial=5.0, cap=600.0))


@dataclass(frozen=True)
class Config:
    modems: tuple[ModemConfig, ...]
    store: StoreConfig = field(default_factory=StoreConfig)
    http: HttpConfig = field(default_factory=HttpConfig)
    router: RouterConfig = field(default_factory=RouterConfig)
    dlr: DlrConfig = field(default_factory=DlrConfig)
    inbound: InboundConfig = field(default_factory=InboundConfig)
    outbound: OutboundConfig = field(default_factory=OutboundConfig)
    log_level: str = "INFO"
    source: str = "<defaults>"  # the file it was loaded from, for error messages


# --------------------------------------------------------------------------------------------------------
# Loader: TOML file + environment overrides -> Config, validated with errors naming file, key and reason.


ENV_PREFIX = "MODEMBRIDGE_"
MODEM_PROFILES = ("auto", "generic", "huawei", "sim800", "quectel")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
BAUD_RATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 500000, 576000, 921600,
              1000000, 1152000, 1500000, 2000000, 3000000, 4000000)
_TOML_NAMES = {"modems": "modem"}  # Config field -> TOML key
_NOT_IN_FILE = {"source"}
_MODEM_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")


class ConfigError(ValueError):
    """A configuration problem; the message names the file, the key and the reason."""


def parse_listen(listen: str) -> tuple[str, int]:
    """'host:port' or '[v6]:port' -> (host, port). ValueError with the reason when malformed."""
    m = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:(\d{1,5})|([^:\[\]\s]+):(\d{1,5})", listen.strip())
    if m is None:
        raise ValueError(f"{listen!r} is not host:port (IPv6 as [addr]:port)")
    host = m.group(1) or m.group(3)
    port = int(m.group(2) or m.group(4))
    if port > 65535:
        raise ValueError(f"port {port} is out of range 0-65535")
    if m.group(1):
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"{host!r} is not an IPv6 address") from None
    return host, port


def is_loopback(listen: str) -> bool:
    """Whether the listen address is reachable from this host only (127.0.0.0/8, ::1, localhost)."""
    host, _ = parse_listen(listen)
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate a TOML config file, then apply MODEMBRIDGE_* environment overrides.

    Relative store paths resolve against the file's folder. Raises ConfigError.
    """
    file = Path(path)
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"{file}: cannot read the config file: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{file}: not UTF-8 text: {e.reason}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{file}: not valid TOML: {e}") from None
    return config_from_dict(raw, source=str(file), base_dir=file.resolve().parent,
                            env=os.environ if env is None else env)


def config_from_dict(raw: Mapping[str, object], *, source: str = "<dict>", base_dir: Path | None = None,
                     env: Mapping[str, str] | None = None) -> Config:
    """Validate an already parsed TOML document (see load_config)."""
    loader = _Loader(source, dict(raw), env or {})
    cfg = loader.build()
    if base_dir is not None and cfg.store.path != ":memory:" and not Path(cfg.store.path).is_absolute():
        store = dataclasses.replace(cfg.store, path=str(base_dir / cfg.store.path))
        cfg = dataclasses.replace(cfg, store=store)
    return cfg


class _Loader:
    def __init__(self, source: str, raw: dict[str, object], env: Mapping[str, str]) -> None:
        self.source = source
        self.raw = raw
        self.env = env
        self.from_env: dict[str, str] = {}  # dotted key -> environment variable that set it

    def fail(self, key: str, reason: str) -> typing.NoReturn:
        origin = f" (from environment variable {self.from_env[key]})" if key in self.from_env else ""
        raise ConfigError(f"{self.source}: {key}{origin}: {reason}")

    def build(self) -> Config:
        self.apply_env()
        cfg = self.convert(Config, self.raw, "")
        assert isinstance(cfg, Config)
        if not cfg.modems:
            self.fail("modem", "at least one [[modem]] is required")
        seen: set[str] = set()
        for i, m in enumerate(cfg.modems):
            if m.id in seen:
                self.fail(f"modem[{i}].id", f"duplicate modem id {m.id!r}")
            seen.add(m.id)
        return dataclasses.replace(cfg, source=self.source)

    # -- environment -------------------------------------------------------------------------------------

    def apply_env(self) -> None:
        """MODEMBRIDGE_<SECTION>_<KEY> (dots to underscores, upper case) overrides scalar keys;
        MODEMBRIDGE_MODEM_<ID>_<KEY> those of the modem with that id."""
        targets: dict[str, tuple[tuple[str | int, ...], type | object]] = {}
        for dotted, hint in _scalar_keys(Config, ""):
            targets[ENV_PREFIX + dotted.replace(".", "_").upper()] = (tuple(dotted.split(".")), hint)
        modems = self.raw.get("modem")
        if isinstance(modems, list):
            for i, m in enumerate(modems):
                if isinstance(m, dict) and isinstance(m.get("id"), str):
                    mid = re.sub(r"\W", "_", m["id"]).upper()
                    for dotted, hint in _scalar_keys(ModemConfig, ""):
                        if dotted != "id":
                            env_name = f"{ENV_PREFIX}MODEM_{mid}_{dotted.upper()}"
                            targets[env_name] = (("modem", i, dotted), hint)
        sections = {f.name.upper() for f in dataclasses.fields(Config)} | {"MODEM"}
        for name in sorted(self.env):
            if not name.startswith(ENV_PREFIX):
                continue
            value = self.env[name]
            if name not in targets:
                if name[len(ENV_PREFIX):].split("_", 1)[0] in sections and "_" in name[len(ENV_PREFIX):]:
                    raise ConfigError(f"{self.source}: environment variable {name}: no such setting")
                continue
            keys, hint = targets[name]
            node: typing.Any = self.raw
            for k in keys[:-1]:
                if isinstance(k, int):
                    node = node[k]  # a modem table: checked above
                elif isinstance(node.get(k, {}), dict | list):
                    node = node.setdefault(k, {})
                else:
                    break  # wrong type in the file: reported by convert()
            else:
                node[keys[-1]] = self.parse_env(name, value, hint, _dotted(keys))
                self.from_env[_dotted(keys)] = name

    def parse_env(self, name: str, value: str, hint: object, key: str) -> object:
        origin = typing.get_origin(hint)
        try:
            if hint is bool:
                low = value.strip().lower()
                if low in ("1", "true", "yes", "on"):
                    return True
                if low in ("0", "false", "no", "off"):
                    return False
                raise ValueError("expected true or false")
            if hint is int:
                return int(value.strip())
            if hint is float:
                return float(value.strip())
        except ValueError as e:
            what = {bool: "true or false", int: "an integer", float: "a number"}.get(hint, str(e))  # type: ignore
            raise ConfigError(f"{self.source}: {key} (from environment variable {name}): expected {what},"
                              f" got {value!r}") from None
        if hint is str or origin is typing.Literal:
            return value
        raise ConfigError(f"{self.source}: {key} (from environment variable {name}): cannot be set from the"
                          " environment")

    # -- conversion --------------------------------------------------------------------------------------

    def convert(self, hint: object, value: object, key: str) -> object:
        origin = typing.get_origin(hint)
        if dataclasses.is_dataclass(hint) and isinstance(hint, type):
            return self.convert_dataclass(hint, value, key)
        if origin is tuple:
            item = typing.get_args(hint)[0]
            if not isinstance(value, list):
                self.fail(key, f"expected an array of tables ([[{key}]]), got {_kind(value)}")
            return tuple(self.convert(item, v, f"{key}[{i}]") for i, v in enumerate(value))
        if origin is typing.Literal:
            choices = typing.get_args(hint)
            if isinstance(value, str) and key.endswith(("synchronous",)):
                value = value.upper()
            if value not in choices:
                self.fail(key, f"must be one of {', '.join(repr(c) for c in choices)}, not {value!r}")
            return value
        if hint is bool:
            if not isinstance(value, bool):
                self.fail(key, f"expected true or false, got {_kind(value)}")
            return value
        if hint is int:
            if isinstance(value, bool) or not isinstance(value, int):
                self.fail(key, f"expected an integer, got {_kind(value)}")
            return value
        if hint is float:
            if isinstance(value, bool) or not isinstance(value, int | float):
                self.fail(key, f"expected a number, got {_kind(value)}")
            return float(value)
        if hint is str:
            if not isinstance(value, str):
                self.fail(key, f"expected a string, got {_kind(value)}")
            return value
        raise TypeError(f"config loader cannot handle {hint!r} at {key}")  # a programming error

    def convert_dataclass(self, cls: type, value: object, key: str) -> object:
        if not isinstance(value, dict):
            self.fail(key or "<top level>", f"expected a table, got {_kind(value)}")
        hints = typing.get_type_hints(cls)
        fields = {_TOML_NAMES.get(f.name, f.name): f for f in dataclasses.fields(cls)
                  if f.name not in _NOT_IN_FILE}
        for k in value:
            if k not in fields:
                close = difflib.get_close_matches(str(k), list(fields), n=1)
                hint_ = f" (did you mean {close[0]!r}?)" if close else ""
                self.fail(_join(key, k), f"unknown key{hint_}")
        kwargs: dict[str, object] = {}
        missing: list[str] = []
        for name, f in fields.items():
            sub = _join(key, name)
            if name in value:
                converted = self.convert(hints[f.name], value[name], sub)
                check = _CHECKS.get(re.sub(r"\[\d+\]", "", sub))
                if check is not None:
                    try:
                        converted = check(converted)
                    except ValueError as e:
                        self.fail(sub, str(e))
                kwargs[f.name] = converted
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                missing.append(name)
        for name in missing:  # after the keys present, so their errors come first
            self.fail(_join(key, name), "at least one [[modem]] is required" if name == "modem"
                      else "required key is missing")
        obj = cls(**kwargs)
        if cls is RetryPolicy:
            assert isinstance(obj, RetryPolicy)
            if obj.cap < obj.initial:
                self.fail(_join(key, "cap"), f"must be at least initial ({obj.initial:g})")
        return obj


def _scalar_keys(cls: type, prefix: str) -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name in _NOT_IN_FILE or f.name == "modems":
            continue
        hint = hints[f.name]
        if dataclasses.is_dataclass(hint) and isinstance(hint, type):
            out += _scalar_keys(hint, _join(prefix, f.name))
        else:
            out.append((_join(prefix, f.name), hint))
    return out


def _join(prefix: str, name: object) -> str:
    return f"{prefix}.{name}" if prefix else str(name)


def _dotted(keys: tuple[str | int, ...]) -> str:
    out = ""
    for k in keys:
        out = f"{out}[{k}]" if isinstance(k, int) else _join(out, k)
    return out


def _kind(value: object) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "an array",
             dict: "a table"}
    shown = isinstance(value, int | float | str) and not isinstance(value, bool)
    return names.get(type(value), type(value).__name__) + (f" ({value!r})" if shown else "")


# -- value checks (after type conversion), by dotted key without array indexes ----------------------------

def _positive(v: object) -> object:
    if not isinstance(v, int | float) or v <= 0:
        raise ValueError(f"must be greater than 0, not {v!r}")
    return v


def _non_negative(v: object) -> object:
    if not isinstance(v, int | float) or v < 0:
        raise ValueError(f"must not be negative, not {v!r}")
    return v


def _at_least_one(v: object) -> object:
    if not isinstance(v, int | float) or v < 1:
        raise ValueError(f"must be at least 1, not {v!r}")
    return v


def _non_empty(v: object) -> object:
    if not isinstance(v, str) or not v.strip():
        raise ValueError("must not be empty")
    return v


def _listen(v: object) -> object:
    assert isinstance(v, str)
    parse_listen(v)
    return v.strip()


def _url(v: object) -> object:
    assert isinstance(v, str)
    if v and not re.match(r"^https?://[^/\s?#]+", v):
        raise ValueError(f"must be an http:// or https:// URL (or empty), not {v!r}")
    return v


def _max_parts(v: object) -> object:
    if not isinstance(v, int) or not 1 <= v <= 255:
        raise ValueError(f"must be between 1 and 255, not {v!r}")
    return v


def _modem_id(v: object) -> object:
    if not isinstance(v, str) or not _MODEM_ID.match(v):
        raise ValueError(f"must be 1-32 letters, digits, '_', '-' or '.' (starting with a letter or digit),"
                         f" not {v!r}")
    return v


def _baud(v: object) -> object:
    if v not in BAUD_RATES:
        raise ValueError(f"{v!r} is not a standard baud rate ({', '.join(map(str, BAUD_RATES))})")
    return v


def _pin(v: object) -> object:
    if not isinstance(v, str) or not re.fullmatch(r"(\d{4,8})?", v):
        raise ValueError("must be empty or 4 to 8 digits")
    return v


def _profile(v: object) -> object:
    if v not in MODEM_PROFILES:
        raise ValueError(f"must be one of {', '.join(MODEM_PROFILES)}, not {v!r}")
    return v


def _storage(v: object) -> object:
    if not isinstance(v, str) or not re.fullmatch(r"[A-Z]{2}", v.upper()):
        raise ValueError(f"must be a two-letter memory name such as SM, ME or MT, not {v!r}")
    return v.upper()


def _smsc(v: object) -> object:
    if not isinstance(v, str) or not re.fullmatch(r"(\+?\d{3,20})?", v):
        raise ValueError(f"must be empty or a phone number such as +254722500029, not {v!r}")
    return v


def _factor(v: object) -> object:
    if not isinstance(v, int | float) or v < 1:
        raise ValueError(f"must be at least 1, not {v!r}")
    return v


def _log_level(v: object) -> object:
    if not isinstance(v, str) or v.upper() not in LOG_LEVELS:
        raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}, not {v!r}")
    return v.upper()


_CHECKS: dict[str, Callable[[object], object]] = {
    "store.path": _non_empty,
    "http.listen": _listen,
    "http.max_body_bytes": _positive,
    "http.max_parts": _max_parts,
    "router.url": _url,
    "router.timeout": _positive,
    "router.concurrency": _at_least_one,
    "dlr.timeout": _positive,
    "modem.id": _modem_id,
    "modem.port": _non_empty,
    "modem.baud": _baud,
    "modem.pin": _pin,
    "modem.profile": _profile,
    "modem.storage": _storage,
    "modem.command_timeout": _positive,
    "modem.send_timeout": _positive,
    "modem.ping_interval": _positive,
    "modem.health_interval": _positive,
    "modem.sweep_interval": _positive,
    "modem.smsc": _smsc,
    "inbound.reassembly_timeout": _positive,
    "outbound.expiry": _positive,
    "log_level": _log_level,
}
for _section in ("router.retry", "dlr.retry", "outbound.retry"):
    _CHECKS[f"{_section}.initial"] = _positive
    _CHECKS[f"{_section}.factor"] = _factor
    _CHECKS[f"{_section}.cap"] = _positive
    _CHECKS[f"{_section}.max_attempts"] = _non_negative
del _section


_EXAMPLE = '''\
# modembridge configuration (TOML). Every key is optional unless marked required; the values shown are
# the defaults. Secrets can come from the environment instead: MODEMBRIDGE_HTTP_API_TOKEN,
# MODEMBRIDGE_HTTP_KANNEL_PASSWORD, MODEMBRIDGE_ROUTER_URL, MODEMBRIDGE_ROUTER_HMAC_SECRET
# (generally MODEMBRIDGE_<SECTION>_<KEY>, and MODEMBRIDGE_MODEM_<ID>_<KEY> for a modem's keys).

log_level = "INFO"                 # DEBUG | INFO | WARNING | ERROR | CRITICAL

[store]
path = "modembridge.db"            # the journal (SQLite); relative to this file's folder
synchronous = "FULL"               # FULL: a committed message survives a power cut; NORMAL: only a crash

[http]
listen = "127.0.0.1:13013"         # a non-loopback address is allowed but logged as a warning
api_token = "change-me"            # bearer token for the native API (/api/v1); empty = API disabled
max_body_bytes = 65536
max_parts = 10                     # longest text accepted, in SMS parts
status_token = ""                  # token for /status and /metrics; empty = open

[http.kannel]                      # the Kannel-compatible /cgi-bin/sendsms; empty user and password = off
username = "rapidsms"
password = "change-me"

[router]                           # where inbound SMS go (the RapidSMS backend URL); empty url = keep them
url = "http://127.0.0.1:8000/backend/kannel-bridge/"
format = "kannel"                  # kannel | generic | json
url_template = ""                  # Kannel get-url style template (%p %a %t %i ...), overrides url
identity_field = "identity"        # field names for format = "generic"
text_field = "text"
timeout = 10.0                     # seconds per request
hmac_secret = ""                   # set: requests carry X-Timestamp and X-Signature (HMAC-SHA256)
concurrency = 4                    # requests in flight

[router.retry]                     # 5xx / timeouts: exponential backoff with full jitter
initial = 2.0
factor = 2.0
cap = 300.0
max_attempts = 0                   # 0 = forever

[dlr]                              # delivery-report callbacks to dlr-url
timeout = 10.0

[dlr.retry]
initial = 2.0
factor = 2.0
cap = 300.0
max_attempts = 20

[inbound]
reassembly_timeout = 600.0         # deliver a concatenated message with parts missing after this long

[outbound]
expiry = 86400.0                   # a message not sent within this many seconds fails
unknown_policy = "fail"            # a part whose AT+CMGS was unconfirmed at a crash: fail | resend

[outbound.retry]
initial = 5.0
factor = 2.0
cap = 600.0
max_attempts = 0

[[modem]]                          # one table per modem; at least one is required
id = "gsm0"                        # required: unique, letters/digits/_-.
port = "/dev/gsm0"                 # required: a stable udev name, not /dev/ttyUSBn
baud = 115200
pin = ""                           # SIM PIN if the SIM asks for one
profile = "auto"                   # auto | generic | huawei | sim800 | quectel
storage = "SM"                     # preferred message storage
indication = "stored"              # stored (+CMTI, read, delete) | direct (+CMT, ack with AT+CNMA)
command_timeout = 5.0              # silence after a command that means "no answer"
send_timeout = 60.0                # AT+CMGS may take this long on a congested network
ping_interval = 5.0                # a bare AT when the modem said nothing for this long
health_interval = 30.0             # signal / registration poll
sweep_interval = 60.0              # CMGL sweep for messages a lost URC stranded
smsc = ""                          # override the SIM's service centre number
'''


def example_config() -> str:
    """A commented example config file showing every key with its default."""
    return _EXAMPLE
