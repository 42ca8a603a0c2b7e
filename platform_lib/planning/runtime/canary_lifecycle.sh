# shellcheck shell=bash
# runtime/canary_lifecycle.sh: a canary rollout behind the proxy (planning/rollout.py plans its
# steps): its start, steps, full switch, warm period, and the way back. Its weights, judging
# and people's requests are canary_weights.sh, canary_judging.sh and canary_requests.sh.
#
# BASE/rollout/ holds the rollout in progress, per canary service SVC: SVC.old and SVC.new (the
# old and the new release's container ids), SVC.weight (percent to the new release),
# SVC.direct (nothing to compare: a first release, or the config unchanged), SVC.paused (the
# old containers wait out of traffic, paused, after the full switch); status.json (what
# `status` shows), decisions.jsonl (models/records.py CanaryDecision, one per judged period),
# request (`promote` or `abort`, written by `rollout promote|abort` or `rollback`), wake (a
# FIFO the running step waits on: whoever writes a request writes a line to it, and the step
# acts at once) and back (every request is back on the old release). The deploy lock holds
# throughout.

# platform_canary_start BASE RELEASE PROJECT UP_TIMEOUT PROXY(4) SERVICES -- COMPOSE_ARGV...:
# the new containers of each canary service (comma-separated) start beside the running ones,
# out of traffic; the release's sites (with the access log) go in with the old containers
# only in the upstreams.
platform_canary_start() {
  local base=$1 release=$2 project=$3 up=$4 pdir=$5 conf=$6 pid=$7 drain=$8 services=$9
  shift 10
  local -a compose=("$@") old_ids=() new_ids=() skip=()
  local dir=$base/releases/$release state=$base/rollout svc hash want id label n
  # a rollout left unfinished was undone by the lock step (platform_lock_acquire)
  rm -rf "$state" && mkdir -p "$state" && mkfifo "$state/wake" || return 1
  for svc in ${services//,/ }; do
    want=$(awk -F'\t' -v s="$svc" '$2 == s { print $4; exit }' "$dir/nginx.tsv")
    # any failure from here on takes out what earlier services started (their SVC.new)
    hash=$(cd "$dir" && "${compose[@]}" config --hash "$svc") ||
      { platform_canary_abandon "$base"; return 1; }
    hash=${hash#* }
    mapfile -t old_ids < <(platform_running "$project" "$svc")
    local outdated=0
    for id in "${old_ids[@]}"; do
      label=$(docker inspect -f '{{index .Config.Labels "com.docker.compose.config-hash"}}' "$id") ||
        { platform_canary_abandon "$base"; return 1; }
      [[ $label == "$hash" ]] || outdated=1
    done
    if ((${#old_ids[@]} == 0 || outdated == 0)); then
      platform_log "    $svc: $( ((${#old_ids[@]})) && echo 'config unchanged' || echo 'first release'): no canary"
      : >"$state/$svc.direct"
      continue
    fi
    n=${#old_ids[@]}
    platform_log "    $svc: $n running, ${want:-1} starting beside them out of traffic"
    if ! platform_up "$dir" "$up" compose --no-deps --no-recreate --scale "$svc=$((n + ${want:-1}))" \
      "$svc"; then
      platform_canary_remove "$project" "$svc" "${old_ids[@]}"
      platform_canary_abandon "$base"
      platform_die "the new containers of $svc did not start"
      return 1
    fi
    mapfile -t new_ids < <(platform_new_containers "$project" "$svc" "$(printf '%s\n' "${old_ids[@]}")")
    if ! platform_wait_healthy "$up" "${new_ids[@]}"; then
      platform_failure_report "$project"
      platform_canary_remove "$project" "$svc" "${old_ids[@]}"
      platform_canary_abandon "$base"
      return 1
    fi
    printf '%s\n' "${old_ids[@]}" >"$state/$svc.old"
    printf '%s\n' "${new_ids[@]}" >"$state/$svc.new"
    printf '0\n' >"$state/$svc.weight"
    skip+=("${new_ids[@]}")
  done
  platform_canary_status "$base" "$release" started 0 ''
  platform_proxy_install "$dir" "$project" "$pdir" "$conf" "$pid" "$drain" "${skip[@]}" ||
    { platform_canary_abandon "$base"; return 1; }
}

# platform_canary_leftover BASE: what a rollout left in BASE/rollout is: `starting` (killed
# before its status.json), `finished RELEASE` (killed once RELEASE was recorded: it is
# current), `unfinished RELEASE` (RELEASE empty when status.json names none); nothing, and
# status 1, without one. platform_canary_recover acts on it, `proxy refresh` reports it.
platform_canary_leftover() {
  local base=$1 current release=''
  local re='"release"[[:space:]]*:[[:space:]]*"([^"/]+)"'
  [[ -d $base/rollout ]] || return 1
  if [[ ! -f $base/rollout/status.json ]]; then
    printf 'starting\n'
    return 0
  fi
  current=$(platform_current "$base")
  [[ $(<"$base/rollout/status.json") =~ $re ]] && release=${BASH_REMATCH[1]}
  if [[ -n $current && $release == "$current" ]]; then
    printf 'finished %s\n' "$release"
  else
    printf 'unfinished %s\n' "$release"
  fi
}

# platform_canary_recover BASE PROJECT PROXY(4): a rollout its deploy left unfinished (the
# script was killed; this deploy holds the lock now): every request back on the current
# release's containers (unpaused), in one reload, and the unfinished release's removed. Killed
# while its new containers started (before status.json), nginx never named them: they go.
# Killed once its release was recorded (current is the rollout's: in the retire), the rollout
# is over but for its warm containers: they stop. Killed at any point, and run again after a
# kill of its own, it ends the same: no rollout, no paused container, one release served.
platform_canary_recover() {
  local base=$1 project=$2 current kind release
  shift 2
  read -r kind release < <(platform_canary_leftover "$base") || return 0
  case $kind in
    starting)
      platform_log "    a rollout was left while starting: its new containers are removed"
      platform_canary_abandon "$base"
      return 0 ;;
    finished)
      platform_log "    a rollout of release $release was left as it finished: its warm" \
        "containers stop"
      platform_canary_retire "$base"
      return ;;
  esac
  current=$(platform_current "$base")
  platform_log "    a rollout was left unfinished: back on release ${current:-none} first"
  if [[ -z $current || -z $1 || ! -f $base/releases/$current/nginx.tsv ]]; then
    # No routes to put back (or no proxy any more): its old containers serve as they run.
    platform_canary_unpause "$base/rollout"
    platform_canary_abandon "$base"
    return 0
  fi
  rm -f "$base/rollout/back"  # its requests go back on the current release's routes
  platform_canary_back "$base" "$current" "$project" "$@"
}

# platform_canary_unpause STATE [SERVICE]: the old containers of the service (every canary
# service) that are paused, unpaused; those no longer there, or running, are left as they are
# (a retire killed after it unpaused them; a recovery run again). Its .paused goes.
platform_canary_unpause() {
  local state=$1 f id paused
  local -a files=("$state"/*.paused)
  [[ -z ${2:-} ]] || files=("$state/$2.paused")
  for f in "${files[@]}"; do
    [[ -e $f ]] || continue
    while read -r id; do
      [[ -n $id ]] || continue
      paused=$(docker inspect -f '{{.State.Paused}}' "$id" 2>/dev/null) || continue
      [[ $paused != true ]] || docker unpause "$id" >/dev/null || return 1
    done <"${f%.paused}.old"
    rm -f "$f"
  done
}

# platform_canary_remove PROJECT SERVICE KEEP_ID...: the service's containers but those.
platform_canary_remove() {
  local project=$1 svc=$2 id
  shift 2
  for id in $(docker ps --all --quiet --no-trunc --filter "label=com.docker.compose.project=$project" \
    --filter "label=com.docker.compose.service=$svc"); do
    [[ " $* " == *" $id "* ]] || docker rm -f "$id" >/dev/null || true
  done
  return 0
}

# platform_canary_status BASE RELEASE PHASE WEIGHT FIGURES_JSON: rollout/status.json, what
# `status` shows of the rollout in progress; renamed into place, so that a reader (`status`,
# `rollout promote`, `proxy refresh`) never finds it half written.
platform_canary_status() {
  platform_json_object '#version' 1 release "$2" phase "$3" '#weight' "$4" \
    '#figures' "${5:-null}" since "$(platform_now)" >"$1/rollout/status.json.tmp" &&
    mv -f "$1/rollout/status.json.tmp" "$1/rollout/status.json" || true
}

# platform_canary_bake BASE SECONDS LOG OLD NEW OFFSET [THRESHOLDS(4)]: wait out a judged
# period, or until a person asks (prints `promote` or `abort`: the wait wakes on the request's
# line in the wake FIFO), or, with the thresholds (MAX_ERROR MAX_P99_MS MAX_P99_RATIO
# MIN_REQUESTS), until the figures so far already fail (prints `fail`).
platform_canary_bake() {
  local base=$1 seconds=$2 log=$3 old=$4 new=$5 offset=$6 deadline request figures verdict
  local round=0 wake=''
  [[ -p $base/rollout/wake ]] && exec {wake}<>"$base/rollout/wake"
  deadline=$(($(platform_millis) + seconds * 1000))
  while (($(platform_millis) < deadline)); do
    request=$(platform_canary_request "$base")
    [[ -z $request ]] || break
    # The figures so far, every second (the log is read again from the period's start).
    if (($# > 6 && round++ % 5 == 4)); then
      figures=$(platform_canary_tally "$log" "$offset" "$old" "$new")
      # shellcheck disable=SC2086 # six numbers
      verdict=$(platform_canary_judge "${@:7}" $figures)
      [[ ${verdict%%$'\t'*} == fail ]] && { printf 'fail'; return 0; }
    fi
    if [[ -n $wake ]]; then read -r -t 0.2 -u "$wake" _ || true; else sleep 0.2; fi
  done
  # A request that came with the deadline counts too.
  platform_canary_request "$base"
}

# platform_canary_period BASE RELEASE PROJECT SVC PHASE WEIGHT SECONDS MESSAGE LOG LIMITS(4)
# PROXY(4): one judged period of SVC (rollout/status.json says PHASE, WEIGHT percent to the
# new release; MESSAGE logged): SECONDS or until a person's request, then the figures since
# it began and their verdict, in PLATFORM_CANARY_{REQUEST,DECIDED,FIGURES,VERDICT,REASON}. A
# person's abort needs no figures: its requests go back first, then it is recorded.
platform_canary_period() {
  local base=$1 release=$2 project=$3 svc=$4 phase=$5 weight=$6 seconds=$7 message=$8 log=$9
  local -a limits=("${10}" "${11}" "${12}" "${13}") nginx=("${14}" "${15}" "${16}" "${17}")
  local state=$base/rollout old new offset verdict
  old=$(platform_canary_addresses "$state/$svc.old" | tr '\n' ' ')
  new=$(platform_canary_addresses "$state/$svc.new" | tr '\n' ' ')
  offset=$(platform_canary_offset "$log")
  platform_canary_status "$base" "$release" "$phase" "$weight" ''
  platform_log "    $message"
  PLATFORM_CANARY_REQUEST=$(platform_canary_bake "$base" "$seconds" "$log" "$old" "$new" \
    "$offset" "${limits[@]}")
  PLATFORM_CANARY_DECIDED=$(platform_millis)
  if [[ $PLATFORM_CANARY_REQUEST == abort ]]; then
    platform_canary_restore "$base" "$release" "$project" "${nginx[@]}" || return 1
  fi
  PLATFORM_CANARY_FIGURES=$(platform_canary_tally "$log" "$offset" "$old" "$new")
  # shellcheck disable=SC2086 # six numbers
  verdict=$(platform_canary_judge "${limits[@]}" $PLATFORM_CANARY_FIGURES)
  PLATFORM_CANARY_REASON=${verdict#*$'\t'} PLATFORM_CANARY_VERDICT=${verdict%%$'\t'*}
}

# platform_canary_step BASE RELEASE PROJECT SVC N WEIGHT BAKE MAX_ERROR MAX_P99_MS MAX_P99_RATIO
# MIN_REQUESTS LOG PROXY(4): WEIGHT percent of SVC's requests to the new release for BAKE
# seconds, then the figures since decide: pass, or all of its requests back on the old
# release in one reload and its new containers removed (the step fails: the plan rolls back).
platform_canary_step() {
  local base=$1 release=$2 project=$3 svc=$4 n=$5 weight=$6 bake=$7
  local -a limits=("$8" "$9" "${10}" "${11}") nginx=("${13}" "${14}" "${15}" "${16}")
  local log=${12} state=$base/rollout request decided verdict reason figures
  if [[ -f $state/$svc.direct ]]; then
    platform_log "    $svc: nothing to compare (first release or unchanged): no canary"
    return 0
  fi
  request=$(platform_canary_request "$base")
  if [[ $request == promote ]]; then
    platform_log "    $svc: promoted by a person: step $n skipped"
    return 0
  fi
  printf '%s\n' "$weight" >"$state/$svc.weight"
  platform_canary_upstreams "$base" "$release" "$project" "${nginx[@]}" || return 1
  platform_canary_period "$base" "$release" "$project" "$svc" "canary $svc step $n" "$weight" \
    "$bake" "$svc: $weight% to the new release for ${bake}s" "$log" "${limits[@]}" \
    "${nginx[@]}" || return 1
  request=$PLATFORM_CANARY_REQUEST decided=$PLATFORM_CANARY_DECIDED
  figures=$PLATFORM_CANARY_FIGURES
  verdict=$PLATFORM_CANARY_VERDICT reason=$PLATFORM_CANARY_REASON
  case $request in
    promote) verdict=promoted reason="promoted by a person during step $n" ;;
    abort) verdict=fail reason="aborted by a person during step $n" ;;
  esac
  # shellcheck disable=SC2086 # six numbers
  platform_canary_decide "$base" "$release" "$svc" "$n" "$weight" "$verdict" "$reason" \
    "$decided" $figures
  platform_log "    $svc step $n: $verdict ${reason:+($reason)} [old/new: $figures]"
  case $verdict in pass | promoted) return 0 ;; esac
  platform_canary_back "$base" "$release" "$project" "${nginx[@]}" || return 1
  platform_die "canary $svc step $n ($weight%): $reason"
  return 1
}

# platform_canary_back BASE RELEASE PROJECT PROXY(4): every request of every canary service
# back on its old containers (platform_canary_restore, unless done already); once nginx's old
# workers are done, the new containers go and the rollout is over.
platform_canary_back() {
  if [[ ! -f $1/rollout/back ]]; then
    platform_canary_restore "$@" || return 1
  fi
  platform_canary_abandon "$1"
}

# platform_canary_restore BASE RELEASE PROJECT PROXY(4): every request of every canary
# service back on its old containers (unpaused if they waited) in one reload; rollout/back
# says it is done.
platform_canary_restore() {
  local base=$1 release=$2 project=$3 state=$1/rollout f svc started
  shift 3
  started=$(platform_millis)
  for f in "$state"/*.new; do
    [[ -e $f ]] || continue
    svc=$(basename "$f" .new)
    platform_canary_unpause "$state" "$svc" || return 1
    printf '0\n' >"$state/$svc.weight"
  done
  platform_canary_upstreams "$base" "$release" "$project" "$@" || return 1
  : >"$state/back"
  platform_log "    every request back on the previous release ($(platform_seconds_since "$started")s)"
}

# platform_canary_abandon BASE PROJECT: a rollout that failed before any request reached its
# new containers: they go (nginx never named them).
platform_canary_abandon() {
  local state=$1/rollout f id
  for f in "$state"/*.new; do
    [[ -e $f ]] || continue
    while read -r id; do
      [[ -n $id ]] && { docker rm -f "$id" >/dev/null || true; }
    done <"$f"
  done
  rm -rf "$state"
}

# platform_canary_full BASE RELEASE PROJECT SVC PROXY(4): every request of SVC to the new
# release; the old containers pause, out of traffic (the switch that follows then finds the
# new ones running and keeps them), until the warm period is over.
platform_canary_full() {
  local base=$1 release=$2 project=$3 svc=$4 state=$1/rollout
  shift 4
  [[ -f $state/$svc.direct ]] && return 0
  printf '100\n' >"$state/$svc.weight"
  platform_canary_upstreams "$base" "$release" "$project" "$@" || return 1
  # shellcheck disable=SC2046 # container ids
  docker pause $(<"$state/$svc.old") >/dev/null || return 1
  : >"$state/$svc.paused"
  rm -f "$state/$svc.weight"  # from now on the switch writes the upstreams: the new ones only
  platform_canary_status "$base" "$release" "switched $svc" 100 ''
}

# platform_canary_warm BASE RELEASE PROJECT SVC SECONDS MAX_ERROR MAX_P99_MS MAX_P99_RATIO
# MIN_REQUESTS LOG PROXY(4): the previous release waits warm for SECONDS while the new one
# serves everything and is judged; on a failure (or a person's abort, or `rollback`) every
# request goes back to the warm containers in one reload.
platform_canary_warm() {
  local base=$1 release=$2 project=$3 svc=$4 seconds=$5
  local -a limits=("$6" "$7" "$8" "$9") nginx=("${11}" "${12}" "${13}" "${14}")
  local log=${10} state=$base/rollout request decided verdict reason figures
  [[ -f $state/$svc.paused ]] || return 0
  # A person's abort here is also what `rollback` asks for.
  platform_canary_period "$base" "$release" "$project" "$svc" "warm $svc" 100 "$seconds" \
    "$svc: the previous release waits warm for ${seconds}s" "$log" "${limits[@]}" \
    "${nginx[@]}" || return 1
  request=$PLATFORM_CANARY_REQUEST decided=$PLATFORM_CANARY_DECIDED
  figures=$PLATFORM_CANARY_FIGURES
  verdict=$PLATFORM_CANARY_VERDICT reason=$PLATFORM_CANARY_REASON
  # Too few requests to judge after the switch: nothing went wrong that could be seen.
  [[ $verdict == not-enough-requests ]] && verdict=pass reason="not judged: $reason"
  case $request in
    promote) verdict=promoted reason="promoted by a person during the warm period" ;;
    abort) verdict=fail reason="rolled back by a person during the warm period" ;;
  esac
  # shellcheck disable=SC2086 # six numbers
  platform_canary_decide "$base" "$release" "$svc" warm 100 "$verdict" "$reason" "$decided" \
    $figures
  platform_log "    $svc warm period: $verdict ${reason:+($reason)} [old/new: $figures]"
  case $verdict in pass | promoted) return 0 ;; esac
  platform_canary_back "$base" "$release" "$project" "${nginx[@]}" || return 1
  platform_die "$svc after the switch: $reason"
  return 1
}

# platform_canary_retire BASE PROJECT: the warm containers stop; the rollout is over. Those
# already gone (a retire killed midway, run again by the next deploy) are passed over.
platform_canary_retire() {
  local base=$1 state=$1/rollout f svc id
  for f in "$state"/*.old; do
    [[ -e $f ]] || continue
    svc=$(basename "$f" .old)
    platform_log "    stopping the previous release's $svc containers"
    platform_canary_unpause "$state" "$svc" || return 1
    while read -r id; do
      [[ -n $id ]] || continue
      docker inspect -f '{{.Id}}' "$id" >/dev/null 2>&1 || continue
      docker stop "$id" >/dev/null && docker rm "$id" >/dev/null || return 1
    done <"$f"
    rm -f "$f"
  done
  rm -rf "$state"
}
