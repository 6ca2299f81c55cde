#!/usr/bin/env bash
# Filtered search against the unfiltered query (bench_store_filtered_bench `run`: 100 Gaussian clusters
# x 384, metadata {"bucket": 0..99}, n_results 10, one Store::Query per query, in process, one thread):
# p50 / p99 / recall@10 against exact search for no filter and 1%, 10%, 50% selective `where`, both
# the same filter on every query (repeat_P: {"bucket": {"$lt": P}}) and a different one each time
# (fresh_P: {"bucket": {"$in": [P random buckets]}}). With BEFORE_BIN (the same bench built from an
# older commit) the two builds run interleaved rep by rep on the same persisted store.
# Writes bench/results/store_filtered_raw.csv (every repetition) and bench/results/store_filtered.csv
# (medians per build and case, p50 / unfiltered p50 of the same build, the highest load1 seen), and
# prints the table.
#
# usage: bench/store/filtered_bench.sh [BUILD_DIR] [N] [REPS] [QUERIES] [BEFORE_BIN]
#   BUILD_DIR defaults to build-storebench (-DCHROMAPACT_BENCH=ON), N to 100000, REPS to 5, QUERIES
#   to 200. The store is built once into ${CHROMAPACT_FILTERED_DIR:-/tmp/chromapact-filtered-N}.
#   Time it only on a quiet machine (load < 1): the load is in every row.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build-storebench}
n=${2:-100000}
reps=${3:-5}
queries=${4:-200}
before=${5:-}
dir=${CHROMAPACT_FILTERED_DIR:-/tmp/chromapact-filtered-$n}
out=$root/bench/results
raw=$out/store_filtered_raw.csv
after_bin=$build/bench/bench_store_filtered_bench
mkdir -p "$out" "$dir"
"$after_bin" build --dir "$dir" --n "$n"
echo "filtered_bench: load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "build,rep,case,filter,matches,queries,p50_us,p99_us,recall10,load1" >"$raw"
for rep in $(seq 1 "$reps"); do
  builds=(after)
  [[ -n $before ]] && builds=(before after)
  for b in "${builds[@]}"; do
    bin=$after_bin
    [[ $b == before ]] && bin=$before
    "$bin" run --dir "$dir" --n "$n" --queries "$queries" | grep -v '^case,' | sed "s/^/$b,$rep,/" >>"$raw"
  done
  echo "filtered_bench: rep $rep of $reps done (load $(cut -d' ' -f1 /proc/loadavg))" >&2
done
/usr/bin/python3 - "$raw" "$out/store_filtered.csv" "$n" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
n = int(sys.argv[3])
groups = {}
for r in rows:
    groups.setdefault((r["build"], r["case"]), []).append(r)
med = lambda rs, k: statistics.median(float(r[k]) for r in rs)
out = []
for (b, case), rs in groups.items():
    out.append(dict(build=b, case=case, n=n, matches=rs[0]["matches"], reps=len(rs), p50_us=med(rs, "p50_us"),
                    p99_us=med(rs, "p99_us"), recall10=med(rs, "recall10"),
                    load1_max=max(float(r["load1"]) for r in rs)))
order = ["none", "repeat_1", "fresh_1", "repeat_10", "fresh_10", "repeat_50", "fresh_50"]
out.sort(key=lambda o: (o["build"] != "before", order.index(o["case"]) if o["case"] in order else 99))
none = {o["build"]: o["p50_us"] for o in out if o["case"] == "none"}
after = {o["case"]: o["p50_us"] for o in out if o["build"] == "after"}
for o in out:
    o["x_unfiltered"] = o["p50_us"] / none[o["build"]]
    o["after_speedup"] = (o["p50_us"] / after[o["case"]]) if o["build"] == "before" else 1.0
with open(sys.argv[2], "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(out[0].keys()))
    w.writeheader()
    for o in out:
        w.writerow({k: (round(v, 4) if isinstance(v, float) else v) for k, v in o.items()})
print("| build | case | matches | p50 us | p99 us | x unfiltered p50 | recall@10 | before/after p50 | max load1 |")
print("|---|---|---|---|---|---|---|---|---|")
for o in out:
    print("| %s | %s | %s | %.0f | %.0f | %.2f | %.4f | %s | %.2f |" % (o["build"], o["case"], o["matches"], o["p50_us"],
          o["p99_us"], o["x_unfiltered"], o["recall10"], "%.1f" % o["after_speedup"] if o["build"] == "before" else "",
          o["load1_max"]))
PY
