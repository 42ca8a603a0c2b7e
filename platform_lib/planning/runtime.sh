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
platform_die() { platform_log "error: $*"; return 1; }

# JSON string literal of $1 (escapes backslash, quote and control characters).
platform_json() {
  local s=$1 out='' c i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case $c in
      '\') out+='\\' ;;
      '"') out+='\"' ;;
      $'\n') out+='\n' ;;
      $'\r') out+='\r' ;;
      $'\t') out+='\t' ;;
      *)
        if [[ $c < ' ' ]]; then out+=$(printf '\\u%04x' "'$c"); else out+=$c; fi ;;
    esac
  done
  printf '"%s"' "$out"
}

# platform_step ID TITLE TIMEOUT ON_FAILURE -- ARGV...
platform_step() {
  local id=$1 title=$2 timeout=$3 on_failure=$4 started rc=0
  shift 5
  PLATFORM_STEP_NO=$((PLATFORM_STEP_NO + 1))
  platform_log "[$PLATFORM_STEP_NO/$PLATFORM_STEP_COUNT] $title"
  started=$(platform_millis)
  if [[ $(type -t "$1") == function ]]; then
    PLATFORM_STEP_TIMEOUT=$timeout "$@" || rc=$?
  else
    timeout --kill-after=10 "$timeout" "$@" || rc=$?
  fi
  local took
  took=$(platform_seconds_since "$started")
  if ((rc == 0)); then
    platform_log "    ok: $id (${took}s)"
    return 0
  fi
  ((rc == 124)) && platform_log "    timed out after ${timeout}s: $id"
  PLATFORM_FAILED_STEP=$id
  case $on_failure in
    warn)
      platform_log "    warning: $id failed (exit $rc, ${took}s); continuing"
      return 0 ;;
    rollback)
      platform_log "    failed: $id (exit $rc, ${took}s); rolling back"
      platform_failure_report "$PLATFORM_COMPOSE_PROJECT"
      platform_history_event failed "$id"
      PLATFORM_IN_ROLLBACK=1
      platform_rollback_plan
      exit 1 ;;
    *)
      if [[ -n ${PLATFORM_IN_ROLLBACK:-} ]]; then
        platform_log "    ROLLBACK FAILED at $id (exit $rc): the host needs attention"
        platform_history_event rollback-failed "$id"
        exit 3
      fi
      platform_log "    failed: $id (exit $rc, ${took}s); nothing was switched"
      platform_history_event aborted "$id"
      exit 1 ;;
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

platform_history_event() {  # OUTCOME STEP
  [[ -n ${PLATFORM_BASE:-} && -d $PLATFORM_BASE ]] || return 0
  printf '{"at":%s,"event":"deploy","outcome":%s,"release":%s,"plan":%s,"actor":%s,"step":%s}\n' \
    "$(platform_json "$(platform_now)")" "$(platform_json "$1")" \
    "$(platform_json "$PLATFORM_RELEASE")" "$(platform_json "$PLATFORM_PLAN_ID")" \
    "$(platform_json "$PLATFORM_ACTOR")" "$(platform_json "$2")" >>"$PLATFORM_BASE/history.jsonl"
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
  printf '{"actor":%s,"release":%s,"plan":%s,"started":%s,"expires_epoch":%s,"pid":%s}\n' \
    "$(platform_json "$actor")" "$(platform_json "$release")" \
    "$(platform_json "$PLATFORM_PLAN_ID")" "$(platform_json "$(platform_now)")" \
    "$(($(platform_epoch) + expiry))" "$$" >"$base/lock/holder.json" || return 1
  PLATFORM_LOCK_HELD=$base
}

platform_lock_release() {  # BASE
  if [[ ${PLATFORM_LOCK_HELD:-} == "$1" ]]; then
    rm -rf "$1/lock"
    PLATFORM_LOCK_HELD=
  fi
}

platform_on_exit() {
  local rc=$?
  [[ -n ${PLATFORM_DOCKER_CONFIG:-} ]] && rm -rf "$PLATFORM_DOCKER_CONFIG"
  [[ -n ${PLATFORM_LOCK_HELD:-} ]] && platform_lock_release "$PLATFORM_LOCK_HELD"
  return "$rc"
}

