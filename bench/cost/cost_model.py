#!/usr/bin/env python3
"""Monthly AWS bill of a chromapact deployment, from measured per-cycle figures (python3 stdlib only).

    python3 bench/cost/cost_model.py \
        --measured bench/cost/measured_example.json \
        --workload bench/cost/workload_old_design.json \
        --prices   bench/cost/prices_us-east-1.json
    python3 bench/cost/cost_model.py --set workload.records_per_message=10 --set measured.compactor.architecture=arm64
    python3 bench/cost/cost_model.py --self-test

Inputs (docs/cost.md describes every field and formula):
  --measured  scenarios of per-cycle figures: the compactor's phases (ms) at a measured collection size,
              each with a scaling rule, bytes uploaded / downloaded, request counts per cycle, the
              producer's and the query's per-request figures. A scenario may inherit another one; a
              value "TO_MEASURE" marks a figure not measured yet, and a scenario holding one is skipped
              with the list of what is missing.
  --workload  messages per minute, records per message, snapshot bytes, compaction policy, retention,
              query traffic, and the reference bill it is compared with.
  --prices    unit prices with their date ("as_of") and "source".
  --set PATH=VALUE  overrides one input: PATH starts with measured. (applies to every scenario),
              workload. or prices.; VALUE is JSON (a bare word is taken as a string).
  --scenario NAME   price only that scenario (repeatable); default: every scenario.
  --json      the result as JSON instead of Markdown.
  --free-tier subtract the always-free Lambda (400,000 GB-s, 1M requests) and SQS (1M requests) allowances.
"""
import argparse
import copy
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
GIB = float(1 << 30)
PLACEHOLDER = "TO_MEASURE"
SCALES = ("none", "base", "snapshot", "uploaded", "downloaded", "records", "deltas")
LAMBDA_MAX_S = 900.0
LAMBDA_MAX_EPHEMERAL_MB = 10240.0


class ModelError(Exception):
    pass


# ---------------------------------------------------------------- inputs

def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


REPLACED_WHOLE = ("phases_ms",)  # an inheriting scenario's phases replace its parent's, not merge


def deep_merge(base, over):
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict) and k not in REPLACED_WHOLE:
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def resolve_scenario(measured, name, seen=()):
    scenarios = measured.get("scenarios", {})
    if name not in scenarios:
        raise ModelError("no scenario %r in the measured file (have: %s)" % (name, ", ".join(scenarios)))
    if name in seen:
        raise ModelError("scenario %r inherits itself" % name)
    sc = scenarios[name]
    parent = sc.get("inherit")
    own = {k: v for k, v in sc.items() if k != "inherit"}
    if parent:
        return deep_merge(resolve_scenario(measured, parent, seen + (name,)), own)
    return copy.deepcopy(own)


def placeholders(obj, path=""):
    """Paths whose value is the placeholder (the 'sources' notes are not inputs)."""
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == "sources":
                continue
            out += placeholders(v, path + "." + k if path else k)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += placeholders(v, "%s[%d]" % (path, i))
    elif obj == PLACEHOLDER:
        out.append(path)
    return out


def parse_value(text):
    try:
        return json.loads(text)
    except ValueError:
        return text


def set_path(doc, dotted, value):
    keys = dotted.split(".")
    cur = doc
    for k in keys[:-1]:
        if not isinstance(cur.get(k), dict):
            cur[k] = {}
        cur = cur[k]
    cur[keys[-1]] = value


def apply_sets(measured_scenario, workload, prices, sets):
    for item in sets:
        if "=" not in item:
            raise ModelError("--set wants PATH=VALUE, got %r" % item)
        path, text = item.split("=", 1)
        root, _, rest = path.partition(".")
        if not rest:
            raise ModelError("--set path %r has no field" % path)
        target = {"measured": measured_scenario, "workload": workload, "prices": prices}.get(root)
        if target is None:
            raise ModelError("--set path must start with measured., workload. or prices.: %r" % path)
        set_path(target, rest, parse_value(text))


def num(d, key, where):
    v = d.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ModelError("%s.%s must be a number, got %r" % (where, key, v))
    return float(v)


# ---------------------------------------------------------------- the compactor cycle

