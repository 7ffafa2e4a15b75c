"""The web side: the aiohttp server (native API, Kannel sendsms, operations) and the router client."""

from .client import DlrClient, RouterClient
from .metrics import Metrics
from .server import create_app, start_server

__all__ = ["DlrClient", "Metrics", "RouterClient", "create_app", "start_server"]