# --- release files ---------------------------------------------------------------------
platform_expect_current() {  # BASE EXPECTED ("" = nothing deployed yet)
  local actual=''
  [[ -L $1/current ]] && actual=$(basename "$(readlink "$1/current")")
  [[ $actual == "$2" ]] && return 0
  platform_die "stale plan: the host's current release is '${actual:-none}', the plan was made \
against '${2:-none}'. Make a new plan."
}

platform_stage_release() {  # BASE RELEASE
  local dir=$1/releases/$2
  [[ -e $dir/release.json ]] && { platform_die "release $2 already exists on the host"; return 1; }
  rm -rf "$dir"
  mkdir -p "$dir/backups"
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
  local dir=$1/releases/$2 pair image digest found output first=1 i=0
  shift 2
  local -a images=() digests=()
  for pair in "$@"; do images+=("${pair#*=}"); done
  if ((${#images[@]})); then
    output=$(docker image inspect --format '{{range .RepoDigests}}{{.}} {{end}}' \
      "${images[@]}") || return 1
    mapfile -t digests <<<"$output"
  fi
  {
    printf '{"services":{'
    for pair in "$@"; do
      image=${pair#*=} found=${pair#*=}
      for digest in ${digests[i]:-}; do
        if [[ $digest == "$(platform_repository "$image")@"* ]]; then
          found=$digest
          break
        fi
      done
      i=$((i + 1))
      ((first)) || printf ','
      first=0
      printf '%s:%s' "$(platform_json "${pair%%=*}")" "$(platform_json "$found")"
    done
    printf '}}\n'
  } >"$dir/digests.json.tmp" && mv "$dir/digests.json.tmp" "$dir/digests.json"
}

platform_container_of() {  # COMPOSE_PROJECT SERVICE
  docker ps --quiet --filter "label=com.docker.compose.project=$1" \
    --filter "label=com.docker.compose.service=$2" | head -n 1
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

platform_http_check() {  # COMPOSE_PROJECT SERVICE PORT PATH TIMEOUT
  local container deadline
  container=$(platform_container_of "$1" "$2")
  [[ -n $container ]] || { platform_die "no running container for service $2"; return 1; }
  deadline=$(($(platform_epoch) + $5))
  until docker exec "$container" wget -q -O /dev/null "http://127.0.0.1:$3$4"; do
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

# platform_check_release BASE RELEASE|current COMPOSE_PROJECT TIMEOUT: the HTTP checks recorded
# with that release (health.tsv), so a restored release is judged by its own routes.
platform_check_release() {
  local dir=$1/releases/$2 service port path
  [[ $2 == current ]] && dir=$1/current
  if [[ ! -f $dir/health.tsv ]]; then
    platform_log "    no health checks recorded with $(basename "$(readlink -f "$dir")")"
    return 0
  fi
  while IFS=$'\t' read -r service port path; do
    platform_http_check "$3" "$service" "$port" "$path" "$4" || return 1
  done <"$dir/health.tsv"
}

platform_record_release() {  # BASE RELEASE ACTOR PLATFORM_SHA
  local base=$1 dir=$1/releases/$2
  {
    printf '{"release":%s,"plan":%s,"actor":%s,"platform_sha":%s,"deployed_at":%s,' \
      "$(platform_json "$2")" "$(platform_json "$PLATFORM_PLAN_ID")" "$(platform_json "$3")" \
      "$(platform_json "$4")" "$(platform_json "$(platform_now)")"
    printf '"outcome":"deployed","digests":%s}\n' "$(cat "$dir/digests.json")"
  } >"$dir/release.json.tmp" && mv "$dir/release.json.tmp" "$dir/release.json" || return 1
  platform_point_current "$base" "$2" || return 1
  platform_history_event deployed ""
}

platform_record_rollback() {  # BASE RELEASE: after a manual rollback to RELEASE
  local previous=''
  [[ -L $1/current ]] && previous=$(basename "$(readlink "$1/current")")
  platform_point_current "$1" "$2" || return 1
  printf '{"at":%s,"event":"rollback","outcome":"restored","release":%s,"from_release":%s,"plan":%s,"actor":%s}\n' \
    "$(platform_json "$(platform_now)")" "$(platform_json "$2")" "$(platform_json "$previous")" \
    "$(platform_json "$PLATFORM_PLAN_ID")" "$(platform_json "$PLATFORM_ACTOR")" >>"$1/history.jsonl"
}

platform_prune_releases() {  # BASE KEEP
  local base=$1 keep=$2 current='' release
  [[ -L $base/current ]] && current=$(basename "$(readlink "$base/current")")
  # Release ids start with a UTC timestamp: name order is age order.
  while read -r release; do
    [[ $release == "$current" ]] && continue
    rm -rf "${base:?}/releases/$release"
    platform_log "    pruned release $release"
  done < <(ls -1 "$base/releases" | sort -r | tail -n "+$((keep + 1))")
}

platform_rollback() {  # BASE FAILED_RELEASE UP_TIMEOUT -- COMPOSE_ARGV...
  local base=$1 failed=$2 up_timeout=$3 previous=''
  shift 4
  [[ -L $base/current ]] && previous=$(basename "$(readlink "$base/current")")
  if [[ -z $previous ]]; then
    platform_log "    no previous release: stopping the failed first release"
    (cd "$base/releases/$failed" && "$@" down --remove-orphans) || true
    return 0
  fi
  platform_log "    restoring release $previous"
  (cd "$base/releases/$previous" && timeout "$((up_timeout + 30))" \
    "$@" up --detach --wait --wait-timeout "$up_timeout" --remove-orphans) || return 1
  printf '{"at":%s,"event":"rollback","outcome":"restored","release":%s,"failed_release":%s,"plan":%s,"actor":%s}\n' \
    "$(platform_json "$(platform_now)")" "$(platform_json "$previous")" \
    "$(platform_json "$failed")" "$(platform_json "$PLATFORM_PLAN_ID")" \
    "$(platform_json "$PLATFORM_ACTOR")" >>"$base/history.jsonl"
}
# --- reading the host ------------------------------------------------------------------
# platform_facts BASE [COMPOSE_PROJECT]: JSON of what is deployed, and with a compose project
# its containers too (read by the platform, not people)
platform_facts() {
  local base=$1 current='' release first=1 containers
  [[ -L $base/current ]] && current=$(basename "$(readlink "$base/current")")
  printf '{"current_release":%s,"current":' "$(platform_json "$current")"
  if [[ -n $current && -f $base/current/release.json ]]; then cat "$base/current/release.json"
  else printf 'null'; fi
  printf ',"releases":['
  if [[ -d $base/releases ]]; then
    while read -r release; do
      [[ -f $base/releases/$release/release.json ]] || continue
      ((first)) || printf ','
      first=0
      cat "$base/releases/$release/release.json"
    done < <(ls -1 "$base/releases" | sort -r)
  fi
  printf '],"lock":'
  if [[ -f $base/lock/holder.json ]]; then cat "$base/lock/holder.json"; else printf 'null'; fi
  if [[ -n ${2:-} ]]; then
    containers=$(docker ps --all --filter "label=com.docker.compose.project=$2" \
      --format '{{json .}}' | paste -sd, -) || return 1
    printf ',"containers":[%s]' "$containers"
  fi
  printf '}\n'
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
platform_restore() {
  local base=$1 release=$2 file=$3 wait=$4 expiry=$5 project=$6 kind=$7 path rc=0
  shift 7
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
  printf '{"at":%s,"event":"restore","outcome":%s,"backup":%s,"actor":%s}\n' \
    "$(platform_json "$(platform_now)")" "$(platform_json "$( ((rc)) && echo failed || echo restored)")" \
    "$(platform_json "$release/$file")" "$(platform_json "$PLATFORM_ACTOR")" >>"$base/history.jsonl"
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
