#!/usr/bin/env python3
"""Driver of the issue-5 runtime benchmarks (bench/runtime/query_latency.sh, freshness.sh): talks to
moto (boto3, signed with the AWS_* variables) for setup and to chromapact-emulator invoke endpoints
(plain HTTP, one keep-alive connection each) for everything else.

  runtime_bench.py setup --prefix P                      bucket, lease/pointer table, FIFO queue; prints the queue URL
  runtime_bench.py load-fiori --producer URL DIR --collection C [--batch 100]
  runtime_bench.py load-synthetic --producer URL --collection C --n 100000 [--start 0] [--batch 1000] [--seed 1]
  runtime_bench.py compact --compactor URL --collection C   {"action":"compact"} until a cycle applies
                                                          nothing and re-arms nothing (the whole log applied)
  runtime_bench.py wait-count --query URL --collection C --count N [--timeout 600]
  runtime_bench.py wait-drained --queue URL [--timeout 3600]   until the trigger queue is empty
  runtime_bench.py latency --query URL --collection C --vectors fiori:DIR|synthetic:SEED --where JSON
                           [--warmup 20] [--queries 300] [--reps 3] [--log QUERY_EMULATOR_STDOUT]
                           [--variant-suffix +tail1pct] --raw CSV
  runtime_bench.py freshness --producer URL --query URL --collection C --vectors fiori:DIR|synthetic:SEED
                             [--mode poll|ryw] [--writes 25] --raw CSV

Invoke URLs are the emulator's http://127.0.0.1:PORT (the script appends the Invoke API path).
Vectors travel as JSON numbers with 9 significant digits (round-trips float32 exactly).
"""
import argparse
import csv
import http.client
import json
import os
import random
import re
import statistics
import struct
import sys
import time
import urllib.parse

INVOKE_PATH = "/2015-03-31/functions/function/invocations"
DIM = 384


class Invoker:
    """One keep-alive HTTP connection to an emulator's invoke endpoint."""

    def __init__(self, url, timeout=900):
        u = urllib.parse.urlparse(url)
        self.host, self.port, self.timeout = u.hostname, u.port, timeout
        self.conn = None

    def invoke(self, payload):
        """Returns (answer JSON, request id, client wall ms). Raises on a function error."""
        body = payload if isinstance(payload, (bytes, bytearray)) else json.dumps(payload, separators=(",", ":")).encode()
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            t0 = time.perf_counter_ns()
            try:
                self.conn.request("POST", INVOKE_PATH, body=body, headers={"Content-Type": "application/json"})
                resp = self.conn.getresponse()
                data = resp.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = None
                if attempt == 1:
                    raise
                continue
            ms = (time.perf_counter_ns() - t0) / 1e6
            if resp.status != 200 or resp.getheader("X-Amz-Function-Error"):
                raise RuntimeError("invoke %s:%d answered %d %s: %s" % (self.host, self.port, resp.status,
                                   resp.getheader("X-Amz-Function-Error"), data[:500]))
            return json.loads(data), resp.getheader("X-Amzn-RequestId") or "", ms
        raise AssertionError("unreachable")


def f9(x):
    return "%.9g" % x


# ---------------------------------------------------------------------------------------------- data

def fiori(dir_):
    """(ids, vectors as lists of float32 values, documents, metadatas) of the 778 fiori records."""
    emb = os.path.join(dir_, "data", "embeddings")
    with open(os.path.join(emb, "records.jsonl")) as f:
        recs = [json.loads(line) for line in f if line.strip()]
    raw = open(os.path.join(emb, "embeddings.bin"), "rb").read()
    n = len(raw) // (4 * DIM)
    if n != len(recs):
        raise SystemExit("fiori: %d vectors but %d records" % (n, len(recs)))
    flat = struct.unpack("<%df" % (n * DIM), raw)
    vecs = [flat[i * DIM:(i + 1) * DIM] for i in range(n)]
    ids = [r["id"] for r in recs]
    docs = [r.get("content", "") for r in recs]
    metas = [{"category": r.get("category", ""), "path": r.get("path", ""), "word_count": int(r.get("wordCount") or 0)}
             for r in recs]
    return ids, vecs, docs, metas


