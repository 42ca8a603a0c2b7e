# shellcheck shell=bash
# runtime/core.sh: the host's clock, logging, and the lookups every noun shares.

# Only bash (5 or newer), coreutils and the docker CLI are assumed on the host. Every value
# reaches these functions as a separate, already-quoted argument; nothing here builds a command
# from a string.
# Steps run as `fn || rc=$?`, where bash ignores `set -e`: each function checks its own
# commands and returns non-zero on the first failure.

# bash's own clock (printf %()T, $EPOCHSECONDS): no process per timestamp.
platform_now() { TZ=UTC printf '%(%Y-%m-%dT%H:%M:%SZ)T' -1; }

platform_epoch() { printf '%s' "$EPOCHSECONDS"; }

platform_millis() { local t=${EPOCHREALTIME/[.,]/}; printf '%s' "${t:0:-3}"; }

platform_seconds_since() {  # MILLIS: "1.234" seconds since then
  local ms=$(($(platform_millis) - $1))
  printf '%d.%03d' "$((ms / 1000))" "$((ms % 1000))"
}

# A line of progress for people, on stderr (a plan's script relays it: runtime progress); a
# client that went away does not make it fail.
platform_log() { TZ=UTC printf '%(%Y-%m-%dT%H:%M:%SZ)T %s\n' -1 "$*" >&2 || :; }

# platform_die MESSAGE: log it, and keep it as the reason of the step that fails (when the
# step function called it in the script's own shell, not in a subshell).
platform_die() {
  PLATFORM_REASON="$*"
  platform_log "error: $*"
  return 1
}

platform_current() {  # BASE: the release `current` points at, or nothing
  [[ -L $1/current ]] || return 0
  local target
  target=$(readlink "$1/current") && printf '%s' "${target##*/}"
}

platform_container_of() {  # COMPOSE_PROJECT SERVICE: one of its running containers
  platform_running "$1" "$2" | head -n 1
}

platform_running() {  # PROJECT SERVICE: ids of its running containers
  docker ps --quiet --no-trunc --filter "label=com.docker.compose.project=$1" \
    --filter "label=com.docker.compose.service=$2" --filter status=running
}

platform_address_of() {  # CONTAINER: its IP address on its first network
  local ips
  ips=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$1") || return 1
  printf '%s' "${ips%% *}"
}

# platform_releases BASE: the release ids under BASE/releases, newest first (release ids start
# with their UTC time: name order is age order).
platform_releases() {
  local -a dirs=("$1"/releases/*/)
  local i dir
  for ((i = ${#dirs[@]} - 1; i >= 0; i--)); do
    dir=${dirs[i]%/}
    [[ -d $dir ]] && printf '%s\n' "${dir##*/}"
  done
  return 0
}
