#!/usr/bin/env python3
"""Driver of the pipeline soak run (bench/pipeline/soak.sh starts moto and the emulators, then calls this).

  soak.py setup --prefix P --visibility S      bucket P-bucket, table P-kv, FIFO queue P-deltas.fifo with a FIFO
                                               DLQ P-dlq.fifo (RedrivePolicy maxReceiveCount 3, as
                                               infra/template.yaml); prints "QUEUE_URL DLQ_URL"
  soak.py run --collection C --shards 2 --producer URL... --compactor URL@PID@LOG... --query URL
              --bucket B --table T --queue-url Q --dlq-url D --minutes M --base N [...]

`run`, in order (every step has a deadline):
 1. base: N synthetic 384-d records (runtime_bench.py synthetic_rows, seed --seed) upserted through the
    producers in batches of --base-batch; then waits until every shard's committed log_position covers the
    base's acknowledged positions (the compactor emulators drain their SQS triggers). Both times are printed;
    neither is part of the soak's numbers.
 2. soak, --minutes: one writer thread per producer emulator, back to back, batches of --batch records,
    each batch one operation: 70 % upsert (30 % new ids, 70 % overwrites of ids written before, also deleted
    ones: a re-add), 20 % metadata-only update ({"u": w}, every other one also {"bucket": null}: a key
    deletion; updates of deleted ids are Chroma no-ops), 10 % delete (--batch / 5 ids). Write w (a global
    counter) gives record `id` the embedding / document / metadata derived from (id, w) alone. Every
    acknowledgement is recorded with its time and per-shard log_position.
    Meanwhile: a killer thread SIGKILLs the bootstrap (a child of a compactor emulator whose comm is
    "bootstrap") of a random compactor every --kill-min..--kill-max s (uniform); a schedule thread invokes
    {"action":"compact"} on a random compactor every --schedule-s s (until the drain is over); a monitor
    thread reads every shard's pointer (GetItem PTR#C#S, ConsistentRead) and, when it names a new manifest,
    the manifest's log_position, every 250 ms (from step 1 on), and samples the queue depths every 5 s.
 3. drain: writers stopped (their in-flight invokes finish), killer stopped; waits until each shard's
    committed log_position >= every acknowledged one (--drain-timeout), then up to --queue-wait s for the
    trigger queue to empty.
 4. verify through the query emulator ("get" by ids, pages of --page, embeddings + documents + metadatas, and
    "count"): every id ever written must be in the state of the model, which applies the acknowledged writes
    of each id in its shard's log order (Chroma 1.5.9: upsert replaces embedding + document and merges
    metadata; update of an absent id is ignored, a null metadata value deletes the key; delete removes).
    Ids of a write that failed (not acknowledged, so it may or may not apply) are reported and left out of
    the exact check.
 5. report: acknowledged writes/s and records/s during the soak; compaction lag per write (from its
    acknowledgement to the commit time, the pointer's committed_at, of the first version the monitor saw
    covering all its shards' positions; the monitor's observation time is in the raw CSV) p50/p99/max;
    compactor kills; DLQ and trigger queue depth at the end (and the maximum depth seen); compactor
    invocations and cycles (EMF CompactionDuration lines of the compactor logs) during the soak; load
    average at start and end. OUT_DIR/pipeline_soak.csv (one row), OUT_DIR/pipeline_soak_raw.csv (one row
    per acknowledged soak write), one summary line on stdout. Exit 1 when the check fails, anything stays
    uncommitted, the DLQ is not empty, a pointer moved backwards or a manifest lists skipped entries.
"""
import argparse
import bisect
import csv
import http.client
import json
import os
import random
import signal
import struct
import sys
import threading
import time
import urllib.parse
import zlib

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "runtime"))
import runtime_bench as rb  # noqa: E402  (Invoker, synthetic_rows, batch_json, pct)

DIM = rb.DIM
POOL = 1024  # distinct tails of soak embeddings


def log(msg):
    print("soak: " + msg, file=sys.stderr, flush=True)


def loadavg():
    return " ".join(open("/proc/loadavg").read().split()[:3])


def client(service):
    """A boto3 client of its own session (one per thread), signed with the AWS_* variables."""
    import boto3
    from botocore.config import Config
    s = boto3.session.Session()
    return s.client(service, endpoint_url=os.environ["AWS_ENDPOINT_URL"],
                    region_name=os.environ.get("AWS_REGION", "us-east-1"),
                    config=Config(retries={"max_attempts": 8, "mode": "standard"}, connect_timeout=5,
                                  read_timeout=60))


