#!/usr/bin/env bash
# Our S3Client vs boto3: PUT + GET of the same objects against one loopback moto_server (our launcher,
# signature checking on, one IAM admin), REPS repetitions per size and implementation, interleaved
# (ours, boto3, ours, ...). Prints per-size medians of wall time and client CPU time and the ratio ours/boto3
# (below 1 = ours faster), and writes the raw rows and the summary as CSV.
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
echo "impl,size_mib,rep,put_ms,get_ms,put_cpu_ms,get_cpu_ms" >"$raw"
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
cols = ("put_ms", "get_ms", "put_cpu_ms", "get_cpu_ms")
sizes = sorted({int(r["size_mib"]) for r in rows})
med = {}
for impl in ("chromapact", "boto3"):
    for mib in sizes:
        sel = [r for r in rows if r["impl"] == impl and int(r["size_mib"]) == mib]
        m = {c: statistics.median(float(r[c]) for r in sel) for c in cols}
        m["total_ms"] = statistics.median(float(r["put_ms"]) + float(r["get_ms"]) for r in sel)
        m["n"] = len(sel)
        med[(impl, mib)] = m
metrics = ("put_ms", "get_ms", "total_ms", "put_cpu_ms", "get_cpu_ms")
with open(summary, "w") as f:
    f.write(f"# cmd: {cmd}  (moto_server 5.2.1 via tests/support/moto_launcher.py, signature checking on, "
            "loopback; medians; *_ms wall, *_cpu_ms client process CPU; ratio = ours/boto3)\n")
    w = csv.writer(f)
    w.writerow(["size_mib", "reps"] + [f"ours_{m}" for m in metrics] + [f"boto3_{m}" for m in metrics] +
               [f"ratio_{m}" for m in metrics])
    print("medians in ms; wall = PUT/GET as the caller sees it (mostly moto's time), cpu = client CPU; ratio ours/boto3")
    print(f"{'size':>6} {'n':>2} | {'metric':<8} {'ours':>9} {'boto3':>9} {'ratio':>6}")
    for mib in sizes:
        o, b = med[("chromapact", mib)], med[("boto3", mib)]
        w.writerow([mib, o["n"]] + [f"{o[m]:.1f}" for m in metrics] + [f"{b[m]:.1f}" for m in metrics] +
                   [f"{o[m] / b[m]:.2f}" for m in metrics])
        for m in metrics:
            print(f"{mib:>4}Mi {o['n']:>2} | {m[:-3]:<8} {o[m]:>9.1f} {b[m]:>9.1f} {o[m] / b[m]:>6.2f}")
print(f"raw rows: {raw}\nsummary:  {summary}")
PY
