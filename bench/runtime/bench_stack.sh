# shellcheck shell=bash disable=SC2034  # sets variables for the sourcing script
# Common set-up of the runtime benches (sourced, bash; the caller has `set -euo pipefail`, $root = the
# repository and $build = the build dir): checks the bootstraps and chromapact-emulator exist, makes a
# scratch dir $work, starts a loopback moto_server (scripts/lib/moto.sh: our launcher, one IAM admin,
# signature checking on), exports the admin's AWS_* variables, and installs an EXIT trap that stops
# every emulator (scripts/lib/emulator.sh) and moto by PID and removes $work unless the run failed or
# KEEP_WORK is set.
#   source bench/runtime/bench_stack.sh LABEL      (LABEL names the bench in messages and $work)
#   bench_emulator NAME BOOTSTRAP [emulator flags]  starts one emulator (log $work/NAME.log) and sets
#                                                   EMU_URL to its base URL http://127.0.0.1:PORT
bench_label=$1
EMULATOR=$build/tools/emulator/chromapact-emulator
for b in "$EMULATOR" "$build"/lambdas/{producer,compactor,query}/bootstrap; do
  [[ -x $b ]] || { echo "$bench_label: $b missing (build the bootstraps and chromapact-emulator)" >&2; exit 1; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/chromapact-$bench_label.XXXXXX")
# shellcheck source=../../scripts/lib/moto.sh
source "$root/scripts/lib/moto.sh"
# shellcheck source=../../scripts/lib/emulator.sh
source "$root/scripts/lib/emulator.sh"
bench_cleanup() {
  local rc=$?
  emulator_stop_all
  moto_stop
  if ((rc == 0)) && [[ -z ${KEEP_WORK:-} ]]; then rm -rf "$work"; else echo "$bench_label: logs in $work" >&2; fi
  exit $rc
}
trap bench_cleanup EXIT
moto_start "$work/moto.log"
moto_admin bench-admin
moto_enable_auth
export AWS_ACCESS_KEY_ID=$MOTO_KEY_ID AWS_SECRET_ACCESS_KEY=$MOTO_SECRET AWS_REGION=us-east-1
export AWS_ENDPOINT_URL=$MOTO_ENDPOINT
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL_S3 AWS_ENDPOINT_URL_SQS AWS_ENDPOINT_URL_DYNAMODB

bench_emulator() {
  local name=$1 bootstrap=$2
  shift 2
  emulator_start "$name" "$EMULATOR" "$work" --bootstrap "$bootstrap" --function-name "$name" "$@"
  EMU_URL=${EMULATOR_URL%/2015-03-31/functions/function/invocations}
}
