# shellcheck shell=bash
# runtime/release.sh: release directories: staging, files, secrets, the record, current, retention.

# platform_expect_current BASE EXPECTED ("" = nothing deployed yet): under the lock, the host
# still runs what the plan was made against. Else another deploy finished meanwhile (while
# this one waited for the lock): it is named, with who made it; nothing is changed.
platform_expect_current() {
  local actual='' by='' record re_actor='"actor"[[:space:]]*:[[:space:]]*"([^"\\]*)"'
  [[ -L $1/current ]] && actual=$(basename "$(readlink "$1/current")")
  [[ $actual == "$2" ]] && return 0
  record=$1/releases/$actual/release.json
  [[ -n $actual && -r $record && $(<"$record") =~ $re_actor ]] && by=" by ${BASH_REMATCH[1]}"
  platform_die "another deploy changed the host since this plan was made: it now runs release \
'${actual:-none}'${by}, the plan was made against '${2:-none}'; nothing was changed"
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

# platform_in_release BASE RELEASE ARGV...: run ARGV inside the release directory.
platform_in_release() {
  local dir=$1/releases/$2
  shift 2
  (cd "$dir" && timeout --kill-after=10 "${PLATFORM_STEP_TIMEOUT:-600}" "$@")
}

platform_point_current() {  # BASE RELEASE: atomically (rename) point current at a release
  ln -sfn "releases/$2" "$1/current.tmp" && mv -T "$1/current.tmp" "$1/current"
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
  done < <(platform_releases "$base")
  platform_prune_logs "$base"
}
