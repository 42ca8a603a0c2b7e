# shellcheck shell=bash
# runtime/registry.sh: registry login (a private docker config), image digests.

platform_registry_login() {  # REGISTRY USER TOKEN_VARIABLE
  local token_var=$3
  [[ -n ${!token_var:-} ]] || { platform_die "secret $token_var is not set"; return 1; }
  # A private docker config for this deploy only, in the tenant+environment's own directory
  # (0700; nothing of it in /tmp): the EXIT trap removes it; one a killed script left is
  # removed by the next lock taken there, or by `lock release` (platform_logins_sweep).
  local logins=${PLATFORM_BASE:?}/logins
  mkdir -p "$logins" && chmod 0700 "$logins" || return 1
  rm -rf "${logins:?}/$$"
  mkdir -m 0700 "$logins/$$" || return 1
  PLATFORM_DOCKER_CONFIG=$logins/$$
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

# platform_logins_sweep BASE: remove the registry logins (BASE/logins/<pid>) of scripts that
# are gone: a script killed (SIGKILL) before its EXIT trap could remove its own.
platform_logins_sweep() {
  local dir pid
  for dir in "$1"/logins/*/; do
    dir=${dir%/} pid=${dir##*/}
    [[ -d $dir && $pid =~ ^[0-9]+$ && $pid != "$$" ]] || continue
    kill -0 "$pid" 2>/dev/null && continue
    rm -rf "$dir" && platform_log "    removed the registry login left by process $pid (gone)"
  done
  return 0
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
