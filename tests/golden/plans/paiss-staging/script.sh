#!/usr/bin/env bash
# Deploy plan add84ee48698dbb0be2e6352b630fb3dc0a2568e67dc45696c1cb5cb5f7ff9bd
# paiss/staging, release 20261126T120000Z-ff21ba9c, host staging-1
# Secrets read from the environment at apply time: none
set -euo pipefail
umask 022
# --- platform runtime: functions the plan's steps call on the host ----------------------
# Only bash and the docker CLI are assumed on the host. Every value reaches these functions
# as a separate, already-quoted argument; nothing here builds a command from a string.

platform_now() { date -u +%Y-%m-%dT%H:%M:%SZ; }
platform_epoch() { date -u +%s; }
platform_log() { printf '%s %s\n' "$(platform_now)" "$*" >&2; }
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
  started=$(platform_epoch)
  if [[ $(type -t "$1") == function ]]; then
    PLATFORM_STEP_TIMEOUT=$timeout "$@" || rc=$?
  else
    timeout --kill-after=10 "$timeout" "$@" || rc=$?
  fi
  local took=$(($(platform_epoch) - started))
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
      platform_history_event failed "$id"
      platform_rollback_plan || platform_log "    rollback failed: the host needs attention"
      exit 1 ;;
    *)
      platform_log "    failed: $id (exit $rc, ${took}s); nothing was switched"
      platform_history_event aborted "$id"
      exit 1 ;;
  esac
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
  mkdir -p "$base"
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
    "$(($(platform_epoch) + expiry))" "$$" >"$base/lock/holder.json"
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
      if [[ $value != *"'"* ]]; then
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
  printf '%s' "${!token_var}" | docker login "$1" --username "$2" --password-stdin >/dev/null
}

# platform_in_release BASE RELEASE ARGV...: run ARGV inside the release directory.
platform_in_release() {
  local dir=$1/releases/$2
  shift 2
  (cd "$dir" && timeout --kill-after=10 "${PLATFORM_STEP_TIMEOUT:-600}" "$@")
}