def invoke_once(url, body, timeout):
    """One producer write on a fresh loopback connection, never retried (runtime_bench's Invoker retries a
    request whose connection dropped, which could apply a write twice). Returns the answer JSON; raises on a
    function error or a transport error (then the write may or may not have been appended)."""
    u = urllib.parse.urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        conn.request("POST", rb.INVOKE_PATH, body=body, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        data = resp.read()
    finally:
        conn.close()
    if resp.status != 200 or resp.getheader("X-Amz-Function-Error"):
        raise RuntimeError("invoke %s answered %d %s: %s" % (url, resp.status, resp.getheader("X-Amz-Function-Error"),
                                                              data[:500]))
    return json.loads(data)


def shard_for_id(id_, shards):
    """pipeline::ShardForId: FNV-1a 64 of the UTF-8 bytes, modulo shards."""
    h = 0xcbf29ce484222325
    for c in id_.encode():
        h = ((h ^ c) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h % shards


# ------------------------------------------------------------------------------------------- contents

class Contents:
    """Record contents as functions of (id, write number w). Embedding: [w % 65536 / 65536,
    crc32(id) % 65536 / 65536, 382 values of a pool of 3-decimal vectors picked by (id, w)]; the first two
    are exact float32 values, so the expected float32 bytes are known exactly."""

    def __init__(self, seed):
        rng = random.Random(seed * 7727 + 3)
        table = ["%.3f" % (k / 1000.0) for k in range(-1000, 1001)]
        self.text, self.bytes = [], []
        for _ in range(POOL):
            vals = rng.choices(table, k=DIM - 2)
            self.text.append(",".join(vals))
            self.bytes.append(struct.pack("<%df" % (DIM - 2), *[float(v) for v in vals]))
        self.base_seed = seed

    @staticmethod
    def _head(id_, w):
        h = zlib.crc32(id_.encode())
        return (w % 65536) / 65536.0, (h % 65536) / 65536.0, (h * 40503 + w * 2654435761) % POOL

    def emb_text(self, id_, w):
        a, b, k = self._head(id_, w)
        return "%r,%r,%s" % (a, b, self.text[k])

    def emb_bytes(self, id_, w):
        a, b, k = self._head(id_, w)
        return struct.pack("<2f", a, b) + self.bytes[k]

    @staticmethod
    def document(id_, w):
        return "doc %s w%d" % (id_, w)

    @staticmethod
    def upsert_meta(w, thread):
        return {"w": w, "t": thread, "bucket": w % 10}

    @staticmethod
    def update_meta(w):
        return {"u": w, "bucket": None} if w % 2 else {"u": w}

    def base_state(self, i):
        """Base record i as load-synthetic writes it: (embedding bytes, document, metadata)."""
        ids, vecs, docs, metas = rb.synthetic_rows(self.base_seed, i, 1)
        return struct.pack("<%df" % DIM, *[float(v) for v in vecs[0]]), docs[0], metas[0]


def base_index(id_):
    return int(id_[1:]) if id_.startswith("s") and id_[1:].isdigit() else None


# ---------------------------------------------------------------------------------------------- state

class Soak:
    def __init__(self, a):
        self.a = a
        self.contents = Contents(a.seed)
        self.lock = threading.Lock()
        self.w_next = 0
        self.acks = []        # soak writes: dict(t_send, t_ack, w, thread, op, ids, pos={shard: log_position})
        self.failures = []    # dict(t, w, thread, op, ids, error)
        self.known = []       # ids written by an acknowledged upsert (base included): overwrite candidates
        self.known_set = set()
        self.commits = {s: [] for s in range(a.shards)}  # per shard: (t_obs, committed_at_s, version, log_position)
        self.anomalies = []   # pointer moved backwards, manifest with skipped entries, shard mismatch
        self.monitor_errors = 0
        self.queue_samples = []  # (t, queue depth, dlq depth)
        self.kills = []       # (t, compactor index, pids)
        self.kill_misses = 0
        self.model_stats = {}
        self.schedule = []    # (t, compactor index, ok, answer or error)
        self.stop_writers = threading.Event()
        self.stop_killer = threading.Event()
        self.stop_schedule = threading.Event()
        self.stop_monitor = threading.Event()
        self.compactors = []
        for spec in a.compactor:
            url, pid, logf = spec.split("@", 2)
            self.compactors.append({"url": url, "pid": int(pid), "log": logf})

    def next_w(self):
        with self.lock:
            self.w_next += 1
            return self.w_next

    def committed(self, shard):
        c = self.commits[shard]
        return c[-1][3] if c else 0

    # ------------------------------------------------------------------------------------ monitor
    def monitor(self):
        ddb, s3, sqs = client("dynamodb"), client("s3"), client("sqs")
        last_key = {s: None for s in range(self.a.shards)}
        next_q = 0.0
        while not self.stop_monitor.is_set():
            t0 = time.time()
            for s in range(self.a.shards):
                try:
                    item = ddb.get_item(TableName=self.a.table, ConsistentRead=True,
                                        Key={"pk": {"S": "PTR#%s#%d" % (self.a.collection, s)}}).get("Item")
                    if not item or item["manifest_key"]["S"] == last_key[s]:
                        continue
                    key = item["manifest_key"]["S"]
                    m = json.loads(s3.get_object(Bucket=self.a.bucket, Key=key)["Body"].read())
                    t_obs = time.time()
                    pos = int(m["log_position"])
                    rec = (t_obs, int(item["committed_at"]["N"]) / 1000.0, int(item["version"]["N"]), pos)
                    with self.lock:
                        prev = self.commits[s][-1] if self.commits[s] else None
                        if prev and (pos < prev[3] or rec[2] <= prev[2]):
                            self.anomalies.append("shard %d: pointer went from version %d log_position %d to "
                                                  "version %d log_position %d (%s)" % (s, prev[2], prev[3], rec[2],
                                                                                      pos, key))
                        if m.get("skipped"):
                            self.anomalies.append("shard %d version %d: manifest lists skipped entries %s" %
                                                  (s, rec[2], json.dumps(m["skipped"])[:500]))
                        if not prev or pos >= prev[3]:
                            self.commits[s].append(rec)
                    last_key[s] = key
                except Exception as e:  # moto busy: try again at the next poll
                    self.monitor_errors += 1
                    if self.monitor_errors <= 5:
                        log("monitor: %s" % e)
            if t0 >= next_q:
                next_q = t0 + 5
                try:
                    self.queue_samples.append((t0, queue_depth(sqs, self.a.queue_url), queue_depth(sqs, self.a.dlq_url)))
                except Exception as e:
                    self.monitor_errors += 1
                    log("monitor: queue depth: %s" % e)
            self.stop_monitor.wait(max(0.0, t0 + 0.25 - time.time()))

    def wait_covered(self, targets, timeout, what):
        """Waits until every shard's committed log_position >= targets[shard]; returns seconds waited or None."""
        t0 = time.time()
        last_print = t0
        while True:
            if all(self.committed(s) >= p for s, p in targets.items()):
                return time.time() - t0
            if time.time() - t0 > timeout:
                return None
            if time.time() - last_print > 30:
                last_print = time.time()
                log("%s: committed %s, waiting for %s (%.0f s)" %
                    (what, {s: self.committed(s) for s in targets}, targets, time.time() - t0))
            time.sleep(0.1)  # polling interval of the monitor's state

    # ------------------------------------------------------------------------------------- writers
    def body(self, op, ids, w, thread):
        coll = json.dumps(self.a.collection)
        if op == "upsert":
            c = self.contents
            return "".join(['{"collection":', coll, ',"operation":"upsert","ids":', json.dumps(ids),
                            ',"embeddings":[', ",".join("[" + c.emb_text(i, w) + "]" for i in ids),
                            '],"documents":', json.dumps([c.document(i, w) for i in ids]),
                            ',"metadatas":', json.dumps([c.upsert_meta(w, thread)] * len(ids)), "}"]).encode()
        if op == "update":
            return json.dumps({"collection": self.a.collection, "operation": "update", "ids": ids,
                               "metadatas": [Contents.update_meta(w)] * len(ids)}).encode()
        return json.dumps({"collection": self.a.collection, "operation": "delete", "ids": ids}).encode()

    def pick_known(self, rng, k):
        with self.lock:
            n = len(self.known)
            if n == 0:
                return []
            return [self.known[j] for j in rng.sample(range(n), min(k, n))]

    def writer(self, ti, url):
        rng = random.Random(self.a.seed * 1000003 + ti)
        fresh = 0
        B = self.a.batch
        while not self.stop_writers.is_set():
            w = self.next_w()
            r = rng.random()
            if r < 0.7:
                op = "upsert"
                n_new = B * 3 // 10
                ids = self.pick_known(rng, B - n_new)
                n_new = B - len(ids)
                have = set(ids)
                for _ in range(n_new):
                    fresh += 1
                    nid = "n%d-%07d" % (ti, fresh)
                    if nid not in have:
                        ids.append(nid)
            elif r < 0.9:
                op = "update"
                ids = self.pick_known(rng, B)
            else:
                op = "delete"
                ids = self.pick_known(rng, max(1, B // 5))
            if not ids:
                continue
            body = self.body(op, ids, w, ti)
            t_send = time.time()
            try:
                ans = invoke_once(url, body, self.a.producer_timeout + 30)
                t_ack = time.time()
                pos = {int(p["shard"]): int(p["log_position"]) for p in ans["log_positions"]}
            except Exception as e:
                with self.lock:
                    self.failures.append({"t": time.time(), "w": w, "thread": ti, "op": op, "ids": ids,
                                          "error": str(e)[:500]})
                log("writer %d: write %d (%s of %d ids) failed: %s" % (ti, w, op, len(ids), str(e)[:300]))
                time.sleep(0.5)  # do not spin on a broken producer
                continue
            shards = {shard_for_id(i, self.a.shards) for i in ids}
            with self.lock:
                if set(pos) != shards:
                    self.anomalies.append("write %d: acknowledged shards %s, ids hash to %s" %
                                          (w, sorted(pos), sorted(shards)))
                self.acks.append({"t_send": t_send, "t_ack": t_ack, "w": w, "thread": ti, "op": op, "ids": ids,
                                  "pos": pos})
                if op == "upsert":
                    for i in ids:
                        if i not in self.known_set:
                            self.known_set.add(i)
                            self.known.append(i)

    # -------------------------------------------------------------------------------- killer, schedule
    def killer(self):
        rng = random.Random(self.a.seed * 31 + 7)
        while not self.stop_killer.wait(rng.uniform(self.a.kill_min, self.a.kill_max)):
            i = rng.randrange(len(self.compactors))
            emu = self.compactors[i]["pid"]
            pids = [p for p in children(emu) if comm(p) == "bootstrap"]
            if not pids:
                self.kill_misses += 1
                log("killer: compactor %d (emulator %d) has no bootstrap running" % (i + 1, emu))
                continue
            for p in pids:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.kills.append((time.time(), i, pids))
            log("killer: SIGKILL compactor %d bootstrap pid %s" % (i + 1, ",".join(map(str, pids))))

    def scheduler(self):
        rng = random.Random(self.a.seed * 37 + 11)
        invs = [rb.Invoker(c["url"], timeout=2 * self.a.compactor_timeout + 60) for c in self.compactors]
        while not self.stop_schedule.wait(self.a.schedule_s):
            i = rng.randrange(len(invs))
            t = time.time()
            try:
                ans, _, _ = invs[i].invoke({"action": "compact", "collection": self.a.collection})
                cyc = [(c.get("shard"), c.get("status"), c.get("log_position"), c.get("applied")) for c in ans["cycles"]]
                self.schedule.append((t, i, True, cyc))
                log("schedule: compactor %d: %s" % (i + 1, cyc))
            except Exception as e:  # e.g. the killer hit this invocation: Runtime.ExitError
                self.schedule.append((t, i, False, str(e)[:300]))
                log("schedule: compactor %d: %s" % (i + 1, str(e)[:300]))


def children(pid):
    out = []
    try:
        for task in os.listdir("/proc/%d/task" % pid):
            try:
                out += [int(x) for x in open("/proc/%d/task/%s/children" % (pid, task)).read().split()]
            except OSError:
                pass
    except OSError:
        pass
    return sorted(set(out))


def comm(pid):
    try:
        return open("/proc/%d/comm" % pid).read().strip()
    except OSError:
        return ""


def queue_depth(sqs, url):
    at = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed"])["Attributes"]
    return sum(int(at.get(k, 0)) for k in ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                                           "ApproximateNumberOfMessagesDelayed"))


# ----------------------------------------------------------------------------------------------- steps

def load_base(soak):
    """The base through the producers (one thread per producer, batches interleaved). Returns
    (seconds, {shard: max log_position})."""
    a = soak.a
    starts = list(range(0, a.base, a.base_batch))
    top = {}
    errors = []

    def loader(ti, url):
        for s in starts[ti::len(a.producer)]:
            if errors:
                return
            ids, vecs, docs, metas = rb.synthetic_rows(a.seed, s, min(a.base_batch, a.base - s))
            try:
                ans = invoke_once(url, rb.batch_json(a.collection, ids, vecs, docs, metas), a.producer_timeout + 30)
            except Exception as e:
                errors.append("base batch at %d: %s" % (s, e))
                return
            with soak.lock:
                for p in ans["log_positions"]:
                    top[int(p["shard"])] = max(top.get(int(p["shard"]), 0), int(p["log_position"]))

    t0 = time.time()
    th = [threading.Thread(target=loader, args=(i, u), daemon=True) for i, u in enumerate(a.producer)]
    for t in th:
        t.start()
    for t in th:
        t.join(a.base_timeout)
    if errors or any(t.is_alive() for t in th):
        raise SystemExit("soak: base load failed: %s" % (errors or "timeout"))
    soak.known = ["s%07d" % i for i in range(a.base)]
    soak.known_set = set(soak.known)
    return time.time() - t0, top


def model_live(soak, acks):
    """id -> expected state (embedding bytes, document, metadata) or None (absent), for every id ever written
    (tainted ids of failed writes excluded, returned apart)."""
    a, c = soak.a, soak.contents
    per_id = {}
    for ack in acks:
        for i in ack["ids"]:
            per_id.setdefault(i, []).append((ack["pos"][shard_for_id(i, a.shards)], ack["w"], ack["op"],
                                             ack["thread"]))
    tainted = set()
    for f in soak.failures:
        tainted.update(f["ids"])
    ids = set(per_id) | set("s%07d" % i for i in range(a.base))
    return per_id, tainted, sorted(ids - tainted), sorted(tainted)


def expected_state(soak, id_, history, stats=None):
    """The model: Chroma 1.5.9's semantics applied to the id's acknowledged writes in log order. `stats`
    (a dict) counts what the history exercised."""
    c = soak.contents
    bi = base_index(id_)
    st = None
    if bi is not None and bi < soak.a.base:
        emb, doc, meta = c.base_state(bi)
        st = [("base", emb), doc, dict(meta)]
    stats = {} if stats is None else stats
    hist = sorted(history or [])
    if len({h[3] for h in hist}) > 1:
        stats["multi_writer_ids"] = stats.get("multi_writer_ids", 0) + 1
    deleted = False
    for _pos, w, op, thread in hist:
        if op == "delete":
            deleted = deleted or st is not None
            st = None
        elif op == "upsert":
            if st is None and deleted:
                stats["readds"] = stats.get("readds", 0) + 1
            elif st is not None:
                stats["overwrites"] = stats.get("overwrites", 0) + 1
            meta = dict(st[2]) if st else {}
            meta.update(Contents.upsert_meta(w, thread))
            st = [("gen", w), Contents.document(id_, w), meta]
        elif op == "update" and st is None:
            stats["updates_of_absent"] = stats.get("updates_of_absent", 0) + 1
        elif op == "update":
            meta = dict(st[2])
            for k, v in Contents.update_meta(w).items():
                if v is None:
                    if k in meta:
                        stats["key_deletions"] = stats.get("key_deletions", 0) + 1
                    meta.pop(k, None)
                else:
                    meta[k] = v
            st[2] = meta
            stats["merged_updates"] = stats.get("merged_updates", 0) + 1
    return st


def verify(soak, ids, per_id):
    """Pages of `get` by ids through the query emulator; returns (checked, live, mismatches[list of str])."""
    a, c = soak.a, soak.contents
    inv = rb.Invoker(a.query, timeout=600)
    bad, live = [], 0
    soak.model_stats = stats = {}
    for s in range(0, len(ids), a.page):
        page = ids[s:s + a.page]
        ans, _, _ = inv.invoke({"action": "get", "collection": a.collection, "ids": page,
                                "include": ["embeddings", "documents", "metadatas"]})
        got = {}
        for k, i in enumerate(ans["ids"]):
            if i in got:
                bad.append("%s: returned twice" % i)
            got[i] = (ans["embeddings"][k], ans["documents"][k], ans["metadatas"][k])
        for i in page:
            st = expected_state(soak, i, per_id.get(i), stats)
            g = got.pop(i, None)
            if st is None:
                if g is not None:
                    bad.append("%s: expected absent, got document %r metadata %s" % (i, g[1], json.dumps(g[2])))
                continue
            live += 1
            if g is None:
                bad.append("%s: expected document %r metadata %s, absent" % (i, st[1], json.dumps(st[2])))
                continue
            if st[0][0] == "base":
                exp_emb = st[0][1]
            else:
                exp_emb = c.emb_bytes(i, st[0][1])
            try:
                got_emb = struct.pack("<%df" % DIM, *g[0])
            except (struct.error, TypeError):
                got_emb = None
            probs = []
            if got_emb != exp_emb:
                probs.append("embedding differs (expected %s, first values got %s)" %
                             ("base" if st[0][0] == "base" else "write %d" % st[0][1], (g[0] or [])[:2]))
            if g[1] != st[1]:
                probs.append("document %r, expected %r" % (g[1], st[1]))
            if (g[2] or None) != (st[2] or None):
                probs.append("metadata %s, expected %s" % (json.dumps(g[2], sort_keys=True),
                                                          json.dumps(st[2], sort_keys=True)))
            if probs:
                bad.append("%s: %s" % (i, "; ".join(probs)))
        for i in got:
            bad.append("%s: returned but not asked for" % i)
    cnt, _, _ = inv.invoke({"action": "count", "collection": a.collection})
    return len(ids), live, bad, cnt.get("count")


def log_counts(path, offset=0):
    """Counts in a compactor emulator log from byte `offset`."""
    out = {"invocations": 0, "cycles": 0, "deltas": 0, "cycle_failed": 0, "skipped_logged": 0, "exit_errors": 0,
           "timeouts": 0, "batches_kept": 0}
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            text = f.read().decode(errors="replace")
    except OSError:
        return out
    for line in text.splitlines():
        if line.startswith("REPORT RequestId"):
            out["invocations"] += 1
        elif line.startswith("{") and '"CompactionDuration"' in line:
            out["cycles"] += 1
            try:
                out["deltas"] += int(json.loads(line).get("DeltasProcessed", 0))
            except ValueError:
                pass
        elif '"cycle failed"' in line:
            out["cycle_failed"] += 1
        elif '"log entry skipped"' in line:
            out["skipped_logged"] += 1
        if "Runtime.ExitError" in line:
            out["exit_errors"] += 1
        if "Sandbox.Timeout" in line or "Task timed out" in line:
            out["timeouts"] += 1
        if "function error: the whole batch returns" in line:
            out["batches_kept"] += 1
    return out


def fmt(x, nd=2):
    return "" if x is None else ("%.*f" % (nd, x))


def cmd_setup(a):
    s3, ddb, sqs = client("s3"), client("dynamodb"), client("sqs")
    s3.create_bucket(Bucket=a.prefix + "-bucket")
    ddb.create_table(TableName=a.prefix + "-kv", AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")
    dlq = sqs.create_queue(QueueName=a.prefix + "-dlq.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(QueueName=a.prefix + "-deltas.fifo", Attributes={
        "FifoQueue": "true", "ContentBasedDeduplication": "false", "VisibilityTimeout": str(a.visibility),
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"})})["QueueUrl"]
    print(url, dlq)


def cmd_run(a):
    soak = Soak(a)
    os.makedirs(a.out_dir, exist_ok=True)
    mismatch_file = os.path.join(a.out_dir, "pipeline_soak_mismatches.txt")
    if os.path.exists(mismatch_file):
        os.remove(mismatch_file)  # a previous run's
    load_start = loadavg()
    log("load average at start: %s, %d cores" % (load_start, os.cpu_count()))
    mon = threading.Thread(target=soak.monitor, daemon=True)
    mon.start()

    # 1. base
    base_load_s, base_top = load_base(soak) if a.base > 0 else (0.0, {})
    log("base: %d records in %.1f s (acknowledged log positions %s)" % (a.base, base_load_s, base_top))
    base_drain_s = soak.wait_covered(base_top, a.base_timeout, "base drain") if base_top else 0.0
    if base_drain_s is None:
        raise SystemExit("soak: base not committed within %d s: committed %s, acknowledged %s" %
                         (a.base_timeout, {s: soak.committed(s) for s in base_top}, base_top))
    log("base: compacted %.1f s after its last acknowledgement" % base_drain_s)

    # 2. soak
    offsets = {}
    for c in soak.compactors:
        try:
            offsets[c["log"]] = os.path.getsize(c["log"])
        except OSError:
            offsets[c["log"]] = 0
    writers = [threading.Thread(target=soak.writer, args=(i, u), daemon=True) for i, u in enumerate(a.producer)]
    killer = threading.Thread(target=soak.killer, daemon=True)
    sched = threading.Thread(target=soak.scheduler, daemon=True)
    t_soak = time.time()
    for t in writers:
        t.start()
    killer.start()
    sched.start()
    log("soak: %g min, %d producers, %d compactors (kill every %g..%g s, schedule every %g s)" %
        (a.minutes, len(a.producer), len(soak.compactors), a.kill_min, a.kill_max, a.schedule_s))
    while time.time() - t_soak < a.minutes * 60:
        time.sleep(min(10, max(0.05, t_soak + a.minutes * 60 - time.time())))
        with soak.lock:
            n = len(soak.acks)
        log("soak: %.0f s, %d writes acknowledged, committed %s" %
            (time.time() - t_soak, n, {s: soak.committed(s) for s in range(a.shards)}))
    soak.stop_writers.set()
    soak.stop_killer.set()
    for t in writers:
        t.join(a.producer_timeout + 60)
    t_end = time.time()
    soak_s = max(1e-9, max([x["t_ack"] for x in soak.acks] + [t_soak]) - t_soak)
    killer.join(5)
    if any(t.is_alive() for t in writers):
        log("soak: a writer is still in its invoke after %d s" % (a.producer_timeout + 60))

    # 3. drain
    with soak.lock:
        acks = list(soak.acks)
    targets = dict(base_top)
    for x in acks:
        for s, p in x["pos"].items():
            targets[s] = max(targets.get(s, 0), p)
    drain_s = soak.wait_covered(targets, a.drain_timeout, "drain")
    if drain_s is None:
        log("drain: NOT committed within %d s: committed %s, acknowledged %s" %
            (a.drain_timeout, {s: soak.committed(s) for s in targets}, targets))
    else:
        log("drain: every acknowledged write committed %.1f s after the writers stopped" % (time.time() - t_end))
    sqs = client("sqs")
    t_q = time.time()
    qd = dq = None
    while True:
        try:
            qd, dq = queue_depth(sqs, a.queue_url), queue_depth(sqs, a.dlq_url)
        except Exception as e:
            log("queue depth: %s" % e)
        if qd == 0 or time.time() - t_q > a.queue_wait:
            break
        time.sleep(1)  # polling interval of the queue-empty condition
    soak.stop_schedule.set()

    # Log order vs acknowledgement order: a write acknowledged before another one was sent must have the
    # smaller log position on every shard both touch (docs/design/log.md).
    for s in range(a.shards):
        on = sorted((x["t_ack"], x["pos"][s], x["w"]) for x in acks if s in x["pos"])
        t_acks = [o[0] for o in on]
        best = []  # prefix maximum of (log position, write)
        for o in on:
            best.append(max(best[-1], (o[1], o[2])) if best else (o[1], o[2]))
        for x in acks:
            if s not in x["pos"]:
                continue
            k = bisect.bisect_left(t_acks, x["t_send"])
            if k and best[k - 1][0] >= x["pos"][s]:
                soak.anomalies.append("shard %d: write %d (sent after write %d was acknowledged) has log position "
                                      "%d <= %d" % (s, x["w"], best[k - 1][1], x["pos"][s], best[k - 1][0]))

    # 4. verify
    with soak.lock:
        late = soak.acks[len(acks):]  # acknowledged after the drain target was fixed (a writer overran)
    for x in late:
        soak.failures.append({"t": x["t_ack"], "w": x["w"], "thread": x["thread"], "op": x["op"], "ids": x["ids"],
                              "error": "acknowledged after the writers were stopped"})
    per_id, tainted, ids, tainted_ids = model_live(soak, acks)
    t_v = time.time()
    try:
        checked, live, bad, count = verify(soak, ids, per_id)
    except Exception as e:  # the query function failed: reported, not a traceback
        checked, live, bad, count = 0, 0, ["verify: %s" % str(e)[:500]], None
    log("verify: %d ids checked (%d live) in %.1f s, %d mismatches; count %s; %d ids of failed writes not checked" %
        (checked, live, time.time() - t_v, len(bad), count, len(tainted_ids)))
    log("verify: the model exercised %s" % json.dumps(soak.model_stats, sort_keys=True))
    count_ok = tainted_ids or count == live or checked == 0
    if not count_ok:
        bad.append("count: the collection has %s records, the model %d" % (count, live))
    for b in bad[:20]:
        log("MISMATCH " + b)
    if bad:
        path = mismatch_file
        with open(path, "w") as f:
            for b in bad:
                f.write(b + "\n")
            f.write("\ncommitted per shard (t_obs, committed_at, version, log_position):\n")
            for s, cs in soak.commits.items():
                f.write("shard %d: %s\n" % (s, cs[-5:]))
            f.write("\nhistories (log_position, w, op, thread) of the first 50:\n")
            for b in bad[:50]:
                i = b.split(":", 1)[0]
                f.write("%s: %s\n" % (i, sorted(per_id.get(i, []))))
        log("mismatches written to %s" % path)

    # 5. report
    soak.stop_monitor.set()
    mon.join(5)
    sched.join(1)
    load_end = loadavg()
    rows, lags, uncovered = [], [], 0
    for x in acks:
        lag_c, lag_o = 0.0, 0.0
        for s, p in x["pos"].items():
            cs = soak.commits[s]
            k = bisect.bisect_left([c[3] for c in cs], p)
            if k == len(cs):
                lag_c = lag_o = None
                break
            lag_c = max(lag_c, cs[k][1] - x["t_ack"])
            lag_o = max(lag_o, cs[k][0] - x["t_ack"])
        if lag_c is None:
            uncovered += 1
        else:
            lag_c = max(0.0, lag_c)
            lags.append(lag_c)
        rows.append({"t_ack": "%.3f" % (x["t_ack"] - t_soak), "write": x["w"], "thread": x["thread"], "op": x["op"],
                     "records": len(x["ids"]), "produce_ms": "%.1f" % ((x["t_ack"] - x["t_send"]) * 1000),
                     "positions": " ".join("%d:%d" % kv for kv in sorted(x["pos"].items())),
                     "lag_s": fmt(lag_c, 3), "lag_observed_s": fmt(None if lag_o is None else max(0.0, lag_o), 3)})
    os.makedirs(a.out_dir, exist_ok=True)
    with open(os.path.join(a.out_dir, "pipeline_soak_raw.csv"), "w", newline="") as f:
        wr = csv.DictWriter(f, ["t_ack", "write", "thread", "op", "records", "produce_ms", "positions", "lag_s",
                                "lag_observed_s"])
        wr.writeheader()
        wr.writerows(rows)
    counts = {}
    for c in soak.compactors:
        for k, v in log_counts(c["log"], offsets[c["log"]]).items():
            counts[k] = counts.get(k, 0) + v
    records = sum(len(x["ids"]) for x in acks)
    qmax = max([q[1] for q in soak.queue_samples] + [0])
    dmax = max([q[2] for q in soak.queue_samples] + [0])
    problems = []
    if bad:
        problems.append("%d mismatches" % len(bad))
    if drain_s is None or uncovered:
        problems.append("%d acknowledged writes never committed" % uncovered)
    if dq:
        problems.append("DLQ depth %s" % dq)
    if soak.anomalies:
        problems.append("%d anomalies" % len(soak.anomalies))
        for an in soak.anomalies[:20]:
            log("ANOMALY " + an)
    if soak.failures:
        problems.append("%d failed writes" % len(soak.failures))
    result = "PASS" if not problems else "FAIL"
    summary = {
        "result": result, "minutes": a.minutes, "base": a.base, "producers": len(a.producer),
        "compactors": len(soak.compactors), "shards": a.shards, "batch": a.batch,
        "base_load_s": fmt(base_load_s, 1), "base_drain_s": fmt(base_drain_s, 1), "soak_s": fmt(soak_s, 1),
        "writes": len(acks), "records": records, "writes_per_s": fmt(len(acks) / soak_s),
        "records_per_s": fmt(records / soak_s, 1), "failed_writes": len(soak.failures),
        "ops_upsert_update_delete": "/".join(str(sum(1 for x in acks if x["op"] == o)) for o in
                                             ("upsert", "update", "delete")),
        "lag_p50_s": fmt(rb.pct(lags, 50) if lags else None), "lag_p99_s": fmt(rb.pct(lags, 99) if lags else None),
        "lag_max_s": fmt(max(lags) if lags else None), "uncommitted_writes": uncovered,
        "drain_s": fmt(drain_s, 1),
        "kills": len(soak.kills), "kill_misses": soak.kill_misses,
        "runtime_exit_errors": counts.get("exit_errors", 0), "sqs_batches_kept": counts.get("batches_kept", 0),
        "compactor_timeouts": counts.get("timeouts", 0),
        "schedule_invokes": len(soak.schedule), "schedule_failed": sum(1 for s in soak.schedule if not s[2]),
        "compactor_invocations": counts.get("invocations", 0), "cycles": counts.get("cycles", 0),
        "deltas_applied": counts.get("deltas", 0), "cycles_failed": counts.get("cycle_failed", 0),
        "queue_depth_end": "" if qd is None else qd, "queue_depth_max": qmax,
        "dlq_depth_end": "" if dq is None else dq, "dlq_depth_max": dmax,
        "ids_checked": checked, "ids_live": live, "ids_unchecked_failed_writes": len(tainted_ids),
        "mismatches": len(bad), "model_stats": " ".join("%s=%d" % kv for kv in sorted(soak.model_stats.items())),
        "anomalies": len(soak.anomalies), "monitor_errors": soak.monitor_errors,
        "lease_ttl_ms": a.lease_ttl_ms, "lease_wait_ms": a.lease_wait_ms, "compactor_timeout_s": a.compactor_timeout,
        "load_start": load_start, "load_end": load_end, "cores": os.cpu_count(),
    }
    with open(os.path.join(a.out_dir, "pipeline_soak.csv"), "w", newline="") as f:
        wr = csv.DictWriter(f, list(summary))
        wr.writeheader()
        wr.writerow(summary)
    print("soak %s: %g min, base %d (load %.1f s, drained %.1f s after), %d producers x batch %d: %.2f writes/s, "
          "%.1f records/s (%s upsert/update/delete, %d failed); lag p50 %s p99 %s max %s s; %d compactors, %d kills "
          "(%d exit errors); %d invocations, %d cycles, %d deltas; queue %s (max %d), DLQ %s; %d ids checked, "
          "%d live, %d mismatches; load %s -> %s%s" %
          (result, a.minutes, a.base, base_load_s, base_drain_s or 0, len(a.producer), a.batch, len(acks) / soak_s,
           records / soak_s, summary["ops_upsert_update_delete"], len(soak.failures), summary["lag_p50_s"],
           summary["lag_p99_s"], summary["lag_max_s"], len(soak.compactors), len(soak.kills),
           counts.get("exit_errors", 0), counts.get("invocations", 0), counts.get("cycles", 0),
           counts.get("deltas", 0), summary["queue_depth_end"], qmax, summary["dlq_depth_end"], checked, live, len(bad),
           load_start, load_end, "" if not problems else " [" + "; ".join(problems) + "]"), flush=True)
    return 0 if result == "PASS" else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("setup")
    p.add_argument("--prefix", required=True)
    p.add_argument("--visibility", type=int, default=300)
    p.set_defaults(fn=cmd_setup)
    p = sub.add_parser("run")
    p.add_argument("--collection", required=True)
    p.add_argument("--shards", type=int, default=2)
    p.add_argument("--producer", action="append", required=True, help="producer emulator URL (one writer each)")
    p.add_argument("--compactor", action="append", required=True, help="URL@EMULATOR_PID@LOG of a compactor emulator")
    p.add_argument("--query", required=True)
    p.add_argument("--bucket", required=True)
    p.add_argument("--table", required=True)
    p.add_argument("--queue-url", required=True)
    p.add_argument("--dlq-url", required=True)
    p.add_argument("--minutes", type=float, default=10)
    p.add_argument("--base", type=int, default=100000)
    p.add_argument("--base-batch", type=int, default=1000)
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--kill-min", type=float, default=20)
    p.add_argument("--kill-max", type=float, default=60)
    p.add_argument("--schedule-s", type=float, default=60)
    p.add_argument("--producer-timeout", type=int, default=60)
    p.add_argument("--compactor-timeout", type=int, default=300)
    p.add_argument("--base-timeout", type=int, default=1800)
    p.add_argument("--drain-timeout", type=int, default=1200)
    p.add_argument("--queue-wait", type=int, default=60)
    p.add_argument("--page", type=int, default=250)
    p.add_argument("--lease-ttl-ms", default="")
    p.add_argument("--lease-wait-ms", default="")
    p.add_argument("--out-dir", required=True)
    p.set_defaults(fn=cmd_run)
    a = ap.parse_args()
    sys.exit(a.fn(a) or 0)


if __name__ == "__main__":
    main()
