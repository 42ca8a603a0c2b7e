# shellcheck shell=bash
# runtime/progress.sh: a plan's progress, kept on the host and sent to the client while it
# listens.

# A plan's script does not depend on its client: a cancelled CI job kills its ssh, and the
# script must still reach a safe end (it finishes, or rolls back a failed switch). So it
# ignores SIGHUP and SIGPIPE (and so do the commands it runs), and its stderr, where every line
# of progress goes, is a relay: each line is appended to BASE/logs/<release>.<kind>.log, and
# written to the client's stderr until a write there fails; from then on the log alone gets
# them, and BASE/logs/<release>.<kind>.log.client-gone says the client went away.

# platform_progress_start: the first thing a plan's script does (before its EXIT trap).
platform_progress_start() {
  trap '' HUP PIPE
  local logs=${PLATFORM_BASE:?}/logs
  mkdir -p "$logs" || return 1
  PLATFORM_PROGRESS_LOG=$logs/$PLATFORM_RELEASE.$PLATFORM_KIND.log
  rm -f "$PLATFORM_PROGRESS_LOG.client-gone"
  exec 3>&2 2> >(platform_relay "$PLATFORM_PROGRESS_LOG")
  PLATFORM_RELAY_PID=$!
}

# platform_relay LOG: lines on stdin to LOG, and to the client (fd 3) while it listens.
platform_relay() {
  local log=$1 line gone=''
  while IFS= read -r line || [[ -n $line ]]; do
    printf '%s\n' "$line" >>"$log" 2>/dev/null || true
    [[ -z $gone ]] || continue
    if ! printf '%s\n' "$line" >&3 2>/dev/null; then
      gone=1
      : >"$log.client-gone" 2>/dev/null || true
    fi
  done
  return 0
}

# platform_client_gone: a write of progress to the client has failed (as far as the relay has
# got: it is a line or so behind the script).
platform_client_gone() {
  [[ -n ${PLATFORM_PROGRESS_LOG:-} && -e $PLATFORM_PROGRESS_LOG.client-gone ]]
}

# platform_progress_end: the script's progress is all through (the relay has written every
# line); stderr is the client's again.
platform_progress_end() {
  [[ -n ${PLATFORM_RELAY_PID:-} ]] || return 0
  exec 2>&3 3>&-
  wait "$PLATFORM_RELAY_PID" 2>/dev/null || true
  PLATFORM_RELAY_PID=
}

# platform_prune_logs BASE: the logs of releases older than every release still on the host go.
platform_prune_logs() {
  local base=$1 oldest file id
  oldest=$(platform_releases "$base" | tail -n 1)
  [[ -n $oldest ]] || return 0
  for file in "$base"/logs/*.log "$base"/logs/*.log.client-gone; do
    [[ -f $file ]] || continue
    id=${file##*/} id=${id%%.*}
    [[ $id < $oldest ]] && rm -f "$file"
  done
  return 0
}
