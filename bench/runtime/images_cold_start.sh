#!/usr/bin/env bash
# Each function's image size (scripts/build-images) and cold start, exec -> first
# GET /next at a loopback socket (cold_start.py), of the static vs the dynamic bootstrap, p50/p90 of
# N starts, beside `python3 -c pass`, `python3 -c "import boto3"` and the old design's figures
# (220 MB ChromaDB image, 2-3 s cold start: quoted, not measured here).
#
#   bench/runtime/images_cold_start.sh [DYNAMIC_BUILD_DIR] [N]     # defaults: $BUILD_DIR or build/, 30
#
# Static bootstraps: $STATIC_BUILD_DIR or build-static/ (scripts/build-static). Writes
# bench/results/runtime_images.csv (sizes), runtime_cold_start_raw.csv (every start, ms) and
# runtime_cold_start.csv (summary), and prints the summary. The bootstraps get placeholder
# configuration (bucket/queue/table names, dummy credentials): nothing is contacted before /next.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
# python3 with boto3 (the baseline) from the moto venv of scripts/install-deps when it made one
# shellcheck source=../../scripts/lib/venv.sh
source "$root/scripts/lib/venv.sh"
dynamic=${1:-${BUILD_DIR:-$root/build}}
n=${2:-30}
static=${STATIC_BUILD_DIR:-$root/build-static}
results=$root/bench/results
mkdir -p "$results"
functions=(producer compactor query api)

STATIC_BUILD_DIR=$static "$root/scripts/build-images" --csv "$results/runtime_images.csv"

raw=$results/runtime_cold_start_raw.csv
echo "variant,run,ms" >"$raw"
env_args=(--env CHROMAPACT_BUCKET=bench --env CHROMAPACT_QUEUE_URL=http://127.0.0.1:1/q.fifo
          --env CHROMAPACT_TABLE=bench --env AWS_ACCESS_KEY_ID=AKIDBENCH --env AWS_SECRET_ACCESS_KEY=bench
          --env AWS_REGION=us-east-1 --env CHROMAPACT_CACHE_DIR=/tmp/chromapact-bench --env CHROMAPACT_LOG_LEVEL=error)
for f in "${functions[@]}"; do
  for variant in static dynamic; do
    dir=$static
    [[ $variant == dynamic ]] && dir=$dynamic
    bin=$dir/lambdas/$f/bootstrap
    [[ -x $bin ]] || { echo "images_cold_start: $bin missing (build it first)" >&2; exit 1; }
    python3 "$root/bench/runtime/cold_start.py" "$bin" -n "$n" --label "$f $variant" --no-baselines \
      --csv "$raw" "${env_args[@]}"
  done
done
# The Python baselines once (cold_start.py measures them beside any bootstrap), with the interpreter
# itself rather than a wrapper such as a pyenv shim (which adds ~250 ms of bash).
python3 "$root/bench/runtime/cold_start.py" "$static/lambdas/query/bootstrap" -n "$n" --label "query static (again)" \
  --python "$(python3 -c 'import sys; print(sys.executable)')" --csv "$raw" "${env_args[@]}"

python3 - "$raw" "$results/runtime_images.csv" "$results/runtime_cold_start.csv" "$static" "$dynamic" <<'PY'
import csv, os, statistics, sys
raw, images, out, static, dynamic = sys.argv[1:6]
runs = {}
for row in csv.DictReader(open(raw)):
    runs.setdefault(row["variant"], []).append(float(row["ms"]))
sizes = {r["function"]: r for r in csv.DictReader(open(images))}
load = os.getloadavg()[0]
rows = []
def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]
for variant, xs in runs.items():
    if variant.endswith("(again)"):
        continue
    fn, _, kind = variant.partition(" ")
    image_mb = ""
    binary_mb = ""
    if kind == "static" and fn in sizes:
        image_mb = "%.2f" % (int(sizes[fn]["image_bytes"]) / 1e6)
        binary_mb = "%.2f" % (int(sizes[fn]["bootstrap_bytes"]) / 1e6)
    elif kind == "dynamic":
        binary_mb = "%.2f" % (os.path.getsize(os.path.join(dynamic, "lambdas", fn, "bootstrap")) / 1e6)
    rows.append([variant, len(xs), "%.2f" % statistics.median(xs), "%.2f" % pct(xs, 0.9), "%.2f" % min(xs),
                 image_mb, binary_mb, "%.1f" % load])
rows.append(["old design (ChromaDB image; quoted, not measured)", "", "2000-3000", "", "", "220", "", ""])
with open(out, "w", newline="") as f:
    w = csv.writer(f)
    # binary_mb: static = stripped Release; dynamic = the given build as is (RelWithDebInfo: debug info).
    w.writerow(["variant", "n", "p50_ms", "p90_ms", "min_ms", "image_mb_gzip", "binary_mb", "load1"])
    w.writerows(rows)
print("%-52s %4s %10s %10s %10s %9s %9s" % ("variant", "n", "p50 ms", "p90 ms", "min ms", "image MB", "binary MB"))
for r in rows:
    print("%-52s %4s %10s %10s %10s %9s %9s" % tuple(r[:7]))
PY
