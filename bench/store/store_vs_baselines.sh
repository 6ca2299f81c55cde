#!/usr/bin/env bash
# Store facade vs bare python3-hnswlib (same M=16 / ef_construction=100 / ef_search=100, one thread)
# vs real Chroma 1.5.9 `add`/`query` over its HTTP API, on the fiori set and a synthetic N x 384 set.
# Writes bench/results/store_vs_baselines_raw.csv (every repetition) and
# bench/results/store_vs_baselines.csv (medians + ratios), and prints the Markdown table.
#
# usage: bench/store/store_vs_baselines.sh [BUILD_DIR] [N] [REPS]
#   BUILD_DIR defaults to build-storebench (configured with -DCHROMAPACT_BENCH=ON, target
#   bench_store_store_bench built); N defaults to 20000, REPS to 3.
# Chroma is skipped with a message when ../shared/tools/chroma-oracle is absent.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build-storebench}
n=${2:-20000}
reps=${3:-3}
batch=1000
out=$root/bench/results
raw=$out/store_vs_baselines_raw.csv
mkdir -p "$out"
"$root/scripts/fetch-dataset" >/dev/null

echo "store_vs_baselines: load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "store_vs_baselines: ours (Store + bare HnswSegment), n=$n reps=$reps" >&2
"$build/bench/bench_store_store_bench" --n "$n" --reps "$reps" --batch "$batch" >"$raw"

echo "store_vs_baselines: python3-hnswlib" >&2
(cd "$root/bench/store" && /usr/bin/python3 -c '
import sys
from hnsw_baseline import run, fiori, fiori_queries, synthetic, DIM, SEED
n, reps = int(sys.argv[1]), int(sys.argv[2])
sets = []
f = fiori()
if f is not None:
    sets.append(("fiori", f, fiori_queries(f)))
sets.append(("synthetic", synthetic(n, DIM, SEED), synthetic(200, DIM, SEED + 1)))
for name, base, q in sets:
    r = run(name, base, q, reps)
    load = open("/proc/loadavg").read().split()[0]
    print("%s,%d,%d,hnswlib,median,%.1f,%.4f,,%.1f,%.1f,%.4f,%s" % (name, r["n"], DIM, r["insert_vps"],
          r["n"] / r["insert_vps"], r["p50_us"], r["p99_us"], r["recall10"], load), flush=True)
' "$n" "$reps") >>"$raw"

oracle=$root/../shared/tools/chroma-oracle/serve
if [[ -x $oracle ]]; then
  echo "store_vs_baselines: real Chroma 1.5.9 over HTTP" >&2
  tmp=$(mktemp -d)
  port=$((20000 + RANDOM % 20000))
  pid=$("$oracle" "$tmp/chroma" "$port")
  trap 'kill -9 "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
  /usr/bin/python3 "$root/bench/store/chroma_http_bench.py" --url "http://127.0.0.1:$port" --n "$n" --reps "$reps" \
    --batch "$batch" | grep -v '^set,' >>"$raw"
else
  echo "store_vs_baselines: $oracle absent; real Chroma skipped" >&2
fi
echo "store_vs_baselines: load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

/usr/bin/python3 - "$raw" "$out/store_vs_baselines.csv" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
groups = {}
for r in rows:
    groups.setdefault((r["set"], r["impl"]), []).append(r)
med = {}
for key, rs in groups.items():
    m = {"n": rs[0]["n"], "reps": len(rs) if rs[0]["rep"] != "median" else "median"}
    for col in ("insert_vps", "p50_us", "p99_us", "recall10", "load1", "persist_s"):
        vals = [float(r[col]) for r in rs if r[col] != ""]
        m[col] = statistics.median(vals) if vals else None
    med[key] = m
names = {"store": "chromapact Store", "segment": "chromapact HnswSegment (split)", "hnswlib": "python3-hnswlib 0.6.2",
         "chroma-http": "Chroma 1.5.9 HTTP"}
fmt = lambda v, f: "" if v is None else f % v
with open(sys.argv[2], "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["set", "n", "impl", "insert_vps", "insert_vs_hnswlib", "persist_s", "p50_us", "p99_us", "recall10", "load1"])
    print("| set | n | impl | insert vec/s | vs hnswlib | query p50 us | query p99 us | recall@10 | load1 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for s in ("fiori", "synthetic"):
        base = med.get((s, "hnswlib"))
        for impl in ("store", "segment", "hnswlib", "chroma-http"):
            m = med.get((s, impl))
            if not m:
                continue
            ratio = m["insert_vps"] / base["insert_vps"] if base else None
            w.writerow([s, m["n"], impl, fmt(m["insert_vps"], "%.0f"), fmt(ratio, "%.2f"), fmt(m["persist_s"], "%.3f"),
                        fmt(m["p50_us"], "%.1f"), fmt(m["p99_us"], "%.1f"), fmt(m["recall10"], "%.4f"), fmt(m["load1"], "%.1f")])
            print("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (s, m["n"], names[impl], fmt(m["insert_vps"], "%.0f"),
                  fmt(ratio, "%.2fx"), fmt(m["p50_us"], "%.0f"), fmt(m["p99_us"], "%.0f"), fmt(m["recall10"], "%.3f"),
                  fmt(m["load1"], "%.1f")))
EOF
