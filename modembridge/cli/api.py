"""Talking to the running daemon's HTTP API (`send`, `status`): where it is, its tokens, one request.

Synchronous and light to import (urllib): the URL comes from --url, else http.listen in --config, else
DEFAULT_URL; the tokens from the command line, the environment, then the config, in that order.
"""

from __future__ import annotations

import argparse
import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from modembridge.cli.common import EXIT_UNREACHABLE, CliError, read_config
from modembridge.config import parse_listen

DEFAULT_URL = "http://127.0.0.1:13013"
TOKEN_ENV = ("MODEMBRIDGE_API_TOKEN", "MODEMBRIDGE_HTTP_API_TOKEN")
STATUS_TOKEN_ENV = ("MODEMBRIDGE_STATUS_TOKEN", "MODEMBRIDGE_HTTP_STATUS_TOKEN")


@dataclass(frozen=True)
class Endpoint:
    url: str  # base URL, no trailing slash
    api_token: str  # from the environment, else the config ("" = none)
    status_token: str


def url_for_listen(listen: str) -> str:
    """The URL to reach a daemon listening on `listen` (a wildcard address is reached on loopback)."""
    host, port = parse_listen(listen)
    if host in ("0.0.0.0", "*"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def add_endpoint_args(parser: argparse.ArgumentParser, token: bool) -> None:
    """--url and --config (and, with `token`, --token for the API token between them)."""
    parser.add_argument("--url", help=f"the daemon's base URL (default: from --config, else {DEFAULT_URL})")
    if token:
        parser.add_argument(
            "--token", help="API bearer token (default: env MODEMBRIDGE_API_TOKEN, or --config)"
        )
    parser.add_argument(
        "--config", metavar="FILE", help="the daemon's config: read http.listen and the tokens"
    )


def endpoint(args: argparse.Namespace) -> Endpoint:
    """Where the daemon is and its tokens, from --url, the environment and --config (a --token given on the
    command line is the command's to prefer)."""
    listen = api_token = status_token = ""
    if args.config:
        http = read_config(args.config).http
        listen, api_token, status_token = http.listen, http.api_token, http.status_token
    url = args.url or (url_for_listen(listen) if listen else DEFAULT_URL)
    return Endpoint(url.rstrip("/"), _env(TOKEN_ENV) or api_token, _env(STATUS_TOKEN_ENV) or status_token)


def _env(names: tuple[str, ...]) -> str:
    return next((os.environ[k] for k in names if os.environ.get(k)), "")


def http_json(
    method: str, url: str, *, token: str = "", body: Any = None, timeout: float = 30.0
) -> tuple[int, Any]:
    """One request; returns (status, decoded JSON or text). Raises CliError(EXIT_UNREACHABLE) if no daemon."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Accept": "application/json", "User-Agent": "modembridge-cli"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, raw, ctype = resp.status, resp.read(), resp.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        status, raw, ctype = exc.code, exc.read(), exc.headers.get("Content-Type", "")
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, ConnectionRefusedError):
            raise CliError(
                f"cannot connect to {url}: connection refused — is the daemon running? "
                "(`supervisorctl status modembridge` / `systemctl status modembridge`)",
                EXIT_UNREACHABLE,
            ) from exc
        raise CliError(f"cannot reach {url}: {reason}", EXIT_UNREACHABLE) from exc
    except (TimeoutError, OSError) as exc:
        raise CliError(f"cannot reach {url}: {exc}", EXIT_UNREACHABLE) from exc
    text = raw.decode("utf-8", errors="replace")
    if "json" in ctype:
        try:
            return status, json.loads(text)
        except ValueError:
            pass
    return status, text


def _server_error(payload: Any) -> str:
    if isinstance(payload, dict):
        error = payload.get("error") or payload.get("message") or json.dumps(payload)
        field = payload.get("field")
        return f"{error} (field {field!r})" if field else str(error)
    return str(payload).strip()[:300] or "(empty answer)"


def refused(status: int, payload: Any, what: str) -> CliError:
    """The daemon said no: the error to print, with what to do about a 401/403/404."""
    if status == 401:
        hint = "set --token, MODEMBRIDGE_API_TOKEN, or --config pointing at the daemon's config"
        return CliError(f"{what}: 401 unauthorized: the API token is missing or wrong ({hint})")
    if status == 403:
        return CliError(f"{what}: 403 forbidden: {_server_error(payload)}")
    if status == 404:
        return CliError(f"{what}: 404 not found: {_server_error(payload)} (is the URL a modembridge?)")
    return CliError(f"{what}: HTTP {status}: {_server_error(payload)}")
