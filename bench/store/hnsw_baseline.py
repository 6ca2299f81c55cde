#!/usr/bin/python3
"""Bare python3-hnswlib (Debian 0.6.2) on the data, parameters and queries of bench/store/hnsw_bench.cpp,
plus the side-by-side table when given that benchmark's JSON output.

  build-hnsw/bench/bench_store_hnsw --benchmark_out=/tmp/hnsw_cpp.json --benchmark_out_format=json
  /usr/bin/python3 bench/store/hnsw_baseline.py --cpp-json /tmp/hnsw_cpp.json [--reps 5] [--n 20000]

Insert: Index('l2', 384).init_index(max_elements=n, M=16, ef_construction=100, random_seed=0) then
add_items(all, num_threads=1); vectors/s = n / wall time. Query: set_ef(100), one knn_query(k=10,
num_threads=1) per query; p50/p99 of per-query wall time; recall@10 vs exact (numpy) top-10. The
median over --reps repetitions is reported.
"""
import argparse, json, os, statistics, time
import hnswlib
import numpy as np

K, SEED, DIM = 10, 7, 384
M1, M2, M3 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


def synthetic(n, dim, seed):
    """Same stream as chromapact::bench::Synthetic: splitmix64(seed, k) >> 40, / 2^23 - 1."""
    out = np.empty(n * dim, dtype=np.float32)
    step = 1 << 22
    with np.errstate(over="ignore"):
        for start in range(0, n * dim, step):
            k = np.arange(start, min(start + step, n * dim), dtype=np.uint64)
            z = np.uint64(seed) + (k + np.uint64(1)) * M1
            z = (z ^ (z >> np.uint64(30))) * M2
            z = (z ^ (z >> np.uint64(27))) * M3
            z = z ^ (z >> np.uint64(31))
            out[start:start + len(k)] = (z >> np.uint64(40)).astype(np.float32) / np.float32(8388608.0) - np.float32(1.0)
    return out.reshape(n, dim)


def fiori_dir():
    if os.environ.get("CHROMAPACT_FIORI_DIR"):
        return os.environ["CHROMAPACT_FIORI_DIR"]
    cache = os.environ.get("CHROMAPACT_CACHE") or os.path.expanduser("~/.cache/chromapact")
    return os.path.join(cache, "datasets", "fiori-docs-embeddings-1.2.6")


def fiori():
    path = os.path.join(fiori_dir(), "data", "embeddings", "embeddings.bin")
    if not os.path.exists(path):
        return None
    return np.fromfile(path, dtype="<f4").reshape(-1, DIM)


def fiori_queries(base):
    n = len(base)
    i = np.arange(100)
    return ((base[(7 * i) % n] + base[(13 * i + 5) % n]) * np.float32(0.5)).astype(np.float32)


def exact_topk(base, queries):
    out = []
    bn = (base.astype(np.float64) ** 2).sum(1)
    for q in queries.astype(np.float64):
        d = bn - 2 * base.astype(np.float64) @ q + (q ** 2).sum()
        out.append(set(np.argpartition(d, K)[:K].tolist()))
    return out


def run(name, base, queries, reps):
    n = len(base)
    truth = exact_topk(base, queries)
    ins, p50, p99, rec = [], [], [], []
    index = None
    for _ in range(reps):
        index = hnswlib.Index(space="l2", dim=DIM)
        index.init_index(max_elements=n, M=16, ef_construction=100, random_seed=0)
        t0 = time.perf_counter()
        index.add_items(base, np.arange(n), num_threads=1)
        ins.append(n / (time.perf_counter() - t0))
        index.set_ef(100)
        lat, hits = [], 0
        for qi, q in enumerate(queries):
            t0 = time.perf_counter()
            labels, _ = index.knn_query(q, k=K, num_threads=1)
            lat.append((time.perf_counter() - t0) * 1e6)
            hits += len(truth[qi] & set(labels[0].tolist()))
        lat.sort()
        p50.append(lat[int(0.5 * len(lat))])
        p99.append(lat[min(len(lat) - 1, int(0.99 * len(lat)))])
        rec.append(hits / (K * len(queries)))
    return {"name": name, "n": n, "insert_vps": statistics.median(ins), "p50_us": statistics.median(p50),
            "p99_us": statistics.median(p99), "recall10": statistics.median(rec)}


def cpp_results(path):
    """Medians of bench_store_hnsw's repetitions, keyed like the python rows."""
    data = json.load(open(path))
    rows = {}
    for b in data["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        base = b["run_name"].split("/")[0]
        rows[base] = b
    out = {}
    for ds in ("Fiori", "Synthetic"):
        ins, q = rows.get("BM_Insert" + ds), rows.get("BM_Query" + ds)
        if ins and q:
            out[ds.lower()] = {"insert_vps": ins["items_per_second"], "n": int(ins["vectors"]),
                               "p50_us": q["p50_us"], "p99_us": q["p99_us"], "recall10": q["recall10"]}
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--n", type=int, default=int(os.environ.get("CHROMAPACT_BENCH_N", "20000")))
    ap.add_argument("--cpp-json")
    args = ap.parse_args()
    py = {}
    f = fiori()
    if f is None:
        print("fiori dataset missing: run scripts/fetch-dataset")
    else:
        py["fiori"] = run("fiori", f, fiori_queries(f), args.reps)
    syn = synthetic(args.n, DIM, SEED)
    py["synthetic"] = run("synthetic", syn, synthetic(200, DIM, SEED + 1), args.reps)
    cpp = cpp_results(args.cpp_json) if args.cpp_json else {}
    print("| set | n | impl | insert vec/s | query p50 us | query p99 us | recall@10 |")
    print("|---|---|---|---|---|---|---|")
    for ds, r in py.items():
        print("| %s | %d | python3-hnswlib | %.0f | %.1f | %.1f | %.4f |" % (ds, r["n"], r["insert_vps"], r["p50_us"], r["p99_us"], r["recall10"]))
        c = cpp.get(ds)
        if c:
            print("| %s | %d | chromapact HnswSegment | %.0f | %.1f | %.1f | %.4f |" % (ds, c["n"], c["insert_vps"], c["p50_us"], c["p99_us"], c["recall10"]))
            print("| %s | | ratio ours/bare | %.2fx | %.2fx | %.2fx | %+.4f |" % (ds, c["insert_vps"] / r["insert_vps"], c["p50_us"] / r["p50_us"], c["p99_us"] / r["p99_us"], c["recall10"] - r["recall10"]))


if __name__ == "__main__":
    main()
