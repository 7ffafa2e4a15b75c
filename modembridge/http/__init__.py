"""The web side: the aiohttp server (native API, Kannel sendsms, operations) and the router client."""

from .client import DlrClient, RouterClient
from .server import create_app
from .serving import start_server

__all__ = ["DlrClient", "RouterClient", "create_app", "start_server"]
