"""The web side: the aiohttp server (native API, Kannel sendsms, operations) and the clients of the router and
the dlr-urls, on their own HTTP/1.1 transport."""

from .client import DlrClient, RouterClient
from .server import create_app
from .serving import start_server
from .transport import HttpTransport

__all__ = ["DlrClient", "HttpTransport", "RouterClient", "create_app", "start_server"]
