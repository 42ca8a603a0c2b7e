#!/usr/bin/env bash
# Install platform_lib from a source tree into a virtualenv and write `python=<venv python>` to
# $GITHUB_OUTPUT (or print it when run outside Actions).
#
#   PLATFORM_SOURCE        source tree (pyproject.toml + platform_lib/); default: two levels
#                          above this script's action directory
#   PLATFORM_BASE_PYTHON   interpreter for the venv (default python3, >= 3.11)
#   PLATFORM_REQUIREMENTS  the pinned dependencies, with hashes (default: requirements.lock
#                          beside this script, everything platform_lib needs; actions/deploy
#                          passes its own, only what `github notify` imports)
#
# The dependencies are installed exactly as pinned (`--require-hashes --no-deps
# --only-binary :all:`: no resolver, no unpinned package, no build step), then the package's
# own sources are copied into the venv's site-packages (nothing to build either).
#
# The venv lives in $RUNNER_TOOL_CACHE/platform-lib/<key>, key = interpreter + sha256 of the
# lock file and of the package's files, so on a persistent (self-hosted) runner every platform
# version is installed once and jobs after the first reuse it; on a fresh runner it is simply
# built (pip's own cache, ~/.cache/pip, keeps the wheels where it persists). A flock keeps
# concurrent jobs on one runner from building the same venv twice; a marker written last
# keeps a half-built venv from ever being used.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
source_dir=${PLATFORM_SOURCE:-$here/../..}
python=${PLATFORM_BASE_PYTHON:-python3}
requirements=${PLATFORM_REQUIREMENTS:-$here/requirements.lock}

fail() {
  echo "::error title=platform setup::$*"
  exit 1
}

[[ -d $source_dir ]] || fail "source directory $source_dir does not exist"
source_dir=$(cd "$source_dir" && pwd -P)
[[ -f $source_dir/pyproject.toml && -d $source_dir/platform_lib ]] ||
  fail "$source_dir is not the platform's source tree (no pyproject.toml and platform_lib/)"
[[ -f $requirements ]] || fail "no lock file $requirements"
command -v "$python" >/dev/null || fail "no $python on this runner: a python 3.11 or newer is needed"
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
  fail "$python is $("$python" -V 2>&1); platform_lib needs 3.11 or newer (on ubuntu-22.04, whose python3 is 3.10, run actions/setup-python first and pass its python-path as the python input)"

key=$(
  {
    "$python" -c 'import sys; print(sys.version); print(sys.executable)'
    sha256sum <"$requirements"
    cd "$source_dir"
    find platform_lib -type f ! -name '*.pyc' ! -path '*/__pycache__/*' -print0 |
      LC_ALL=C sort -z | xargs -0 sha256sum
  } | sha256sum | cut -c1-20
)
cache=${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}}/platform-lib
venv=$cache/$key
mkdir -p "$cache"

# A venv another user could have written is never reused: the platform's jobs run it with
# the deploy keys in reach. (Untrusted jobs run by the same user can plant anything: see
# actions/README.md, "Self-hosted runners".)
owned_by_me() {
  [[ -z $(find "$venv" \( ! -user "$(id -u)" -o \( ! -type l -perm /022 \) \) -print -quit) ]]
}

exec 9>"$cache/$key.lock"
flock --timeout 900 9 || fail "timed out waiting for another job installing into $venv"
if [[ -f $venv/.platform-installed ]] && ! owned_by_me; then
  echo "::warning title=platform setup::$venv is not this user's alone (owner or write bits): installing afresh"
  rm -rf "$venv" || fail "cannot remove $venv, which another user could have written"
fi
if [[ -f $venv/.platform-installed ]]; then
  echo "platform_lib: reusing $venv"
else
  echo "platform_lib: installing $source_dir into $venv ($(basename "$(dirname "$requirements")")/$(basename "$requirements"))"
  rm -rf "$venv"
  # The interpreter's own pip installs into the venv when it can (`--python`, pip 22.3+):
  # seeding the venv with a pip of its own would take longer than the install itself.
  if "$python" -m pip --version 2>/dev/null |
    awk '{split($2, v, "."); exit !(v[1] > 22 || (v[1] == 22 && v[2] >= 3))}'; then
    "$python" -m venv --without-pip "$venv"
    pip=("$python" -m pip --python "$venv/bin/python")
  else
    "$python" -m venv "$venv"
    pip=("$venv/bin/python" -m pip)
  fi
  "${pip[@]}" install --quiet --disable-pip-version-check --no-input \
    --require-hashes --no-deps --only-binary :all: -r "$requirements" ||
    fail "pip could not install the pinned dependencies of $requirements (see the log above)"
  site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
  (cd "$source_dir" && find platform_lib -type f ! -name '*.pyc' ! -path '*/__pycache__/*' -print0 |
    xargs -0 cp --parents -t "$site")
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
