"""The simulated GSM modem: an AT state machine (engine.py) on a pseudo-terminal (transport.py) with a
loopback HTTP control API (control.py). ``SimModem`` (harness.py) runs one in-process for async tests."""