def batch_json(collection, ids, vec_strs, docs, metas):
    """A producer upsert event built as text (vectors already formatted)."""
    parts = ['{"collection":', json.dumps(collection), ',"operation":"upsert","ids":', json.dumps(ids),
             ',"embeddings":[', ",".join("[" + ",".join(v) + "]" for v in vec_strs), "]"]
    if docs is not None:
        parts += [',"documents":', json.dumps(docs)]
    if metas is not None:
        parts += [',"metadatas":', json.dumps(metas)]
    parts.append("}")
    return "".join(parts).encode()


def synthetic_rows(seed, start, count):
    """Rows start..start+count-1 of the seeded synthetic set: uniform values in [-1, 1] at a 1e-3 step
    (short JSON text, so 1,000 rows fit one 6 MiB invoke), metadata bucket = i % 10."""
    table = ["%.3f" % (k / 1000.0) for k in range(-1000, 1001)]
    ids, vecs, docs, metas = [], [], [], []
    for i in range(start, start + count):
        rng = random.Random(seed * 1000003 + i)
        vecs.append(rng.choices(table, k=DIM))
        ids.append("s%07d" % i)
        docs.append("synthetic record %d" % i)
        metas.append({"bucket": i % 10, "parity": "even" if i % 2 == 0 else "odd"})
    return ids, vecs, docs, metas


def synthetic_queries(seed, count):
    rng = random.Random(seed * 7919 + 17)
    return [[rng.uniform(-1, 1) for _ in range(DIM)] for _ in range(count)]


# ------------------------------------------------------------------------------------------ commands

def aws_client(service):
    import boto3
    return boto3.client(service, endpoint_url=os.environ["AWS_ENDPOINT_URL"],
                        region_name=os.environ.get("AWS_REGION", "us-east-1"))


