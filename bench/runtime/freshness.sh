#!/usr/bin/env bash
# End-to-end freshness with the SQS trigger: time from the producer's answer (ack)
# to the record being returned by a query `get` through the query bootstrap.
# A loopback moto_server (our launcher, signature checking on, one IAM admin); emulators for the
# producer, the compactor (with the emulator's SQS event-source poller on the FIFO delta queue:
# --sqs-batch-size 10, --sqs-wait-seconds SQS_WAIT) and one query emulator per pointer TTL in TTLS
# (CHROMAPACT_POINTER_TTL_MS: how long a query may keep using a pointer it read; CHROMAPACT_TAIL_TTL_MS
# = TAIL_TTL_MS: how often it lists the log past its version). Base collection: the fiori set
# (778 x 384 + documents), or with BASE_N > 0 the seeded synthetic N x 384 set (documents, metadata),
# through the producer (batches of 100 / 1,000) and the poller. Then RUNS rounds, each WRITES
# single-record upserts (one producer batch each) per mode in MODES and TTL, one write in flight:
#   poll: plain `get`s back to back, POLL_MS apart (what any reader sees);
#   ryw:  one `get` with the ack's log_positions as min_log_positions (read-your-writes).
# usage: bench/runtime/freshness.sh [RUNS=3] [WRITES=25] [TTLS="1000 100"]
# env: BUILD_DIR (default build/), BASE_N (0 = fiori), MODES ("poll"), TAIL_TTL_MS (1000, the
#      default), JITTER_MS (TAIL_TTL_MS: a random pause of 0..J ms before each write, so that writes
#      do not all land right after a listing), SQS_WAIT (20), POLL_MS (10), OUT_DIR (bench/results):
#      runtime_freshness{,_raw,_split}.csv (_split: compactor cycle time, bytes per cycle and the
#      fetching query's time, from the bootstraps' EMF lines); KEEP_WORK=1 keeps logs.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build}
[[ $build == /* ]] || build=$root/$build
out_dir=${OUT_DIR:-$root/bench/results}
runs=${1:-3} writes=${2:-25} ttls=${3:-"1000 100"}
sqs_wait=${SQS_WAIT:-20} poll_ms=${POLL_MS:-10}
base_n=${BASE_N:-0} modes=${MODES:-poll} tail_ttl=${TAIL_TTL_MS:-1000} jitter=${JITTER_MS:-$tail_ttl}
py=${CHROMAPACT_PYTHON:-python3}
# shellcheck source=bench_stack.sh
source "$root/bench/runtime/bench_stack.sh" freshness
fiori=$("$root/scripts/fetch-dataset")
bench="$py $root/bench/runtime/runtime_bench.py"
queue=$($bench setup --prefix fresh --visibility 120)
common=(--env CHROMAPACT_BUCKET=fresh-bucket --env CHROMAPACT_TABLE=fresh-kv --env CHROMAPACT_QUEUE_URL="$queue")
bench_emulator producer "$build/lambdas/producer/bootstrap" --timeout 120 "${common[@]}"
producer=$EMU_URL
bench_emulator compactor "$build/lambdas/compactor/bootstrap" --timeout 300 "${common[@]}" \
  --env CHROMAPACT_CACHE_DIR="$work/cache-compactor" \
  --sqs-queue-url "$queue" --sqs-batch-size 10 --sqs-wait-seconds "$sqs_wait"
mkdir -p "$out_dir"
raw=$out_dir/runtime_freshness_raw.csv
rm -f "$raw"
echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores" >&2
if ((base_n > 0)); then
  coll=synthetic$base_n records=$base_n vectors=synthetic:11
  $bench load-synthetic --producer "$producer" --collection "$coll" --n "$base_n" --batch 1000
else
  coll=fiori records=778 vectors=fiori:$fiori
  $bench load-fiori "$fiori" --producer "$producer" --collection fiori --batch 100
fi
# The query emulators start once the base is compacted, so that they open it as a version instead
# of reading the whole base from the log.
$bench wait-drained --queue "$queue"
declare -A query
for ttl in $ttls; do
  bench_emulator "query-ttl$ttl" "$build/lambdas/query/bootstrap" --timeout 300 \
    "${common[@]}" --env CHROMAPACT_CACHE_DIR="$work/cache-query-$ttl" --env CHROMAPACT_POINTER_TTL_MS="$ttl" \
    --env CHROMAPACT_TAIL_TTL_MS="$tail_ttl"
  query[$ttl]=$EMU_URL
  $bench wait-count --query "${query[$ttl]}" --collection "$coll" --count "$records" --timeout 600
done
echo "# base of $records records compacted and visible: load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
declare -A offset  # log sizes once the base is loaded: the split counts only what follows
for f in "$work"/compactor.log "$work"/query-ttl*.log; do offset[$f]=$(stat -c %s "$f"); done
for run in $(seq 1 "$runs"); do
  for mode in $modes; do
    for ttl in $ttls; do
      $bench freshness --producer "$producer" --query "${query[$ttl]}" --collection "$coll" --vectors "$vectors" \
        --mode "$mode" --base-records "$records" --writes "$writes" --poll-ms "$poll_ms" --pointer-ttl-ms "$ttl" \
        --tail-ttl-ms "$tail_ttl" --jitter-ms "$jitter" --sqs-wait "$sqs_wait" --run "$run" --raw "$raw"
    done
  done
done
$bench fresh-summary --raw "$raw" --out "$out_dir/runtime_freshness.csv"
qlogs=()
for ttl in $ttls; do qlogs+=(--query-log "$work/query-ttl$ttl.log@${offset[$work/query-ttl$ttl.log]}"); done
$bench fresh-split --compactor-log "$work/compactor.log@${offset[$work/compactor.log]}" "${qlogs[@]}" \
  --out "$out_dir/runtime_freshness_split.csv"
echo "# compactor invocations (SQS events): $(grep -c '^REPORT' "$work/compactor.log")" >&2
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
