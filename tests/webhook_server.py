"""A local HTTP(S) server that records webhook requests (and can be told to fail or redirect), for alert tests.

Deliveries to it need loopback allowed: `settings.ALERT_WEBHOOK_ALLOWED_NETWORKS = ("127.0.0.0/8",)`.
"""

from __future__ import annotations

import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class WebhookServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None) -> None:
        self.received: list[dict] = []
        self.requests: list[dict] = []  # every request, whatever its method: (method, path, headers)
        self.fail = False
        self.redirect_to: str | None = None
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                outer.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers)})

            def do_GET(self) -> None:
                self._record()
                self.send_response(200)
                self.end_headers()

            def do_POST(self) -> None:
                self._record()
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if outer.redirect_to:
                    self.send_response(302)
                    self.send_header("Location", outer.redirect_to)
                    self.end_headers()
                    return
                if outer.fail:
                    self.send_response(503)
                    self.end_headers()
                    return
                outer.received.append({"path": self.path, "body": json.loads(body), "headers": dict(self.headers)})
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.scheme = "https" if tls is not None else "http"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)  # quick shutdown

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}/hooks/secret-token-abc"

    def __enter__(self) -> WebhookServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