def cmd_setup(a):
    s3 = aws_client("s3")
    s3.create_bucket(Bucket=a.prefix + "-bucket")
    ddb = aws_client("dynamodb")
    ddb.create_table(TableName=a.prefix + "-kv", AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")
    sqs = aws_client("sqs")
    dlq = sqs.create_queue(QueueName=a.prefix + "-dlq.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(QueueName=a.prefix + "-deltas.fifo", Attributes={
        "FifoQueue": "true", "VisibilityTimeout": str(a.visibility),
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"})})["QueueUrl"]
    print(url)


def cmd_load_fiori(a):
    ids, vecs, docs, metas = fiori(a.dir)
    inv = Invoker(a.producer)
    t0 = time.time()
    for s in range(0, len(ids), a.batch):
        e = slice(s, s + a.batch)
        body = batch_json(a.collection, ids[e], [[f9(x) for x in v] for v in vecs[e]], docs[e], metas[e])
        inv.invoke(body)
    nb = (len(ids) + a.batch - 1) // a.batch
    print("load-fiori: %d records in %d batches, %.1f s" % (len(ids), nb, time.time() - t0), file=sys.stderr)
    append_step(a.csv, {"collection": a.collection, "step": "produce", "records": len(ids), "invokes": nb,
                        "seconds": "%.1f" % (time.time() - t0)})


def cmd_load_synthetic(a):
    inv = Invoker(a.producer)
    t0 = time.time()
    produce_ms = []
    for s in range(a.start, a.start + a.n, a.batch):
        ids, vecs, docs, metas = synthetic_rows(a.seed, s, min(a.batch, a.start + a.n - s))
        body = batch_json(a.collection, ids, vecs, docs, metas)
        _, _, ms = inv.invoke(body)
        produce_ms.append(ms)
    print("load-synthetic: %d records in %d batches of %d, %.1f s (producer invoke p50 %.0f ms)" %
          (a.n, len(produce_ms), a.batch, time.time() - t0, statistics.median(produce_ms)), file=sys.stderr)
    append_step(a.csv, {"collection": a.collection, "step": "produce", "records": a.n, "invokes": len(produce_ms),
                        "seconds": "%.1f" % (time.time() - t0)})


def append_step(path, row):
    if not path:
        return
    row = dict(row, load1=open("/proc/loadavg").read().split()[0])
    new = not os.path.exists(path)
    with open(path, "a", newline="") as f:
        w = csv.DictWriter(f, ["collection", "step", "records", "invokes", "seconds", "load1"])
        if new:
            w.writeheader()
        w.writerow(row)


def cmd_compact(a):
    inv = Invoker(a.compactor, timeout=3600)
    t0 = time.time()
    cycles = applied = 0
    while True:
        ans, _, ms = inv.invoke({"action": "compact", "collection": a.collection})
        cycles += 1
        n = sum(c.get("applied", 0) for c in ans["cycles"])
        bad = [c for c in ans["cycles"] if c.get("status") != "OK" or c.get("skipped")]
        if bad:
            raise SystemExit("compact: cycle failed or skipped log entries: %s" % bad)
        applied += n
        print("compact: cycle %d applied %d deltas in %.1f s (version %s, log position %s)" %
              (cycles, n, ms / 1000, [c.get("version") for c in ans["cycles"]],
               [c.get("log_position") for c in ans["cycles"]]), file=sys.stderr)
        # A manual cycle reads the log, not the queue: the producer's triggers stay queued (harmless,
        # they only make a cycle run), so "done" is a cycle that neither applied nor left work behind.
        if n == 0 and not any(c.get("rearmed") for c in ans["cycles"]):
            break
    print("compact: %d deltas in %d cycles, %.1f s" % (applied, cycles, time.time() - t0), file=sys.stderr)
    append_step(a.csv, {"collection": a.collection, "step": "compact", "records": applied, "invokes": cycles,
                        "seconds": "%.1f" % (time.time() - t0)})


def cmd_wait_count(a):
    inv = Invoker(a.query)
    deadline = time.time() + a.timeout
    while True:
        ans, _, _ = inv.invoke({"action": "count", "collection": a.collection})
        if ans.get("count") == a.count:
            return
        if time.time() > deadline:
            raise SystemExit("wait-count: %s has %s records after %d s, expected %d" %
                             (a.collection, ans.get("count"), a.timeout, a.count))
        time.sleep(0.05)  # polling interval of a condition with a deadline


def cmd_wait_drained(a):
    """Until the trigger queue holds no message, visible or in flight. Once the producer has answered
    its last write, that means every acknowledged entry is compacted: the compactor deletes a trigger
    only after its commit, and re-arms (sends a new one) before deleting when more remains."""
    sqs = aws_client("sqs")
    t0 = time.time()
    while True:
        at = sqs.get_queue_attributes(QueueUrl=a.queue, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        left = int(at["ApproximateNumberOfMessages"]) + int(at["ApproximateNumberOfMessagesNotVisible"])
        if left == 0:
            print("wait-drained: queue empty after %.1f s" % (time.time() - t0), file=sys.stderr)
            return
        if time.time() - t0 > a.timeout:
            raise SystemExit("wait-drained: %d messages left after %d s" % (left, a.timeout))
        time.sleep(0.5)  # polling interval of a condition with a deadline


def parse_query_log(path):
    """Request id -> (REPORT Duration ms, QueryLatency ms from the EMF line between START and END)."""
    out, current, handler = {}, None, {}
    if not path or not os.path.exists(path):
        return out
    start_re = re.compile(r"^START RequestId: (\S+)")
    report_re = re.compile(r"^REPORT RequestId: (\S+)\tDuration: ([0-9.]+) ms")
    with open(path, errors="replace") as f:
        for line in f:
            m = start_re.match(line)
            if m:
                current = m.group(1)
                continue
            m = report_re.match(line)
            if m:
                out[m.group(1)] = (float(m.group(2)), handler.pop(m.group(1), None))
                continue
            if current and line.startswith("{") and '"QueryLatency"' in line:
                try:
                    handler[current] = float(json.loads(line)["QueryLatency"])
                except (ValueError, KeyError):
                    pass
    return out


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, int(round(p / 100.0 * (len(xs) - 1)))))]


