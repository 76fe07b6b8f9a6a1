"""A webhook receiver written from the producers' documented algorithms, not from hookrelay's code.

SCHEME=cerebrium: X-Cerebrium-Webhook-Signature "v1,<hex>" = HMAC-SHA256(secret UTF-8,
"<X-Request-Id>.<X-Cerebrium-Webhook-Timestamp>.<raw body>"), timestamp within 5 minutes.
SCHEME=hmac-sha256: <HEADER> "sha256=<hex>" = HMAC-SHA256(secret UTF-8, raw body) (GitHub style).
Answers 200 when the signature verifies, 401 otherwise; prints one JSON line per request and,
first, {"port": N}.
"""
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SCHEME = os.environ["SCHEME"]
SECRET = os.environ["SECRET"].encode("utf-8")
HEADER = os.environ.get("HEADER", "X-Signature-256")
# Requests are handled in threads: one line is written whole, never between another's text and newline.
PRINT_LOCK = threading.Lock()


def print_line(value):
    with PRINT_LOCK:
        sys.stdout.write(json.dumps(value) + "\n")
        sys.stdout.flush()


def verify_cerebrium(headers, body):
    request_id = headers.get("X-Request-Id")
    timestamp = headers.get("X-Cerebrium-Webhook-Timestamp")
    signature = headers.get("X-Cerebrium-Webhook-Signature", "")
    if not request_id or not timestamp or not signature.startswith("v1,"):
        return False
    if abs(time.time() - int(timestamp)) > 300:
        return False
    signed = request_id.encode("utf-8") + b"." + timestamp.encode("utf-8") + b"." + body
    expected = hmac.new(SECRET, signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature[len("v1,"):])


def verify_hmac_sha256(headers, body):
    signature = headers.get(HEADER, "")
    expected = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        ok = verify_cerebrium(self.headers, body) if SCHEME == "cerebrium" else verify_hmac_sha256(self.headers, body)
        print_line({"verified": ok, "requestId": self.headers.get("X-Request-Id"), "webhookId": self.headers.get("webhook-id")})
        self.send_response(200 if ok else 401)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print_line({"port": server.server_address[1]})
server.serve_forever()
