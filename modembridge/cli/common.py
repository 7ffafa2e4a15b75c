"""What the operator commands share: one-line failures with an exit code, and reading the daemon's config.

Exit codes: 0 done, 1 refused (HTTP 4xx/5xx, unknown id, nothing to do), 3 daemon unreachable,
4 configuration or journal unusable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modembridge.config import Config

EXIT_REFUSED, EXIT_UNREACHABLE, EXIT_CONFIG = 1, 3, 4


class CliError(Exception):
    """A failure to report to the operator as one line (`modembridge <command>: <message>` on stderr);
    `code` is the exit status. main() prints it."""

    def __init__(self, message: str, code: int = EXIT_REFUSED) -> None:
        super().__init__(message)
        self.code = code


def read_config(path: str) -> Config:
    """The daemon's config file, validated, environment overrides applied; CliError(EXIT_CONFIG) if not."""
    from modembridge.config import ConfigError, load_config

    try:
        return load_config(path)
    except (ConfigError, OSError) as exc:  # ConfigError names the file and key
        raise CliError(f"config: {exc}", EXIT_CONFIG) from exc