def cmd_latency(a):
    kind, _, arg = a.vectors.partition(":")
    if kind == "fiori":
        qv = fiori(arg)[1]
    else:
        qv = synthetic_queries(int(arg or 1), 1000)
    qstr = [[f9(x) for x in v] for v in qv]
    where = json.loads(a.where) if a.where else None
    inv = Invoker(a.query)

    def body(i, filtered):
        parts = ['{"collection":', json.dumps(a.collection), ',"n_results":', str(a.n_results),
                 ',"query_embeddings":[[', ",".join(qstr[i % len(qstr)]), "]]"]
        if filtered:
            parts += [',"where":', json.dumps(where)]
        parts.append("}")
        return "".join(parts).encode()

    for i in range(a.warmup):  # the first one fetches the snapshot into the cache dir
        inv.invoke(body(i, i % 2 == 1 and where is not None))
    rows = []
    variants = ["none"] + (["where"] if where is not None else [])
    label = lambda v: v + a.variant_suffix
    k = a.warmup
    for rep in range(1, a.reps + 1):
        load = open("/proc/loadavg").read().split()[0]
        for variant in variants:
            for _ in range(a.queries):
                ans, rid, ms = inv.invoke(body(k, variant == "where"))
                k += 1
                got = len(ans["ids"][0])
                if got != a.n_results:
                    raise SystemExit("latency: query answered %d ids, expected %d" % (got, a.n_results))
                rows.append({"collection": a.collection, "variant": label(variant), "rep": rep, "request_id": rid,
                             "client_ms": "%.3f" % ms, "load1": load})
    split = parse_query_log(a.log)
    for r in rows:
        d, h = split.get(r["request_id"], (None, None))
        r["report_ms"] = "" if d is None else "%.3f" % d
        r["handler_ms"] = "" if h is None else "%.3f" % h
    new = not os.path.exists(a.raw)
    with open(a.raw, "a", newline="") as f:
        w = csv.DictWriter(f, ["collection", "variant", "rep", "request_id", "client_ms", "report_ms", "handler_ms",
                               "load1"])
        if new:
            w.writeheader()
        w.writerows(rows)
    for variant in variants:
        for rep in range(1, a.reps + 1):
            xs = [float(r["client_ms"]) for r in rows if r["variant"] == label(variant) and r["rep"] == rep]
            print("latency %-10s %-6s rep %d: n=%d p50=%.2f ms p99=%.2f ms" %
                  (a.collection, label(variant), rep, len(xs), pct(xs, 50), pct(xs, 99)), file=sys.stderr)


def probe_vectors(spec):
    """Base vectors for freshness probes: fiori:DIR (the fiori set) or synthetic:SEED (query-like)."""
    kind, _, arg = spec.partition(":")
    if kind == "fiori":
        return fiori(arg)[1]
    return synthetic_queries(int(arg or 1), 1000)


