#!/usr/bin/env bash
# Install platform_lib from a source tree into a virtualenv and write `python=<venv python>` to
# $GITHUB_OUTPUT (or print it when run outside Actions).
#
#   PLATFORM_SOURCE       source tree (pyproject.toml + platform_lib/); default: two levels
#                         above this script's action directory
#   PLATFORM_BASE_PYTHON  interpreter for the venv (default python3, >= 3.11)
#
# The venv lives in $RUNNER_TOOL_CACHE/platform-lib/<key>, key = interpreter + sha256 of the
# package's files, so on a persistent (self-hosted) runner every platform version is installed
# once and jobs after the first reuse it; on a fresh runner it is simply built. A flock keeps
# concurrent jobs on one runner from building the same venv twice; a marker written last keeps
# a half-built venv from ever being used.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
source_dir=${PLATFORM_SOURCE:-$here/../..}
python=${PLATFORM_BASE_PYTHON:-python3}

fail() {
  echo "::error title=platform setup::$*"
  exit 1
}

[[ -d $source_dir ]] || fail "source directory $source_dir does not exist"
source_dir=$(cd "$source_dir" && pwd -P)
[[ -f $source_dir/pyproject.toml && -d $source_dir/platform_lib ]] ||
  fail "$source_dir is not the platform's source tree (no pyproject.toml and platform_lib/)"
command -v "$python" >/dev/null || fail "no $python on this runner: a python 3.11 or newer is needed"
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
  fail "$python is $("$python" -V 2>&1); platform_lib needs 3.11 or newer"

key=$(
  {
    "$python" -c 'import sys; print(sys.version); print(sys.executable)'
    cd "$source_dir"
    find pyproject.toml platform_lib -type f ! -name '*.pyc' ! -path '*/__pycache__/*' -print0 |
      LC_ALL=C sort -z | xargs -0 sha256sum
  } | sha256sum | cut -c1-20
)
cache=${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}}/platform-lib
venv=$cache/$key
mkdir -p "$cache"

exec 9>"$cache/$key.lock"
flock --timeout 900 9 || fail "timed out waiting for another job installing into $venv"
if [[ -f $venv/.platform-installed ]]; then
  echo "platform_lib: reusing $venv"
else
  echo "platform_lib: installing $source_dir into $venv"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$source_dir" ||
    fail "pip could not install platform_lib from $source_dir (see the log above)"
  touch "$venv/.platform-installed"
fi
exec 9>&-

"$venv/bin/python" -m platform_lib --version >/dev/null ||
  fail "the installed platform_lib does not run: $venv/bin/python -m platform_lib --version"
if [[ -n ${GITHUB_OUTPUT:-} ]]; then
  echo "python=$venv/bin/python" >>"$GITHUB_OUTPUT"
else
  echo "python=$venv/bin/python"
fi
