# shellcheck shell=bash
# runtime/switch.sh: switching to a release: compose up in place, blue/green behind the proxy, rollback.

platform_rollback() {  # BASE FAILED_RELEASE PROJECT UP_TIMEOUT PROXY(4) -- COMPOSE_ARGV...
  local base=$1 failed=$2 project=$3 pdir=$5 conf=$6 pid=$7 previous=''
  [[ -L $base/current ]] && previous=$(basename "$(readlink "$base/current")")
  if [[ -z $previous ]]; then
    platform_log "    no previous release: stopping the failed first release"
    shift 9
    (cd "$base/releases/$failed" && "$@" down --remove-orphans) || true
    [[ -z $pdir ]] || platform_proxy_drop "$pdir" "$conf" "$pid" "$project" || true
    return 0
  fi
  platform_log "    restoring release $previous"
  platform_switch "$base" "$previous" "${@:3}" || return 1
  platform_history_append "$base" event rollback outcome restored actor "$PLATFORM_ACTOR" \
    plan "$PLATFORM_PLAN_ID" release "$previous" failed_release "$failed"
}

# platform_switch BASE RELEASE PROJECT UP_TIMEOUT PROXY_DIR NGINX_CONF PID_FILE DRAIN
#   -- COMPOSE_ARGV...
# Without a proxy (PROXY_DIR empty) or routes: `compose up --wait`, in place.
# With them, HTTP-routed services go blue/green: the release's containers start beside the
# running ones, nginx is pointed at them once they are healthy, and the old ones stop after
# nginx's old workers have finished their requests. Services that are not routed are
# recreated in place first, as compose does. A routed service whose config is unchanged keeps
# its containers. If the new containers never become healthy, they are removed: the old ones
# never stopped serving.
platform_switch() {
  local base=$1 release=$2 project=$3 up_timeout=$4 pdir=$5 conf=$6 pid=$7 drain=$8
  shift 9
  local dir=$base/releases/$release
  if [[ -z $pdir || ! -f $dir/nginx.tsv ]]; then
    (cd "$dir" && timeout --kill-after=10 "$((up_timeout + 30))" \
      "$@" up --detach --wait --wait-timeout "$up_timeout" --remove-orphans) || return 1
    [[ -z $pdir ]] || platform_proxy_drop "$pdir" "$conf" "$pid" "$project" || return 1
    return 0
  fi
  local -a compose=("$@") routed=() others=() changed=() fresh=() new_ids=() ids_of=()
  local -A want=() hash=() old=() outdated=()
  local svc n replicas id label hashes running started
  # Phase times, logged as one `switch phases: NAME=SECONDS ...` line (bench/deploy_bench.py).
  local phases='' mark
  mark=$(platform_millis)
  while IFS=$'\t' read -r _ svc _ replicas _; do
    [[ -n ${want[$svc]:-} ]] || routed+=("$svc")
    want[$svc]=$replicas
  done <"$dir/nginx.tsv"
  hashes=$(cd "$dir" && "${compose[@]}" config --hash '*') || return 1
  while read -r svc label; do hash[$svc]=$label; done <<<"$hashes"
  for svc in "${!hash[@]}"; do [[ -n ${want[$svc]:-} ]] || others+=("$svc"); done
  # The running containers of the routed services, and whether each runs this release's config.
  running=$(docker ps --no-trunc --filter "label=com.docker.compose.project=$project" \
    --filter status=running \
    --format '{{.Label "com.docker.compose.service"}} {{.ID}} {{.Label "com.docker.compose.config-hash"}}') ||
    return 1
  while read -r svc id label; do
    [[ -n $svc && -n ${want[$svc]:-} ]] || continue
    old[$svc]+="${old[$svc]:+$'\n'}$id"
    [[ $label == "${hash[$svc]}" ]] || outdated[$svc]=1
  done <<<"$running"
  for svc in "${routed[@]}"; do
    if [[ -z ${old[$svc]:-} ]]; then fresh+=("$svc")
    elif [[ -n ${outdated[$svc]:-} ]]; then changed+=("$svc"); fi
  done
  platform_switch_phase classify
  if ((${#fresh[@]} == ${#routed[@]})); then  # nothing routed runs yet: nothing to keep serving
    platform_up "$dir" "$up_timeout" compose --wait --wait-timeout "$up_timeout" \
      --remove-orphans || return 1
  else
    if ((${#others[@]})); then
      platform_log "    in place: ${others[*]}"
      platform_up "$dir" "$up_timeout" compose --wait --wait-timeout "$up_timeout" \
        --remove-orphans --no-deps "${others[@]}" || return 1
      platform_switch_phase in-place
    fi
    for svc in "${fresh[@]}"; do
      platform_up "$dir" "$up_timeout" compose --wait --wait-timeout "$up_timeout" \
        --no-deps "$svc" || return 1
    done
    for svc in "${changed[@]}"; do
      n=$(wc -w <<<"${old[$svc]}")
      platform_log "    blue/green: $svc ($((n)) running, ${want[$svc]} starting beside)"
      # Waits for the new containers only: an old one that is unhealthy must not hold up its
      # own replacement.
      started=0
      if platform_up "$dir" "$up_timeout" compose --no-deps --no-recreate \
        --scale "$svc=$((n + want[$svc]))" "$svc"; then
        platform_switch_phase start
        mapfile -t new_ids < <(platform_new_containers "$project" "$svc" "${old[$svc]}")
        platform_wait_healthy "$up_timeout" "${new_ids[@]}" && started=1
        platform_switch_phase healthy
      fi
      ((started == 0)) || platform_log "    $svc: the new containers are healthy"
      if ((started == 0)); then
        platform_log "    $svc: the new containers did not become healthy; the old ones keep serving"
        platform_failure_report "$project"
        platform_retire_new "$project" old "${changed[@]}"
        return 1
      fi
    done
    platform_remove_orphans "$project" "${!hash[@]}" || return 1
  fi
  local -a retiring=()
  for svc in "${changed[@]}"; do
    mapfile -t ids_of <<<"${old[$svc]}"
    retiring+=("${ids_of[@]}")
  done
  if ! platform_proxy_install "$dir" "$project" "$pdir" "$conf" "$pid" "$drain" "${retiring[@]}"; then
    platform_retire_new "$project" old "${changed[@]}"
    return 1
  fi
  platform_switch_phase reload
  platform_log "    nginx routes $project to the release; its old workers are done"
  if ((${#retiring[@]})); then
    platform_log "    stopping the old containers of ${changed[*]}"
    docker stop "${retiring[@]}" >/dev/null && docker rm "${retiring[@]}" >/dev/null || return 1
    platform_switch_phase stop
  fi
  platform_log "    switch phases:$phases"
}

# platform_switch_phase NAME: adds NAME=<seconds since the last mark> to the caller's `phases`
# and sets its `mark` again (bash's dynamic scope: the caller's locals).
platform_switch_phase() {
  phases+=" $1=$(platform_seconds_since "$mark")"
  mark=$(platform_millis)
}

# platform_up RELEASE_DIR UP_TIMEOUT COMPOSE_ARRAY UP_ARG...: `compose up --detach UP_ARG...`
# in the release directory, within the up timeout (COMPOSE_ARRAY names the caller's array
# holding the compose argv).
platform_up() {
  local dir=$1 up_timeout=$2
  local -n argv=$3
  shift 3
  (cd "$dir" && timeout --kill-after=10 "$((up_timeout + 30))" "${argv[@]}" up --detach "$@")
}

platform_new_containers() {  # PROJECT SERVICE OLD_IDS: its running containers not among OLD_IDS
  local id
  for id in $(platform_running "$1" "$2"); do
    [[ " ${3//$'\n'/ } " == *" $id "* ]] || printf '%s\n' "$id"
  done
}

# platform_wait_healthy TIMEOUT ID...: until every container is running and, if it has a
# healthcheck, healthy. Fails at once when one exits or turns unhealthy, as compose's --wait.
# The daemon runs a container's first healthcheck one interval after it started (a second or
# more), while a new release usually answers at once: while the daemon says `starting`, each
# such container is also probed with its own healthcheck command, as the daemon runs it
# (platform_probe_health); one success counts, as for the daemon. One `docker inspect` per
# round for all of them; rounds every 0.05 s for 2 s, then every 0.5 s (a slow start is not
# probed twenty times a second).
platform_wait_healthy() {
  local timeout=$1 began=$EPOCHSECONDS deadline=$(($(platform_epoch) + $1)) id status health
  local states pending pause
  local -A ready=()
  shift
  (($#)) || { platform_die "no new container started"; return 1; }
  while :; do
    pending=0
    states=$(docker inspect -f '{{.Id}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$@") || return 1
    while read -r id status health; do
      [[ -n $id && -z ${ready[$id]:-} ]] || continue
      case "$status $health" in
        "running healthy" | "running none") ready[$id]=1 ;;
        "running starting")
          if platform_probe_health "$id"; then ready[$id]=1; else pending=1; fi ;;
        "created "*) pending=1 ;;
        *) platform_die "container ${id:0:12} is $status $health"; return 1 ;;
      esac
    done <<<"$states"
    ((pending)) || return 0
    if (($(platform_epoch) >= deadline)); then
      platform_die "the new containers were not healthy within ${timeout}s"
      return 1
    fi
    pause=0.05
    ((EPOCHSECONDS - began < 2)) || pause=0.5
    sleep "$pause"
  done
}

# platform_probe_health ID: the container's healthcheck command passes, run as the daemon runs
# it (`docker exec`: the container's user, environment and working directory; CMD-SHELL through
# the image's shell, /bin/sh -c by default), within 5 s.
platform_probe_health() {
  local -a spec=() shell=() test=()
  local item in_test=0
  mapfile -d '' -t spec < <(docker inspect -f \
    '{{range .Config.Shell}}{{printf "%s\x00" .}}{{end}}{{printf "\x00"}}{{range .Config.Healthcheck.Test}}{{printf "%s\x00" .}}{{end}}' \
    "$1")
  for item in "${spec[@]}"; do
    [[ $item == $'\n' ]] && break  # the newline docker inspect ends its output with
    if ((in_test)); then test+=("$item")
    elif [[ -z $item ]]; then in_test=1
    else shell+=("$item"); fi
  done
  ((${#shell[@]})) || shell=(/bin/sh -c)
  case ${test[0]:-} in
    CMD) ((${#test[@]} > 1)) || return 1; test=("${test[@]:1}") ;;
    CMD-SHELL) ((${#test[@]} == 2)) || return 1; test=("${shell[@]}" "${test[1]}") ;;
    *) return 1 ;;  # nothing to run ourselves: the daemon's result decides
  esac
  timeout --kill-after=1 5 docker exec "$1" "${test[@]}" >/dev/null 2>&1 </dev/null
}

platform_remove_orphans() {  # PROJECT SERVICE...: containers of services no longer in the file
  local project=$1 id service
  shift
  while read -r id service; do
    [[ -n $id ]] || continue
    [[ " $* " == *" $service "* ]] && continue
    platform_log "    removing $service: no longer in the compose file"
    docker rm -f "$id" >/dev/null || return 1
  done < <(docker ps --all --filter "label=com.docker.compose.project=$project" \
    --filter "label=com.docker.compose.oneoff=False" \
    --format '{{.ID}} {{.Label "com.docker.compose.service"}}')
}

# platform_retire_new PROJECT OLD_MAP SERVICE...: remove every container of those services
# that is not among the old ones (the caller's associative array named OLD_MAP).
platform_retire_new() {
  local project=$1 svc id
  local -n kept=$2
  shift 2
  for svc in "$@"; do
    for id in $(docker ps --all --quiet --no-trunc --filter "label=com.docker.compose.project=$project" \
      --filter "label=com.docker.compose.service=$svc"); do
      [[ " ${kept[$svc]//$'\n'/ } " == *" $id "* ]] || docker rm -f "$id" >/dev/null || true
    done
  done
  return 0
}
