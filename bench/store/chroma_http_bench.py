#!/usr/bin/python3
"""Real Chroma 1.5.9 over its REST API v2 (loopback), on the data and queries of bench/store/store_bench.cpp.

  /usr/bin/python3 bench/store/chroma_http_bench.py --url http://127.0.0.1:PORT [--set all] [--n 20000]
                                                     [--reps 3] [--batch 1000]

Per repetition: create collection "benchR" (Chroma defaults: l2, M 16, ef_construction 100,
ef_search 100), then POST .../collections/{id}/add with --batch records each (ids + embeddings).
Request bodies are serialised before the clock starts; insert vectors/s = n / wall time of the add
calls. Then one POST .../query per query vector (n_results 10, include ["distances"]): p50/p99 of
the request wall time (HTTP + JSON included) and recall@10 against exact (numpy) top-10.
Prints the CSV rows of store_bench (impl "chroma-http"; persist_s is empty: Chroma persists as it goes).
Only the standard library's urllib is used for HTTP.
"""
import argparse, json, os, statistics, sys, time, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402
from hnsw_baseline import DIM, K, SEED, exact_topk, fiori, fiori_queries, synthetic  # noqa: E402

BASE = "/api/v2/tenants/default_tenant/databases/default_database/collections"


def post(url, body):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.loads(r.read() or b"null")


def load1():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def run(url, name, base, queries, reps, batch):
    n = len(base)
    truth = exact_topk(base, queries)
    ids = [("s%d" % i) for i in range(n)]
    bodies = [json.dumps({"ids": ids[s:s + batch], "embeddings": base[s:s + batch].tolist()}).encode()
              for s in range(0, n, batch)]
    qbodies = [json.dumps({"query_embeddings": [q.tolist()], "n_results": K, "include": ["distances"]}).encode()
               for q in queries]
    for rep in range(reps):
        coll = post(url + BASE, {"name": "bench%s%d" % (name, rep)})
        curl = "%s%s/%s" % (url, BASE, coll["id"])
        t0 = time.perf_counter()
        for b in bodies:
            post(curl + "/add", b)
        add_s = time.perf_counter() - t0
        lat, hits = [], 0
        for qi, qb in enumerate(qbodies):
            t0 = time.perf_counter()
            res = post(curl + "/query", qb)
            lat.append((time.perf_counter() - t0) * 1e6)
            hits += len(truth[qi] & set(int(i[1:]) for i in res["ids"][0]))
        lat.sort()
        p50 = lat[int(0.5 * len(lat))]
        p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))]
        print("%s,%d,%d,chroma-http,%d,%.1f,%.4f,,%.1f,%.1f,%.4f,%.2f" % (
            name, n, DIM, rep, n / add_s, add_s, p50, p99, hits / (K * len(queries)), load1()), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--set", default="all", choices=["all", "fiori", "synthetic"])
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--batch", type=int, default=1000)
    args = ap.parse_args()
    if args.set != "synthetic":
        f = fiori()
        if f is None:
            print("fiori dataset missing: run scripts/fetch-dataset", file=sys.stderr)
        else:
            run(args.url, "fiori", f, fiori_queries(f), args.reps, args.batch)
    if args.set != "fiori":
        run(args.url, "synthetic", synthetic(args.n, DIM, SEED), synthetic(200, DIM, SEED + 1), args.reps, args.batch)


if __name__ == "__main__":
    main()