def cycle_coefficients(cyc, where):
    """Per-unit costs of one measured cycle: ms per unit of each scaling quantity, and how its
    uploaded bytes scale (bytes per snapshot byte, or bytes per record)."""
    phases = cyc.get("phases_ms")
    if not isinstance(phases, dict) or not phases:
        raise ModelError("%s.phases_ms must be a non-empty object of phase -> ms" % where)
    scaling = cyc.get("scaling", {}) or {}
    sums = {s: 0.0 for s in SCALES}
    for name, ms in phases.items():
        s = scaling.get(name, "none")
        if s not in SCALES:
            raise ModelError("%s.scaling.%s: %r is not one of %s" % (where, name, s, ", ".join(SCALES)))
        if isinstance(ms, bool) or not isinstance(ms, (int, float)) or ms < 0:
            raise ModelError("%s.phases_ms.%s must be a number >= 0" % (where, name))
        sums[s] += float(ms)
    measured_qty = {
        "none": 1.0,
        "base": num(cyc, "base_snapshot_bytes", where),
        "snapshot": num(cyc, "snapshot_bytes", where),
        "uploaded": num(cyc, "bytes_uploaded", where),
        "downloaded": num(cyc, "bytes_downloaded", where),
        "records": num(cyc, "records", where),
        "deltas": num(cyc, "deltas", where),
    }
    coef = {}
    for s in SCALES:
        if sums[s] == 0.0:
            coef[s] = 0.0
        elif measured_qty[s] <= 0.0:
            raise ModelError("%s: phases scaled by %r sum to %.0f ms but the measured %s is 0" % (where, s, sums[s], s))
        else:
            coef[s] = sums[s] / measured_qty[s]
    total = cyc.get("total_ms")
    phase_sum = sum(sums.values())
    if isinstance(total, (int, float)) and total > 0 and abs(phase_sum - total) > 0.01 * total:
        raise ModelError("%s: phases sum to %.0f ms, total_ms is %.0f (more than 1%% apart)" % (where, phase_sum, total))
    up_scaling = cyc.get("upload_scaling", "snapshot")
    uploaded = measured_qty["uploaded"]
    if up_scaling == "snapshot":
        up_per_snapshot_byte, up_per_record = uploaded / measured_qty["snapshot"], 0.0
    elif up_scaling == "records":
        if measured_qty["records"] <= 0:
            raise ModelError("%s: upload_scaling 'records' needs records > 0" % where)
        up_per_snapshot_byte, up_per_record = 0.0, uploaded / measured_qty["records"]
    else:
        raise ModelError("%s.upload_scaling must be 'snapshot' or 'records', got %r" % (where, up_scaling))
    return {"ms": coef, "up_per_snapshot_byte": up_per_snapshot_byte, "up_per_record": up_per_record}


def linear_cycle(k, snapshot, records_per_message):
    """A cycle of m messages on a warm base as D(m) = d0 + a*m (ms) and U(m) = u0 + ub*m (bytes)."""
    ms = k["ms"]
    u0 = k["up_per_snapshot_byte"] * snapshot
    ub = k["up_per_record"] * records_per_message
    d0 = ms["none"] + (ms["base"] + ms["snapshot"]) * snapshot + ms["uploaded"] * u0
    a = (ms["records"] + ms["uploaded"] * k["up_per_record"]) * records_per_message + ms["deltas"]
    return d0, a, u0, ub


# ---------------------------------------------------------------- the model

