# Shell helpers (sourced, bash) to run a local moto_server the way the tests do (tests/support/moto.cpp):
# our launcher tests/support/moto_launcher.py on a free 127.0.0.1 port, an IAM admin user, then
# signature checking on (POST /moto-api/reset-auth body 0, docs/aws-notes.md §1).
#   moto_start LOGFILE      sets MOTO_PID, MOTO_ENDPOINT; waits for /moto-api/ (30 s deadline)
#   moto_admin NAME         creates an IAM user allowed "*" with an access key; sets MOTO_KEY_ID, MOTO_SECRET
#   moto_enable_auth        every later request is signature-checked and IAM-authorised
#   moto_stop               SIGTERM, SIGKILL after 3 s; safe to call twice (use it in an EXIT trap)
# Each function returns non-zero with a message on stderr when it fails.
# Uses $CHROMAPACT_PYTHON (default python3) and curl (>= 7.75 for --aws-sigv4). When moto is not
# installed, sourcing this puts the venv scripts/install-deps made for it first on PATH (lib/venv.sh),
# so python3 there has moto (and boto3, for the benches).

_moto_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=venv.sh
source "$_moto_root/scripts/lib/venv.sh"
MOTO_PID=""
MOTO_ENDPOINT=""

moto_start() {
  local log=$1 py=${CHROMAPACT_PYTHON:-python3} port deadline
  port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()') || return 1
  MOTO_ENDPOINT="http://127.0.0.1:$port"
  env -u INITIAL_NO_AUTH_ACTION_COUNT "$py" "$_moto_root/tests/support/moto_launcher.py" -H 127.0.0.1 -p "$port" \
    >"$log" 2>&1 &
  MOTO_PID=$!
  deadline=$((SECONDS + 30))
  until curl -fsS -o /dev/null --max-time 2 "$MOTO_ENDPOINT/moto-api/" 2>/dev/null; do
    kill -0 "$MOTO_PID" 2>/dev/null || { echo "moto exited during start-up (log: $log)" >&2; return 1; }
    ((SECONDS < deadline)) || { echo "moto did not answer within 30 s (log: $log)" >&2; return 1; }
    sleep 0.1
  done
}

moto_stop() {
  [[ -n $MOTO_PID ]] || return 0
  if kill -0 "$MOTO_PID" 2>/dev/null; then
    kill -TERM "$MOTO_PID" 2>/dev/null || true
    local i
    for i in $(seq 1 60); do kill -0 "$MOTO_PID" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$MOTO_PID" 2>/dev/null || true
  fi
  wait "$MOTO_PID" 2>/dev/null || true
  MOTO_PID=""
}

# One IAM query-API call. Before checking is on moto does not verify the signature, but the request
# must carry one (docs/aws-notes.md §1), so curl signs it with a dummy key.
_moto_iam() {
  curl -fsS --max-time 10 --aws-sigv4 "aws:amz:us-east-1:iam" --user "AKIAIOSFODNN7EXAMPLE:setup-not-checked" \
    -H 'Content-Type: application/x-www-form-urlencoded; charset=utf-8' \
    --data "Version=2010-05-08&$1" "$MOTO_ENDPOINT/"
}

_moto_xml_text() { sed -n "s:.*<$1>\([^<]*\)</$1>.*:\1:p" | head -n 1; }

moto_admin() {
  local name=$1 py=${CHROMAPACT_PYTHON:-python3} policy xml
  policy=$("$py" -c 'import urllib.parse; print(urllib.parse.quote(
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}", safe=""))')
  _moto_iam "Action=CreateUser&UserName=$name" >/dev/null || return 1
  _moto_iam "Action=PutUserPolicy&UserName=$name&PolicyName=$name-all&PolicyDocument=$policy" >/dev/null || return 1
  xml=$(_moto_iam "Action=CreateAccessKey&UserName=$name") || return 1
  MOTO_KEY_ID=$(_moto_xml_text AccessKeyId <<<"$xml")
  MOTO_SECRET=$(_moto_xml_text SecretAccessKey <<<"$xml")
  [[ -n $MOTO_KEY_ID && -n $MOTO_SECRET ]] || { echo "moto: CreateAccessKey answered no key" >&2; return 1; }
}

moto_enable_auth() {
  local answer
  answer=$(curl -fsS --max-time 10 -X POST -H 'Content-Type: application/json' --data 0 \
    "$MOTO_ENDPOINT/moto-api/reset-auth") || return 1
  [[ $answer == *'"ok"'* ]] || { echo "moto: reset-auth answered: $answer" >&2; return 1; }
}
