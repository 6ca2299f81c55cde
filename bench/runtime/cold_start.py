#!/usr/bin/env python3
"""Cold start of a Lambda custom-runtime bootstrap: from exec to its first GET /next reaching a local
Runtime API server (a raw loopback socket, so the server adds nothing), p50/p90 over N starts, side by
side with `python3 -c "import boto3"` (exec to exit) and `python3 -c pass` on the same machine.

  bench/runtime/cold_start.py BUILD/tools/emulator/chromapact-test-bootstrap [-n 30] [--csv FILE]

Any bootstrap works (the real ones may need their configuration variables: pass --env K=V).
"""
import argparse
import os
import socket
import statistics
import subprocess
import sys
import time


def first_next_ms(binary, extra_env, server):
    env = dict(os.environ)
    env.update(extra_env)
    env["AWS_LAMBDA_RUNTIME_API"] = "127.0.0.1:%d" % server.getsockname()[1]
    t0 = time.perf_counter_ns()
    proc = subprocess.Popen([binary], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        conn, _ = server.accept()
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
            t1 = time.perf_counter_ns()
            proc.kill()  # while the request is still open: no retry of /next can reach the next run
            proc.wait()
        drain(server)
        if not data.startswith(b"GET /2018-06-01/runtime/invocation/next "):
            raise RuntimeError("unexpected first request: %r" % data[:80])
        return (t1 - t0) / 1e6
    finally:
        proc.kill()
        proc.wait()


def drain(server):
    """Closes connections left in the backlog by a killed process."""
    server.setblocking(False)
    try:
        while True:
            conn, _ = server.accept()
            conn.close()
    except BlockingIOError:
        pass
    finally:
        server.settimeout(30)


def run_ms(argv):
    t0 = time.perf_counter_ns()
    subprocess.run(argv, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    return (time.perf_counter_ns() - t0) / 1e6


def summary(name, xs):
    xs = sorted(xs)
    p90 = xs[min(len(xs) - 1, int(round(0.9 * (len(xs) - 1))))]
    return "%-34s n=%-3d p50=%8.2f ms  p90=%8.2f ms  min=%8.2f ms" % (name, len(xs), statistics.median(xs), p90, xs[0])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("bootstrap")
    ap.add_argument("-n", type=int, default=30, help="starts per variant (default 30, at least 20)")
    ap.add_argument("--python", default=os.environ.get("CHROMAPACT_PYTHON", "python3"))
    ap.add_argument("--env", action="append", default=[], help="KEY=VALUE for the bootstrap (repeatable)")
    ap.add_argument("--csv", help="also append rows variant,run,ms to this file")
    ap.add_argument("--label", default="bootstrap exec -> first /next",
                    help="the bootstrap's variant name in the output and the CSV")
    ap.add_argument("--no-baselines", action="store_true", help="measure only the bootstrap (no python3 runs)")
    args = ap.parse_args()
    n = max(20, args.n)
    extra = dict(kv.split("=", 1) for kv in args.env)

    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(30)

    first_next_ms(args.bootstrap, extra, server)  # warm the page cache once
    results = {
        args.label: [first_next_ms(args.bootstrap, extra, server) for _ in range(n)],
    }
    if args.no_baselines:
        for name, xs in results.items():
            print(summary(name, xs))
        if args.csv:
            with open(args.csv, "a") as f:
                for i, x in enumerate(results[args.label]):
                    f.write("%s,%d,%.3f\n" % (args.label, i, x))
        return 0
    have_boto3 = subprocess.run([args.python, "-c", "import boto3"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL).returncode == 0
    results["python3 -c pass"] = [run_ms([args.python, "-c", "pass"]) for _ in range(n)]
    if have_boto3:
        run_ms([args.python, "-c", "import boto3"])
        results["python3 -c 'import boto3'"] = [run_ms([args.python, "-c", "import boto3"]) for _ in range(n)]
    else:
        print("(boto3 not importable with %s: skipped)" % args.python)
    for name, xs in results.items():
        print(summary(name, xs))
    if args.csv:
        with open(args.csv, "a") as f:
            for name, xs in results.items():
                for i, x in enumerate(xs):
                    f.write("%s,%d,%.3f\n" % (name, i, x))
    return 0


if __name__ == "__main__":
    sys.exit(main())
