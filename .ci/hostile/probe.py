"""Hostile clients against a running freightgate binary, each check bounded in time.

Usage: probe.py BASE_URL PID KEY

1. Slow bodies without a key on /graphql: 300 connections announce a body and
   trickle it. Valid requests must keep answering (no 503), each within 2 s.
2. Slowloris: 2,000 connections from other loopback addresses send half a header
   and stop. Valid requests keep answering within 2 s; the process's open file
   descriptors stay bounded; after the header-read timeout the connections are gone.
3. Large batches: 200,000 `{}` NDJSON lines on ingest and explain are refused with
   413 too_many_documents at once, and the process's peak memory stays bounded.

Only the standard library: runs wherever python3 does.
"""

import json
import os
import socket
import sys
import threading
import time
import urllib.error
import urllib.request

BASE, PID, KEY = sys.argv[1], int(sys.argv[2]), sys.argv[3]
HOST, PORT = BASE.removeprefix("http://").split(":")
PORT = int(PORT)
failures = []


def check(ok, message):
    print(("  ok   " if ok else "  FAIL ") + message, flush=True)
    if not ok:
        failures.append(message)


def request(method, path, body=None, content_type="application/json", timeout=5):
    """(status, body, seconds) of one request with the key."""
    started = time.monotonic()
    req = urllib.request.Request(BASE + path, data=body, method=method)
    req.add_header("Authorization", "Bearer " + KEY)
    if body is not None:
        req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as answer:
            return answer.status, answer.read(), time.monotonic() - started
    except urllib.error.HTTPError as error:
        return error.code, error.read(), time.monotonic() - started
    except Exception as error:  # noqa: BLE001 - any failure is a finding
        return None, str(error).encode(), time.monotonic() - started


def open_fds():
    return len(os.listdir(f"/proc/{PID}/fd"))


def peak_rss_mb():
    with open(f"/proc/{PID}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def valid_requests_keep_answering(seconds, what):
    """Sends a GraphQL query and a REST read every 100 ms for `seconds`."""
    query = json.dumps({"query": "{ ping }"}).encode()
    statuses, slowest = [], 0.0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for method, path, body in (("POST", "/graphql", query), ("GET", "/v1/shipments", None)):
            status, _, took = request(method, path, body)
            statuses.append(status)
            slowest = max(slowest, took)
        time.sleep(0.1)
    bad = [s for s in statuses if s != 200]
    check(not bad, f"{what}: {len(statuses)} valid requests, none refused (not 200: {bad[:5]})")
    check(slowest < 2.0, f"{what}: slowest valid request {slowest:.2f} s (< 2 s)")


def connect(source_ip):
    sock = socket.socket()
    sock.bind((source_ip, 0))
    sock.settimeout(5)
    sock.connect((HOST, PORT))
    return sock


def slow_bodies():
    print("slow bodies without a key on POST /graphql (300 connections)", flush=True)
    socks, stop = [], threading.Event()
    for i in range(300):
        try:
            s = connect("127.0.0.3")
            s.sendall(
                b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 100000\r\n\r\n{"
            )
            socks.append(s)
        except OSError:
            break

    def trickle():
        while not stop.is_set():
            for s in socks:
                try:
                    s.send(b" ")
                except OSError:
                    pass
            time.sleep(1)

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    answered_401 = 0
    for s in socks[:20]:
        try:
            answered_401 += b" 401 " in s.recv(200)
        except OSError:
            pass
    check(answered_401 == 20, f"keyless slow bodies are answered 401 at once ({answered_401} of 20)")
    valid_requests_keep_answering(5, "under 300 keyless slow bodies")
    stop.set()
    for s in socks:
        s.close()


def slowloris(header_timeout):
    print("slowloris: 2,000 half-sent headers from other addresses", flush=True)
    before = open_fds()
    socks = []
    for i in range(2000):
        try:
            s = connect(f"127.0.{1 + i // 400}.{10 + i % 200}")
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            socks.append(s)
        except OSError:
            pass
    check(len(socks) >= 1900, f"{len(socks)} slow connections opened")
    held = open_fds() - before
    check(held <= 2100, f"the process holds {held} more descriptors for them (one each at most)")
    valid_requests_keep_answering(1.5, "under 2,000 half-sent headers")
    time.sleep(header_timeout + 1.5)
    closed = 0
    for s in socks:
        try:
            s.settimeout(0.01)
            closed += s.recv(1) == b""
        except socket.timeout:
            pass
        except OSError:
            closed += 1
    check(
        closed >= len(socks) * 0.99,
        f"{closed} of {len(socks)} closed by the server after the {header_timeout} s header-read timeout",
    )
    for s in socks:
        s.close()
    time.sleep(0.5)
    check(open_fds() <= before + 50, f"descriptors back to {open_fds()} (before: {before})")


def large_batches():
    print("large batches: 200,000 empty NDJSON documents", flush=True)
    body = b"{}\n" * 200_000
    for path in ("/v1/ingest", "/v1/ingest/explain"):
        status, answer, took = request("POST", path, body, "application/x-ndjson", timeout=30)
        code = json.loads(answer).get("code") if status else None
        check(status == 413 and code == "too_many_documents", f"{path}: {status} {code}")
        check(took < 2.0, f"{path}: answered in {took:.2f} s (< 2 s)")
        check(len(answer) < 10_000, f"{path}: answer of {len(answer)} bytes")
    peak = peak_rss_mb()
    check(peak < 400, f"peak resident memory {peak:.0f} MB (< 400 MB)")


header_timeout = float(os.environ.get("HEADER_TIMEOUT_SECS", "2"))
started = time.monotonic()
slow_bodies()
slowloris(header_timeout)
large_batches()
print(f"hostile probe finished in {time.monotonic() - started:.1f} s", flush=True)
if failures:
    print(f"{len(failures)} check(s) failed", file=sys.stderr)
    sys.exit(1)
