#!/usr/bin/env bash
# Base + tail versions side by side with whole-snapshot cycles (docs/design/chunks.md): runs
# compaction_bench.sh once per configuration on the same machine, one compaction cycle per delta
# (MAX_DELTAS=1, so every delta is its own version, as a trigger per message makes it), and writes
# one CSV with a `config` column:
#   whole        CHUNK_BYTES=0 MAJOR_TAIL_RECORDS=0: every cycle persists and uploads every file (the
#                code before base + tail versions)
#   chunks-<n>   chunks of n bytes, minor cycles until the tail reaches MAJOR_TAIL_RECORDS (1000)
# upload_fraction = bytes uploaded by the measured cycles / the sizes of the versions they published
# (what whole uploads would have moved). Bytes do not depend on the machine's load; times do.
# usage: bench/pipeline/base_tail_bench.sh [SIZE=100000] [DELTAS=10] [REPS=3] [ROWS=100] [CHUNKS=262144]
#   CHUNKS: comma-separated chunk sizes (bytes, multiples of 4096).
# env: BUILD_DIR (see compaction_bench.sh), OUT (default bench/results/pipeline_base_tail.csv; the
#      per-cycle lines go to <OUT without .csv>_cycles.txt), WHOLE=0 (skip the whole configuration).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
size=${1:-100000} deltas=${2:-10} reps=${3:-3} rows=${4:-100} chunks=${5:-262144}
out=${OUT:-$root/bench/results/pipeline_base_tail.csv}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/chromapact-basetail.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
run() {  # CONFIG CHUNK_BYTES MAJOR_TAIL_RECORDS
  echo "# config $1: load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  CHUNK_BYTES=$2 MAJOR_TAIL_RECORDS=$3 OUT="$tmp/$1.csv" \
    "$root/bench/pipeline/compaction_bench.sh" "$size" "$deltas" "$reps" "$rows" 1 >/dev/null 2>"$tmp/$1.err" ||
    { cat "$tmp/$1.err" >&2; exit 1; }
  grep -v '^cycle:' "$tmp/$1.err" >&2 || true
  grep '^cycle:' "$tmp/$1.err" | sed "s/^/$1 /" >>"$cycles.partial" || true
  if [[ ! -s $out.partial ]]; then
    echo "config,load_1min,$(head -n 1 "$tmp/$1.csv")" >"$out.partial"
  fi
  tail -n +2 "$tmp/$1.csv" | sed "s/^/$1,$(cut -d' ' -f1 /proc/loadavg),/" >>"$out.partial"
}
cycles=${out%.csv}_cycles.txt  # one line per cycle, the base build's first (major, minor, bytes, ms)
rm -f "$out.partial" "$cycles.partial"
[[ ${WHOLE:-1} == 0 ]] || run whole 0 0
IFS=, read -ra sizes <<<"$chunks"
for c in "${sizes[@]}"; do run "chunks-$c" "$c" 1000; done
mv "$out.partial" "$out"
mv "$cycles.partial" "$cycles"
# The summary: fraction of the bytes and time per cycle, each configuration beside the whole one.
python3 - "$out" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
base = next((r for r in rows if r["config"] == "whole"), rows[0])
for r in rows:
    cyc = int(r["cycles"]) or 1
    print(f'{r["config"]:>16}: upload_fraction {float(r["upload_fraction"]):.4f}, '
          f'{int(r["bytes_uploaded"]) / cyc / 1e6:8.2f} MB and {int(r["objects_uploaded"]) / cyc:6.1f} objects '
          f'uploaded per cycle, {int(r["total_ms"]) / cyc:7.0f} ms per cycle '
          f'(x{(int(r["total_ms"]) / cyc) / (int(base["total_ms"]) / (int(base["cycles"]) or 1)):.2f} of whole), '
          f'majors {r["majors"]}, load {r["load_1min"]}')
PY
