# shellcheck shell=bash
# runtime/canary_requests.sh: a person's request to the rollout in progress (`rollout
# promote|abort`, `rollback`), and how the running step is woken by it.

# platform_canary_request BASE: a person's request to the rollout, if any (promote, abort).
platform_canary_request() {
  local request=''
  [[ -r $1/rollout/request ]] && request=$(<"$1/rollout/request")
  case $request in promote | abort) printf '%s' "$request" ;; esac
  return 0
}

# platform_canary_ask BASE ACTION: a person's `promote` or `abort` for the rollout in
# progress (`rollout promote|abort`, and `rollback` during a warm period).
platform_canary_ask() {
  local base=$1 action=$2
  if [[ ! -f $base/rollout/status.json ]]; then
    platform_die "no rollout is in progress"
    return 1
  fi
  printf '%s\n' "$action" >"$base/rollout/request.new" &&
    mv -f "$base/rollout/request.new" "$base/rollout/request" || return 1
  # Wakes the running step (opened read-write: never blocks, whether it waits or not).
  [[ ! -p $base/rollout/wake ]] || printf '%s\n' "$action" 1<>"$base/rollout/wake" || true
  platform_log "    asked the rollout to $action"
}

# platform_canary_rollback BASE: `rollback` (to the previous release) in one round trip: when
# the previous release waits warm (its containers paused, out of traffic, after the switch),
# the deploy in that warm period is asked to go back to it, as `rollout abort` asks. Either way
# the answer is {"asked": BOOL, "state": the host's state (platform_facts)} (models/host_state.py
# RollbackFacts).
platform_canary_rollback() {
  local base=$1 asked=false f state
  for f in "$base"/rollout/*.paused; do
    [[ -e $f && -f $base/rollout/status.json ]] || continue
    platform_canary_ask "$base" abort && asked=true
    break
  done
  state=$(platform_facts "$base") || return 1
  platform_json_object '#version' 1 '#asked' "$asked" '#state' "$state" || return 1
  printf '\n'
}
