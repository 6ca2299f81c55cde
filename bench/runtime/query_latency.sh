#!/usr/bin/env bash
# Warm query latency through chromapact-emulator's invoke endpoint (issue 5 benchmark): a loopback
# moto_server (our launcher, signature checking on, one IAM admin), three emulators (producer,
# compactor, query bootstraps), the fiori set (778 x 384 real vectors + documents) and a seeded
# synthetic N x 384 set loaded through the producer (batches of 100 / 1,000) and compacted with
# {"action":"compact"} invokes until the queue is empty; then per collection WARMUP queries and REPS x
# QUERIES queries (n_results 10) without and with a `where` filter, client wall time per query plus the
# emulator's REPORT Duration and the handler's QueryLatency (EMF) for the cost split.
# usage: bench/runtime/query_latency.sh [N=100000] [REPS=3] [QUERIES=300]
# env: BUILD_DIR (default build/; needs the three bootstraps and chromapact-emulator),
#      OUT_DIR (default bench/results): runtime_query_latency{,_raw,_build}.csv, KEEP_WORK=1 keeps logs,
#      COMPACTOR_LEASE_TTL_MS (default 3000000; the bootstrap's own default of 60000 aborts long cycles).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build}
[[ $build == /* ]] || build=$root/$build
out_dir=${OUT_DIR:-$root/bench/results}
n=${1:-100000} reps=${2:-3} queries=${3:-300}
py=${CHROMAPACT_PYTHON:-python3}
EMULATOR=$build/tools/emulator/chromapact-emulator
for b in "$EMULATOR" "$build"/lambdas/{producer,compactor,query}/bootstrap; do
  [[ -x $b ]] || { echo "query_latency: $b missing (build the bootstraps and chromapact-emulator)" >&2; exit 1; }
done
fiori=$("$root/scripts/fetch-dataset")
work=$(mktemp -d "${TMPDIR:-/tmp}/chromapact-qlat.XXXXXX")
# shellcheck source=../../scripts/lib/moto.sh
source "$root/scripts/lib/moto.sh"
# shellcheck source=emulators.sh
source "$root/bench/runtime/emulators.sh"
cleanup() {
  local rc=$?
  emulators_stop
  moto_stop
  if ((rc == 0)) && [[ -z ${KEEP_WORK:-} ]]; then rm -rf "$work"; else echo "query_latency: logs in $work" >&2; fi
  exit $rc
}
trap cleanup EXIT
moto_start "$work/moto.log"
moto_admin bench-admin
moto_enable_auth
export AWS_ACCESS_KEY_ID=$MOTO_KEY_ID AWS_SECRET_ACCESS_KEY=$MOTO_SECRET AWS_REGION=us-east-1
export AWS_ENDPOINT_URL=$MOTO_ENDPOINT
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL_S3 AWS_ENDPOINT_URL_SQS AWS_ENDPOINT_URL_DYNAMODB
bench="$py $root/bench/runtime/runtime_bench.py"
queue=$($bench setup --prefix qlat)
common=(--env CHROMAPACT_BUCKET=qlat-bucket --env CHROMAPACT_TABLE=qlat-kv --env CHROMAPACT_QUEUE_URL="$queue")
emulator_start producer "$build/lambdas/producer/bootstrap" "$work/producer.log" --timeout 120 "${common[@]}"
producer=$EMU_URL
# A cycle over tens of thousands of rows merges for minutes, and the lease is only heart-beaten between
# steps (a merge longer than the lease TTL aborts the cycle): lease, drain visibility and invocation
# timeout are raised so that one cycle may take up to 50 min.
emulator_start compactor "$build/lambdas/compactor/bootstrap" "$work/compactor.log" --timeout 3000 "${common[@]}" \
  --env CHROMAPACT_CACHE_DIR="$work/cache-compactor" \
  --env CHROMAPACT_LEASE_TTL_MS="${COMPACTOR_LEASE_TTL_MS:-3000000}" \
  --env CHROMAPACT_DRAIN_VISIBILITY_S=3600
compactor=$EMU_URL
emulator_start query "$build/lambdas/query/bootstrap" "$work/query.log" --timeout 600 "${common[@]}" \
  --env CHROMAPACT_CACHE_DIR="$work/cache-query"
query=$EMU_URL

mkdir -p "$out_dir"
raw=$out_dir/runtime_query_latency_raw.csv steps=$out_dir/runtime_query_latency_build.csv
rm -f "$raw" "$steps"
echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores" >&2
$bench load-fiori "$fiori" --producer "$producer" --collection fiori --batch 100 --csv "$steps"
$bench compact --compactor "$compactor" --collection fiori --queue-url "$queue" --csv "$steps"
$bench wait-count --query "$query" --collection fiori --count 778
$bench latency --query "$query" --collection fiori --vectors "fiori:$fiori" --where '{"category": "Sapui5"}' \
  --reps "$reps" --queries "$queries" --log "$work/query.log" --raw "$raw"

syn=synthetic$n
$bench load-synthetic --producer "$producer" --collection "$syn" --n "$n" --batch 1000 --csv "$steps"
$bench compact --compactor "$compactor" --collection "$syn" --queue-url "$queue" --csv "$steps"
$bench wait-count --query "$query" --collection "$syn" --count "$n"
$bench latency --query "$query" --collection "$syn" --vectors synthetic:7 --where '{"bucket": 3}' \
  --reps "$reps" --queries "$queries" --log "$work/query.log" --raw "$raw"
$bench summary --raw "$raw" --out "$out_dir/runtime_query_latency.csv"
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
