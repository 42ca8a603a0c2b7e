# shellcheck shell=bash
# runtime/canary.sh: a canary rollout behind the proxy (planning/rollout.py plans its steps).
#
# BASE/rollout/ holds the rollout in progress, per canary service SVC: SVC.old and SVC.new (the
# old and the new release's container ids), SVC.weight (percent to the new release),
# SVC.direct (nothing to compare: a first release, or the config unchanged), SVC.paused (the
# old containers wait out of traffic, paused, after the full switch); status.json (what
# `status` shows), decisions.jsonl (models/records.py CanaryDecision, one per judged period)
# request (`promote` or `abort`, written by `rollout promote|abort` or `rollback`) and wake (a
# FIFO the running step waits on: whoever writes a request writes a line to it, and the step
# acts at once). The deploy lock holds throughout.

# platform_canary_start BASE RELEASE PROJECT UP_TIMEOUT PROXY(4) SERVICES -- COMPOSE_ARGV...:
# the new containers of each canary service (comma-separated) start beside the running ones,
# out of traffic; the release's sites (with the access log) go in with the old containers
# only in the upstreams.
platform_canary_start() {
  local base=$1 release=$2 project=$3 up=$4 pdir=$5 conf=$6 pid=$7 drain=$8 services=$9
  shift 10
  local -a compose=("$@") old_ids=() new_ids=() skip=()
  local dir=$base/releases/$release state=$base/rollout svc hash want id label n
  platform_canary_recover "$base" "$project" "$pdir" "$conf" "$pid" "$drain" || return 1
  rm -rf "$state" && mkdir -p "$state" && mkfifo "$state/wake" || return 1
  for svc in ${services//,/ }; do
    want=$(awk -F'\t' -v s="$svc" '$2 == s { print $4; exit }' "$dir/nginx.tsv")
    hash=$(cd "$dir" && "${compose[@]}" config --hash "$svc") || return 1
    hash=${hash#* }
    mapfile -t old_ids < <(platform_running "$project" "$svc")
    local outdated=0
    for id in "${old_ids[@]}"; do
      label=$(docker inspect -f '{{index .Config.Labels "com.docker.compose.config-hash"}}' "$id") ||
        return 1
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

# platform_canary_recover BASE PROJECT PROXY(4): a rollout its deploy left unfinished (the
# script was killed; this deploy holds the lock now): every request back on the current
# release's containers (unpaused), in one reload, and the unfinished release's removed.
platform_canary_recover() {
  local base=$1 project=$2 current
  shift 2
  [[ -f $base/rollout/status.json ]] || return 0
  current=$(platform_current "$base")
  platform_log "    a rollout was left unfinished: back on release ${current:-none} first"
  if [[ -z $current || ! -f $base/releases/$current/nginx.tsv ]]; then
    platform_canary_abandon "$base"
    return 0
  fi
  rm -f "$base/rollout/back"  # its requests go back on the current release's routes
  platform_canary_back "$base" "$current" "$project" "$@"
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

# platform_canary_upstreams BASE RELEASE PROJECT PROXY(4): the project's upstreams as the
# rollout has them: a canary service's old and new containers weighted by SVC.weight (0: the
# old ones only, 100: the new ones only), every other routed service's running containers
# (less any canary's new ones); then nginx -t and one graceful reload.
platform_canary_upstreams() {
  local base=$1 release=$2 project=$3 pdir=$4 conf=$5 pid=$6 drain=$7
  local dir=$base/releases/$release state=$base/rollout
  local svc port upstream servers id address upstreams='' hidden=' '
  local -A seen=()
  local f
  # A canary's new containers serve only through its weights; once switched (its old ones
  # paused), they are simply the running ones.
  for f in "$state"/*.new; do
    [[ -e $f && ! -f ${f%.new}.paused ]] && hidden+="$(tr '\n' ' ' <"$f")"
  done
  while IFS=$'\t' read -r _ svc port _ upstream _; do
    [[ -n ${seen[$upstream]:-} ]] && continue
    seen[$upstream]=1
    servers=''
    if [[ -f $state/$svc.new && -f $state/$svc.weight ]]; then
      servers=$(platform_canary_servers "$state" "$svc" "$port") || return 1
      [[ -z $servers ]] || servers+=$'\n'
    else
      for id in $(platform_running "$project" "$svc"); do
        [[ $hidden == *" $id "* ]] && continue
        address=$(platform_address_of "$id") || return 1
        [[ -n $address ]] && servers+="    server $address:$port;"$'\n'
      done
    fi
    [[ -n $servers ]] || servers="    server 127.0.0.1:9 down;  # no running container"$'\n'
    upstreams+="upstream $upstream {"$'\n'"$servers"'    keepalive 8;'$'\n''}'$'\n'
  done <"$dir/nginx.tsv"
  local new=".$project.new"
  (umask 022 && printf '%s' "$upstreams" >"$pdir/upstreams/$project.conf$new") || return 1
  platform_proxy_locked "$pdir" platform_proxy_swap "$pdir" "$conf" "$pid" "$drain" "$new" \
    "upstreams/$project.conf"
}

# platform_canary_servers STATE SERVICE PORT: nginx `server` lines splitting the service's
# requests by its weight: each old container (100-W)*NEW, each new one W*OLD, so the shares
# are exact whatever the counts.
platform_canary_servers() {
  local state=$1 svc=$2 port=$3 weight id address out=''
  local -a old=() new=()
  weight=$(<"$state/$svc.weight")
  mapfile -t old <"$state/$svc.old"
  mapfile -t new <"$state/$svc.new"
  if ((weight < 100)); then
    for id in "${old[@]}"; do
      address=$(platform_address_of "$id") || return 1
      out+="    server $address:$port"
      ((weight == 0)) || out+=" weight=$(((100 - weight) * ${#new[@]}))"
      out+=";"$'\n'
    done
  fi
  if ((weight > 0)); then
    for id in "${new[@]}"; do
      address=$(platform_address_of "$id") || return 1
      out+="    server $address:$port"
      ((weight == 100)) || out+=" weight=$((weight * ${#old[@]}))"
      out+=";"$'\n'
    done
  fi
  printf '%s' "$out"
}

platform_canary_addresses() {  # FILE: the addresses of the container ids in it, one a line
  local id
  while read -r id; do
    [[ -n $id ]] && platform_address_of "$id" && printf '\n'
  done <"$1"
  return 0
}

# platform_canary_offset LOG: the access log's size now (where a judged period starts).
platform_canary_offset() { stat -c %s "$1" 2>/dev/null || printf '0'; }

# platform_canary_tally LOG OFFSET OLD_ADDRESSES NEW_ADDRESSES: "OLD_REQUESTS OLD_FAILURES
# OLD_P99 NEW_REQUESTS NEW_FAILURES NEW_P99" of the log's lines from OFFSET (p99 `-`: none
# answered), counted as planning/canary_analysis.py tally counts them. Addresses are
# space-separated.
platform_canary_tally() {
  local log=$1 offset=$2 size
  size=$(platform_canary_offset "$log")
  ((size >= offset)) || offset=0  # the log was rotated since
  { [[ ! -f $log ]] || tail -c +"$((offset + 1))" "$log"; } | awk -F'\t' -v old="$3" -v new="$4" '
    BEGIN {
      n = split(old, a, " "); for (i = 1; i <= n; i++) rel[a[i]] = 1
      n = split(new, a, " "); for (i = 1; i <= n; i++) rel[a[i]] = 2
    }
    NF == 6 {
      k = split($2, addr, /, | : /); split($4, st, /, | : /); split($6, tm, /, | : /)
      for (i = 1; i <= k; i++) {
        host = addr[i]; sub(/:[^:]*$/, "", host)
        if (!(host in rel)) continue
        r = rel[host]; req[r]++
        if (st[i] !~ /^[1-4][0-9][0-9]$/) { fail[r]++; continue }
        if (tm[i] !~ /^[0-9]+(\.[0-9]([0-9][0-9]?)?)?$/) continue
        split(tm[i], p, "."); frac = substr(p[2] "000", 1, 3)
        ms = p[1] * 1000 + frac; count[r, ms]++; answered[r]++
        if (ms > top[r]) top[r] = ms
      }
    }
    function p99(r,   rank, sum, ms) {
      if (!answered[r]) return "-"
      rank = int((99 * answered[r] + 99) / 100)
      for (ms = 0; ms <= top[r]; ms++) if ((sum += count[r, ms]) >= rank) return ms
    }
    END { printf "%d %d %s %d %d %s\n", req[1], fail[1], p99(1), req[2], fail[2], p99(2) }'
}

# platform_canary_judge MAX_ERROR_PERCENT MAX_P99_MS MAX_P99_RATIO MIN_REQUESTS FIGURES...
# (the six of platform_canary_tally): "VERDICT<TAB>REASON", decided as
# planning/canary_analysis.py judge decides (the same products compared, the same words).
platform_canary_judge() {
  awk -v maxerr="$1" -v maxp99="$2" -v ratio="$3" -v least="$4" -v or="$5" -v of="$6" \
    -v op="$7" -v nr="$8" -v nf="$9" -v np="${10}" '
    function pct(f, r,   t) {
      if (r == 0) return "0%"
      t = int((f * 2000 + r) / (2 * r))
      return (t % 10) ? sprintf("%d.%d%%", int(t / 10), t % 10) : sprintf("%d%%", int(t / 10))
    }
    BEGIN {
      if (nr < least) { printf "not-enough-requests\t%d requests reached the new release, %d needed\n", nr, least; exit }
      if (nf * 100 > maxerr * nr && (or == 0 || nf * or > of * nr)) {
        printf "fail\terror rate %s of %d requests, over %s%% (old release: %s of %d)\n", pct(nf, nr), nr, maxerr, pct(of, or), or; exit
      }
      if (maxp99 != "" && np != "-" && np + 0 > maxp99 + 0) { printf "fail\tp99 %dms over %dms\n", np, maxp99; exit }
      if (ratio != "" && np != "-" && op != "-" && or >= least && np + 0 > ratio * (op > 1 ? op : 1)) {
        printf "fail\tp99 %dms over %sx the old release'"'"'s %dms\n", np, ratio, op; exit
      }
      printf "pass\t\n"
    }'
}

# platform_canary_figures FIGURE...: the six figures as the JSON of two CanaryFigures, "OLD NEW".
platform_canary_figures() {
  local -a p99=("$3" "$6")
  local i
  for i in 0 1; do [[ ${p99[i]} == - ]] && p99[i]=null; done
  printf '%s %s\n' "$(platform_json_object '#requests' "$1" '#failures' "$2" '#p99_ms' "${p99[0]}")" \
    "$(platform_json_object '#requests' "$4" '#failures' "$5" '#p99_ms' "${p99[1]}")"
}

# platform_canary_decide BASE RELEASE SVC STEP WEIGHT VERDICT REASON DECIDED_MS FIGURE...: the
# decision (models/records.py CanaryDecision) into rollout/decisions.jsonl and the history,
# with the outcome `passed` or `rolled-back` (or `promoted`: a person's).
platform_canary_decide() {
  local base=$1 release=$2 svc=$3 step=$4 weight=$5 verdict=$6 reason=$7 decided=$8
  local old new decision outcome
  shift 8
  read -r old new < <(platform_canary_figures "$@")
  decision=$(platform_json_object '#version' 1 service "$svc" step "$step" '#weight' "$weight" \
    verdict "$verdict" reason "$reason" '#new' "$new" '#old' "$old" \
    '#decided_ms' "$decided") || return 1
  printf '%s\n' "$decision" >>"$base/rollout/decisions.jsonl"
  case $verdict in
    pass) outcome=passed ;;
    promoted) outcome=promoted ;;
    *) outcome=rolled-back ;;
  esac
  platform_history_append "$base" event canary outcome "$outcome" actor "${PLATFORM_ACTOR:-}" \
    plan "${PLATFORM_PLAN_ID:-}" release "$release" step "${PLATFORM_STEP_ID:-$step}" \
    reason "$reason" '#decision' "$decision"
}

# platform_canary_status BASE RELEASE PHASE WEIGHT FIGURES_JSON: rollout/status.json, what
# `status` shows of the rollout in progress.
platform_canary_status() {
  platform_json_object '#version' 1 release "$2" phase "$3" '#weight' "$4" \
    '#figures' "${5:-null}" since "$(platform_now)" >"$1/rollout/status.json" || true
}

# platform_canary_request BASE: a person's request to the rollout, if any (promote, abort).
platform_canary_request() {
  local request=''
  [[ -r $1/rollout/request ]] && request=$(<"$1/rollout/request")
  case $request in promote | abort) printf '%s' "$request" ;; esac
  return 0
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

# platform_canary_step BASE RELEASE PROJECT SVC N WEIGHT BAKE MAX_ERROR MAX_P99_MS MAX_P99_RATIO
# MIN_REQUESTS LOG PROXY(4): WEIGHT percent of SVC's requests to the new release for BAKE
# seconds, then the figures since decide: pass, or all of its requests back on the old
# release in one reload and its new containers removed (the step fails: the plan rolls back).
platform_canary_step() {
  local base=$1 release=$2 project=$3 svc=$4 n=$5 weight=$6 bake=$7
  local -a limits=("$8" "$9" "${10}" "${11}") nginx=("${13}" "${14}" "${15}" "${16}")
  local log=${12} state=$base/rollout old new offset request decided verdict reason figures
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
  old=$(platform_canary_addresses "$state/$svc.old" | tr '\n' ' ')
  new=$(platform_canary_addresses "$state/$svc.new" | tr '\n' ' ')
  offset=$(platform_canary_offset "$log")
  platform_canary_status "$base" "$release" "canary $svc step $n" "$weight" ''
  platform_log "    $svc: $weight% to the new release for ${bake}s"
  request=$(platform_canary_bake "$base" "$bake" "$log" "$old" "$new" "$offset" "${limits[@]}")
  decided=$(platform_millis)
  # A person's abort needs no figures: its requests go back first, then it is recorded.
  if [[ $request == abort ]]; then
    platform_canary_restore "$base" "$release" "$project" "${nginx[@]}" || return 1
  fi
  figures=$(platform_canary_tally "$log" "$offset" "$old" "$new")
  # shellcheck disable=SC2086 # six numbers
  verdict=$(platform_canary_judge "${limits[@]}" $figures)
  reason=${verdict#*$'\t'} verdict=${verdict%%$'\t'*}
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
  local base=$1 state=$1/rollout f id
  if [[ ! -f $state/back ]]; then
    platform_canary_restore "$@" || return 1
  fi
  for f in "$state"/*.new; do
    [[ -e $f ]] || continue
    while read -r id; do
      [[ -n $id ]] && { docker rm -f "$id" >/dev/null || true; }
    done <"$f"
  done
  rm -rf "$state"
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
    if [[ -f $state/$svc.paused ]]; then
      # shellcheck disable=SC2046 # container ids
      docker unpause $(<"$state/$svc.old") >/dev/null || return 1
      rm -f "$state/$svc.paused"
    fi
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
  local log=${10} state=$base/rollout old new offset request decided verdict reason figures
  [[ -f $state/$svc.paused ]] || return 0
  old=$(platform_canary_addresses "$state/$svc.old" | tr '\n' ' ')
  new=$(platform_canary_addresses "$state/$svc.new" | tr '\n' ' ')
  offset=$(platform_canary_offset "$log")
  platform_canary_status "$base" "$release" "warm $svc" 100 ''
  platform_log "    $svc: the previous release waits warm for ${seconds}s"
  request=$(platform_canary_bake "$base" "$seconds" "$log" "$old" "$new" "$offset" "${limits[@]}")
  decided=$(platform_millis)
  # A person's abort (or `rollback`) needs no figures: the requests go back first.
  if [[ $request == abort ]]; then
    platform_canary_restore "$base" "$release" "$project" "${nginx[@]}" || return 1
  fi
  figures=$(platform_canary_tally "$log" "$offset" "$old" "$new")
  # shellcheck disable=SC2086 # six numbers
  verdict=$(platform_canary_judge "${limits[@]}" $figures)
  reason=${verdict#*$'\t'} verdict=${verdict%%$'\t'*}
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

# platform_canary_retire BASE PROJECT: the warm containers stop; the rollout is over.
platform_canary_retire() {
  local base=$1 state=$1/rollout f
  for f in "$state"/*.old; do
    [[ -e $f ]] || continue
    platform_log "    stopping the previous release's $(basename "$f" .old) containers"
    # shellcheck disable=SC2046 # container ids
    [[ -f ${f%.old}.paused ]] && docker unpause $(<"$f") >/dev/null
    # shellcheck disable=SC2046 # container ids
    docker stop $(<"$f") >/dev/null && docker rm $(<"$f") >/dev/null || return 1
  done
  rm -rf "$state"
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
