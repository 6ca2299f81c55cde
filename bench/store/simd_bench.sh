#!/usr/bin/env bash
# Distance kernels side by side (src/store/simd_distance.h): the same store ingest and query run of
# bench_store_store_bench (Store + bare HnswSegment, Chroma's defaults, one thread) with the kernel
# capped by CHROMAPACT_SIMD at baseline (SSE2, what a build for baseline x86-64 used before),
# avx2 (AVX2 + FMA, every Lambda x86_64 host) and unset (the best this CPU has), interleaved rep by
# rep so a load change hits every kernel alike. Writes bench/results/store_simd_raw.csv (every
# repetition) and bench/results/store_simd.csv (medians, and ratios to baseline), prints the table.
#
# usage: bench/store/simd_bench.sh [BUILD_DIR] [N] [REPS]
#   BUILD_DIR defaults to build-storebench (-DCHROMAPACT_BENCH=ON, target bench_store_store_bench),
#   N to 20000, REPS to 5. Time it only on a quiet machine (load < 1): the load is in every row.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build-storebench}
n=${2:-20000}
reps=${3:-5}
out=$root/bench/results
raw=$out/store_simd_raw.csv
mkdir -p "$out"
"$root/scripts/fetch-dataset" >/dev/null
echo "simd_bench: load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "kernel,set,n,dim,impl,rep,insert_vps,add_s,persist_s,p50_us,p99_us,recall10,load1" >"$raw"
for rep in $(seq 1 "$reps"); do
  for kernel in baseline avx2 best; do
    env_cap=()
    [[ $kernel != best ]] && env_cap=("CHROMAPACT_SIMD=$kernel")
    env "${env_cap[@]}" "$build/bench/bench_store_store_bench" --set synthetic --n "$n" --reps 1 |
      grep -v '^set,' | sed "s/^/$kernel,/" >>"$raw"
  done
  echo "simd_bench: rep $rep of $reps done (load $(cut -d' ' -f1 /proc/loadavg))" >&2
done
/usr/bin/python3 - "$raw" "$out/store_simd.csv" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
groups = {}
for r in rows:
    groups.setdefault((r["impl"], r["kernel"]), []).append(r)
med = lambda rs, k: statistics.median(float(r[k]) for r in rs)
out = []
for (impl, kernel), rs in sorted(groups.items()):
    out.append(dict(impl=impl, kernel=kernel, reps=len(rs), insert_vps=med(rs, "insert_vps"),
                    p50_us=med(rs, "p50_us"), p99_us=med(rs, "p99_us"), recall10=med(rs, "recall10"),
                    load1_max=max(float(r["load1"]) for r in rs)))
base = {o["impl"]: o for o in out if o["kernel"] == "baseline"}
for o in out:
    b = base[o["impl"]]
    o["insert_vs_baseline"] = o["insert_vps"] / b["insert_vps"]
    o["p50_vs_baseline"] = o["p50_us"] / b["p50_us"]
with open(sys.argv[2], "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(out[0].keys()))
    w.writeheader()
    for o in out:
        w.writerow({k: (round(v, 4) if isinstance(v, float) else v) for k, v in o.items()})
print("| impl | kernel | insert vectors/s | x baseline | query p50 us | x baseline | p99 us | recall@10 | max load |")
print("|---|---|---|---|---|---|---|---|---|")
for o in out:
    print("| %s | %s | %.0f | %.2f | %.0f | %.2f | %.0f | %.3f | %.2f |" % (o["impl"], o["kernel"], o["insert_vps"],
          o["insert_vs_baseline"], o["p50_us"], o["p50_vs_baseline"], o["p99_us"], o["recall10"], o["load1_max"]))
PY
