#!/usr/bin/env bash
# Warm query latency through chromapact-emulator's invoke endpoint: a loopback
# moto_server (our launcher, signature checking on, one IAM admin), three emulators (producer,
# compactor, query bootstraps), the fiori set (778 x 384 real vectors + documents) and a seeded
# synthetic N x 384 set loaded through the producer (batches of 100 / 1,000) and compacted with
# {"action":"compact"} invokes until one applies nothing and re-arms nothing; then per collection WARMUP queries and REPS x
# QUERIES queries (n_results 10) without and with a `where` filter, client wall time per query plus the
# emulator's REPORT Duration and the handler's QueryLatency (EMF) for the cost split.
# Then the same queries over a log tail of 1 % and 10 % of N (TAIL_PCTS) written but not compacted.
# usage: bench/runtime/query_latency.sh [N=100000] [REPS=3] [QUERIES=300]
# env: BUILD_DIR (default build/; needs the three bootstraps and chromapact-emulator),
#      OUT_DIR (default bench/results): runtime_query_latency{,_raw,_build}.csv, KEEP_WORK=1 keeps logs,
#      COMPACTOR_LEASE_TTL_MS (default 60000, the bootstrap's own), TAIL_PCTS ("1 10"; "" = none),
#      SKIP_FIORI=1 (only the synthetic set).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build}
[[ $build == /* ]] || build=$root/$build
out_dir=${OUT_DIR:-$root/bench/results}
n=${1:-100000} reps=${2:-3} queries=${3:-300}
py=${CHROMAPACT_PYTHON:-python3}
# shellcheck source=bench_stack.sh
source "$root/bench/runtime/bench_stack.sh" query_latency
fiori=$("$root/scripts/fetch-dataset")
bench="$py $root/bench/runtime/runtime_bench.py"
queue=$($bench setup --prefix qlat)
common=(--env CHROMAPACT_BUCKET=qlat-bucket --env CHROMAPACT_TABLE=qlat-kv --env CHROMAPACT_QUEUE_URL="$queue")
bench_emulator producer "$build/lambdas/producer/bootstrap" --timeout 120 "${common[@]}"
producer=$EMU_URL
# A cycle over tens of thousands of rows merges for minutes: the invocation timeout
# is raised so that one cycle may take up to 50 min (the lease is renewed between deltas; before
# fb76819 only between steps, and the 100k run then needed COMPACTOR_LEASE_TTL_MS=3000000).
bench_emulator compactor "$build/lambdas/compactor/bootstrap" --timeout 3000 "${common[@]}" \
  --env CHROMAPACT_CACHE_DIR="$work/cache-compactor" \
  --env CHROMAPACT_LEASE_TTL_MS="${COMPACTOR_LEASE_TTL_MS:-60000}"
compactor=$EMU_URL
bench_emulator query "$build/lambdas/query/bootstrap" --timeout 600 "${common[@]}" \
  --env CHROMAPACT_CACHE_DIR="$work/cache-query"
query=$EMU_URL

mkdir -p "$out_dir"
raw=$out_dir/runtime_query_latency_raw.csv steps=$out_dir/runtime_query_latency_build.csv
rm -f "$raw" "$steps"
echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores" >&2
if [[ -z ${SKIP_FIORI:-} ]]; then
  $bench load-fiori "$fiori" --producer "$producer" --collection fiori --batch 100 --csv "$steps"
  $bench compact --compactor "$compactor" --collection fiori --csv "$steps"
  $bench wait-count --query "$query" --collection fiori --count 778
  $bench latency --query "$query" --collection fiori --vectors "fiori:$fiori" --where '{"category": "Sapui5"}' \
    --reps "$reps" --queries "$queries" --log "$work/query.log" --raw "$raw"
fi

syn=synthetic$n
$bench load-synthetic --producer "$producer" --collection "$syn" --n "$n" --batch 1000 --csv "$steps"
$bench compact --compactor "$compactor" --collection "$syn" --csv "$steps"
$bench wait-count --query "$query" --collection "$syn" --count "$n"
$bench latency --query "$query" --collection "$syn" --vectors synthetic:7 --where '{"bucket": 3}' \
  --reps "$reps" --queries "$queries" --log "$work/query.log" --raw "$raw"
# Warm queries over a log tail: TAIL_PCTS (cumulative percentages of N, default "1 10") more rows of
# the seeded set written through the producer in deltas of 100 and left uncompacted (this compactor
# runs only when invoked), so the query reads them from the log past its version.
written=0
for tp in ${TAIL_PCTS-1 10}; do
  want=$((n * tp / 100))
  $bench load-synthetic --producer "$producer" --collection "$syn" --start $((n + written)) --n $((want - written)) \
    --batch 100 --csv "$steps"
  written=$want
  $bench wait-count --query "$query" --collection "$syn" --count $((n + written))
  $bench latency --query "$query" --collection "$syn" --vectors synthetic:7 --where '{"bucket": 3}' \
    --reps "$reps" --queries "$queries" --log "$work/query.log" --raw "$raw" --variant-suffix "+tail${tp}pct"
done
$bench summary --raw "$raw" --out "$out_dir/runtime_query_latency.csv"
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