def model(sc, wl, pr, free_tier=False):
    """The monthly bill of one scenario `sc` for workload `wl` at prices `pr`."""
    warnings = []
    comp, prod = sc["compactor"], sc["producer"]
    query = sc.get("query", {})
    req = comp["requests"]
    hours = num(wl, "hours_per_month", "workload")
    month_s = hours * 3600.0
    month_fraction = hours / 730.0  # storage is priced per GB-month of 730 hours
    days = hours / 24.0
    shards = int(wl.get("shards", 1))
    if shards < 1:
        raise ModelError("workload.shards must be >= 1")
    rpm = num(wl, "records_per_message", "workload")
    snapshot_total = num(wl, "snapshot_bytes", "workload")
    S = snapshot_total / shards
    msgs_month_total = num(wl, "messages_per_minute", "workload") * 60.0 * hours
    M = msgs_month_total / shards  # per shard
    pol = wl.get("compaction", {})
    policy = pol.get("policy", "schedule")
    schedule_s = float(pol.get("schedule_s", 60) or 0)
    ret = wl.get("retention", {})
    keep = float(ret.get("keep_versions", 3))
    min_age_s = float(ret.get("min_age_hours", 1)) * 3600.0
    gc_s = float(ret.get("gc_interval_hours", 1)) * 3600.0
    noncurrent_s = float(ret.get("noncurrent_days", 7)) * 86400.0
    delta_exp_s = float(ret.get("delta_expiration_days", 21)) * 86400.0

    # -- minor (or only) cycle, and major cycles amortized per message
    k = cycle_coefficients(comp["cycle"], "compactor.cycle")
    d0_ms, a_ms, u0, ub = linear_cycle(k, S, rpm)
    major = comp.get("major")
    n_major = 0.0
    d_major_s = u_major = 0.0
    if major:
        thr = num(major, "threshold_records", "compactor.major")
        km = cycle_coefficients(major["cycle"], "compactor.major.cycle")
        # a major cycle folds `thr` records: D = d0 + per-record * thr (its deltas are already applied)
        md0, _, mu0, _ = linear_cycle(km, S, 1.0)
        d_major_s = (md0 + (km["ms"]["records"] + km["ms"]["uploaded"] * km["up_per_record"]) * thr) / 1000.0
        u_major = mu0 + km["up_per_record"] * thr
        n_major = M * rpm / thr
    noop_s = num(comp, "noop_invocation_ms", "compactor") / 1000.0
    d0, a = d0_ms / 1000.0, a_ms / 1000.0
    a_eff = a + (d_major_s * rpm / num(major, "threshold_records", "compactor.major") if major else 0.0)

    # -- cold starts: a new execution environment fetches the whole base, on the shard's timeline
    cold = float(comp.get("cold_starts_per_day", 0)) * days
    dl_ms_per_byte = num(comp, "download_ms_per_byte", "compactor")
    cold_s = S * dl_ms_per_byte / 1000.0
    if cold * cold_s >= month_s:
        raise ModelError("cold-start downloads alone fill the month")
    avail_s = month_s - cold * cold_s
    r = M / avail_s  # messages per second of the time left for cycles

    # -- cadence: period P between cycle starts on one shard, messages per cycle m = r * P
    cpm = pol.get("cycles_per_minute")
    batch = float(pol.get("sqs_batch_size", 10))
    if cpm:
        P = 60.0 / float(cpm)
    elif policy == "schedule":
        denom = 1.0 - a_eff * r
        if denom <= 0:
            raise ModelError("the compactor cannot keep up: applying one message takes %.3f s and %.3f arrive per second per shard" % (a_eff, r))
        P = max(schedule_s, d0 / denom)
    elif policy == "sqs":
        denom = 1.0 - a_eff * r - r * noop_s / batch
        if denom <= 0:
            raise ModelError("the compactor cannot keep up with the sqs policy (apply %.3f s/message, %.3f messages/s)" % (a_eff, r))
        P = (d0 + float(pol.get("sqs_gap_s", 0.0))) / denom
    else:
        raise ModelError("workload.compaction.policy must be 'schedule' or 'sqs', got %r" % policy)
    N = avail_s / P  # minor cycles per shard per month
    m = r * P
    D = d0 + a * m
    if D + (d_major_s * n_major / N if N else 0) > P * 1.000001:
        warnings.append("cycles take %.1f s but start every %.1f s: the compactor cannot keep up at this rate" % (D, P))
    if D > LAMBDA_MAX_S or d_major_s > LAMBDA_MAX_S:
        warnings.append("a cycle takes %.0f s (major %.0f s), over Lambda's %d s limit" % (D, d_major_s, LAMBDA_MAX_S))
    if m > float(pol.get("max_deltas_per_cycle", 1000)):
        warnings.append("%.0f messages per cycle exceed the cycle's budget of %s deltas (CHROMAPACT_MAX_DELTAS)" % (m, pol.get("max_deltas_per_cycle", 1000)))
    U = u0 + ub * m  # bytes uploaded per minor cycle

    # -- invocations that apply nothing
    ticks = month_s / schedule_s if schedule_s > 0 else 0.0
    if policy == "sqs" and not cpm:
        sqs_invocations = max(N, M / batch)
        noop = (sqs_invocations - N) + ticks
    else:
        sqs_invocations = 0.0
        noop = max(0.0, ticks - N)

    busy_s = N * D + n_major * d_major_s + cold * cold_s  # on the shard's serial timeline
    comp_seconds = busy_s + noop * noop_s
    mem_gb = num(comp, "memory_mb", "compactor") / 1024.0
    eph_gb = max(0.0, num(comp, "ephemeral_storage_mb", "compactor") - pr["lambda"]["ephemeral_free_mb"]) / 1024.0
    comp_invocations = N + n_major + noop

    # -- producer
    prod_mem_gb = num(prod, "memory_mb", "producer") / 1024.0
    prod_seconds = M * num(prod, "duration_ms_per_message", "producer") / 1000.0

    # -- queries (per collection, not per shard: every query reads every shard)
    qw = wl.get("queries", {}) or {}
    Q = float(qw.get("per_month", 0) or 0)
    q_lines = {}
    if Q > 0:
        inst = max(1.0, float(qw.get("warm_instances", 1)))
        q = Q / inst
        commits = N + n_major
        uploaded_per_commit = (N * U + n_major * u_major) / commits
        refreshes = min(q, commits)
        ratio = num(query, "refresh_bytes_per_uploaded_byte", "query")
        refresh_bytes = min(S, ratio * uploaded_per_commit * commits / refreshes)
        per_get = float(req.get("s3_bytes_per_get", 0) or 0)
        gets_per_refresh = float(req.get("s3_get_fixed_per_download", 1)) + (refresh_bytes / per_get if per_get > 0 else 0.0)
        q_lines = {
            "seconds": Q * num(query, "duration_ms_per_query", "query") / 1000.0
            + inst * shards * refreshes * refresh_bytes * num(query, "download_ms_per_byte", "query") / 1000.0,
            "invocations": Q,
            "s3_get": inst * shards * (refreshes * gets_per_refresh + min(M, q * m)),
            "s3_list": inst * shards * min(q, month_s / float(qw.get("tail_ttl_s", 1.0))),
            "ddb_reads": inst * shards * min(q, month_s / float(qw.get("pointer_ttl_s", 1.0))),
            "refreshes_per_instance": refreshes,
            "refresh_bytes": refresh_bytes,
            "log_bytes": Q * float(query.get("log_bytes_per_query", 0)),
        }
        qmem = num(query, "memory_mb", "query") / 1024.0
        if qmem * GIB < float(comp.get("resident_fraction_of_snapshot", 0)) * snapshot_total:
            warnings.append("query memory %.0f MB is below the index it must hold (~%.1f GiB)" % (qmem * 1024, float(comp.get("resident_fraction_of_snapshot", 0)) * snapshot_total / GIB))

    # -- checks of the configuration against the snapshot
    resident = float(comp.get("resident_fraction_of_snapshot", 0) or 0) * S
    if resident and mem_gb * GIB < resident + 0.5 * GIB:
        warnings.append("compactor memory %.0f MB < the index it holds (~%.2f GiB) + 0.5 GiB" % (mem_gb * 1024, resident / GIB))
    copies = comp.get("ephemeral_copies")
    if isinstance(copies, (int, float)) and copies * S > LAMBDA_MAX_EPHEMERAL_MB * (1 << 20):
        warnings.append("the compactor keeps %g copies of the snapshot on /tmp (%.2f GiB), over Lambda's 10 GiB maximum" % (copies, copies * S / GIB))

    # ---------------------------------------------------------------- request counts (all shards)
    per_put = num(req, "s3_bytes_per_put", "compactor.requests")
    lists_per_cycle = float(req.get("s3_list_per_cycle", 1)) + math.floor(m / float(req.get("s3_list_keys_per_request", 1000)))
    put_cycle = float(req.get("s3_put_fixed_per_cycle", 1)) + U / per_put
    put_major = (float(req.get("s3_put_fixed_per_cycle", 1)) + u_major / per_put) if major else 0.0
    per_get = float(req.get("s3_bytes_per_get", 0) or 0)
    get_download = float(req.get("s3_get_fixed_per_download", 1)) + (S / per_get if per_get > 0 else 0.0)
    s3_put_producer = shards * M * float(prod.get("s3_puts_per_message", 1))
    s3_put_compactor = shards * (N * put_cycle + n_major * put_major)
    s3_list = shards * (N * lists_per_cycle + n_major * 1 + noop * float(req.get("noop_s3_lists", 1))) + q_lines.get("s3_list", 0.0)
    s3_get = shards * (N * m * float(req.get("s3_get_per_delta", 1)) + cold * get_download) + q_lines.get("s3_get", 0.0)

    hb = float(req.get("lease_heartbeat_s", 20))
    ddb_w = shards * (M * float(prod.get("ddb_writes_per_message", 1))
                      + N * (float(req.get("ddb_writes_per_cycle", 3)) + D / hb)
                      + n_major * (float(req.get("ddb_writes_per_cycle", 3)) + d_major_s / hb)
                      + noop * float(req.get("noop_ddb_writes", 2)))
    ddb_r = shards * ((N + n_major) * float(req.get("ddb_reads_per_cycle", 1)) + noop * float(req.get("noop_ddb_reads", 1))) \
        + q_lines.get("ddb_reads", 0.0)

    sends = shards * M * float(prod.get("sqs_sends_per_message", 1)) if wl.get("producer_sends_trigger", True) else 0.0
    sqs_recv_del = 0.0
    if sqs_invocations:
        sqs_recv_del = shards * 2.0 * sqs_invocations + float(req.get("sqs_poller_empty_receives_per_month", 0))

    # ---------------------------------------------------------------- storage (GiB-month)
    delta_bytes = rpm * num(prod, "delta_bytes_per_record", "producer")
    rho = (N * U + n_major * u_major) / month_s  # snapshot bytes uploaded per second per shard
    if gc_s > 0:
        snap_bytes = S + max((keep - 1.0) * (N * U + n_major * u_major) / (N + n_major), rho * min_age_s) \
            + rho * gc_s / 2.0 + rho * noncurrent_s
        delta_life_s = max(keep * P, min_age_s) + P / 2.0 + gc_s / 2.0 + noncurrent_s
    else:
        warnings.append("no GC (gc_interval_hours 0): snapshot storage grows every month; shown is the first month's average")
        snap_bytes = S + rho * month_s / 2.0
        delta_life_s = delta_exp_s + noncurrent_s
    delta_stored = (M / month_s) * delta_bytes * delta_life_s
    snap_gib = shards * snap_bytes / GIB
    delta_gib = shards * delta_stored / GIB

    # ---------------------------------------------------------------- prices
    lam = pr["lambda"]

    def arch(d, where):
        a_ = d.get("architecture", "x86_64")
        if a_ not in lam:
            raise ModelError("%s.architecture %r has no price (have x86_64, arm64)" % (where, a_))
        return lam[a_]

    lines = []

    def line(service, item, qty, unit, price, per=1.0):
        lines.append({"service": service, "item": item, "quantity": qty, "unit": unit,
                      "unit_price": price, "per": per, "usd": qty / per * price})

    ca, pa = arch(comp, "compactor"), arch(prod, "producer")
    comp_gbs = shards * comp_seconds * mem_gb
    prod_gbs = shards * prod_seconds * prod_mem_gb
    line("Lambda", "compactor duration (%s, %.0f MB)" % (comp.get("architecture", "x86_64"), mem_gb * 1024), comp_gbs, "GB-s", ca["gb_second"])
    line("Lambda", "compactor ephemeral storage above 512 MB", shards * comp_seconds * eph_gb, "GB-s", lam["ephemeral_gb_second"])
    line("Lambda", "compactor requests", shards * comp_invocations, "requests", ca["per_million_requests"], 1e6)
    line("Lambda", "producer duration (%s, %.0f MB)" % (prod.get("architecture", "x86_64"), prod_mem_gb * 1024), prod_gbs, "GB-s", pa["gb_second"])
    line("Lambda", "producer requests", shards * M, "requests", pa["per_million_requests"], 1e6)
    q_gbs = 0.0
    if Q > 0:
        qa = arch(query, "query")
        q_gbs = q_lines["seconds"] * num(query, "memory_mb", "query") / 1024.0
        line("Lambda", "query duration (incl. snapshot refreshes)", q_gbs, "GB-s", qa["gb_second"])
        line("Lambda", "query requests", Q, "requests", qa["per_million_requests"], 1e6)
    if free_tier:
        line("Lambda", "free tier: GB-s", -min(lam["free_tier_gb_seconds"], comp_gbs + prod_gbs + q_gbs), "GB-s", ca["gb_second"])
        line("Lambda", "free tier: requests", -min(lam["free_tier_requests"], shards * (comp_invocations + M) + Q), "requests", ca["per_million_requests"], 1e6)
    s3 = pr["s3"]
    line("S3 requests", "PUT: producer deltas", s3_put_producer, "requests", s3["put_copy_post_list_per_1000"], 1e3)
    line("S3 requests", "PUT: snapshot uploads (parts/chunks + fixed)", s3_put_compactor, "requests", s3["put_copy_post_list_per_1000"], 1e3)
    line("S3 requests", "LIST: log listings", s3_list, "requests", s3["put_copy_post_list_per_1000"], 1e3)
    line("S3 requests", "GET: deltas, downloads", s3_get, "requests", s3["get_select_per_1000"], 1e3)
    line("S3 storage", "snapshots (current + retained + awaiting GC + noncurrent)", snap_gib * month_fraction, "GiB-month", s3["standard_gb_month"])
    line("S3 storage", "log entries (deltas)", delta_gib * month_fraction, "GiB-month", s3["standard_gb_month"])
    line("S3 data transfer", "within the region", 0.0, "GB", s3["transfer_in_region_per_gb"])
    sqs = pr["sqs"]
    line("SQS", "FIFO SendMessage (triggers)", sends, "requests", sqs["fifo_per_million"], 1e6)
    if sqs_recv_del:
        line("SQS", "FIFO receives + deletes (event source)", sqs_recv_del, "requests", sqs["fifo_per_million"], 1e6)
    if free_tier:
        line("SQS", "free tier", -min(sqs["free_tier_requests"], sends + sqs_recv_del), "requests", sqs["fifo_per_million"], 1e6)
    ddb = pr["dynamodb"]
    line("DynamoDB", "write request units", ddb_w, "WRU", ddb["on_demand_write_per_million_wru"], 1e6)
    line("DynamoDB", "read request units", ddb_r, "RRU", ddb["on_demand_read_per_million_rru"], 1e6)
    log_bytes = shards * (M * float(prod.get("log_bytes_per_message", 0))
                          + (N + n_major) * float(comp.get("log_bytes_per_cycle", 0))
                          + noop * float(comp.get("log_bytes_per_noop", 0))) + q_lines.get("log_bytes", 0.0)
    line("CloudWatch Logs", "ingestion", log_bytes / GIB, "GiB", pr["cloudwatch_logs"]["ingestion_per_gb"])
    line("EventBridge", "schedule ticks", ticks, "events", pr["eventbridge"]["scheduled_rule_per_million"], 1e6)

    services = {}
    for l in lines:
        services[l["service"]] = services.get(l["service"], 0.0) + l["usd"]
    total = sum(services.values())
    ref = wl.get("reference", {})
    figures = {
        "shards": shards,
        "snapshot_gib_per_shard": S / GIB,
        "messages_per_month": msgs_month_total,
        "records_per_message": rpm,
        "policy": ("cycles_per_minute=%g" % float(cpm)) if cpm else policy,
        "cycle_period_s": P,
        "messages_per_cycle": m,
        "cycles_per_month": shards * N,
        "major_cycles_per_month": shards * n_major,
        "cycle_s": D,
        "cycle_fixed_s": d0,
        "cycle_per_message_s": a,
        "major_cycle_s": d_major_s,
        "compactor_busy_fraction": busy_s / month_s,
        "noop_invocations_per_month": shards * noop,
        "cold_starts_per_month": shards * cold,
        "bytes_uploaded_per_cycle": U,
        "uploaded_fraction_of_snapshot": U / S if S else 0.0,
        "tib_uploaded_per_month": shards * (N * U + n_major * u_major) / GIB / 1024.0,
        "snapshot_storage_gib": snap_gib,
        "delta_storage_gib": delta_gib,
        "compactor_gb_s": comp_gbs,
        "producer_gb_s": prod_gbs,
    }
    if Q > 0:
        figures["query_refreshes_per_instance"] = q_lines["refreshes_per_instance"]
        figures["query_refresh_bytes"] = q_lines["refresh_bytes"]
    return {"lines": lines, "services": services, "total_usd": total, "figures": figures,
            "warnings": warnings, "reference": ref}


