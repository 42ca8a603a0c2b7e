# shellcheck shell=bash
# runtime/lock.sh: the deploy lock of a tenant+environment (lock/holder.json: LockHolder).

# platform_lock_acquire BASE ACTOR RELEASE WAIT EXPIRY [PROJECT PROXY(4)]: with the compose
# project (every plan's lock step, a restore), a rollout a killed deploy left unfinished
# (BASE/rollout while this holds the lock) is undone first, whatever follows
# (platform_canary_recover).
platform_lock_acquire() {
  local base=$1 actor=$2 release=$3 wait=$4 expiry=$5 deadline now expires held
  local re_expires='"expires_epoch"[[:space:]]*:[[:space:]]*([0-9]+)'
  mkdir -p "$base" || return 1
  deadline=$(($(platform_epoch) + wait))
  while ! mkdir "$base/lock" 2>/dev/null; do
    now=$(platform_epoch) expires='' held=''
    [[ -r $base/lock/holder.json ]] && held=$(<"$base/lock/holder.json")
    [[ $held =~ $re_expires ]] && expires=${BASH_REMATCH[1]}
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
  platform_logins_sweep "$base"
  # Under the lock the deploy's starting point is settled: the outcome record names it.
  [[ $base != "${PLATFORM_BASE:-}" ]] || PLATFORM_PREVIOUS=$(platform_current "$base")
  (($# < 6)) || platform_canary_recover "$base" "${@:6}"
}

platform_lock_release() {  # BASE
  if [[ ${PLATFORM_LOCK_HELD:-} == "$1" ]]; then
    rm -rf "$1/lock"
    PLATFORM_LOCK_HELD=
  fi
}

platform_lock_break() {  # BASE: explicit recovery from a lock left by a killed deploy
  if [[ ! -d $1/lock ]]; then
    platform_log "no lock held"
    platform_logins_sweep "$1"
    return 0
  fi
  platform_log "releasing lock held by: $(cat "$1/lock/holder.json" 2>/dev/null)"
  rm -rf "$1/lock"
  platform_logins_sweep "$1"
}
