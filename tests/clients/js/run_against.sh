#!/usr/bin/env bash
# Runs the chromadb@3.5.0 (npm) basic flow against the Chroma-compatible server at URL and writes its
# normalized JSON transcript to OUT. Exit status is non-zero when any check fails.
# usage: run_against.sh URL OUT      e.g. run_against.sh http://127.0.0.1:8000 /tmp/flow.json
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[[ $# -eq 2 ]] || { echo "usage: $0 URL OUT" >&2; exit 2; }
if [[ ! -d $here/node_modules/chromadb ]]; then
  echo "run_against: $here/node_modules is missing; run scripts/install-deps (npm ci there)" >&2
  exit 2
fi
CHROMA_URL=$1 node "$here/basic_flow.mjs" >"$2"