def cmd_freshness(a):
    """Single-record upserts, one in flight; per write the time from the producer's answer to a query
    that returns the record. mode poll: plain `get`s back to back (poll_ms apart), what any reader sees;
    mode ryw: one `get` carrying the producer's log_positions as min_log_positions (read-your-writes)."""
    vecs = probe_vectors(a.vectors)
    prod, query = Invoker(a.producer), Invoker(a.query)
    rows = []
    tag = "%x" % int(time.time() * 1000)
    phase = random.Random(int(a.run) * 1009 + len(a.mode))
    for i in range(a.writes):
        if a.jitter_ms > 0:
            # Writes arrive at a random phase of the query's tail listing, not right after one.
            time.sleep(phase.uniform(0, a.jitter_ms) / 1000.0)
        rid = "fresh-%s-%s-%03d" % (a.mode, tag, i)
        base = vecs[(i * 37) % len(vecs)]
        vec = [f9(x + 1e-3 * ((j * 31 + i) % 7 - 3)) for j, x in enumerate(base)]
        body = batch_json(a.collection, [rid], [vec], ["freshness probe %d" % i], [{"probe": i}])
        ack, _, produce_ms = prod.invoke(body)
        t_ack = time.perf_counter_ns()
        get = {"action": "get", "collection": a.collection, "ids": [rid], "include": []}
        if a.mode == "ryw":
            get["min_log_positions"] = ack["log_positions"]
        polls = 0
        while True:
            ans, _, _ = query.invoke(get)
            polls += 1
            if ans.get("ids") == [rid]:
                t_vis = time.perf_counter_ns()
                break
            if a.mode == "ryw":
                raise SystemExit("freshness: %s missing from a read-your-writes get: %s" % (rid, json.dumps(ans)[:300]))
            if (time.perf_counter_ns() - t_ack) / 1e9 > a.timeout:
                raise SystemExit("freshness: %s not visible %d s after the producer's ack" % (rid, a.timeout))
            if a.poll_ms > 0:
                time.sleep(a.poll_ms / 1000.0)  # polling interval of the visibility condition
        fresh_ms = (t_vis - t_ack) / 1e6
        rows.append({"write": i, "id": rid, "mode": a.mode, "base_records": a.base_records,
                     "produce_ms": "%.2f" % produce_ms, "freshness_ms": "%.2f" % fresh_ms,
                     "query_polls": polls, "pointer_ttl_ms": a.pointer_ttl_ms, "tail_ttl_ms": a.tail_ttl_ms,
                     "sqs_wait_s": a.sqs_wait, "load1": open("/proc/loadavg").read().split()[0]})
        print("freshness: %s write %d visible after %.0f ms (%d query polls)" % (a.mode, i, fresh_ms, polls),
              file=sys.stderr)
    new = not os.path.exists(a.raw)
    with open(a.raw, "a", newline="") as f:
        w = csv.DictWriter(f, ["run", "mode", "base_records", "write", "id", "produce_ms", "freshness_ms",
                               "query_polls", "pointer_ttl_ms", "tail_ttl_ms", "sqs_wait_s", "load1"])
        if new:
            w.writeheader()
        for r in rows:
            r["run"] = a.run
        w.writerows(rows)
    xs = [float(r["freshness_ms"]) for r in rows]
    print("freshness %s run %s: n=%d p50=%.0f ms p99=%.0f ms max=%.0f ms" % (a.mode, a.run, len(xs), pct(xs, 50),
                                                                           pct(xs, 99), max(xs)), file=sys.stderr)


def cmd_summary(a):
    """Latency raw CSV -> one row per (collection, variant): p50/p99 of client wall time per rep and their
    medians over reps; medians of the emulator's REPORT Duration and the handler's QueryLatency, and of
    the per-request differences (invoke HTTP + emulator queueing = client - REPORT; runtime loop and
    Runtime API = REPORT - handler)."""
    rows = list(csv.DictReader(open(a.raw)))
    keys = []
    for r in rows:
        if (r["collection"], r["variant"]) not in keys:
            keys.append((r["collection"], r["variant"]))
    out = []
    for coll, variant in keys:
        sel = [r for r in rows if r["collection"] == coll and r["variant"] == variant]
        reps = sorted({int(r["rep"]) for r in sel})
        p50s, p99s = [], []
        for rep in reps:
            xs = [float(r["client_ms"]) for r in sel if int(r["rep"]) == rep]
            p50s.append(pct(xs, 50))
            p99s.append(pct(xs, 99))
        both = [r for r in sel if r["report_ms"] and r["handler_ms"]]
        med = lambda f: "%.3f" % statistics.median(f(r) for r in both) if both else ""
        loads = [float(r["load1"]) for r in sel]
        out.append({
            "collection": coll, "variant": variant, "reps": len(reps), "queries_per_rep": len(sel) // len(reps),
            "p50_ms_per_rep": " ".join("%.2f" % x for x in p50s), "p99_ms_per_rep": " ".join("%.2f" % x for x in p99s),
            "p50_ms": "%.2f" % statistics.median(p50s), "p99_ms": "%.2f" % statistics.median(p99s),
            "report_p50_ms": med(lambda r: float(r["report_ms"])),
            "handler_p50_ms": med(lambda r: float(r["handler_ms"])),
            "invoke_overhead_p50_ms": med(lambda r: float(r["client_ms"]) - float(r["report_ms"])),
            "runtime_overhead_p50_ms": med(lambda r: float(r["report_ms"]) - float(r["handler_ms"])),
            "split_samples": len(both), "load1_min": min(loads), "load1_max": max(loads)})
    with open(a.out, "w", newline="") as f:
        w = csv.DictWriter(f, list(out[0].keys()))
        w.writeheader()
        w.writerows(out)
    for o in out:
        print(",".join(str(v) for v in o.values()))


