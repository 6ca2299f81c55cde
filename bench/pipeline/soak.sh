#!/usr/bin/env bash
# Pipeline soak run (outside CI): producers writing flat out, compactors as SQS event sources being
# SIGKILLed at random, the schedule every minute; afterwards every record is checked against a model of
# the acknowledged writes in log order, and the compaction lag is reported.
# A loopback moto_server (bench/runtime/bench_stack.sh: our launcher, signature checking on, one IAM
# admin); bucket soak-bucket, table soak-kv, FIFO queue soak-deltas.fifo (VisibilityTimeout = the
# compactor timeout) with FIFO DLQ soak-dlq.fifo (maxReceiveCount 3, as infra/template.yaml); collection
# "soak" in 2 shards (CHROMAPACT_SHARDS=2 for every bootstrap). Emulators: PRODUCERS producers (one per
# writer thread), COMPACTORS compactors (SQS event source, batch 10; CHROMAPACT_DLQ_URL = the DLQ, as the
# template), one query (CHROMAPACT_POINTER_TTL_MS=0). Then bench/pipeline/soak.py run (see its docstring):
# base of BASE synthetic 384-d records (load and drain timed apart), MINUTES of soak, drain, verify, report.
# usage: bench/pipeline/soak.sh [MINUTES=10] [BASE=100000] [PRODUCERS=3] [COMPACTORS=2]
# env: BUILD_DIR (build/), OUT_DIR (bench/results): pipeline_soak.csv (one row), pipeline_soak_raw.csv
#      (one row per acknowledged write), pipeline_soak_mismatches.txt (only when the check fails);
#      BATCH (100 records per write), BASE_BATCH (1000), SEED (1), KILL_MIN_S / KILL_MAX_S (20 / 60: the
#      killer's interval, uniform), SCHEDULE_S (60), COMPACTOR_TIMEOUT (300 s), PRODUCER_TIMEOUT (60 s),
#      BASE_TIMEOUT (1800 s: load, and drain), DRAIN_TIMEOUT (1200 s), QUEUE_WAIT (60 s: for the trigger
#      queue to empty after the drain); compactor knobs passed through when set: CHROMAPACT_LEASE_TTL_MS
#      (soak default 30000), CHROMAPACT_LEASE_WAIT_MS (soak default 10000), CHROMAPACT_HOLE_TIMEOUT_MS,
#      CHROMAPACT_MAX_DELTAS, CHROMAPACT_MAX_RECORDS, CHROMAPACT_COMMIT_MARGIN_MS; KEEP_WORK=1 keeps the
#      logs (they are kept anyway when the run fails). Smoke test: bench/pipeline/soak.sh 1 2000 2 2
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build}
[[ $build == /* ]] || build=$root/$build
out_dir=${OUT_DIR:-$root/bench/results}
[[ $out_dir == /* ]] || out_dir=$PWD/$out_dir
minutes=${1:-10} base=${2:-100000} producers=${3:-3} compactors=${4:-2}
((producers >= 1 && compactors >= 1)) || { echo "soak: PRODUCERS and COMPACTORS must be >= 1" >&2; exit 2; }
compactor_timeout=${COMPACTOR_TIMEOUT:-300} producer_timeout=${PRODUCER_TIMEOUT:-60}
base_timeout=${BASE_TIMEOUT:-1800} drain_timeout=${DRAIN_TIMEOUT:-1200} queue_wait=${QUEUE_WAIT:-60}
lease_ttl=${CHROMAPACT_LEASE_TTL_MS:-30000} lease_wait=${CHROMAPACT_LEASE_WAIT_MS:-10000}
py=${CHROMAPACT_PYTHON:-python3}
# shellcheck source-path=SCRIPTDIR source=../runtime/bench_stack.sh
source "$root/bench/runtime/bench_stack.sh" soak
soak=("$py" "$root/bench/pipeline/soak.py")
urls=$("${soak[@]}" setup --prefix soak --visibility "$compactor_timeout")
read -r queue dlq <<<"$urls"
common=(--env CHROMAPACT_BUCKET=soak-bucket --env CHROMAPACT_TABLE=soak-kv --env CHROMAPACT_QUEUE_URL="$queue"
  --env CHROMAPACT_SHARDS=2 --env CHROMAPACT_COLLECTION=soak)
knobs=(--env CHROMAPACT_LEASE_TTL_MS="$lease_ttl" --env CHROMAPACT_LEASE_WAIT_MS="$lease_wait")
for k in CHROMAPACT_HOLE_TIMEOUT_MS CHROMAPACT_MAX_DELTAS CHROMAPACT_MAX_RECORDS CHROMAPACT_COMMIT_MARGIN_MS; do
  [[ -n ${!k:-} ]] && knobs+=(--env "$k=${!k}")
done
args=()
for i in $(seq 1 "$producers"); do
  bench_emulator "producer$i" "$build/lambdas/producer/bootstrap" --timeout "$producer_timeout" "${common[@]}"
  args+=(--producer "$EMU_URL")
done
for i in $(seq 1 "$compactors"); do
  bench_emulator "compactor$i" "$build/lambdas/compactor/bootstrap" --timeout "$compactor_timeout" "${common[@]}" \
    "${knobs[@]}" --env CHROMAPACT_DLQ_URL="$dlq" --env CHROMAPACT_CACHE_DIR="$work/cache-compactor$i" \
    --sqs-queue-url "$queue" --sqs-batch-size 10 --sqs-wait-seconds 2
  args+=(--compactor "$EMU_URL@$EMULATOR_PID@$work/compactor$i.log")
done
bench_emulator query "$build/lambdas/query/bootstrap" --timeout 300 "${common[@]}" \
  --env CHROMAPACT_CACHE_DIR="$work/cache-query" --env CHROMAPACT_POINTER_TTL_MS=0
mkdir -p "$out_dir"
# A hard bound on the whole run (each step has its own deadline inside soak.py; this is the backstop).
hard=$(((${minutes%.*} + 1) * 60 + 2 * base_timeout + drain_timeout + queue_wait + producer_timeout + 1200))
rc=0
timeout --signal=TERM --kill-after=30 "$hard" "${soak[@]}" run --collection soak --shards 2 "${args[@]}" \
  --query "$EMU_URL" --bucket soak-bucket --table soak-kv --queue-url "$queue" --dlq-url "$dlq" \
  --minutes "$minutes" --base "$base" --base-batch "${BASE_BATCH:-1000}" --batch "${BATCH:-100}" --seed "${SEED:-1}" \
  --kill-min "${KILL_MIN_S:-20}" --kill-max "${KILL_MAX_S:-60}" --schedule-s "${SCHEDULE_S:-60}" \
  --producer-timeout "$producer_timeout" --compactor-timeout "$compactor_timeout" --base-timeout "$base_timeout" \
  --drain-timeout "$drain_timeout" --queue-wait "$queue_wait" --lease-ttl-ms "$lease_ttl" \
  --lease-wait-ms "$lease_wait" --out-dir "$out_dir" || rc=$?
((rc == 124)) && echo "soak: killed after the hard limit of $hard s" >&2
exit "$rc"
