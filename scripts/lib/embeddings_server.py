#!/usr/bin/env python3
"""A local OpenAI-compatible embeddings server for chromapact's tests and demo (stdlib only).

POST <any path ending in>/embeddings with {"model": str, "input": str | [str, ...]} answers as the
OpenAI API does (API reference, "Embeddings: Create embeddings"):
    {"object": "list", "data": [{"object": "embedding", "index": i, "embedding": [...]}, ...],
     "model": ..., "usage": {"prompt_tokens": n, "total_tokens": n}}
Embeddings are deterministic: the lowercase word tokens ([a-z0-9]+) of a text, each hashed
(SHA-256) to one of --dimension buckets with a sign of +1 or -1, summed and L2-normalised. Texts that
share words are close; the same text always gives the same vector. A text without tokens maps to
the bucket of the empty token.

Test knobs:
    --api-key K        401 unless "Authorization: Bearer K" or "api-key: K" is sent
    --fail-first N     the first N embedding requests fail with --fail-status (429: with
    --fail-status S    "Retry-After: 0"; default 500), before any other check
    --max-batch N      400 when a request has more than N inputs
    --reverse          answer the data entries in reverse order (clients must sort by index)
GET /stats answers {"requests": [{"inputs": n, "status": code}, ...] (every embeddings request in
arrival order), "input_counts": [n, ...] (inputs of the requests answered 200)}. POST /stats/reset
empties them. GET /health answers {"ok": true}.

Listens on --host (127.0.0.1) and --port (0 = any free port); prints "PID=<pid>" then "PORT=<n>" on
stdout once it accepts connections, logs to stderr; stdout is closed when the process ends. Ends on SIGTERM or SIGINT, and when its parent dies (Linux).

usage: embeddings_server.py [--port 0] [--dimension 384] [--api-key K] [--fail-first N]
                            [--fail-status 429|500] [--max-batch N] [--reverse]
"""
import argparse
import ctypes
import hashlib
import json
import math
import os
import re
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN = re.compile(r"[a-z0-9]+")


def embed(text, dimension):
    vec = [0.0] * dimension
    tokens = TOKEN.findall(text.lower()) or [""]
    for tok in tokens:
        digest = hashlib.sha256(tok.encode("utf-8")).digest()
        bucket = int.from_bytes(digest[:8], "little") % dimension
        vec[bucket] += 1.0 if digest[8] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vec))
    if norm == 0.0:  # opposite signs cancelled out in every bucket
        vec[0], norm = 1.0, 1.0
    return [v / norm for v in vec]


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.requests = []  # {"inputs": n, "status": code}
        self.failed = 0


def make_handler(state):
    args = state.args

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the client reuses connections

        def log_message(self, fmt, *a):  # to stderr, as BaseHTTPRequestHandler does
            sys.stderr.write("embeddings_server: " + (fmt % a) + "\n")

        def reply(self, status, obj, headers=()):
            body = json.dumps(obj).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def error(self, status, message, code=None, headers=()):
            self.reply(status, {"error": {"message": message, "type": "invalid_request_error", "code": code}},
                       headers)

        def do_GET(self):
            if self.path == "/stats":
                with state.lock:
                    reqs = list(state.requests)
                self.reply(200, {"requests": reqs,
                                 "input_counts": [r["inputs"] for r in reqs if r["status"] == 200]})
            elif self.path == "/health":
                self.reply(200, {"ok": True})
            else:
                self.error(404, "no route GET " + self.path)

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length > 0 else b""
            if self.path == "/stats/reset":
                with state.lock:
                    state.requests.clear()
                self.reply(200, {"ok": True})
                return
            if not self.path.split("?", 1)[0].endswith("/embeddings"):
                self.error(404, "no route POST " + self.path)
                return
            try:
                body = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                body = None
            inputs = body.get("input") if isinstance(body, dict) else None
            if isinstance(inputs, str):
                inputs = [inputs]
            n = len(inputs) if isinstance(inputs, list) else 0

            def answer(status, fn):
                with state.lock:
                    state.requests.append({"inputs": n, "status": status})
                fn()

            with state.lock:
                fail = state.failed < args.fail_first
                if fail:
                    state.failed += 1
            if fail:
                if args.fail_status == 429:
                    answer(429, lambda: self.error(429, "Rate limit reached (injected)", "rate_limit_exceeded",
                                                   [("Retry-After", "0")]))
                else:
                    answer(args.fail_status, lambda: self.error(args.fail_status, "injected failure", "server_error"))
                return
            if args.api_key is not None:
                auth = self.headers.get("Authorization") or ""
                key = self.headers.get("api-key")
                if auth != "Bearer " + args.api_key and key != args.api_key:
                    answer(401, lambda: self.error(401, "Incorrect API key provided", "invalid_api_key"))
                    return
            if not isinstance(body, dict):
                answer(400, lambda: self.error(400, "request body is not a JSON object"))
                return
            if not isinstance(body.get("model"), str) or not body["model"]:
                answer(400, lambda: self.error(400, "'model' is required"))
                return
            if not isinstance(inputs, list) or not inputs or not all(isinstance(t, str) for t in inputs):
                answer(400, lambda: self.error(400, "'input' must be a string or a non-empty list of strings"))
                return
            if args.max_batch is not None and n > args.max_batch:
                answer(400, lambda: self.error(
                    400, "'input' has %d items, more than the maximum of %d" % (n, args.max_batch)))
                return
            data = [{"object": "embedding", "index": i, "embedding": embed(t, args.dimension)}
                    for i, t in enumerate(inputs)]
            if args.reverse:
                data.reverse()
            tokens = sum(len(TOKEN.findall(t.lower())) for t in inputs)
            answer(200, lambda: self.reply(200, {"object": "list", "data": data, "model": body["model"],
                                                 "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}))

    return Handler


def die_with_parent():
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--dimension", type=int, default=384)
    p.add_argument("--api-key", default=None)
    p.add_argument("--fail-first", type=int, default=0)
    p.add_argument("--fail-status", type=int, default=500, choices=[429, 500, 502, 503, 504])
    p.add_argument("--max-batch", type=int, default=None)
    p.add_argument("--reverse", action="store_true")
    args = p.parse_args()
    if args.dimension < 1:
        p.error("--dimension must be >= 1")
    die_with_parent()
    state = State(args)
    server = ThreadingHTTPServer((args.host, args.port), make_handler(state))
    server.daemon_threads = True

    def stop(signum, frame):
        # shutdown() waits for serve_forever, which runs in this (the main) thread: do it from another.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # The socket listens since the constructor: connections made from now on queue until served.
    # PID first: a launcher that went through a wrapper (pyenv's shim) can signal this process.
    print("PID=%d" % os.getpid(), flush=True)
    print("PORT=%d" % server.server_address[1], flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
