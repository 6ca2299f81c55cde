#!/usr/bin/env bash
# Compaction throughput by phase, next to bare hnswlib, against a loopback moto_server (our launcher,
# signature checking on, one IAM admin): runs bench_pipeline_compaction_bench and writes its CSV
# (messages/min and records/s sustained over D deltas, the cycles' phase breakdown, bare hnswlib's
# insertion time of the same vectors and the ratio ours / bare; see compaction_bench.cpp).
# usage: bench/pipeline/compaction_bench.sh [SIZES=10000] [DELTAS=1,10,100] [REPS=3] [ROWS=100] [MAX_DELTAS=1000]
# env: BUILD_DIR (default build-bench/ when it has the binary, else build/; configure it with
#      -DCHROMAPACT_BENCH=ON -DCMAKE_BUILD_TYPE=Release and build bench_pipeline_compaction_bench),
#      OUT (default bench/results/pipeline_compaction.csv), CHUNK_BYTES (snapshot chunk size, 0: whole
#      files), MAJOR_TAIL_RECORDS (0: every cycle rewrites the HNSW files; both 0 = whole-snapshot
#      cycles, the baseline of bench/pipeline/base_tail_bench.sh), COMPACT_LOG=0 (keep the whole log).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build-bench}
[[ -n ${BUILD_DIR:-} || -x $build/bench/bench_pipeline_compaction_bench ]] || build=$root/build
out=${OUT:-$root/bench/results/pipeline_compaction.csv}
bin=$build/bench/bench_pipeline_compaction_bench
[[ -x $bin ]] || { echo "compaction_bench: $bin missing (cmake -DCHROMAPACT_BENCH=ON)" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/chromapact-cyclebench.XXXXXX")
# shellcheck source=../../scripts/lib/moto.sh
source "$root/scripts/lib/moto.sh"
trap 'rc=$?; moto_stop; ((rc == 0)) && rm -rf "$work"; ((rc == 0)) || echo "compaction_bench: FAILED, moto log $work/moto.log" >&2; exit $rc' EXIT
moto_start "$work/moto.log"
moto_admin bench-admin
moto_enable_auth
export AWS_ACCESS_KEY_ID=$MOTO_KEY_ID AWS_SECRET_ACCESS_KEY=$MOTO_SECRET AWS_REGION=us-east-1
export AWS_ENDPOINT_URL=$MOTO_ENDPOINT
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL_S3 AWS_ENDPOINT_URL_SQS AWS_ENDPOINT_URL_DYNAMODB
mkdir -p "$(dirname "$out")"
echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores" >&2
"$bin" "${1:-10000}" "${2:-1,10,100}" "${3:-3}" "${4:-100}" "${5:-1000}" | tee "$out"
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
