#!/usr/bin/env bash
# Our S3Client vs boto3: PUT + GET of the same objects against one loopback moto_server (our launcher,
# signature checking on, one IAM admin), REPS repetitions per size and implementation, interleaved
# (ours, boto3, ours, ...). Prints the per-size medians and the ratio ours/boto3 (below 1 = ours faster)
# and writes the raw rows and the summary as CSV.
# usage: bench/aws/s3_vs_boto3.sh [REPS=5] [SIZES_MIB=1,64]
# env: BUILD_DIR (default build/; must hold bench/bench_aws_s3_bench: configure with
#      -DCHROMAPACT_BENCH=ON), OUT_DIR (default bench/results), CHROMAPACT_PYTHON (python3 with boto3).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
reps=${1:-5}
sizes=${2:-1,64}
build=${BUILD_DIR:-$root/build}
out=${OUT_DIR:-$root/bench/results}
py=${CHROMAPACT_PYTHON:-python3}
ours=$build/bench/bench_aws_s3_bench
[[ -x $ours ]] || { echo "s3_vs_boto3: $ours missing (cmake -DCHROMAPACT_BENCH=ON, build bench_aws_s3_bench)" >&2; exit 1; }
mkdir -p "$out"

work=$(mktemp -d "${TMPDIR:-/tmp}/chromapact-s3bench.XXXXXX")
# shellcheck source=../../scripts/lib/moto.sh
source "$root/scripts/lib/moto.sh"
trap 'rc=$?; moto_stop; ((rc == 0)) && rm -rf "$work"; ((rc == 0)) || echo "s3_vs_boto3: FAILED, moto log $work/moto.log" >&2; exit $rc' EXIT
moto_start "$work/moto.log"
moto_admin bench-admin
moto_enable_auth
export AWS_ACCESS_KEY_ID=$MOTO_KEY_ID AWS_SECRET_ACCESS_KEY=$MOTO_SECRET AWS_REGION=us-east-1
export AWS_ENDPOINT_URL=$MOTO_ENDPOINT
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL_S3

raw=$out/aws_s3_vs_boto3_raw.csv
echo "impl,size_mib,rep,put_ms,get_ms" >"$raw"
IFS=, read -r -a size_list <<<"$sizes"
# Interleaved (one repetition of ours, then one of boto3) so that load from other processes on the
# machine falls on both alike. Each run is a fresh process and connection; only the PUT and the GET
# are timed (inside the programs).
for mib in "${size_list[@]}"; do
  for ((rep = 1; rep <= reps; rep++)); do
    "$ours" chromapact-bench "$mib" 1 | tail -n +2 | sed "s/^\([^,]*,[^,]*\),1,/\1,$rep,/" >>"$raw"
    "$py" "$root/bench/aws/s3_boto3.py" chromapact-bench "$mib" 1 | tail -n +2 |
      sed "s/^\([^,]*,[^,]*\),1,/\1,$rep,/" >>"$raw"
  done
done

"$py" - "$raw" "$out/aws_s3_vs_boto3.csv" "bench/aws/s3_vs_boto3.sh $reps $sizes" <<'PY'
import csv, statistics, sys
raw, summary, cmd = sys.argv[1:4]
rows = list(csv.DictReader(open(raw)))
med = {}
for impl in ("chromapact", "boto3"):
    for mib in sorted({int(r["size_mib"]) for r in rows}):
        sel = [r for r in rows if r["impl"] == impl and int(r["size_mib"]) == mib]
        put = statistics.median(float(r["put_ms"]) for r in sel)
        get = statistics.median(float(r["get_ms"]) for r in sel)
        tot = statistics.median(float(r["put_ms"]) + float(r["get_ms"]) for r in sel)
        med[(impl, mib)] = (len(sel), put, get, tot)
with open(summary, "w") as f:
    f.write(f"# cmd: {cmd}  (moto_server 5.2.1 via tests/support/moto_launcher.py, signature checking on, loopback)\n")
    w = csv.writer(f)
    w.writerow(["size_mib", "reps", "ours_put_ms", "ours_get_ms", "ours_total_ms",
                "boto3_put_ms", "boto3_get_ms", "boto3_total_ms", "ratio_put", "ratio_get", "ratio_total"])
    print(f"{'size':>6} {'reps':>4} | {'ours put':>9} {'get':>8} {'total':>8} | {'boto3 put':>9} {'get':>8} "
          f"{'total':>8} | ours/boto3 put  get  total   (medians, ms)")
    for mib in sorted({k[1] for k in med}):
        n, op, og, ot = med[("chromapact", mib)]
        _, bp, bg, bt = med[("boto3", mib)]
        w.writerow([mib, n, f"{op:.1f}", f"{og:.1f}", f"{ot:.1f}", f"{bp:.1f}", f"{bg:.1f}", f"{bt:.1f}",
                    f"{op / bp:.2f}", f"{og / bg:.2f}", f"{ot / bt:.2f}"])
        print(f"{mib:>4}Mi {n:>4} | {op:>9.1f} {og:>8.1f} {ot:>8.1f} | {bp:>9.1f} {bg:>8.1f} {bt:>8.1f} | "
              f"{op / bp:>13.2f} {og / bg:>4.2f} {ot / bt:>6.2f}")
print(f"raw rows: {raw}\nsummary:  {summary}")
PY
