# Shell helper (sourced, bash): when moto_server is not on PATH, puts bin/ of the virtual environment
# scripts/install-deps makes for moto ($BUILD_DIR/venv, else build/venv) first on PATH, so that
# python3 (with moto and boto3), moto_server and cfn-lint come from there. With moto installed, or
# without that venv, PATH stays as it is. $CHROMAPACT_PYTHON, when set, still names the python3 that
# runs moto (scripts/lib/moto.sh, tests/support/moto.cpp).
_venv_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if ! command -v moto_server >/dev/null 2>&1; then
  for _venv_dir in "${BUILD_DIR:-$_venv_root/build}/venv" "$_venv_root/build/venv"; do
    if [[ -x $_venv_dir/bin/moto_server ]]; then
      _venv_bin=$(cd "$_venv_dir/bin" && pwd)
      export PATH="$_venv_bin:$PATH"
      break
    fi
  done
fi
unset _venv_root _venv_dir _venv_bin
