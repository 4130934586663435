#!/usr/bin/env python3
"""A webhook receiver for trying freightgate out: it takes every push on any path,
checks its Standard Webhooks signature against the endpoint's secret and prints one
line per push. Standard library only.

    python3 tools/webhook_receiver.py --port 9000 --secret whsec_...

Answers 204 to a push whose signature verifies, 401 to one that does not (so
freightgate retries it and the attempt log shows why). Without --secret every push
is taken unchecked (204). Add --log FILE to append
each push (headers and raw body) as one JSON line.
"""

import argparse
import base64
import hashlib
import hmac
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE_SECS = 5 * 60
# Pushes arrive on several threads at once; one line each, never interleaved.
OUTPUT = threading.Lock()


def verify(secret: str, msg_id: str, timestamp: str, body: bytes, header: str) -> bool:
    """True when one of the `v1,` signatures in `header` is ours and the time is near."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs(time.time() - sent) > TOLERANCE_SECS:
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for candidate in header.split():
        version, _, signature = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(signature, expected):
            return True
    return False


def handler(secret: str | None, log_path: str | None):
    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            msg_id = self.headers.get("webhook-id", "")
            ok = secret is None or verify(
                secret,
                msg_id,
                self.headers.get("webhook-timestamp", ""),
                body,
                self.headers.get("webhook-signature", ""),
            )
            try:
                event = json.loads(body).get("type", "?")
            except ValueError:
                event = "?"
            if secret is None:
                verdict = "signature not checked (no --secret)"
            else:
                verdict = "signature ok" if ok else "SIGNATURE INVALID"
            with OUTPUT:
                sys.stdout.write(f"{event} {msg_id} {verdict}\n")
                sys.stdout.flush()
                if log_path:
                    with open(log_path, "a", encoding="utf-8") as log:
                        record = {"headers": dict(self.headers), "body": body.decode("utf-8", "replace"), "verified": ok}
                        log.write(json.dumps(record) + "\n")
            self.send_response(204 if ok else 401)
            self.end_headers()

        def log_message(self, *args):
            pass

    return Receiver


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--secret", help="the endpoint's whsec_... secret; without it pushes are taken unchecked")
    parser.add_argument("--log", help="append each push as a JSON line to this file")
    args = parser.parse_args()
    if args.secret is not None and not args.secret.startswith("whsec_"):
        sys.exit("the secret starts with whsec_")
    server = ThreadingHTTPServer((args.host, args.port), handler(args.secret, args.log))
    server.serve_forever()


if __name__ == "__main__":
    main()
