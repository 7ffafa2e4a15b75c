"""The "simple wrapper" a user might write instead of modembridge: python-gsmmodem-new + the standard library.

    python bench/peers/gsmmodem_bridge.py --device /dev/gsm0 --router http://127.0.0.1:8000/backend/x/ \
        --listen 127.0.0.1:0      # prints "READY port=N" once the modem is set up and HTTP listens

Inbound: GsmModem's smsReceivedCallbackFunc (it reads +CMTI, AT+CMGR, AT+CMGD, then calls us) GETs the
router Kannel-style (?id=<sender>&text=<text>) with urllib. Outbound: `GET /send?to=...&text=...` on a
ThreadingHTTPServer calls modem.sendSms() under a lock and answers 202 once the modem said +CMGS.
Nothing is journalled: a crash loses whatever is in flight. Threads, as the library wants them.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from gsmmodem.modem import GsmModem

log = logging.getLogger("gsmmodem_bridge")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", required=True)
    parser.add_argument("--baud", type=int, default=115200)
    parser.add_argument("--router", required=True, help="Kannel-style inbound URL")
    parser.add_argument("--listen", default="127.0.0.1:0")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    def on_sms(sms: Any) -> None:
        query = urllib.parse.urlencode({"id": sms.number, "text": sms.text})
        try:
            with urllib.request.urlopen(f"{args.router}?{query}", timeout=10) as resp:
                resp.read()
        except OSError as exc:  # no retry, no queue: the message is gone (already deleted from the SIM)
            log.error("router: %s", exc)

    modem = GsmModem(args.device, args.baud, smsReceivedCallbackFunc=on_sms, requestDelivery=False)
    modem.connect()
    send_lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *a: Any) -> None:
            pass

        def _answer(self, status: int, body: str) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            if url.path == "/readyz":
                self._answer(200, "ready")
                return
            if url.path != "/send":
                self._answer(404, "not found")
                return
            q = urllib.parse.parse_qs(url.query)
            to, text = q.get("to", [""])[0], q.get("text", [""])[0]
            if not to or not text:
                self._answer(400, "need to and text")
                return
            try:
                with send_lock:
                    sms = modem.sendSms(to, text)
            except Exception as exc:
                self._answer(503, f"send failed: {exc}")
                return
            self._answer(202, f"0: Accepted for delivery (mr {sms.reference})")

    host, _, port = args.listen.rpartition(":")
    server = ThreadingHTTPServer((host or "127.0.0.1", int(port)), Handler)
    server.daemon_threads = True
    sys.stdout.write(f"READY port={server.server_address[1]}\n")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        modem.close()
    return 0


if __name__ == "__main__":
    import signal

    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    sys.exit(main())