# ---------------------------------------------------------------- output

def money(x):
    if abs(x) >= 100:
        return "%.0f" % x
    if abs(x) >= 1:
        return "%.2f" % x
    return "%.3f" % x


def qty(x):
    if x == 0:
        return "0"
    if abs(x) >= 1e6:
        return "%.3gM" % (x / 1e6)
    if abs(x) >= 1000:
        return "{:,.0f}".format(x)
    return "%.3g" % x


def size(b):
    for unit, div in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if abs(b) >= div:
            return "%.3g %s" % (b / div, unit)
    return "%.0f B" % b


def render(name, label, res, prices, prices_path):
    out = []
    ref = res["reference"]
    f = res["figures"]
    out.append("## %s: %s\n" % (name, label))
    out.append("Prices: %s as of %s (%s).\n" % (prices.get("region", "?"), prices.get("as_of", "?"), prices_path))
    out.append("| key figure | value |\n|---|---|")
    out.append("| snapshot (per shard) | %.2f GiB |" % f["snapshot_gib_per_shard"])
    out.append("| messages / month (records each) | %s (%g) |" % (qty(f["messages_per_month"]), f["records_per_message"]))
    out.append("| policy; cycle every | %s; %.1f s |" % (f["policy"], f["cycle_period_s"]))
    out.append("| messages per cycle | %.1f |" % f["messages_per_cycle"])
    out.append("| cycle duration = fixed + per message x m | %.1f s = %.1f + %.3f x %.1f |" % (f["cycle_s"], f["cycle_fixed_s"], f["cycle_per_message_s"], f["messages_per_cycle"]))
    out.append("| cycles / month (major) | %s (%s) |" % (qty(f["cycles_per_month"]), qty(f["major_cycles_per_month"])))
    out.append("| compactor busy | %.1f %% of the month |" % (100 * f["compactor_busy_fraction"]))
    out.append("| invocations applying nothing / month | %s |" % qty(f["noop_invocations_per_month"]))
    out.append("| uploaded per cycle | %s (%.2f %% of the snapshot) |" % (size(f["bytes_uploaded_per_cycle"]), 100 * f["uploaded_fraction_of_snapshot"]))
    out.append("| uploaded / month | %.2f TiB |" % f["tib_uploaded_per_month"])
    out.append("| S3 stored: snapshots, deltas | %.1f GiB, %.1f GiB |" % (f["snapshot_storage_gib"], f["delta_storage_gib"]))
    out.append("")
    out.append("| service | item | quantity / month | unit price | $ / month |\n|---|---|---|---|---|")
    for l in res["lines"]:
        per = {1: "", 1e3: " per 1,000", 1e6: " per 1M"}.get(l["per"], " per %g" % l["per"])
        price = ("%.10f" % l["unit_price"]).rstrip("0").rstrip(".")
        out.append("| %s | %s | %s %s | $%s%s | %s |" % (l["service"], l["item"], qty(l["quantity"]), l["unit"],
                                                       price, per, money(l["usd"])))
    out.append("")
    out.append("| service | $ / month |\n|---|---|")
    for s, v in res["services"].items():
        out.append("| %s | %s |" % (s, money(v)))
    total = res["total_usd"]
    out.append("| **total** | **%s** |" % money(total))
    lo, hi = ref.get("monthly_usd_low"), ref.get("monthly_usd_high")
    if lo and hi:
        goal = ref.get("goal_fraction", 0.1)
        out.append("| %s | %s-%s |" % (ref.get("label", "reference"), money(lo), money(hi)))
        out.append("")
        out.append("Ratio to the reference: %.3f-%.3f (goal <= %.2f, i.e. <= $%s-%s): %s." % (
            total / hi, total / lo, goal, money(goal * lo), money(goal * hi),
            "met" if total <= goal * lo else ("met against the upper figure only" if total <= goal * hi else "NOT met")))
    for w in res["warnings"]:
        out.append("\n> warning: %s" % w)
    out.append("")
    return "\n".join(out)


