# shellcheck shell=bash disable=SC2154,SC2034  # $work and $EMULATOR come from the sourcing script
# Shell helpers (sourced, bash) for the runtime benches: start chromapact-emulator processes on
# loopback and stop them by PID.
#   emulator_start NAME BOOTSTRAP LOG [emulator flags...]   sets EMU_URL (http://127.0.0.1:PORT) and
#       records the PID; waits (30 s deadline) for the ports file the emulator writes once listening
#   emulators_stop                                          SIGTERM each recorded PID, SIGKILL after 3 s
# Needs $EMULATOR (path of chromapact-emulator) and $work (a scratch directory).
EMU_PIDS=()
EMU_URL=""

emulator_start() {
  local name=$1 bootstrap=$2 log=$3 ports deadline pid port
  shift 3
  ports="$work/$name.ports"
  rm -f "$ports"
  "$EMULATOR" --bootstrap "$bootstrap" --invoke-port 0 --ports-file "$ports" --function-name "$name" "$@" \
    >"$log" 2>&1 &
  pid=$!
  EMU_PIDS+=("$pid")
  deadline=$((SECONDS + 30))
  port=""
  until [[ -n $port ]]; do
    [[ -s $ports ]] && port=$(sed -n 's/.*"invoke_port": *\([0-9]*\).*/\1/p' "$ports")
    [[ -n $port ]] && break
    kill -0 "$pid" 2>/dev/null || { echo "emulator $name exited during start-up (log: $log)" >&2; return 1; }
    ((SECONDS < deadline)) || { echo "emulator $name wrote no ports file within 30 s (log: $log)" >&2; return 1; }
    sleep 0.05
  done
  EMU_URL="http://127.0.0.1:$port"
}

emulators_stop() {
  local pid i
  for pid in "${EMU_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${EMU_PIDS[@]}"; do
    for i in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  EMU_PIDS=()
}