def cmd_fresh_summary(a):
    rows = list(csv.DictReader(open(a.raw)))
    field = lambda r, k, d="": r.get(k) or d  # rows of older CSVs lack mode / base / tail TTL
    key = lambda r: (field(r, "mode", "poll"), field(r, "base_records", "778"), r["pointer_ttl_ms"],
                     field(r, "tail_ttl_ms"), r["sqs_wait_s"])
    keys = []
    for r in rows:
        if key(r) not in keys:
            keys.append(key(r))
    out = []
    for k in keys:
        sel = [r for r in rows if key(r) == k]
        runs = sorted({r["run"] for r in sel})
        p50s, p99s = [], []
        for run in runs:
            xs = [float(r["freshness_ms"]) for r in sel if r["run"] == run]
            p50s.append(pct(xs, 50))
            p99s.append(pct(xs, 99))
        loads = [float(r["load1"]) for r in sel]
        out.append({"mode": k[0], "base_records": k[1], "pointer_ttl_ms": k[2], "tail_ttl_ms": k[3],
                    "sqs_wait_s": k[4], "runs": len(runs), "writes_per_run": len(sel) // len(runs),
                    "p50_ms_per_run": " ".join("%.0f" % x for x in p50s),
                    "p99_ms_per_run": " ".join("%.0f" % x for x in p99s),
                    "p50_ms": "%.0f" % statistics.median(p50s), "p99_ms": "%.0f" % statistics.median(p99s),
                    "min_ms": "%.0f" % min(float(r["freshness_ms"]) for r in sel),
                    "max_ms": "%.0f" % max(float(r["freshness_ms"]) for r in sel),
                    "produce_p50_ms": "%.1f" % statistics.median(float(r["produce_ms"]) for r in sel),
                    "load1_min": min(loads), "load1_max": max(loads)})
    with open(a.out, "w", newline="") as f:
        w = csv.DictWriter(f, list(out[0].keys()))
        w.writeheader()
        w.writerows(out)
    for o in out:
        print(",".join(str(v) for v in o.values()))