# ---------------------------------------------------------------- self-test

def self_test():
    """A hand-computed case; the expected figures below are worked out in the comments, not by the model."""
    prices = {
        "region": "test", "as_of": "test",
        "lambda": {"x86_64": {"gb_second": 0.00001, "per_million_requests": 0.2},
                   "arm64": {"gb_second": 0.000008, "per_million_requests": 0.2},
                   "ephemeral_gb_second": 0.0, "ephemeral_free_mb": 512,
                   "free_tier_gb_seconds": 400000, "free_tier_requests": 1000000},
        "s3": {"standard_gb_month": 0.02, "put_copy_post_list_per_1000": 0.005, "get_select_per_1000": 0.0004,
               "transfer_in_region_per_gb": 0.0},
        "sqs": {"fifo_per_million": 0.5, "free_tier_requests": 1000000},
        "dynamodb": {"on_demand_write_per_million_wru": 1.0, "on_demand_read_per_million_rru": 0.1},
        "cloudwatch_logs": {"ingestion_per_gb": 0.5},
        "eventbridge": {"scheduled_rule_per_million": 0.0},
    }
    gib = 1 << 30
    measured = {
        "compactor": {
            "memory_mb": 2048, "ephemeral_storage_mb": 512, "architecture": "x86_64",
            "ephemeral_copies": 1, "resident_fraction_of_snapshot": 0,
            "cycle": {"snapshot_bytes": gib, "base_snapshot_bytes": gib, "records": 100, "deltas": 10,
                      "bytes_uploaded": gib // 2, "upload_scaling": "snapshot", "bytes_downloaded": 0,
                      "total_ms": 4500,
                      "phases_ms": {"lease": 1000, "persist": 2000, "upload": 1000, "apply": 500},
                      "scaling": {"persist": "snapshot", "upload": "uploaded", "apply": "records"}},
            "major": None, "download_ms_per_byte": 0.0, "cold_starts_per_day": 0, "noop_invocation_ms": 100,
            "log_bytes_per_cycle": 1000, "log_bytes_per_noop": 0,
            "requests": {"s3_put_fixed_per_cycle": 3, "s3_bytes_per_put": 64 << 20, "s3_get_per_delta": 1,
                         "s3_list_per_cycle": 1, "s3_list_keys_per_request": 1000, "s3_get_fixed_per_download": 1,
                         "s3_bytes_per_get": 0, "ddb_reads_per_cycle": 1, "ddb_writes_per_cycle": 3,
                         "lease_heartbeat_s": 20, "noop_ddb_reads": 1, "noop_ddb_writes": 2, "noop_s3_lists": 1},
        },
        "producer": {"memory_mb": 512, "architecture": "x86_64", "duration_ms_per_message": 100,
                     "delta_bytes_per_record": 1000, "s3_puts_per_message": 1, "ddb_writes_per_message": 1,
                     "sqs_sends_per_message": 1, "log_bytes_per_message": 100},
        "query": {},
    }
    workload = {"hours_per_month": 730, "shards": 1, "messages_per_minute": 60, "records_per_message": 10,
                "snapshot_bytes": gib,
                "compaction": {"policy": "schedule", "schedule_s": 10},
                "retention": {"keep_versions": 2, "min_age_hours": 0, "gc_interval_hours": 0.01,
                              "noncurrent_days": 0, "delta_expiration_days": 21},
                "queries": {"per_month": 0}, "producer_sends_trigger": True, "reference": {}}
    failures = []
    checks = [0]

    def check(what, got, want, rel=1e-9):
        checks[0] += 1
        if abs(got - want) > rel * max(1.0, abs(want)):
            failures.append("%s: got %.10g, want %.10g" % (what, got, want))

    res = model(measured, workload, prices)
    usd = {l["item"]: l["usd"] for l in res["lines"]}
    f = res["figures"]
    # month = 730 h = 2,628,000 s; 60 messages/min = 1 message/s = 2,628,000 messages.
    # Cycle at 1 GiB: fixed 1000 ms + persist 2000 ms (measured at 1 GiB) + upload of 0.5 GiB 1000 ms
    # = 4 s, plus 5 ms/record x 10 records = 0.05 s per message. Free-running it would start every
    # 4 / (1 - 0.05 x 1) = 4.21 s, shorter than the 10 s schedule, so a cycle every 10 s with 10
    # messages, taking 4 + 0.5 = 4.5 s; 2,628,000 / 10 = 262,800 cycles; no idle ticks.
    check("period", f["cycle_period_s"], 10.0)
    check("cycles", f["cycles_per_month"], 262800.0)
    check("cycle s", f["cycle_s"], 4.5)
    check("noop", f["noop_invocations_per_month"], 0.0)
    # compactor: 262,800 x 4.5 s x 2 GB = 2,365,200 GB-s x $0.00001 = $23.652; requests $0.05256
    check("compactor GB-s", f["compactor_gb_s"], 2365200.0)
    check("compactor $", usd["compactor duration (x86_64, 2048 MB)"], 23.652)
    check("compactor requests $", usd["compactor requests"], 0.05256)
    # producer: 2,628,000 x 0.1 s x 0.5 GB = 131,400 GB-s = $1.314; requests 2.628M x $0.2/M = $0.5256
    check("producer $", usd["producer duration (x86_64, 512 MB)"], 1.314)
    check("producer requests $", usd["producer requests"], 0.5256)
    # S3 PUT class: producer 2,628,000 = $13.14; per cycle 3 + 512 MiB / 64 MiB = 11 PUTs
    # -> 2,890,800 = $14.454; one LIST per cycle -> 262,800 = $1.314
    check("S3 PUT producer $", usd["PUT: producer deltas"], 13.14)
    check("S3 PUT upload $", usd["PUT: snapshot uploads (parts/chunks + fixed)"], 14.454)
    check("S3 LIST $", usd["LIST: log listings"], 1.314)
    # GET: 10 deltas x 262,800 = 2,628,000 x $0.0004/1000 = $1.0512
    check("S3 GET $", usd["GET: deltas, downloads"], 1.0512)
    # snapshots: 1 GiB current + (2-1) x 0.5 GiB retained + 0.05 GiB/s upload rate x 36 s GC interval
    # / 2 = 0.9 GiB awaiting GC; 2.4 GiB x $0.02 = $0.048
    check("snapshot GiB", f["snapshot_storage_gib"], 2.4)
    check("snapshot $", usd["snapshots (current + retained + awaiting GC + noncurrent)"], 0.048)
    # deltas: 10,000 bytes each, 1 a second, kept max(2 x 10 s, 0) + 10/2 + 36/2 = 43 s -> 430,000 bytes
    check("delta $", usd["log entries (deltas)"], 430000.0 / gib * 0.02)
    # SQS: 2,628,000 sends x $0.5/M = $1.314
    check("SQS $", usd["FIFO SendMessage (triggers)"], 1.314)
    # DynamoDB writes: 2,628,000 (producer) + 262,800 x (3 + 4.5 / 20) = 3,475,530 x $1/M
    check("DDB W $", usd["write request units"], 3.47553)
    check("DDB R $", usd["read request units"], 0.02628)
    # logs: 2,628,000 x 100 B + 262,800 x 1000 B = 525,600,000 B x $0.5/GiB
    check("logs $", usd["ingestion"], 525600000.0 / gib * 0.5)
    want_total = 23.652 + 0.05256 + 1.314 + 0.5256 + 13.14 + 14.454 + 1.314 + 1.0512 + 0.048 \
        + 430000.0 / gib * 0.02 + 1.314 + 3.47553 + 0.02628 + 525600000.0 / gib * 0.5
    check("total $", res["total_usd"], want_total)

    # Back to back: a 2 s schedule is shorter than the 4.21 s a free-running cycle needs, so cycles
    # follow each other (busy 100 %: 2,628,000 s x 2 GB = 5,256,000 GB-s) and the
    # 1,314,000 ticks - 624,150 cycles = 689,850 ticks find the lease held: 0.1 s x 2 GB each.
    wl2 = copy.deepcopy(workload)
    wl2["compaction"]["schedule_s"] = 2
    f2 = model(measured, wl2, prices)["figures"]
    check("b2b period", f2["cycle_period_s"], 4.0 / 0.95)
    check("b2b cycles", f2["cycles_per_month"], 624150.0)
    check("b2b busy", f2["compactor_busy_fraction"], 1.0)
    check("b2b GB-s", f2["compactor_gb_s"], 5256000.0 + 689850 * 0.1 * 2)

    # Two shards halve each shard's snapshot and traffic: 0.5 GiB per shard -> cycle 1 + 1 + 0.5 =
    # 2.5 s fixed, still a 10 s schedule, 5 messages per cycle: 2.5 + 0.25 = 2.75 s; 2 x 262,800 cycles.
    wl3 = copy.deepcopy(workload)
    wl3["shards"] = 2
    f3 = model(measured, wl3, prices)["figures"]
    check("2 shards cycle s", f3["cycle_s"], 2.75)
    check("2 shards GB-s", f3["compactor_gb_s"], 2 * 262800 * 2.75 * 2)

    # A message that takes longer to apply than messages arrive cannot be priced.
    wl4 = copy.deepcopy(workload)
    wl4["records_per_message"] = 250  # 1.25 s per message at 1 message/s
    try:
        model(measured, wl4, prices)
        failures.append("an overloaded compactor was priced")
    except ModelError:
        pass

    # Placeholders are found, sources ignored.
    found = placeholders({"a": {"b": PLACEHOLDER, "sources": {"x": PLACEHOLDER}}, "c": [1, PLACEHOLDER]})
    if found != ["a.b", "c[1]"]:
        failures.append("placeholders: %r" % found)

    if failures:
        print("self-test FAILED:\n  " + "\n  ".join(failures))
        return 1
    print("self-test passed (%d checks)" % (checks[0] + 2))
    return 0


