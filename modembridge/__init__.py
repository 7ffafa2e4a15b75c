"""modembridge: a threadless GSM-modem SMS gateway for HTTP-routed SMS applications."""

__version__ = "0.1.0"
