# Shell helpers (sourced, bash) to run chromapact-emulator processes (tools/emulator,
# docs/reference/components.md "Local Lambda emulator") from a script, one per bootstrap, on
# 127.0.0.1, and stop them by PID.
#   emulator_start NAME EMULATOR LOGDIR [emulator flags...]
#       starts EMULATOR --invoke-port 0 --ports-file LOGDIR/NAME.ports FLAGS... in the background
#       (stdout+stderr to LOGDIR/NAME.log), waits (30 s deadline) until the ports file is written, then
#       sets EMULATOR_URL to its invoke URL and EMULATOR_PID; remembers the PID for emulator_stop_all.
#   emulator_stop_all   SIGTERM to every emulator started here (each stops its bootstrap), SIGKILL after
#                       5 s; safe to call twice (use it in an EXIT trap)
# Each function returns non-zero with a message on stderr when it fails.

EMULATOR_PIDS=()
EMULATOR_URL=""
EMULATOR_PID=""

emulator_start() {
  local name=$1 bin=$2 dir=$3 ports deadline port
  shift 3
  ports=$dir/$name.ports
  rm -f "$ports"
  "$bin" --invoke-port 0 --ports-file "$ports" "$@" </dev/null >"$dir/$name.log" 2>&1 &
  EMULATOR_PID=$!
  EMULATOR_PIDS+=("$EMULATOR_PID")
  deadline=$((SECONDS + 30))
  until [[ -s $ports ]] && port=$(sed -n 's/.*"invoke_port": *\([0-9][0-9]*\).*/\1/p' "$ports") && [[ -n $port ]]; do
    kill -0 "$EMULATOR_PID" 2>/dev/null || { echo "emulator $name exited during start-up (log: $dir/$name.log)" >&2; return 1; }
    ((SECONDS < deadline)) || { echo "emulator $name wrote no ports file within 30 s (log: $dir/$name.log)" >&2; return 1; }
    sleep 0.05
  done
  EMULATOR_URL="http://127.0.0.1:$port/2015-03-31/functions/function/invocations"
}

emulator_stop_all() {
  local pid i
  for pid in "${EMULATOR_PIDS[@]+"${EMULATOR_PIDS[@]}"}"; do
    kill -0 "$pid" 2>/dev/null && kill -TERM "$pid" 2>/dev/null
  done
  for pid in "${EMULATOR_PIDS[@]+"${EMULATOR_PIDS[@]}"}"; do
    for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  EMULATOR_PIDS=()
}
