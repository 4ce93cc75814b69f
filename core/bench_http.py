"""Requests per second of an API endpoint under gunicorn, for the benchmark commands (issue 12).

``api_throughput`` starts gunicorn (production settings, ``workers`` sync workers) on a free
local port against the current database, sends GET requests with an API token over
``clients`` connections for ``seconds`` seconds, stops gunicorn (only the process it started)
and returns what it counted. The load comes from ``wrk`` (Debian's package) when it is
installed: a C client that takes a few per cent of a core. Without it, Python threads send the
requests; on a 2-core machine they take CPU from the workers they measure (the figure is then
lower, and says which client measured it).
"""
from __future__ import annotations

import http.client
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

from core.bench import percentile


@dataclass
class Throughput:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    client: str = "python"
    percentiles_ms: dict[int, float] = field(default_factory=dict)  # from wrk, which keeps no list

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def p50_ms(self) -> float:
        if 50 in self.percentiles_ms:
            return self.percentiles_ms[50]
        return statistics.median(self.latencies_ms) if self.latencies_ms else 0.0

    @property
    def p95_ms(self) -> float:
        if 95 in self.percentiles_ms:
            return self.percentiles_ms[95]
        return percentile(self.latencies_ms, 95) if self.latencies_ms else 0.0


# wrk's summary in lines this module reads (latencies are in microseconds, duration too).
_WRK_REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("REQUESTS %d\\n", summary.requests))
  io.write(string.format("ERRORS %d\\n", e.status + e.connect + e.read + e.write + e.timeout))
  io.write(string.format("NON2XX %d\\n", e.status))
  io.write(string.format("SECONDS %f\\n", summary.duration / 1e6))
  io.write(string.format("P50 %f\\n", latency:percentile(50) / 1000))
  io.write(string.format("P95 %f\\n", latency:percentile(95) / 1000))
end
"""


def _wrk(port: int, path: str, headers: dict, clients: int, seconds: float) -> Throughput:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_WRK_REPORT)
    try:
        command = ["wrk", "-t", "1", "-c", str(clients), "-d", f"{max(1, round(seconds))}s", "--timeout", "30s",
                   "-s", script.name]
        for name, value in headers.items():
            command += ["-H", f"{name}: {value}"]
        out = subprocess.run([*command, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True,
                             check=True, timeout=seconds + 60).stdout
    finally:
        os.unlink(script.name)
    figures = dict(line.split(" ", 1) for line in out.splitlines() if line[:1].isupper() and " " in line
                   and line.split(" ", 1)[0].isupper())
    non2xx = int(figures["NON2XX"])
    return Throughput(int(figures["REQUESTS"]) - non2xx, int(figures["ERRORS"]), float(figures["SECONDS"]),
                      client="wrk", percentiles_ms={50: float(figures["P50"]), 95: float(figures["P95"])})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database_url() -> str:
    d = connections[DEFAULT_DB_ALIAS].settings_dict
    auth = d.get("USER") or "postgres"
    if d.get("PASSWORD"):
        auth += f":{d['PASSWORD']}"
    return f"postgres://{auth}@{d.get('HOST') or '127.0.0.1'}:{d.get('PORT') or 5432}/{d['NAME']}"


def _wait_ready(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn stopped with exit code {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start within a minute")


def _load(port: int, path: str, headers: dict, stop_at: float, out: list, errors: list) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while time.perf_counter() < stop_at:
        started = time.perf_counter()
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                errors.append(response.status)
            else:
                out.append((time.perf_counter() - started) * 1000)
            if response.getheader("Connection", "").lower() == "close":
                connection.close()
        except (OSError, http.client.HTTPException):
            errors.append(0)
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.close()


def _first_answers(port: int, path: str, headers: dict, count: int, timeout: float = 120) -> None:
    """Wait for ``count`` answers one after the other: the port is open as soon as gunicorn's
    master binds it, while its workers may still be starting (seconds on a busy machine), which
    a time-boxed warm-up round would then count against them."""
    for _ in range(count):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            connection.request("GET", path, headers={**headers, "Connection": "close"})
            connection.getresponse().read()
        finally:
            connection.close()


def api_throughput(path: str, token: str, *, workers: int = 2, clients: int = 4, seconds: float = 10,
                   warmup: float = 2, client: str | None = None) -> Throughput:
    """GET ``path`` with ``Authorization: Token <token>`` as fast as ``clients`` connections can.
    ``client``: "wrk" or "python"; by default wrk when it is installed."""
    if client is None:
        client = "wrk" if shutil.which("wrk") else "python"
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "bench-" + secrets.token_urlsafe(32),
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_SECURE_COOKIES": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": _database_url(),
        # The capacity is measured, not the per-token limit (1200 a minute by default).
        "API_THROTTLE_TOKEN": "1000000/minute",
        "API_THROTTLE_USER": "1000000/minute",
    }
    base = Path(settings.BASE_DIR)
    command = [sys.executable, "-m", "gunicorn", "config.wsgi", "--workers", str(workers), "--bind",
               f"127.0.0.1:{port}", "--log-level", "warning", "--keep-alive", "30"]
    process = subprocess.Popen(command, cwd=base, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_ready(port, process)
        headers = {"Authorization": f"Token {token}", "Host": "127.0.0.1", "Connection": "keep-alive"}
        _first_answers(port, path, headers, 2 * workers)
        if client == "wrk":
            # gunicorn's sync workers close every connection after its response: said up front,
            # wrk opens the next one at once instead of finding the old one closed (measured:
            # p95 of seconds with keep-alive asked for, a few hundred ms without).
            headers = {**headers, "Connection": "close"}
            _wrk(port, path, headers, clients, warmup)  # the first round only warms the workers up
            return _wrk(port, path, headers, clients, seconds)
        for duration in (warmup, seconds):  # the first round only warms the workers up
            latencies: list[float] = []
            errors: list[int] = []
            stop_at = time.perf_counter() + duration
            started = time.perf_counter()
            threads = [threading.Thread(target=_load, args=(port, path, headers, stop_at, latencies, errors))
                       for _ in range(clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.perf_counter() - started
        return Throughput(len(latencies), len(errors), elapsed, latencies)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