platform_resolve_digests() {  # BASE RELEASE -- COMPOSE_ARGV...
  local dir=$1/releases/$2 image digest first=1
  shift 3
  {
    printf '{'
    while read -r image; do
      [[ -n $image ]] || continue
      digest=$(docker image inspect --format '{{range .RepoDigests}}{{println .}}{{end}}' \
        "$image" | head -n 1)
      [[ -n $digest ]] || digest=$image
      ((first)) || printf ','
      first=0
      printf '%s:%s' "$(platform_json "$image")" "$(platform_json "$digest")"
    done < <(cd "$dir" && "$@" config --images | sort -u)
    printf '}\n'
  } >"$dir/digests.json"
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

platform_record_release() {  # BASE RELEASE ACTOR PLATFORM_SHA
  local base=$1 dir=$1/releases/$2
  {
    printf '{"release":%s,"plan":%s,"actor":%s,"platform_sha":%s,"deployed_at":%s,' \
      "$(platform_json "$2")" "$(platform_json "$PLATFORM_PLAN_ID")" "$(platform_json "$3")" \
      "$(platform_json "$4")" "$(platform_json "$(platform_now)")"
    printf '"outcome":"deployed","images":%s}\n' "$(cat "$dir/digests.json")"
  } >"$dir/release.json.tmp" && mv "$dir/release.json.tmp" "$dir/release.json"
  ln -sfn "releases/$2" "$base/current.tmp" && mv -T "$base/current.tmp" "$base/current"
  platform_history_event deployed ""
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
# --- end of platform runtime -----------------------------------------------------------
PLATFORM_PLAN_ID=add84ee48698dbb0be2e6352b630fb3dc0a2568e67dc45696c1cb5cb5f7ff9bd
PLATFORM_RELEASE=20261126T120000Z-ff21ba9c
PLATFORM_ACTOR=alice
PLATFORM_BASE=/srv/platform/projects/paiss/staging
PLATFORM_STEP_NO=0
PLATFORM_STEP_COUNT=14
PLATFORM_LOCK_HELD=''
PLATFORM_DOCKER_CONFIG=''
trap platform_on_exit EXIT
platform_rollback_plan() {
  platform_step rollback 'Restore the previous release' 360 abort -- platform_rollback /srv/platform/projects/paiss/staging 20261126T120000Z-ff21ba9c 300 -- docker compose --project-name paiss-staging --file docker-compose.yml --file platform.override.yml --env-file .env
  platform_step rollback-health-web-8000 'HTTP health of web:8000/healthz' 70 abort -- platform_http_check paiss-staging web 8000 /healthz 60
}
platform_step lock 'Take the deploy lock' 330 abort -- platform_lock_acquire /srv/platform/projects/paiss/staging alice 20261126T120000Z-ff21ba9c 300 3600
platform_step precondition 'Check the host is as planned' 30 abort -- platform_expect_current /srv/platform/projects/paiss/staging ''
platform_step stage 'Stage the release directory' 30 abort -- platform_stage_release /srv/platform/projects/paiss/staging 20261126T120000Z-ff21ba9c
platform_step write-docker-compose.yml 'Write docker-compose.yml' 30 abort -- platform_write_file /srv/platform/projects/paiss/staging/releases/20261126T120000Z-ff21ba9c/docker-compose.yml 0644 4d922f5f211b89769cacf5b543aba06ebc3c3cd8a125a8caaee63003d6c762c0 <<'PLATFORM_BASE64_END'
c2VydmljZXM6CiAgd2ViOgogICAgcmVzdGFydDogdW5sZXNzLXN0b3BwZWQKICAgIGVudl9maWxl
OiAuZW52CiAgICBoZWFsdGhjaGVjazoKICAgICAgdGVzdDogWyJDTUQiLCAid2dldCIsICItcSIs
ICItTy0iLCAiaHR0cDovLzEyNy4wLjAuMTo4MDAwL2hlYWx0aHoiXQogICAgICBpbnRlcnZhbDog
MTBzCiAgICAgIHRpbWVvdXQ6IDNzCiAgICAgIHJldHJpZXM6IDMK
PLATFORM_BASE64_END
platform_step write-platform.override.yml 'Write platform.override.yml' 30 abort -- platform_write_file /srv/platform/projects/paiss/staging/releases/20261126T120000Z-ff21ba9c/platform.override.yml 0644 911559229e36295c55bd2a55005beb27b4806e3798b92c9125541f594ea57e7c <<'PLATFORM_BASE64_END'
IyBHZW5lcmF0ZWQgYnkgcGxhdGZvcm1fbGliIGZvciBwYWlzcy9zdGFnaW5nLiBEbyBub3QgZWRp
dDogaXQgaXMgcmV3cml0dGVuIG9uIGV2ZXJ5IGRlcGxveS4KewogICJzZXJ2aWNlcyI6IHsKICAg
ICJ3ZWIiOiB7CiAgICAgICJpbWFnZSI6ICJnaGNyLmlvL2V4YW1wbGUtb3JnL3BhaXNzLXdlYkBz
aGEyNTY6MzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMz
MzMzMzMzMzMzMzMzMyIsCiAgICAgICJsYWJlbHMiOiB7CiAgICAgICAgImlvLmdpdGh1Yi5tdWx0
aS10ZW5hbnQtcGxhdGZvcm0uZW52aXJvbm1lbnQiOiAic3RhZ2luZyIsCiAgICAgICAgImlvLmdp
dGh1Yi5tdWx0aS10ZW5hbnQtcGxhdGZvcm0ucHJvamVjdCI6ICJwYWlzcyIKICAgICAgfQogICAg
fQogIH0KfQo=
PLATFORM_BASE64_END
platform_step write-env 'Write .env' 30 abort -- platform_write_file /srv/platform/projects/paiss/staging/releases/20261126T120000Z-ff21ba9c/.env 0600 875002c0d43b0d916494cbe998c66bc47d1c4fa4ed07bc5d79791a5cee717ace <<'PLATFORM_BASE64_END'
IyBHZW5lcmF0ZWQgYnkgcGxhdGZvcm1fbGliIGZvciBwYWlzcy9zdGFnaW5nLiBEbyBub3QgZWRp
dDogaXQgaXMgcmV3cml0dGVuIG9uIGV2ZXJ5IGRlcGxveS4KIyBmcm9tIGNvbmZpZ3MvcGFpc3Mv
LmVudi5zdGFnaW5nClBBSVNTX01PREU9c3RhZ2luZwpXT1JLRVJTPTEKIyBwcm92aWRlZCBieSB0
aGUgcGxhdGZvcm0KUExBVEZPUk1fQ09NUE9TRV9QUk9KRUNUPSdwYWlzcy1zdGFnaW5nJwpQTEFU
Rk9STV9ET01BSU49J3N0YWdpbmcucGFpc3MubWUnClBMQVRGT1JNX0VOVklST05NRU5UPSdzdGFn
aW5nJwpQTEFURk9STV9JTUFHRV9XRUI9J2doY3IuaW8vZXhhbXBsZS1vcmcvcGFpc3Mtd2ViQHNo
YTI1NjozMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMz
MzMzMzMzMzMzMzMzJwpQTEFURk9STV9QUk9KRUNUPSdwYWlzcycKUExBVEZPUk1fUkVMRUFTRT0n
MjAyNjExMjZUMTIwMDAwWi1mZjIxYmE5YycK
PLATFORM_BASE64_END
platform_step login 'Log in to ghcr.io' 60 abort -- platform_registry_login ghcr.io platform-bot REGISTRY_TOKEN
platform_step pull 'Pull every image before anything stops' 600 abort -- platform_in_release /srv/platform/projects/paiss/staging 20261126T120000Z-ff21ba9c docker compose --project-name paiss-staging --file docker-compose.yml --file platform.override.yml --env-file .env pull --quiet
platform_step digests 'Resolve image digests' 60 abort -- platform_resolve_digests /srv/platform/projects/paiss/staging 20261126T120000Z-ff21ba9c -- docker compose --project-name paiss-staging --file docker-compose.yml --file platform.override.yml --env-file .env
platform_step switch 'Start the new release and wait until healthy' 330 rollback -- platform_in_release /srv/platform/projects/paiss/staging 20261126T120000Z-ff21ba9c docker compose --project-name paiss-staging --file docker-compose.yml --file platform.override.yml --env-file .env up --detach --wait --wait-timeout 300 --remove-orphans
platform_step health-web-8000 'HTTP health of web:8000/healthz' 70 rollback -- platform_http_check paiss-staging web 8000 /healthz 60
platform_step record 'Record the release and point current at it' 30 rollback -- platform_record_release /srv/platform/projects/paiss/staging 20261126T120000Z-ff21ba9c alice 0123456789abcdef0123456789abcdef01234567
platform_step prune 'Keep the newest 5 releases' 60 warn -- platform_prune_releases /srv/platform/projects/paiss/staging 5
platform_step unlock 'Release the deploy lock' 30 warn -- platform_lock_release /srv/platform/projects/paiss/staging
