# shellcheck shell=bash
# runtime/outcome.sh: the outcome record a plan's script ends with, and its exit status.

# platform_cleanup: what no script leaves behind, however it ends: the private docker config
# of its registry login, the lock it holds.
platform_cleanup() {
  [[ -n ${PLATFORM_DOCKER_CONFIG:-} ]] && rm -rf "$PLATFORM_DOCKER_CONFIG"
  PLATFORM_DOCKER_CONFIG=
  [[ -n ${PLATFORM_LOCK_HELD:-} ]] && platform_lock_release "$PLATFORM_LOCK_HELD"
  return 0
}

# The script's last line of stdout is PLATFORM_OUTCOME_MARKER and one JSON object (the model:
# platform_lib/models/outcome.py), and its exit status says the same:
#   deployed 0 | rollback-failed 3 | aborted 4 (nothing changed) | rolled-back 5
PLATFORM_OUTCOME_MARKER='PLATFORM-OUTCOME '

platform_outcome_code() {  # OUTCOME: the exit status of a script with that outcome
  case $1 in
    deployed) printf 0 ;;
    rollback-failed) printf 3 ;;
    aborted) printf 4 ;;
    rolled-back) printf 5 ;;
    *) printf 3 ;;
  esac
}

platform_outcome() {  # OUTCOME: the script ends with it (the EXIT trap sends the record)
  PLATFORM_OUTCOME=$1
  exit "$(platform_outcome_code "$1")"
}

platform_outcome_record() {  # OUTCOME: the record line, on stdout
  local current record
  current=$(platform_current "$PLATFORM_BASE")
  record=$(platform_json_object '#version' 1 kind "$PLATFORM_KIND" outcome "$1" \
    plan "$PLATFORM_PLAN_ID" release "$PLATFORM_RELEASE" \
    '?previous_release' "${PLATFORM_PREVIOUS-$current}" '?current_release' "$current" \
    '?step' "${PLATFORM_FAILED_STEP:-}" '?reason' "${PLATFORM_FAILED_REASON:-}" \
    '?rollback_step' "${PLATFORM_ROLLBACK_STEP:-}" \
    '?rollback_reason' "${PLATFORM_ROLLBACK_REASON:-}" \
    '#client_disconnected' "$(platform_client_gone && echo true || echo false)") || return 1
  printf '%s%s\n' "$PLATFORM_OUTCOME_MARKER" "$record"
}

# platform_on_exit: the EXIT trap of a plan's script. A script that stopped without an outcome
# (a signal, a command outside any step) did nothing more after the switch started, or else
# left the host as it was: it reports rollback-failed (attention needed), or aborted.
platform_on_exit() {
  local rc=$? outcome=${PLATFORM_OUTCOME:-}
  if [[ -z $outcome ]]; then
    outcome=aborted
    [[ -n ${PLATFORM_SWITCHED:-} ]] && outcome=rollback-failed
    PLATFORM_FAILED_STEP=${PLATFORM_FAILED_STEP:-${PLATFORM_STEP_ID:-}}
    PLATFORM_FAILED_REASON=${PLATFORM_FAILED_REASON:-the script stopped unexpectedly (exit $rc)}
    platform_history_event "$outcome" "$PLATFORM_FAILED_STEP" || true
  fi
  # A release this deploy staged and did not complete goes, whichever way the deploy failed
  # (aborted before the switch, rolled back, or a rollback that failed too), under the lock.
  if [[ $outcome != deployed && -n ${PLATFORM_STAGED:-} ]]; then
    platform_discard_release "$PLATFORM_BASE" "$PLATFORM_STAGED" || true
  fi
  platform_cleanup
  platform_progress_end
  platform_outcome_record "$outcome" || true
  exit "$(platform_outcome_code "$outcome")"
}
