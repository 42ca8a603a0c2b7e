# --- platform runtime: functions the plan's steps call on the host ----------------------
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
platform_log() { TZ=UTC printf '%(%Y-%m-%dT%H:%M:%SZ)T %s\n' -1 "$*" >&2; }
# platform_die MESSAGE: log it, and keep it as the reason of the step that fails (when the
# step function called it in the script's own shell, not in a subshell).
platform_die() {
  PLATFORM_REASON="$*"
  platform_log "error: $*"
  return 1
}

# --- JSON: the one writer of the records the host sends back --------------------------
# platform_json TEXT: TEXT as a JSON string literal (backslash, quote and every control
# character escaped; bash strings hold no NUL).
platform_json() {
  local s=$1 code c
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  s=${s//$'\t'/\\t}
  if [[ $s == *[[:cntrl:]]* ]]; then
    for code in {1..8} 11 12 {14..31} 127; do
      printf -v c '%b' "$(printf '\\x%02x' "$code")"
      s=${s//"$c"/$(printf '\\u%04x' "$code")}
    done
  fi
  printf '"%s"' "$s"
}

# platform_json_object [KEY VALUE]...: one JSON object on one line, members in that order.
#   KEY   a string member
#   ?KEY  a string member, null when VALUE is empty
#   #KEY  a member whose VALUE is JSON already (a number, true, an object from a file)
platform_json_object() {
  local out='' key value
  while (($# >= 2)); do
    key=$1 value=$2
    shift 2
    case $key in
      '#'*) key=${key:1} ;;
      '?'*) key=${key:1}
        if [[ -z $value ]]; then value=null; else value=$(platform_json "$value"); fi ;;
      *) value=$(platform_json "$value") ;;
    esac
    [[ -n $value ]] || { platform_die "platform_json_object: $key has no JSON value"; return 1; }
    out+="${out:+,}$(platform_json "$key"):$value"
  done
  (($# == 0)) || { platform_die "platform_json_object: $1 has no value"; return 1; }
  printf '{%s}' "$out"
}

# platform_json_extend OBJECT [KEY VALUE]...: the one-line JSON OBJECT with those members
# added at its end (a record the plan drafted, completed with what only the host knows).
platform_json_extend() {
  local object=$1 more
  shift
  object=${object%"${object##*[!$' \n']}"}
  [[ $object == '{'*'}' ]] || { platform_die "platform_json_extend: not a JSON object"; return 1; }
  more=$(platform_json_object "$@") || return 1
  if [[ $object == '{}' ]]; then printf '%s' "$more"
  elif [[ $more == '{}' ]]; then printf '%s' "$object"
  else printf '%s,%s' "${object%\}}" "${more#\{}"; fi
}

# platform_history_append BASE [KEY VALUE]...: one history event (models/records.py
# HistoryEvent, version 1), stamped with the host's time, appended to BASE/history.jsonl.
platform_history_append() {
  local base=$1 event
  shift
  [[ -n $base && -d $base ]] || return 0
  event=$(platform_json_object '#version' 1 at "$(platform_now)" "$@") || return 1
  printf '%s\n' "$event" >>"$base/history.jsonl"
}

# platform_step ID TITLE TIMEOUT ON_FAILURE -- ARGV...: one step of a plan. What a step writes
# on stdout is progress for people, as stderr is: the script's stdout carries one thing, its
# outcome record (platform_outcome_record).
platform_step() {
  local id=$1 title=$2 timeout=$3 on_failure=$4 started rc=0
  shift 5
  PLATFORM_STEP_NO=$((PLATFORM_STEP_NO + 1))
  PLATFORM_STEP_ID=$id PLATFORM_REASON=
  # From the first step that rolls back on failure on, the host runs something else.
  [[ $on_failure == rollback ]] && PLATFORM_SWITCHED=1
  platform_log "[$PLATFORM_STEP_NO/$PLATFORM_STEP_COUNT] $title"
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
      platform_failure_report "$PLATFORM_COMPOSE_PROJECT"
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

platform_failure_report() {  # COMPOSE_PROJECT: last log lines of containers not healthy
  local line id name status
  while read -r line; do
    id=${line%% *} line=${line#* } name=${line%% *} status=${line#* }
    [[ $status == *"(healthy)"* ]] && continue
    platform_log "    $name: $status; its last log lines:"
    docker logs --tail 20 "$id" 2>&1 | sed 's/^/      | /' >&2
  done < <(docker ps --all --filter "label=com.docker.compose.project=$1" \
    --format '{{.ID}} {{.Names}} {{.Status}}')
  return 0
}

platform_history_event() {  # OUTCOME STEP: how this plan's script went, with its reason
  local reason=''
  [[ -z $2 ]] || reason=${PLATFORM_REASON:-}
  platform_history_append "${PLATFORM_BASE:-}" event "${PLATFORM_KIND:-deploy}" outcome "$1" \
    actor "$PLATFORM_ACTOR" plan "$PLATFORM_PLAN_ID" release "$PLATFORM_RELEASE" step "$2" \
    reason "$reason"
}

# --- lock ------------------------------------------------------------------------------
platform_lock_acquire() {  # BASE ACTOR RELEASE WAIT EXPIRY
  local base=$1 actor=$2 release=$3 wait=$4 expiry=$5 deadline now expires
  mkdir -p "$base" || return 1
  deadline=$(($(platform_epoch) + wait))
  while ! mkdir "$base/lock" 2>/dev/null; do
    now=$(platform_epoch)
    expires=$(sed -n 's/.*"expires_epoch":\([0-9]*\).*/\1/p' "$base/lock/holder.json" 2>/dev/null)
    if [[ -n $expires ]] && ((now > expires)); then
      platform_log "    lock expired; taking it over: $(cat "$base/lock/holder.json")"
      mv "$base/lock" "$base/lock.expired.$now" 2>/dev/null && rm -rf "$base/lock.expired.$now"
      continue
    fi
    if ((now >= deadline)); then
      platform_die "another deploy holds the lock: $(cat "$base/lock/holder.json" 2>/dev/null \
        || echo '(holder unknown)'). Wait for it, or if it was killed: python -m platform_lib lock release"
      return 1
    fi
    sleep 1
  done
  platform_json_object '#version' 1 actor "$actor" release "$release" \
    plan "${PLATFORM_PLAN_ID:-}" started "$(platform_now)" \
    '#expires_epoch' "$(($(platform_epoch) + expiry))" '#pid' "$$" >"$base/lock/holder.json" ||
    return 1
  PLATFORM_LOCK_HELD=$base
  # Under the lock the deploy's starting point is settled: the outcome record names it.
  [[ $base != "${PLATFORM_BASE:-}" ]] || PLATFORM_PREVIOUS=$(platform_current "$base")
}

platform_lock_release() {  # BASE
  if [[ ${PLATFORM_LOCK_HELD:-} == "$1" ]]; then
    rm -rf "$1/lock"
    PLATFORM_LOCK_HELD=
  fi
}

# platform_cleanup: what no script leaves behind, however it ends: the private docker config
# of its registry login, the lock it holds.
platform_cleanup() {
  [[ -n ${PLATFORM_DOCKER_CONFIG:-} ]] && rm -rf "$PLATFORM_DOCKER_CONFIG"
  PLATFORM_DOCKER_CONFIG=
  [[ -n ${PLATFORM_LOCK_HELD:-} ]] && platform_lock_release "$PLATFORM_LOCK_HELD"
  return 0
}

# --- outcome: the one record a plan's script sends back ----------------------------------
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

platform_current() {  # BASE: the release `current` points at, or nothing
  [[ -L $1/current ]] || return 0
  local target
  target=$(readlink "$1/current") && printf '%s' "${target##*/}"
}

platform_outcome_record() {  # OUTCOME: the record line, on stdout
  local current record
  current=$(platform_current "$PLATFORM_BASE")
  record=$(platform_json_object '#version' 1 kind "$PLATFORM_KIND" outcome "$1" \
    plan "$PLATFORM_PLAN_ID" release "$PLATFORM_RELEASE" \
    '?previous_release' "${PLATFORM_PREVIOUS-$current}" '?current_release' "$current" \
    '?step' "${PLATFORM_FAILED_STEP:-}" '?reason' "${PLATFORM_FAILED_REASON:-}" \
    '?rollback_step' "${PLATFORM_ROLLBACK_STEP:-}" \
    '?rollback_reason' "${PLATFORM_ROLLBACK_REASON:-}") || return 1
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
  platform_outcome_record "$outcome" || true
  exit "$(platform_outcome_code "$outcome")"
}

# --- release files ---------------------------------------------------------------------
platform_expect_current() {  # BASE EXPECTED ("" = nothing deployed yet)
  local actual=''
  [[ -L $1/current ]] && actual=$(basename "$(readlink "$1/current")")
  [[ $actual == "$2" ]] && return 0
  platform_die "stale plan: the host's current release is '${actual:-none}', the plan was made \
against '${2:-none}'. Make a new plan."
}

# Tenant data (releases, their .env and backups, history, the lock) is the deploy user's
# alone: scripts run under umask 077, so it is written 0600 in 0700 directories; staging
# also takes group and other bits off what older deploys left.
platform_stage_release() {  # BASE RELEASE
  local base=$1 dir=$1/releases/$2
  [[ -e $dir/release.json ]] && { platform_die "release $2 already exists on the host"; return 1; }
  PLATFORM_STAGED=$2
  chmod go-rwx "${base%/*}" && chmod -R go-rwx "$base" || return 1
  rm -rf "$dir"
  mkdir -p "$dir/backups"
}

# platform_release_is_good BASE RELEASE: the release completed a deploy (its release.json,
# written only after its health checks passed, says so). Only these count for retention and
# are offered for rollback.
platform_release_is_good() {
  local record=$1/releases/$2/release.json
  [[ -f $record && $(<"$record") == *'"outcome":"deployed"'* ]]
}

platform_remove_release() {  # BASE RELEASE: its .env (secret values) first, then the rest
  local dir=$1/releases/$2
  [[ -n $2 && -d $dir ]] || return 0
  rm -f "$dir/.env" && rm -rf "$dir"
}

# platform_discard_release BASE RELEASE: a release that never completed a deploy leaves the
# host. Backups taken before its switch are of the current release's data: they move to the
# current release's backups as NAME.<release>.EXT, so they can still be restored.
platform_discard_release() {
  local base=$1 release=$2 current='' file name
  [[ -L $base/current ]] && current=$(basename "$(readlink "$base/current")")
  [[ -n $release && $release != "$current" && -d $base/releases/$release ]] || return 0
  for file in "$base/releases/$release/backups"/*; do
    [[ -f $file && -n $current && -d $base/releases/$current/backups ]] || continue
    name=${file##*/}
    mv -f "$file" "$base/releases/$current/backups/${name%%.*}.$release.${name#*.}" &&
      platform_log "    kept its backup as $current/${name%%.*}.$release.${name#*.}"
  done
  platform_remove_release "$base" "$release" || return 1
  platform_log "    removed the failed release $release"
}

platform_write_file() {  # PATH MODE SHA256  (base64 content on stdin)
  local path=$1 mode=$2 sum=$3 actual
  (umask 077 && base64 -d >"$path.tmp") || return 1
  actual=$(sha256sum "$path.tmp" | cut -d' ' -f1)
  if [[ $actual != "$sum" ]]; then
    rm -f "$path.tmp"
    platform_die "$path: checksum mismatch (expected $sum, got $actual)"
    return 1
  fi
  chmod "$mode" "$path.tmp" && mv -f "$path.tmp" "$path"
}

platform_append_secrets() {  # ENV_FILE NAME...
  local file=$1 name value
  shift
  for name in "$@"; do
    if [[ -z ${!name+set} ]]; then
      platform_die "secret $name is not set in the deploy environment"
      return 1
    fi
  done
  {
    printf '# secrets from the deploy environment\n'
    for name in "$@"; do
      value=${!name}
      if [[ $value == *$'\n'* ]]; then
        platform_die "secret $name holds a newline, which env files cannot carry"
        return 1
      fi
      # compose's dotenv: '...' is literal but for \' (so no quote, no trailing backslash);
      # otherwise "..." with \\, \" and $$ escaped.
      if [[ $value != *"'"* && $value != *\\ ]]; then
        printf "%s='%s'\n" "$name" "$value"
      else
        value=${value//\\/\\\\}
        value=${value//\"/\\\"}
        printf '%s="%s"\n' "$name" "${value//\$/\$\$}"
      fi
    done
  } >>"$file"
}

platform_registry_login() {  # REGISTRY USER TOKEN_VARIABLE
  local token_var=$3
  [[ -n ${!token_var:-} ]] || { platform_die "secret $token_var is not set"; return 1; }
  # A private docker config for this deploy only: the token is not left on the host.
  PLATFORM_DOCKER_CONFIG=$(mktemp -d)
  if [[ -d ${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins ]]; then
    ln -s "${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins" "$PLATFORM_DOCKER_CONFIG/cli-plugins"
  fi
  export DOCKER_CONFIG=$PLATFORM_DOCKER_CONFIG
  local output
  if ! output=$(printf '%s' "${!token_var}" | docker login "$1" --username "$2" \
    --password-stdin 2>&1); then
    platform_die "registry login to $1 as $2 failed: $output"
    return 1
  fi
  # The token lives in the private docker config now. Out of the environment with it: compose
  # fills `${VAR}` of a tenant's file from its environment, and a tenant never gets the token.
  unset "$token_var"
}

# platform_in_release BASE RELEASE ARGV...: run ARGV inside the release directory.
platform_in_release() {
  local dir=$1/releases/$2
  shift 2
  (cd "$dir" && timeout --kill-after=10 "${PLATFORM_STEP_TIMEOUT:-600}" "$@")
}

platform_repository() {  # IMAGE: its repository, without tag or digest
  local ref=${1%%@*}
  if [[ ${ref##*/} == *:* ]]; then printf '%s' "${ref%:*}"; else printf '%s' "$ref"; fi
}

# platform_resolve_digests BASE RELEASE SERVICE=IMAGE...: the registry digest each service's
# image was pulled as, from one `docker image inspect`; writes digests.json {"services": {...}}.
platform_resolve_digests() {
  local dir=$1/releases/$2 pair image digest found output i=0
  shift 2
  local -a images=() digests=()
  for pair in "$@"; do images+=("${pair#*=}"); done
  if ((${#images[@]})); then
    output=$(docker image inspect --format '{{range .RepoDigests}}{{.}} {{end}}' \
      "${images[@]}") || return 1
    mapfile -t digests <<<"$output"
  fi
  local -a members=()
  for pair in "$@"; do
    image=${pair#*=} found=${pair#*=}
    for digest in ${digests[i]:-}; do
      if [[ $digest == "$(platform_repository "$image")@"* ]]; then
        found=$digest
        break
      fi
    done
    i=$((i + 1))
    members+=("${pair%%=*}" "$found")
  done
  local services
  services=$(platform_json_object "${members[@]}") || return 1
  platform_json_object '#services' "$services" >"$dir/digests.json.tmp" &&
    mv "$dir/digests.json.tmp" "$dir/digests.json"
}

platform_container_of() {  # COMPOSE_PROJECT SERVICE: one of its running containers
  platform_running "$1" "$2" | head -n 1
}

platform_backup_pg_dump() {  # BASE TARGET PROJECT SERVICE DATABASE USER NAME
  local container
  container=$(platform_container_of "$3" "$4")
  if [[ -z $container ]]; then
    platform_log "    no running $4 container: nothing to back up yet"
    return 0
  fi
  docker exec "$container" pg_dump --username "$6" --dbname "$5" --format custom \
    >"$2/$7.pgdump.tmp" && mv "$2/$7.pgdump.tmp" "$2/$7.pgdump"
}

platform_backup_volume() {  # BASE TARGET PROJECT VOLUME NAME
  local volume=$3_$4 container destination
  container=$(docker ps --all --quiet --filter "volume=$volume" | head -n 1)
  if [[ -z $container ]]; then
    platform_log "    volume $volume is not in use yet: nothing to back up"
    return 0
  fi
  destination=$(docker inspect --format \
    "{{range .Mounts}}{{if eq .Name \"$volume\"}}{{.Destination}}{{end}}{{end}}" "$container")
  docker cp "$container:$destination/." - | gzip >"$2/$5.tar.gz.tmp" \
    && mv "$2/$5.tar.gz.tmp" "$2/$5.tar.gz"
}

# platform_http_get CONTAINER PORT PATH: the container answers 2xx or 3xx. Asked from this
# host at the container's address (nothing needed in the image), or, when the host has no
# curl or cannot reach the container's network, with wget inside the container.
platform_http_get() {
  local address code rc=0
  if command -v curl >/dev/null && address=$(platform_address_of "$1") && [[ -n $address ]]; then
    code=$(curl --silent --output /dev/null --connect-timeout 2 --max-time 5 \
      --write-out '%{http_code}' "http://$address:$2$3") || rc=$?
    case $rc in
      0) [[ $code == [23]?? ]]; return ;;
      7 | 52 | 56) return 1 ;;  # refused, empty reply, reset: reachable, not answering yet
    esac
  fi
  docker exec "$1" wget -q -O /dev/null "http://127.0.0.1:$2$3"
}

platform_http_check() {  # COMPOSE_PROJECT SERVICE PORT PATH TIMEOUT
  local container deadline
  container=$(platform_container_of "$1" "$2")
  [[ -n $container ]] || { platform_die "no running container for service $2"; return 1; }
  deadline=$(($(platform_epoch) + $5))
  until platform_http_get "$container" "$3" "$4"; do
    if (($(platform_epoch) >= deadline)); then
      platform_die "http://$2:$3$4 did not answer within $5s; last log lines:"
      docker logs --tail 20 "$container" >&2 || true
      return 1
    fi
    sleep 1
  done
}

platform_point_current() {  # BASE RELEASE: atomically (rename) point current at a release
  ln -sfn "releases/$2" "$1/current.tmp" && mv -T "$1/current.tmp" "$1/current"
}

# platform_check_release BASE RELEASE|current COMPOSE_PROJECT TIMEOUT [PROXY_DIR HTTP HTTPS]:
# the HTTP checks recorded with that release, so a restored release is judged by its own
# routes: through the proxy when it has one (the routes nginx now serves), else at each
# container (health.tsv, platform_http_get).
platform_check_release() {
  local dir=$1/releases/$2 service port path
  [[ $2 == current ]] && dir=$1/current
  if [[ -n ${5:-} && -f $dir/nginx.tsv ]]; then
    platform_proxy_check "$5" "$3" "$6" "$7" "$4"
    return
  fi
  if [[ ! -f $dir/health.tsv ]]; then
    platform_log "    no health checks recorded with $(basename "$(readlink -f "$dir")")"
    return 0
  fi
  while IFS=$'\t' read -r service port path; do
    platform_http_check "$3" "$service" "$port" "$path" "$4" || return 1
  done <"$dir/health.tsv"
}

# platform_record_release BASE RELEASE: release.json is the plan's draft (release.draft.json)
# completed with what only the host knows: the plan's id, the time, the digests it pulled, the
# outcome; then `current` points at it.
platform_record_release() {
  local base=$1 dir=$1/releases/$2 draft record
  draft=$(<"$dir/release.draft.json") || return 1
  record=$(platform_json_extend "$draft" plan "$PLATFORM_PLAN_ID" deployed_at "$(platform_now)" \
    outcome deployed '#digests' "$(<"$dir/digests.json")") || return 1
  printf '%s\n' "$record" >"$dir/release.json.tmp" && mv "$dir/release.json.tmp" "$dir/release.json" ||
    return 1
  platform_point_current "$base" "$2" || return 1
  platform_history_event deployed "" || return 1
  PLATFORM_STAGED=
}

platform_record_rollback() {  # BASE RELEASE: after a manual rollback to RELEASE
  local previous=''
  [[ -L $1/current ]] && previous=$(basename "$(readlink "$1/current")")
  platform_point_current "$1" "$2" || return 1
  platform_history_append "$1" event rollback outcome restored actor "$PLATFORM_ACTOR" \
    plan "$PLATFORM_PLAN_ID" release "$2" from_release "$previous"
}

# platform_prune_releases BASE KEEP: the newest KEEP good releases stay, and the current one
# always (a rollback may have made an older one current); every other release directory goes:
# older good ones, and those older than the current one that never completed a deploy (a
# failed deploy removes its own; one killed before it could is removed here). A newer one
# that has not completed may be another deploy's, under way (its lock broken by hand): it
# stays. Failed releases never count towards KEEP.
platform_prune_releases() {
  local base=$1 keep=$2 current='' release good=0
  [[ -L $base/current ]] && current=$(basename "$(readlink "$base/current")")
  [[ -d $base/releases ]] || return 0
  # Release ids start with a UTC timestamp: name order is age order.
  while read -r release; do
    [[ -n $release ]] || continue
    if platform_release_is_good "$base" "$release"; then
      if ((good < keep)); then
        good=$((good + 1))
        continue
      fi
    elif [[ -z $current || ! $release < $current ]]; then
      continue
    fi
    [[ $release == "$current" ]] && continue
    platform_remove_release "$base" "$release" || return 1
    platform_log "    pruned release $release"
  done < <(ls -1 "$base/releases" | sort -r)
}

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

# --- switching to a release ------------------------------------------------------------
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
  if ((${#fresh[@]} == ${#routed[@]})); then  # nothing routed runs yet: nothing to keep serving
    platform_up "$dir" "$up_timeout" compose --wait --wait-timeout "$up_timeout" \
      --remove-orphans || return 1
  else
    if ((${#others[@]})); then
      platform_log "    in place: ${others[*]}"
      platform_up "$dir" "$up_timeout" compose --wait --wait-timeout "$up_timeout" \
        --remove-orphans --no-deps "${others[@]}" || return 1
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
        mapfile -t new_ids < <(platform_new_containers "$project" "$svc" "${old[$svc]}")
        platform_wait_healthy "$up_timeout" "${new_ids[@]}" && started=1
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
  platform_log "    nginx routes $project to the release; its old workers are done"
  if ((${#retiring[@]})); then
    platform_log "    stopping the old containers of ${changed[*]}"
    docker stop "${retiring[@]}" >/dev/null && docker rm "${retiring[@]}" >/dev/null || return 1
  fi
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
platform_wait_healthy() {
  local deadline=$(($(platform_epoch) + $1)) id state pending
  shift
  (($#)) || { platform_die "no new container started"; return 1; }
  while :; do
    pending=0
    for id in "$@"; do
      state=$(docker inspect -f '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$id") || return 1
      case $state in
        "running healthy" | "running none") ;;
        "running starting" | "created "*) pending=1 ;;
        *) platform_die "container ${id:0:12} is $state"; return 1 ;;
      esac
    done
    ((pending)) || return 0
    if (($(platform_epoch) >= deadline)); then
      platform_die "the new containers were not healthy within $1s"
      return 1
    fi
    sleep 0.2
  done
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

platform_running() {  # PROJECT SERVICE: ids of its running containers
  docker ps --quiet --no-trunc --filter "label=com.docker.compose.project=$1" \
    --filter "label=com.docker.compose.service=$2" --filter status=running
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

# --- the edge proxy (nginx) --------------------------------------------------------------
platform_address_of() {  # CONTAINER: its IP address on its first network
  local ips
  ips=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$1") || return 1
  printf '%s' "${ips%% *}"
}

platform_nginx_master() {  # PID_FILE: the pid of the running nginx master
  local master
  master=$(cat "$1" 2>/dev/null) && [[ $master =~ ^[0-9]+$ ]] && kill -0 "$master" 2>/dev/null ||
    { platform_die "nginx is not running (no live pid in $1): start it, then deploy again"; return 1; }
  printf '%s' "$master"
}

platform_nginx_workers() { ps -o pid= --ppid "$1" | tr -d ' ' | sort; }

# platform_proxy_reload CONF PID_FILE DRAIN: test the whole config with the real nginx, then
# reload gracefully and wait until the workers of the old config have exited (their requests
# done) or DRAIN seconds have passed.
platform_proxy_reload() {
  local conf=$1 pid=$2 drain=$3 master before out deadline worker alive
  out=$(nginx -t -q -c "$conf" 2>&1) || { platform_die "nginx -t failed: $out"; return 1; }
  master=$(platform_nginx_master "$pid") || return 1
  before=$(platform_nginx_workers "$master")
  kill -HUP "$master" || return 1
  deadline=$(($(platform_epoch) + drain + 10))
  while :; do
    alive=0
    for worker in $before; do kill -0 "$worker" 2>/dev/null && alive=1 && break; done
    ((alive == 0)) && break
    if (($(platform_epoch) >= deadline)); then
      platform_log "    warning: nginx workers of the old config still run after ${drain}s"
      break
    fi
    sleep 0.05
  done
}

# platform_proxy_preflight CONF PID_FILE: before anything changes, nginx runs and its config
# as it stands passes `nginx -t` (else a deploy would fail at the switch, and so would its
# rollback).
platform_proxy_preflight() {
  local out
  command -v nginx >/dev/null || { platform_die "nginx is not installed on this host"; return 1; }
  command -v curl >/dev/null || { platform_die "curl is not installed on this host (route checks)"; return 1; }
  platform_nginx_master "$2" >/dev/null || return 1
  out=$(nginx -t -q -c "$1" 2>&1) ||
    { platform_die "nginx -t fails before this deploy changed anything: $out"; return 1; }
}

# platform_proxy_install RELEASE_DIR PROJECT PROXY_DIR CONF PID_FILE DRAIN [RETIRING_ID...]:
# the release's sites (per route: tls when its certificate is there, else plain) and
# upstreams (the routed services' running containers, less the retiring ones); nginx -t, then
# a graceful reload. On any failure the previous files are put back.
platform_proxy_install() {
  local dir=$1 project=$2 pdir=$3 conf=$4 pid=$5 drain=$6
  shift 6
  local skip=" $* " n svc port replicas upstream cert domain path variant id address
  local site='' modes='' upstreams='' servers
  local -A seen=()
  # nginx's own files stay as nginx needs them, 0644 in 0755 directories (unlike tenant data:
  # its workers may run as another user); they hold routes and container addresses only.
  (umask 022 && mkdir -p "$pdir/sites" "$pdir/upstreams") || return 1
  while IFS=$'\t' read -r n svc port replicas upstream cert domain path; do
    variant=plain
    [[ -s $cert/fullchain.pem && -s $cert/privkey.pem ]] && variant=tls
    site+=$(<"$dir/nginx-$n.$variant.conf")$'\n'
    modes+="$n"$'\t'"$variant"$'\t'"$domain"$'\t'"$cert"$'\t'"$path"$'\n'
    [[ -n ${seen[$upstream]:-} ]] && continue
    seen[$upstream]=1
    servers=''
    for id in $(platform_running "$project" "$svc"); do
      [[ $skip == *" $id "* ]] && continue
      address=$(platform_address_of "$id") || return 1
      [[ -n $address ]] && servers+="    server $address:$port;"$'\n'
    done
    [[ -n $servers ]] || servers="    server 127.0.0.1:9 down;  # no running container"$'\n'
    upstreams+="upstream $upstream {"$'\n'"$servers"'    keepalive 8;'$'\n''}'$'\n'
  done <"$dir/nginx.tsv"
  # Written beside their places first, named for this project (the shared http.conf too: other
  # tenants may deploy at the same time) and matching no include; moved under the lock.
  local new=".$project.new"
  (
    umask 022
    cp "$dir/nginx-http.conf" "$pdir/http.conf$new" && chmod 0644 "$pdir/http.conf$new" &&
      printf '%s' "$upstreams" >"$pdir/upstreams/$project.conf$new" &&
      printf '%s' "$site" >"$pdir/sites/$project.conf$new" &&
      printf '%s' "$modes" >"$pdir/sites/$project.routes$new"
  ) || return 1
  platform_proxy_locked "$pdir" platform_proxy_swap "$pdir" "$conf" "$pid" "$drain" "$new" \
    "http.conf" "upstreams/$project.conf" "sites/$project.conf" "sites/$project.routes"
}

# platform_proxy_swap PROXY_DIR CONF PID_FILE DRAIN SUFFIX FILE...: each FILE<SUFFIX> takes
# FILE's place, then nginx -t and a reload; if either fails, every FILE is put back as it was.
platform_proxy_swap() {
  local pdir=$1 conf=$2 pid=$3 drain=$4 new=$5 f ok=1
  shift 5
  for f in "$@"; do
    if [[ -f $pdir/$f ]]; then cp -p "$pdir/$f" "$pdir/$f.previous"; else rm -f "$pdir/$f.previous"; fi
  done
  for f in "$@"; do mv -f "$pdir/$f$new" "$pdir/$f" || { ok=0; break; }; done
  ((ok)) && platform_proxy_reload "$conf" "$pid" "$drain" && return 0
  platform_log "    putting the previous proxy config back"
  for f in "$@"; do
    rm -f "$pdir/$f$new"
    if [[ -f $pdir/$f.previous ]]; then mv -f "$pdir/$f.previous" "$pdir/$f"; else rm -f "$pdir/$f"; fi
  done
  return 1
}

# platform_proxy_locked PROXY_DIR COMMAND...: COMMAND holding the host's proxy lock, so that
# one deploy at a time (whichever tenant's) changes nginx's files and reloads it.
platform_proxy_locked() {
  local pdir=$1
  shift
  (
    flock -w 120 9 || { platform_die "another deploy held $pdir/.lock for 120s"; exit 1; }
    "$@"
  ) 9>>"$pdir/.lock"
}

# platform_proxy_drop PROXY_DIR CONF PID_FILE PROJECT...: those compose projects serve no
# domain any more (a release without routes, a removed tenant): their sites and upstreams go,
# and nginx reloads. Nothing to do for projects without files.
platform_proxy_drop() {
  local pdir=$1 conf=$2 pid=$3 project found=0
  shift 3
  for project in "$@"; do
    [[ -f $pdir/sites/$project.conf || -f $pdir/upstreams/$project.conf ]] && found=1
  done
  ((found)) || return 0
  platform_proxy_locked "$pdir" platform_proxy_unlink_and_reload "$pdir" "$conf" "$pid" "$@"
}

platform_proxy_unlink_and_reload() {  # PROXY_DIR CONF PID_FILE PROJECT...
  local pdir=$1 conf=$2 pid=$3 project
  shift 3
  for project in "$@"; do
    rm -f "$pdir/sites/$project.conf" "$pdir/upstreams/$project.conf" "$pdir/sites/$project.routes"
  done
  platform_proxy_reload "$conf" "$pid" 0
}

# platform_proxy_refresh BASE PROJECT PROXY_DIR CONF PID_FILE ACTOR LOCK_WAIT LOCK_EXPIRY: the
# current release's routes installed again, under the deploy lock: a certificate that arrived
# since (certbot certonly) switches its route to HTTPS; upstreams follow the running containers.
platform_proxy_refresh() {
  local base=$1 project=$2 pdir=$3 conf=$4 pid=$5 rc=0
  if [[ ! -f $base/current/nginx.tsv ]]; then
    platform_log "    $project: nothing to refresh (no current release with routes)"
    return 0
  fi
  platform_lock_acquire "$base" "$6" "proxy-refresh" "$7" "$8" || return 1
  trap platform_cleanup EXIT
  platform_proxy_install "$base/current" "$project" "$pdir" "$conf" "$pid" 0 || rc=$?
  platform_lock_release "$base"
  ((rc == 0)) && platform_log "    $project: routes installed again"
  return "$rc"
}

# platform_proxy_prune PROXY_DIR CONF PID_FILE DRY_RUN KEEP...: the sites and upstreams of
# compose projects not among KEEP (tenants or environments no longer placed on this host)
# leave nginx, which is tested and reloaded. Their containers, volumes and releases stay.
platform_proxy_prune() {
  local pdir=$1 conf=$2 pid=$3 dry=$4 file project
  shift 4
  local keep=" $* "
  local -a stale=()
  [[ -d $pdir/sites ]] || return 0
  for file in "$pdir"/sites/*.conf "$pdir"/upstreams/*.conf; do
    [[ -e $file ]] || continue
    project=$(basename "$file" .conf)
    [[ $keep == *" $project "* || " ${stale[*]} " == *" $project "* ]] || stale+=("$project")
  done
  ((${#stale[@]})) || return 0
  printf '%s\n' "${stale[@]}"
  [[ $dry == 1 ]] && return 0
  platform_proxy_drop "$pdir" "$conf" "$pid" "${stale[@]}"
}

# platform_route_check VARIANT DOMAIN PATH HTTP_PORT HTTPS_PORT TIMEOUT: one route through
# nginx on this host, as a visitor reaches it (its Host name; HTTPS when it has its
# certificate), until it answers 2xx or 3xx on PATH or TIMEOUT passes. Prints "URL CODE".
platform_route_check() {
  local variant=$1 domain=$2 path=$3 http=$4 https=$5 timeout=$6 url code deadline
  local -a how=(--resolve "$domain:$http:127.0.0.1")
  url="http://$domain:$http$path"
  if [[ $variant == tls ]]; then
    how=(--insecure --resolve "$domain:$https:127.0.0.1")
    url="https://$domain:$https$path"
  fi
  deadline=$(($(platform_epoch) + timeout))
  while :; do
    code=$(curl --silent --output /dev/null --max-time 5 --write-out '%{http_code}' \
      "${how[@]}" "$url") || code=000
    [[ $code == [23]?? ]] && break
    (($(platform_epoch) >= deadline)) && break
    sleep 0.5
  done
  printf '%s %s\n' "$url" "$code"
  [[ $code == [23]?? ]]
}

# platform_proxy_check PROXY_DIR PROJECT HTTP_PORT HTTPS_PORT TIMEOUT: every route nginx now
# serves for the project.
platform_proxy_check() {
  local pdir=$1 project=$2 n variant domain cert path out
  [[ -f $pdir/sites/$project.routes ]] || { platform_die "no routes of $project installed in $pdir"; return 1; }
  while IFS=$'\t' read -r n variant domain cert path; do
    if ! out=$(platform_route_check "$variant" "$domain" "$path" "$3" "$4" "$5"); then
      platform_die "route $n: $out through the proxy (wanted 2xx or 3xx within $5s)"
      return 1
    fi
  done <"$pdir/sites/$project.routes"
}

platform_cert_expiry() {  # CERT_DIR: openssl's notAfter of its fullchain.pem, or nothing
  local end=''
  if [[ -s $1/fullchain.pem ]] && command -v openssl >/dev/null; then
    end=$(openssl x509 -noout -enddate -in "$1/fullchain.pem" 2>/dev/null) || end=''
  fi
  printf '%s' "${end#notAfter=}"
}

# platform_proxy_health PROXY_DIR PROJECT HTTP_PORT HTTPS_PORT TIMEOUT: one line per route,
# "ok|warn|FAIL URL CODE [certificate ...]"; non-zero when a route fails or its certificate
# has expired (warn: it expires within 14 days).
platform_proxy_health() {
  local pdir=$1 project=$2 n variant domain cert path out failed=0 verdict note
  if [[ ! -f $pdir/sites/$project.routes ]]; then
    printf 'FAIL no routes of %s installed in %s\n' "$project" "$pdir"
    return 1
  fi
  while IFS=$'\t' read -r n variant domain cert path; do
    verdict=ok note=''
    out=$(platform_route_check "$variant" "$domain" "$path" "$3" "$4" "$5") || verdict=FAIL
    if [[ $variant == tls ]] && command -v openssl >/dev/null; then
      note=" certificate until $(platform_cert_expiry "$cert")"
      if ! openssl x509 -noout -checkend 0 -in "$cert/fullchain.pem" >/dev/null 2>&1; then
        verdict=FAIL note+=" (expired)"
      elif ! openssl x509 -noout -checkend 1209600 -in "$cert/fullchain.pem" >/dev/null 2>&1; then
        [[ $verdict == ok ]] && verdict=warn
        note+=" (renew it: less than 14 days left)"
      fi
    elif [[ $variant == plain ]]; then
      note=" HTTP only: no certificate in $cert"
    fi
    [[ $verdict == FAIL ]] && failed=1
    printf '%-4s %s%s\n' "$verdict" "$out" "$note"
  done <"$pdir/sites/$project.routes"
  return "$failed"
}

# platform_routes_json PROXY_DIR PROJECT: the routes nginx serves for the project, with their
# certificates' expiry, as a JSON array.
platform_routes_json() {
  local pdir=$1 project=$2 n variant domain cert path expires first=1
  printf '['
  if [[ -f $pdir/sites/$project.routes ]]; then
    while IFS=$'\t' read -r n variant domain cert path; do
      expires=$(platform_cert_expiry "$cert")
      ((first)) || printf ','
      first=0
      platform_json_object '#route' "$n" mode "$variant" domain "$domain" certificate "$cert" \
        certificate_expires "$expires"
    done <"$pdir/sites/$project.routes"
  fi
  printf ']'
}

# --- the tenant security policy, again on the host (defence in depth) ------------------
# Validation refuses these in configs/; the host refuses them again in the model docker
# compose resolves from the release's own files, with the arguments `up` gets (every profile
# on), so a compose file that reached the host past validation (an edited plan, a bug) never
# starts. Rule ids are validation's. A plan may grant a tenant rules (--grant RULE).
#
# Why reading compose's JSON with bash is sound: `docker compose config --format json` writes
# Go's indented JSON, one token per line: `"key": value`, an array item, or a closing bracket;
# an empty object or array is `{}` / `[]` on its line. A JSON string never holds a raw newline
# or control character (they are written \n, \u0001, ...), so nothing a tenant puts in a value
# can start a line or pass for structure. The walker below tracks objects and arrays by their
# brackets and expects a key exactly where an object member must be; a key or string ends at
# its first unescaped quote (`\\.` consumes escape pairs), so a quote or `": ` inside a value
# cannot end it early. Anything that does not parse as exactly that shape fails the check.
# Values are compared in their JSON encoding, which Go writes one way only (" \ control
# characters, <>& and U+2028/9 escaped): a word such as `host` matches exactly, and a path or
# name with an escape in it never matches an allowed prefix, so it is refused.

# platform_json_walk CALLBACK < JSON: CALLBACK for every scalar (and empty {} or []) of
# indented JSON, seeing the locals `path` (keys from the root; array items by index) and
# `value` (its JSON text). Non-zero on anything that is not such JSON, or when CALLBACK fails.
platform_json_walk() {
  local callback=$1 line rest key value depth=0 began=0
  local -a path=() bracket=() next=()
  local re_close='^([]}]),?$'
  local re_key='^"(([^"\\]|\\.)*)": (.*)$'
  local re_value='^("([^"\\]|\\.)*"|-?[0-9][-+.eE0-9]*|true|false|null|\{\}|\[\]|\{|\[),?$'
  while IFS= read -r line || [[ -n $line ]]; do
    rest=${line#"${line%%[! ]*}"}
    if [[ $rest =~ $re_close ]]; then
      ((depth > 0)) || return 1
      case ${BASH_REMATCH[1]}${bracket[depth - 1]} in '}o' | ']a') ;; *) return 1 ;; esac
      depth=$((depth - 1))
      continue
    fi
    if ((depth == 0)); then
      [[ $began == 0 && $rest == '{' ]] || return 1
      began=1 bracket[0]=o depth=1
      continue
    fi
    if [[ ${bracket[depth - 1]} == o ]]; then
      [[ $rest =~ $re_key ]] || return 1
      key=${BASH_REMATCH[1]} value=${BASH_REMATCH[3]}
    else
      key=${next[depth - 1]} value=$rest
      next[depth - 1]=$((key + 1))
    fi
    [[ $value =~ $re_value ]] || return 1
    value=${BASH_REMATCH[1]}
    path=("${path[@]:0:depth-1}" "$key")
    case $value in
      '{') bracket[depth]=o depth=$((depth + 1)) ;;
      '[') bracket[depth]=a next[depth]=0 depth=$((depth + 1)) ;;
      *) "$callback" || return 1 ;;
    esac
  done
  ((began == 1 && depth == 0))
}

# platform_policy_check BASE RELEASE COMPOSE_PROJECT [--grant RULE]...
#   [--shared-network NAME]... -- COMPOSE_ARGV...: the release's compose model breaks no rule
#   of the tenant security policy (but granted ones); each refusal names its rule and where.
#   Rules: policy.privileged, policy.capabilities (any cap_add), policy.security-opt (all but
#   no-new-privileges, label user/role/type/level and a named apparmor profile),
#   policy.host-namespace (network_mode/pid/ipc host or container:, a service: outside the
#   project, uts/userns_mode/cgroup host, a network driver host), policy.devices (devices,
#   device_cgroup_rules, gpus, device reservations), policy.cgroup-parent,
#   policy.host-bind-mount (every bind mount, npipe, volume driver_opts),
#   policy.docker-socket (a bind of the socket or a directory holding it),
#   policy.foreign-volume (external, a name outside "<project>_", volumes_from container:),
#   policy.foreign-network (external or named outside "<project>_" unless shared, another
#   network_mode, external_links, network drivers but bridge/overlay, driver_opts),
#   policy.host-file (secrets/configs file:, env_file, label_file outside the release),
#   policy.platform-variable (secrets/configs environment: not set by the release's .env, or
#   a PLATFORM_ variable; a ${VAR} the .env does not set but the deploy's environment does).
platform_policy_check() {
  local base=$1 release=$2 project=$3 model files line refusals=0 ref svc key target
  shift 3
  local -A grants=() shared=() services=() env_keys=() vtype=() vsource=()
  local -A vol_name=() vol_external=() net_name=() net_external=() net_driver=() once=()
  local -A exported=()
  while read -r line; do exported[$line]=1; done < <(compgen -e)
  local -a refs=() roots=()
  while (($#)) && [[ $1 != -- ]]; do
    case $1 in
      --grant) grants[$2]=1 ;;
      --shared-network) shared[$2]=1 ;;
      *) platform_die "platform_policy_check: unknown option $1"; return 1 ;;
    esac
    shift 2
  done
  shift
  local dir=$base/releases/$release
  [[ -f $dir/.env ]] || { platform_die "release $release has no .env"; return 1; }
  roots=("$(cd "$dir" && pwd)" "$(cd "$dir" && pwd -P)")
  while IFS= read -r line || [[ -n $line ]]; do
    [[ $line =~ ^([A-Za-z_][A-Za-z0-9_]*)= ]] && env_keys[${BASH_REMATCH[1]}]=1
  done <"$dir/.env"
  # The model holds the release's configuration, secrets included: it is only read, never shown.
  local -a config=(timeout --kill-after=10 "${PLATFORM_STEP_TIMEOUT:-60}" "$@" --profile '*' config
    --format json)
  model=$(cd "$dir" && "${config[@]}") || {
    platform_die "docker compose cannot read the release's compose files"
    return 1
  }
  # Without interpolation, compose keeps env_file and label_file (else read into the model).
  files=$(cd "$dir" && "${config[@]}" --no-interpolate) || return 1
  if ! platform_json_walk platform_policy_fact <<<"$model" ||
    ! platform_json_walk platform_policy_file_fact <<<"$files"; then
    platform_die "the output of docker compose config is not the JSON this check reads"
    return 1
  fi
  platform_policy_resources
  for ref in "${refs[@]}"; do  # "SERVICE KEY X" of `KEY: service:X`: X must be in the project
    read -r svc key target <<<"$ref"
    local -a path=(services "$svc" "$key")
    [[ -n ${services[$target]:-} ]] || platform_policy_refuse policy.host-namespace \
      "shares the namespace of something that is no service of this project"
  done
  if ((refusals)); then
    platform_die "release $release breaks the tenant security policy ($refusals refused); nothing was started"
    return 1
  fi
}

platform_policy_refuse() {  # RULE WHY: unless RULE is granted; where is the caller's `path`
  local where
  where=$(IFS=.; printf '%s' "${path[*]}")
  if [[ -n ${grants[$1]:-} ]]; then
    platform_log "    granted $1: $where $2"
    return 0
  fi
  platform_log "    refused $1: $where $2"
  refusals=$((refusals + 1))
}

platform_policy_refuse_once() {  # DEPTH RULE WHY: once per prefix of DEPTH keys of `path`
  local first
  first=$(IFS=.; printf '%s' "${path[*]:0:$1}")
  [[ -z ${once[$first]:-} ]] || return 0
  once[$first]=1
  local -a path=("${path[@]:0:$1}")
  platform_policy_refuse "$2" "$3"
}

platform_policy_inside() {  # PATH (JSON text): a plain path inside the release directory
  local p=$1 root
  [[ $p != *\\* && $p != *'$'* && /$p/ != */../* && /$p/ != */./* ]] || return 1
  for root in "${roots[@]}"; do [[ $p == "$root"/* ]] && return 0; done
  return 1
}

# Every scalar of the resolved model (platform_json_walk's callback).
platform_policy_fact() {
  local n=${#path[@]} s=$value key
  [[ $s == \"*\" ]] && s=${s:1:${#s}-2}
  case ${path[0]} in
    services)
      ((n >= 2)) && services[${path[1]}]=1
      ((n >= 3)) || return 0
      key=${path[2]}
      case $key:$n in
        privileged:3) [[ $s == false ]] || platform_policy_refuse policy.privileged "is $s" ;;
        cap_add:4) platform_policy_refuse policy.capabilities "adds a capability" ;;
        security_opt:4) platform_policy_security_opt "$s" ||
          platform_policy_refuse policy.security-opt "loosens confinement" ;;
        network_mode:3)
          case $s in
            none | '') ;;
            service:*) refs+=("${path[1]} $key ${s#service:}") ;;
            host | container:*) platform_policy_refuse policy.host-namespace "joins the host's or another container's network" ;;
            *) platform_policy_refuse policy.foreign-network "joins a network outside the project" ;;
          esac ;;
        pid:3 | ipc:3)
          case $key:$s in
            *: | ipc:private | ipc:shareable | ipc:none) ;;
            *:service:*) refs+=("${path[1]} $key ${s#service:}") ;;
            *) platform_policy_refuse policy.host-namespace "shares a namespace outside the project" ;;
          esac ;;
        uts:3 | userns_mode:3) [[ -z $s ]] || platform_policy_refuse policy.host-namespace "is not the container's own" ;;
        cgroup:3) [[ -z $s || $s == private ]] || platform_policy_refuse policy.host-namespace "is not private" ;;
        cgroup_parent:3) [[ -z $s ]] || platform_policy_refuse policy.cgroup-parent "is set" ;;
        devices:* | device_cgroup_rules:* | gpus:*)
          [[ $value == '[]' || $value == null ]] ||
            platform_policy_refuse_once 3 policy.devices "gives host devices" ;;
        deploy:*)
          if [[ $n -ge 6 && ${path[3]}.${path[4]}.${path[5]} == resources.reservations.devices &&
            $value != '[]' ]]; then
            platform_policy_refuse_once 6 policy.devices "reserves host devices"
          fi ;;
        volumes:5)
          case ${path[4]} in
            type) vtype[${path[1]} ${path[3]}]=$s ;;
            source) vsource[${path[1]} ${path[3]}]=$s ;;
          esac ;;
        volumes_from:4) [[ $s != container:* ]] ||
          platform_policy_refuse policy.foreign-volume "mounts the volumes of a container outside the project" ;;
        external_links:4) platform_policy_refuse policy.foreign-network "links a container outside the project" ;;
      esac ;;
    volumes | networks)
      ((n >= 3)) || return 0
      case ${path[0]}:${path[2]}:$n in
        volumes:name:3) vol_name[${path[1]}]=$s ;;
        volumes:external:3) vol_external[${path[1]}]=$s ;;
        volumes:driver_opts:4)
          platform_policy_refuse_once 3 policy.host-bind-mount "sets driver options (a host path or device)" ;;
        networks:name:3) net_name[${path[1]}]=$s ;;
        networks:external:3) net_external[${path[1]}]=$s ;;
        networks:driver:3) net_driver[${path[1]}]=$s ;;
        networks:driver_opts:4) platform_policy_refuse_once 3 policy.foreign-network "sets driver options" ;;
      esac ;;
    secrets | configs)
      ((n == 3)) || return 0
      case ${path[2]} in
        file) platform_policy_inside "$s" ||
          platform_policy_refuse policy.host-file "is a file outside the release" ;;
        environment)
          [[ $s =~ ^[A-Za-z_][A-Za-z0-9_]*$ && $s != PLATFORM_* && -n ${env_keys[$s]:-} ]] ||
            platform_policy_refuse policy.platform-variable "reads a variable the release's .env does not set" ;;
      esac ;;
  esac
  return 0
}

# Every scalar of the model without interpolation: the files compose reads into the model,
# and the variables it interpolates: one the release's .env does not set would be read from
# the deploy's own environment (the registry token, the session's), which compose prefers.
platform_policy_file_fact() {
  local n=${#path[@]} s=$value rest name
  [[ $s == \"*\" ]] && s=${s:1:${#s}-2}
  rest=$s
  while [[ $value == \"* && $rest == *'$'* ]]; do
    rest=${rest#*'$'}
    case $rest in
      '$'*) rest=${rest:1}; continue ;;  # $$: a literal $
      '{'*) name=${rest:1} ;;
      *) name=$rest ;;
    esac
    name=${name%%[!A-Za-z0-9_]*}
    if [[ -n $name && -z ${env_keys[$name]:-} && -n ${exported[$name]:-} ]]; then
      platform_policy_refuse policy.platform-variable "reads a variable of the deploy's environment"
    fi
  done
  [[ ${path[0]} == services ]] || return 0
  case ${path[2]:-}:$n in
    env_file:5) [[ ${path[4]} != path ]] || platform_policy_inside "$s" ||
      platform_policy_refuse policy.host-file "is a file outside the release" ;;
    label_file:4) platform_policy_inside "$s" ||
      platform_policy_refuse policy.host-file "is a file outside the release" ;;
  esac
  return 0
}

platform_policy_security_opt() {  # OPTION: one that only tightens confinement
  case $1 in
    no-new-privileges | no-new-privileges[:=]true | no-new-privileges[:=]false) return 0 ;;
    label[:=]user:* | label[:=]role:* | label[:=]type:* | label[:=]level:*) return 0 ;;
    apparmor[:=]unconfined) return 1 ;;
    apparmor[:=]?*) [[ $1 =~ ^apparmor[:=][A-Za-z0-9._-]+$ ]] ;;
    *) return 1 ;;
  esac
}

platform_policy_keys() {  # ASSOC...: the keys of those associative arrays, sorted, once
  local name
  for name in "$@"; do
    local -n one=$name
    ((${#one[@]} == 0)) || printf '%s\n' "${!one[@]}"
    unset -n one
  done | sort -u
}

# Mounts, volumes and networks, once the whole model is read.
platform_policy_resources() {
  local k name prefix="${project}_"
  while read -r k; do
    [[ -n $k ]] || continue
    local -a path=(services "${k% *}" volumes "${k#* }")
    case ${vtype[$k]} in
      bind)
        case ${vsource[$k]:-} in
          */docker.sock | */docker.sock/* | / | /run | /var | /var/run | /run/docker* | /var/run/docker*)
            platform_policy_refuse policy.docker-socket "mounts the docker socket or a directory holding it" ;;
          *) platform_policy_refuse policy.host-bind-mount "mounts a host path" ;;
        esac ;;
      npipe) platform_policy_refuse policy.host-bind-mount "mounts a host pipe" ;;
    esac
  done < <(platform_policy_keys vtype)
  while read -r k; do
    [[ -n $k ]] || continue
    local -a path=(volumes "$k")
    if [[ ${vol_external[$k]:-false} != false ]]; then
      platform_policy_refuse policy.foreign-volume "is external: not this project's"
    elif [[ ${vol_name[$k]:-} != "$prefix"?* ]]; then
      platform_policy_refuse policy.foreign-volume "is named outside the project ($prefix...)"
    fi
  done < <(platform_policy_keys vol_name vol_external)
  while read -r k; do
    [[ -n $k ]] || continue
    local -a path=(networks "$k")
    name=${net_name[$k]:-$k}
    if [[ -n ${shared[$name]:-} ]]; then
      continue
    elif [[ ${net_external[$k]:-false} != false ]]; then
      platform_policy_refuse policy.foreign-network "is external and not shared by the platform"
    elif [[ $name != "$prefix"?* ]]; then
      platform_policy_refuse policy.foreign-network "is named outside the project ($prefix...)"
    fi
    case ${net_driver[$k]:-} in
      '' | bridge | overlay) ;;
      host) platform_policy_refuse policy.host-namespace "uses the host's network" ;;
      *) platform_policy_refuse policy.foreign-network "uses another network driver" ;;
    esac
  done < <(platform_policy_keys net_name net_external net_driver)
}

# --- reading the host ------------------------------------------------------------------
# platform_facts BASE [COMPOSE_PROJECT [PROXY_DIR]]: JSON of what is deployed, and with a
# compose project its containers too, and with a proxy the routes nginx serves for it (read by
# the platform, not people)
platform_facts() {
  local base=$1 current release record='null' releases='' lock='null' containers
  current=$(platform_current "$base")
  [[ -n $current && -s $base/current/release.json ]] && record=$(<"$base/current/release.json")
  if [[ -d $base/releases ]]; then
    while read -r release; do
      platform_release_is_good "$base" "$release" || continue
      releases+="${releases:+,}$(<"$base/releases/$release/release.json")"
    done < <(ls -1 "$base/releases" | sort -r)
  fi
  # A lock being taken has its directory before its holder: no holder yet reads as unknown.
  [[ -s $base/lock/holder.json ]] && lock=$(<"$base/lock/holder.json")
  [[ -d $base/lock ]] && [[ $lock == null ]] && lock='{}'
  local -a more=()
  if [[ -n ${2:-} ]]; then
    containers=$(docker ps --all --filter "label=com.docker.compose.project=$2" \
      --format '{{json .}}' | paste -sd, -) || return 1
    more+=('#containers' "[$containers]")
  fi
  [[ -z ${3:-} ]] || more+=('#routes' "$(platform_routes_json "$3" "$2")")
  platform_json_object '#version' 1 '?current_release' "$current" '#current' "$record" \
    '#releases' "[$releases]" '#lock' "$lock" "${more[@]}" || return 1
  printf '\n'
}

platform_history() {  # BASE
  [[ -f $1/history.jsonl ]] && cat "$1/history.jsonl"
  return 0
}

platform_lock_break() {  # BASE: explicit recovery from a lock left by a killed deploy
  if [[ ! -d $1/lock ]]; then
    platform_log "no lock held"
    return 0
  fi
  platform_log "releasing lock held by: $(cat "$1/lock/holder.json" 2>/dev/null)"
  rm -rf "$1/lock"
}
# --- backups ---------------------------------------------------------------------------
platform_backups() {  # BASE: one line per backup, "<release>/<file> <bytes>", newest first
  local base=$1 release file
  [[ -d $base/releases ]] || return 0
  while read -r release; do
    for file in "$base/releases/$release/backups"/*; do
      [[ -f $file ]] || continue
      printf '%s/%s %s\n' "$release" "${file##*/}" "$(stat -c %s "$file")"
    done
  done < <(ls -1 "$base/releases" | sort -r)
}

# platform_restore BASE RELEASE FILE LOCK_WAIT LOCK_EXPIRY COMPOSE_PROJECT KIND ARGS...
#   KIND pg_dump: SERVICE DATABASE USER      KIND volume: VOLUME
# platform_restore BASE RELEASE FILE LOCK_WAIT LOCK_EXPIRY PROJECT PROXY_DIR CONF PID_FILE KIND
#   TARGET...: with a proxy, the routes are installed again afterwards (restarted containers
#   may have new addresses).
platform_restore() {
  local base=$1 release=$2 file=$3 wait=$4 expiry=$5 project=$6 pdir=$7 conf=$8 pid=$9
  local kind=${10} path rc=0
  shift 10
  path=$base/releases/$release/backups/$file
  [[ -f $path ]] || { platform_die "no backup $release/$file on this host"; return 1; }
  platform_lock_acquire "$base" "$PLATFORM_ACTOR" "restore $release/$file" "$wait" "$expiry" \
    || return 1
  platform_log "restoring $release/$file ($kind)"
  case $kind in
    pg_dump) platform_restore_pg_dump "$project" "$path" "$@" || rc=$? ;;
    volume) platform_restore_volume "$project" "$path" "$@" || rc=$? ;;
    *) platform_die "unknown backup kind $kind"; rc=1 ;;
  esac
  if ((rc == 0)) && [[ -n $pdir && -f $base/current/nginx.tsv ]]; then
    platform_proxy_install "$base/current" "$project" "$pdir" "$conf" "$pid" 0 || rc=$?
  fi
  platform_history_append "$base" event restore \
    outcome "$( ((rc)) && echo failed || echo restored)" actor "$PLATFORM_ACTOR" \
    release "$(platform_current "$base")" backup "$release/$file"
  platform_lock_release "$base"
  return "$rc"
}

platform_restore_pg_dump() {  # COMPOSE_PROJECT PATH SERVICE DATABASE USER
  local container
  container=$(platform_container_of "$1" "$3")
  [[ -n $container ]] || { platform_die "no running $3 container to restore into"; return 1; }
  docker exec -i "$container" pg_restore --clean --if-exists --no-owner --username "$5" \
    --dbname "$4" <"$2"
}

platform_restore_volume() {  # COMPOSE_PROJECT PATH VOLUME
  local volume=$1_$3 running container destination
  container=$(docker ps --all --quiet --filter "volume=$volume" | head -n 1)
  [[ -n $container ]] || { platform_die "no container uses volume $volume"; return 1; }
  destination=$(docker inspect --format \
    "{{range .Mounts}}{{if eq .Name \"$volume\"}}{{.Destination}}{{end}}{{end}}" "$container")
  running=$(docker ps --quiet --filter "volume=$volume")
  # Stop the writers, replace the volume's content, start them again.
  [[ -z $running ]] || docker stop $running >/dev/null || return 1
  # Empty it first with the tenant's own image (the host may have no other): files made after
  # the backup must not survive a restore.
  if ! docker run --rm --volumes-from "$container" --entrypoint sh \
    "$(docker inspect --format '{{.Image}}' "$container")" \
    -c 'rm -rf "$1"/* "$1"/.[!.]* "$1"/..?*' sh "$destination" >/dev/null 2>&1; then
    platform_log "    warning: could not empty $volume first (the image has no sh);" \
      "files made after the backup remain"
  fi
  gunzip -c "$2" | docker cp - "$container:$destination" || return 1
  [[ -z $running ]] || docker start $running >/dev/null
}
# --- end of platform runtime -----------------------------------------------------------
