# shellcheck shell=bash
# runtime/history.sh: history.jsonl: append-only events (models/records.py HistoryEvent).

# platform_history_append BASE [KEY VALUE]...: one history event (models/records.py
# HistoryEvent, version 1), stamped with the host's time, appended to BASE/history.jsonl;
# every event, whichever step writes it (a rollback's too), says whether the client of the
# plan's script had gone away by then.
platform_history_append() {
  local base=$1 event
  local -a gone=()
  shift
  [[ -n $base && -d $base ]] || return 0
  ! platform_client_gone || gone=('#client_disconnected' true)
  event=$(platform_json_object '#version' 1 at "$(platform_now)" "$@" "${gone[@]}") || return 1
  printf '%s\n' "$event" >>"$base/history.jsonl"
}

# platform_history_event OUTCOME STEP: how this plan's script went, with its reason.
platform_history_event() {
  local reason=''
  [[ -z $2 ]] || reason=${PLATFORM_REASON:-}
  platform_history_append "${PLATFORM_BASE:-}" event "${PLATFORM_KIND:-deploy}" outcome "$1" \
    actor "$PLATFORM_ACTOR" plan "$PLATFORM_PLAN_ID" release "$PLATFORM_RELEASE" step "$2" \
    reason "$reason" '?window_override' "${PLATFORM_WINDOW_OVERRIDE:-}"
}

platform_history() {  # BASE
  [[ -f $1/history.jsonl ]] && cat "$1/history.jsonl"
  return 0
}
