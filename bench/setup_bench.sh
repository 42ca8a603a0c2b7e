#!/usr/bin/env bash
# How long the actions' install step takes (actions/setup/install.sh), median of ROUNDS runs:
#
#   bash bench/setup_bench.sh [ROUNDS]
#
# - cold: a fresh tool cache and no pip cache (PIP_NO_CACHE_DIR=1), as on a fresh hosted
#   runner: the venv is made and every pinned wheel downloaded;
# - pip cache: a fresh tool cache, pip's cache filled by a run before (wheels not downloaded);
# - reused: the tool cache holds the venv (a persistent runner, or a restored cache).
# Each for the app side (actions/deploy's lock) and the platform side (actions/setup's).
# Where pip gets its wheels from (an index, a mirror) weighs on the cold figure.
set -euo pipefail
rounds=${1:-3}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

seconds() { # command... -> wall seconds
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null 2>&1
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

for side in deploy setup; do
  lock=$here/actions/$side/requirements.lock
  run() { PLATFORM_REQUIREMENTS=$lock RUNNER_TOOL_CACHE=$1 bash "$here/actions/setup/install.sh"; }
  for i in $(seq "$rounds"); do
    PIP_NO_CACHE_DIR=1 seconds run "$work/cold-$side-$i" >>"$work/$side-cold"
    PIP_CACHE_DIR=$work/pip-$side seconds run "$work/fill-$side-$i" >/dev/null
    PIP_CACHE_DIR=$work/pip-$side seconds run "$work/warm-$side-$i" >>"$work/$side-pip"
    seconds run "$work/warm-$side-$i" >>"$work/$side-reused"
  done
  printf '%-7s cold %6.2f s   pip cache %6.2f s   reused %6.2f s\n' "$side" \
    "$(median <"$work/$side-cold")" "$(median <"$work/$side-pip")" "$(median <"$work/$side-reused")"
done