# ---------------------------------------------------------------- main

def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--measured", default=os.path.join(HERE, "measured_example.json"))
    ap.add_argument("--workload", default=os.path.join(HERE, "workload_old_design.json"))
    ap.add_argument("--prices", default=os.path.join(HERE, "prices_us-east-1.json"))
    ap.add_argument("--scenario", action="append")
    ap.add_argument("--set", action="append", default=[], metavar="PATH=VALUE")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--free-tier", action="store_true")
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args(argv)
    if args.self_test:
        return self_test()
    measured = load_json(args.measured)
    names = args.scenario or list(measured.get("scenarios", {}))
    results, out = {}, []
    for name in names:
        sc = resolve_scenario(measured, name)
        wl = load_json(args.workload)
        pr = load_json(args.prices)
        try:
            apply_sets(sc, wl, pr, args.set)
            missing = placeholders(sc) + ["workload." + p for p in placeholders(wl)]
            if missing:
                results[name] = {"skipped": "to measure: " + ", ".join(missing)}
                out.append("## %s: %s\n\nNot priced: to measure first: %s.\n" % (name, sc.get("label", ""), ", ".join(missing)))
                continue
            res = model(sc, wl, pr, free_tier=args.free_tier)
        except ModelError as e:
            results[name] = {"error": str(e)}
            out.append("## %s: %s\n\nNot priced: %s.\n" % (name, sc.get("label", ""), e))
            continue
        results[name] = res
        out.append(render(name, sc.get("label", ""), res, pr, os.path.relpath(args.prices)))
    if args.json:
        json.dump(results, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write("\n".join(out))
    return 0 if any("total_usd" in r for r in results.values()) else 1


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except ModelError as e:
        sys.stderr.write("cost_model: %s\n" % e)
        sys.exit(2)
