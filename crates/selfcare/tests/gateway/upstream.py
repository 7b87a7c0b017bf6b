#!/usr/bin/env python3
"""The e-service behind the gateway in the gateway's tests: a real process that answers every
request at once with JSON telling what it received, and counts the requests.

    upstream.py

Listens on a free loopback port (HTTP/1.1, keep-alive) and prints
`listening on http://127.0.0.1:<port>` when ready. Every request but `GET /__count` is counted
and answered with {"count", "method", "path", "headers": [[name, value], ...] (names in lower
case, in the order received), "body_bytes", "body_sha256"}; a chunked body is read as such.
`GET /__count` answers {"count": <requests so far>} without counting itself.
"""

import hashlib
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
COUNT = 0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            data = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    # Trailers, up to the empty line.
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(data)
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def answer(self):
        global COUNT
        if self.command == "GET" and self.path == "/__count":
            with LOCK:
                body = {"count": COUNT}
        else:
            data = self.read_body()
            with LOCK:
                COUNT += 1
                count = COUNT
            body = {
                "count": count,
                "method": self.command,
                "path": self.path,
                "headers": [[k.lower(), v] for k, v in self.headers.items()],
                "body_bytes": len(data),
                "body_sha256": hashlib.sha256(data).hexdigest(),
            }
        payload = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-Upstream", "counted")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = answer


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
