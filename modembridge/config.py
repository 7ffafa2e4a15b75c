"""Configuration: the typed settings every part of modembridge reads.

The TOML loader and validation live at the bottom (``load_config``); defaults here are the
documented defaults (see docs/config.md / README config reference).
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
    command_timeout: float = 10.0
    send_timeout: float = 60.0  # AT+CMGS may take this long on a congested network
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