def emf_lines(spec, metric):
    """EMF documents carrying `metric` in a log; spec PATH or PATH@OFFSET (only lines after OFFSET bytes)."""
    path, _, offset = spec.rpartition("@") if "@" in spec else (spec, "", "0")
    out = []
    with open(path, "rb") as fb:
        fb.seek(int(offset or 0))
        text = fb.read().decode(errors="replace")
    for line in text.splitlines():
        if line.startswith("{") and ('"%s"' % metric) in line:
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def cmd_fresh_split(a):
    """Where the freshness time goes, from the bootstraps' EMF lines: per compactor cycle (one per SQS
    event) CompactionDuration / DeltasProcessed / BytesUploaded; per query that fetched a new version
    (SnapshotBytesFetched > 0) its QueryLatency. Logs as PATH@OFFSET skip what came before (the base load)."""
    cycles = emf_lines(a.compactor_log, "CompactionDuration")
    out = [{"part": "compactor_cycle_ms", "n": len(cycles),
            "p50": "%.0f" % pct([c["CompactionDuration"] for c in cycles], 50),
            "p90": "%.0f" % pct([c["CompactionDuration"] for c in cycles], 90)},
           {"part": "deltas_per_cycle", "n": len(cycles), "p50": "%.0f" % pct([c["DeltasProcessed"] for c in cycles], 50),
            "p90": "%.0f" % pct([c["DeltasProcessed"] for c in cycles], 90)},
           {"part": "bytes_uploaded_per_cycle", "n": len(cycles),
            "p50": "%.0f" % pct([c["BytesUploaded"] for c in cycles], 50),
            "p90": "%.0f" % pct([c["BytesUploaded"] for c in cycles], 90)}]
    for qlog in a.query_log:
        fetches = [q for q in emf_lines(qlog, "QueryLatency") if q.get("SnapshotBytesFetched", 0) > 0]
        if fetches:
            name = os.path.basename(qlog.split("@")[0]).rsplit(".", 1)[0]
            out.append({"part": name + "_fetching_query_ms", "n": len(fetches),
                        "p50": "%.0f" % pct([q["QueryLatency"] for q in fetches], 50),
                        "p90": "%.0f" % pct([q["QueryLatency"] for q in fetches], 90)})
            out.append({"part": name + "_bytes_fetched", "n": len(fetches),
                        "p50": "%.0f" % pct([q["SnapshotBytesFetched"] for q in fetches], 50),
                        "p90": "%.0f" % pct([q["SnapshotBytesFetched"] for q in fetches], 90)})
    with open(a.out, "w", newline="") as f:
        w = csv.DictWriter(f, ["part", "n", "p50", "p90"])
        w.writeheader()
        w.writerows(out)
    for o in out:
        print(",".join(str(v) for v in o.values()))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("setup")
    p.add_argument("--prefix", required=True)
    p.add_argument("--visibility", type=int, default=120)
    p.set_defaults(fn=cmd_setup)
    p = sub.add_parser("load-fiori")
    p.add_argument("--csv")
    p.add_argument("dir")
    p.add_argument("--producer", required=True)
    p.add_argument("--collection", required=True)
    p.add_argument("--batch", type=int, default=100)
    p.set_defaults(fn=cmd_load_fiori)
    p = sub.add_parser("load-synthetic")
    p.add_argument("--csv")
    p.add_argument("--producer", required=True)
    p.add_argument("--collection", required=True)
    p.add_argument("--n", type=int, default=100000)
    p.add_argument("--start", type=int, default=0, help="first row of the seeded set")
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--seed", type=int, default=1)
    p.set_defaults(fn=cmd_load_synthetic)
    p = sub.add_parser("compact")
    p.add_argument("--csv")
    p.add_argument("--compactor", required=True)
    p.add_argument("--collection", required=True)
    p.set_defaults(fn=cmd_compact)
    p = sub.add_parser("wait-count")
    p.add_argument("--query", required=True)
    p.add_argument("--collection", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--timeout", type=int, default=600)
    p.set_defaults(fn=cmd_wait_count)
    p = sub.add_parser("wait-drained")
    p.add_argument("--queue", required=True)
    p.add_argument("--timeout", type=int, default=3600)
    p.set_defaults(fn=cmd_wait_drained)
    p = sub.add_parser("latency")
    p.add_argument("--query", required=True)
    p.add_argument("--collection", required=True)
    p.add_argument("--vectors", required=True)
    p.add_argument("--where")
    p.add_argument("--n-results", type=int, default=10)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--queries", type=int, default=300)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--log")
    p.add_argument("--variant-suffix", default="", help="appended to the variant names, e.g. +tail1pct")
    p.add_argument("--raw", required=True)
    p.set_defaults(fn=cmd_latency)
    p = sub.add_parser("freshness")
    p.add_argument("--producer", required=True)
    p.add_argument("--query", required=True)
    p.add_argument("--collection", required=True)
    p.add_argument("--vectors", required=True, help="fiori:DIR or synthetic:SEED")
    p.add_argument("--mode", choices=["poll", "ryw"], default="poll")
    p.add_argument("--base-records", default="")
    p.add_argument("--tail-ttl-ms", default="")
    p.add_argument("--jitter-ms", type=float, default=0, help="random pause (uniform 0..J ms) before each write")
    p.add_argument("--writes", type=int, default=25)
    p.add_argument("--poll-ms", type=float, default=10)
    p.add_argument("--timeout", type=int, default=120)
    p.add_argument("--pointer-ttl-ms", default="")
    p.add_argument("--sqs-wait", default="")
    p.add_argument("--run", default="1")
    p.add_argument("--raw", required=True)
    p.set_defaults(fn=cmd_freshness)
    p = sub.add_parser("summary")
    p.add_argument("--raw", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(fn=cmd_summary)
    p = sub.add_parser("fresh-summary")
    p.add_argument("--raw", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(fn=cmd_fresh_summary)
    p = sub.add_parser("fresh-split")
    p.add_argument("--compactor-log", required=True)
    p.add_argument("--query-log", action="append", default=[])
    p.add_argument("--out", required=True)
    p.set_defaults(fn=cmd_fresh_split)
    a = ap.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
