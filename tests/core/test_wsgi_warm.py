"""Issue 12: a gunicorn worker builds the URL maps as it starts (config.wsgi), and the API
benchmark waits for the workers' first answers before it measures (core.bench_http)."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.urls import get_resolver


def test_wsgi_module_builds_the_url_maps_at_import():
    import config.wsgi  # noqa: F401

    assert get_resolver()._populated


def test_bench_waits_for_each_first_answer():
    from core.bench_http import _first_answers

    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append((self.path, self.headers["Authorization"]))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        _first_answers(server.server_address[1], "/api/x/", {"Authorization": "Token k"}, 4)
    finally:
        server.shutdown()
        server.server_close()
    assert seen == [("/api/x/", "Token k")] * 4
