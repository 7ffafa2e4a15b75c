"""Configuration: the typed settings every part of modembridge reads, their schema, loader and docs.

- schema.py: the sections as frozen dataclasses; each field carries its default, check and documentation.
- checks.py: the value checks, and ``parse_listen``, the one parser of ``host:port`` listen addresses.
- loader.py: TOML file + MODEMBRIDGE_* environment -> Config, with errors naming file, key and reason.
- docs.py: the example file and the reference tables in docs/configuration.md, generated from the schema.
"""

from typing import TYPE_CHECKING

from .checks import BAUD_RATES, LOG_LEVELS, is_loopback, modem_profiles, parse_listen
from .loader import ENV_PREFIX, ConfigError, config_from_dict, env_name, load_config
from .schema import (
    Config,
    DlrConfig,
    FleetConfig,
    HttpConfig,
    InboundConfig,
    KannelConfig,
    ModemConfig,
    OutboundConfig,
    RetryPolicy,
    RouterConfig,
    StoreConfig,
)

if TYPE_CHECKING:
    from .docs import example_config


def __getattr__(name: str) -> object:
    """`example_config` (docs.py) is loaded when first asked for: the daemon never needs it (~1 MB)."""
    if name == "example_config":
        from .docs import example_config

        return example_config
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BAUD_RATES",
    "ENV_PREFIX",
    "LOG_LEVELS",
    "Config",
    "ConfigError",
    "DlrConfig",
    "FleetConfig",
    "HttpConfig",
    "InboundConfig",
    "KannelConfig",
    "ModemConfig",
    "OutboundConfig",
    "RetryPolicy",
    "RouterConfig",
    "StoreConfig",
    "config_from_dict",
    "env_name",
    "example_config",
    "is_loopback",
    "load_config",
    "modem_profiles",
    "parse_listen",
]
