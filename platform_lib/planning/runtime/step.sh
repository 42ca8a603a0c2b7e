# shellcheck shell=bash
# runtime/step.sh: running a plan's step: its timeout, its log, and what its failure does.

# platform_step ID TITLE TIMEOUT ON_FAILURE -- ARGV...: one step of a plan. What a step writes
# on stdout is progress for people, as stderr is: the script's stdout carries one thing, its
# outcome record (platform_outcome_record).
platform_step() {
  local id=$1 title=$2 timeout=$3 on_failure=$4 started rc=0
  shift 5
  PLATFORM_STEP_NO=$((PLATFORM_STEP_NO + 1))
  PLATFORM_STEP_ID=$id PLATFORM_REASON='' PLATFORM_REPORTED=''
  # From the first step that rolls back on failure on, the host runs something else.
  [[ $on_failure == rollback ]] && PLATFORM_SWITCHED=1
  platform_log "[${PLATFORM_STEP_LABEL:-}$PLATFORM_STEP_NO/$PLATFORM_STEP_COUNT] $title"
  started=$(platform_millis)
  if [[ $(type -t "$1") == function ]]; then
    PLATFORM_STEP_TIMEOUT=$timeout "$@" >&2 || rc=$?
  else
    timeout --kill-after=10 "$timeout" "$@" >&2 || rc=$?
  fi
  local took
  took=$(platform_seconds_since "$started")
  PLATFORM_STEP_ID=
  if ((rc == 0)); then
    platform_log "    ok: $id (${took}s)"
    return 0
  fi
  if ((rc == 124)); then
    platform_log "    timed out after ${timeout}s: $id"
    PLATFORM_REASON=${PLATFORM_REASON:-timed out after ${timeout}s}
  fi
  PLATFORM_REASON=${PLATFORM_REASON:-exit $rc}
  case $on_failure in
    warn)
      platform_log "    warning: $id failed (exit $rc, ${took}s); continuing"
      return 0 ;;
    rollback)
      platform_log "    failed: $id (exit $rc, ${took}s); rolling back"
      PLATFORM_FAILED_STEP=$id PLATFORM_FAILED_REASON=$PLATFORM_REASON
      # the switch reports the containers it gave up on itself; once is enough
      [[ -n ${PLATFORM_REPORTED:-} ]] || platform_failure_report "$PLATFORM_COMPOSE_PROJECT"
      platform_history_event failed "$id"
      PLATFORM_IN_ROLLBACK=1
      platform_rollback_plan
      platform_outcome rolled-back ;;
    *)
      if [[ -n ${PLATFORM_IN_ROLLBACK:-} ]]; then
        platform_log "    ROLLBACK FAILED at $id (exit $rc): the host needs attention"
        PLATFORM_ROLLBACK_STEP=$id PLATFORM_ROLLBACK_REASON=$PLATFORM_REASON
        platform_history_event rollback-failed "$id"
        platform_outcome rollback-failed
      fi
      platform_log "    failed: $id (exit $rc, ${took}s); nothing was switched"
      PLATFORM_FAILED_STEP=$id PLATFORM_FAILED_REASON=$PLATFORM_REASON
      platform_history_event aborted "$id"
      platform_outcome aborted ;;
  esac
}

# platform_failure_report COMPOSE_PROJECT: the last log lines of the tenant's containers that
# are not well: exited, restarting, unhealthy or still starting their healthcheck. A running
# container without a healthcheck (a worker) is well: it is not listed.
platform_failure_report() {
  local line id name status
  PLATFORM_REPORTED=1
  while read -r line; do
    id=${line%% *} line=${line#* } name=${line%% *} status=${line#* }
    case $status in
      *"(healthy)"*) continue ;;
      Up*"(unhealthy)"* | Up*"(health: starting)"*) ;;
      Up*) continue ;;
    esac
    platform_log "    $name: $status; its last log lines:"
    docker logs --tail 20 "$id" 2>&1 | sed 's/^/      | /' >&2
  done < <(docker ps --all --filter "label=com.docker.compose.project=$1" \
    --format '{{.ID}} {{.Names}} {{.Status}}')
  return 0
}
