# shellcheck shell=bash
# runtime/backup.sh: backups before a switch, the list of them, restoring one.

# Every backup FILE has its record beside it, FILE.json (models/records.py BackupRecord): its
# kind, size and sha256 as it was taken. A restore checks the file against it first.

platform_backup_pg_dump() {  # BASE TARGET PROJECT SERVICE DATABASE USER NAME
  local container
  container=$(platform_container_of "$3" "$4")
  if [[ -z $container ]]; then
    platform_log "    no running $4 container: nothing to back up yet"
    return 0
  fi
  docker exec "$container" pg_dump --username "$6" --dbname "$5" --format custom \
    >"$2/$7.pgdump.tmp" && platform_backup_keep "$2/$7.pgdump" pg_dump
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
    && platform_backup_keep "$2/$5.tar.gz" volume
}

# platform_backup_keep FILE KIND: FILE.tmp, complete, becomes the backup FILE, its record
# FILE.json written first (a backup is never without its record).
platform_backup_keep() {
  local file=$1 kind=$2 sum bytes
  sum=$(sha256sum "$file.tmp") || return 1
  bytes=$(stat -c %s "$file.tmp") || return 1
  platform_json_object '#version' 1 kind "$kind" sha256 "${sum%% *}" '#bytes' "$bytes" \
    taken_at "$(platform_now)" >"$file.json.tmp" || return 1
  mv "$file.json.tmp" "$file.json" && mv "$file.tmp" "$file"
}

# platform_backup_verify FILE NAME: FILE matches the sha256 of its record; sets
# PLATFORM_BACKUP_SHA256 to it. NAME (<release>/<file>) names it in the refusal.
platform_backup_verify() {
  local file=$1 name=$2 meta='' expected actual
  local re_sum='"sha256"[[:space:]]*:[[:space:]]*"([0-9a-f]{64})"'
  PLATFORM_BACKUP_SHA256=
  [[ -r $file.json ]] && meta=$(<"$file.json")
  if [[ ! $meta =~ $re_sum ]]; then
    platform_die "backup $name has no checksum record ($name.json): it cannot be verified;" \
      "refusing to restore it (nothing was changed)"
    return 1
  fi
  expected=${BASH_REMATCH[1]}
  actual=$(sha256sum "$file") || return 1
  actual=${actual%% *}
  if [[ $actual != "$expected" ]]; then
    platform_die "backup $name is corrupt: its sha256 is $actual, its record says $expected;" \
      "refusing to restore it (nothing was changed)"
    return 1
  fi
  PLATFORM_BACKUP_SHA256=$expected
}

# platform_backups BASE: one JSON line per backup, newest first (models/records.py
# BackupEntry): its id <release>/<file>, its size now, its record (null: none).
platform_backups() {
  local base=$1 release file meta
  [[ -d $base/releases ]] || return 0
  while read -r release; do
    for file in "$base/releases/$release/backups"/*; do
      [[ -f $file && $file != *.json && $file != *.tmp ]] || continue
      meta=null
      [[ -s $file.json ]] && meta=$(<"$file.json")
      platform_json_object '#version' 1 backup "$release/${file##*/}" \
        '#bytes' "$(stat -c %s "$file")" '#record' "$meta" || return 1
      printf '\n'
    done
  done < <(platform_releases "$base")
}

# platform_restore BASE RELEASE FILE LOCK_WAIT LOCK_EXPIRY COMPOSE_PROJECT KIND ARGS...
#   KIND pg_dump: SERVICE DATABASE USER      KIND volume: VOLUME
# platform_restore BASE RELEASE FILE LOCK_WAIT LOCK_EXPIRY PROJECT PROXY_DIR CONF PID_FILE KIND
#   TARGET...: with a proxy, the tenant's routes answer 503 with Retry-After while the data is
#   restored (platform_proxy_maintenance), and go back to its containers once every routed
#   service runs and answers its health path again (restarted containers may have new
#   addresses). If they do not, the routes keep answering 503: the restore failed, and a
#   restore that succeeds, a deploy or `proxy refresh` brings them back.
platform_restore() {
  local base=$1 release=$2 file=$3 wait=$4 expiry=$5 project=$6 pdir=$7 conf=$8 pid=$9
  local kind=${10} path rc=0 maintenance=0
  shift 10
  path=$base/releases/$release/backups/$file
  if [[ ! -f $path || $file == *.json ]]; then
    platform_die "no backup $release/$file on this host"
    return 1
  fi
  platform_lock_acquire "$base" "$PLATFORM_ACTOR" "restore $release/$file" "$wait" "$expiry" \
    "$project" "$pdir" "$conf" "$pid" 0 || { platform_lock_release "$base"; return 1; }
  # Checked under the lock, before anything stops: a refused backup changes nothing.
  if ! platform_backup_verify "$path" "$release/$file"; then
    platform_history_append "$base" event restore outcome failed actor "$PLATFORM_ACTOR" \
      release "$(platform_current "$base")" backup "$release/$file" reason "$PLATFORM_REASON"
    platform_lock_release "$base"
    return 1
  fi
  platform_log "restoring $release/$file ($kind, sha256 $PLATFORM_BACKUP_SHA256)"
  if [[ -n $pdir && -f $base/current/nginx.tsv ]]; then
    platform_proxy_maintenance "$base/current" "$project" "$pdir" "$conf" "$pid" || rc=$?
    case $rc in
      0) maintenance=1 ;;
      2) rc=0 ;;  # no maintenance server yet: restored as before, the routes left as they are
      *) platform_die "could not put the routes in maintenance; nothing was restored" ;;
    esac
  fi
  if ((rc == 0)); then
    case $kind in
      pg_dump) platform_restore_pg_dump "$project" "$path" "$@" || rc=$? ;;
      volume) platform_restore_volume "$project" "$path" "$@" || rc=$? ;;
      *) platform_die "unknown backup kind $kind"; rc=1 ;;
    esac
  fi
  if [[ -n $pdir && -f $base/current/nginx.tsv ]] && ((rc == 0 || maintenance)); then
    if ! platform_restore_serving "$base/current" "$project" 60; then
      platform_log "    the routes of $project keep answering 503 (maintenance): a routed" \
        "service does not serve; restore a backup again, deploy, or run proxy refresh"
      rc=1
    else
      platform_proxy_install "$base/current" "$project" "$pdir" "$conf" "$pid" 0 || rc=$?
    fi
  fi
  platform_history_append "$base" event restore \
    outcome "$( ((rc)) && echo failed || echo restored)" actor "$PLATFORM_ACTOR" \
    release "$(platform_current "$base")" backup "$release/$file" \
    sha256 "$PLATFORM_BACKUP_SHA256"
  platform_lock_release "$base"
  return "$rc"
}

# platform_restore_serving RELEASE_DIR PROJECT TIMEOUT: every routed service of the release
# runs, its containers healthy (platform_wait_healthy), and answers its route's health path.
platform_restore_serving() {
  local dir=$1 project=$2 svc port path
  local -a ids=()
  while IFS=$'\t' read -r _ svc port _ _ _ _ path; do
    mapfile -t ids < <(platform_running "$project" "$svc")
    ((${#ids[@]})) || { platform_die "no running $svc container"; return 1; }
    platform_wait_healthy "$3" "${ids[@]}" && platform_http_check "$project" "$svc" "$port" "$path" "$3" ||
      return 1
  done <"$dir/nginx.tsv"
}

platform_restore_pg_dump() {  # COMPOSE_PROJECT PATH SERVICE DATABASE USER
  local container
  container=$(platform_container_of "$1" "$3")
  [[ -n $container ]] || { platform_die "no running $3 container to restore into"; return 1; }
  docker exec -i "$container" pg_restore --clean --if-exists --no-owner --username "$5" \
    --dbname "$4" <"$2"
}

platform_restore_volume() {  # COMPOSE_PROJECT PATH VOLUME
  local volume=$1_$3 container destination
  local -a running=()
  container=$(docker ps --all --quiet --filter "volume=$volume" | head -n 1)
  [[ -n $container ]] || { platform_die "no container uses volume $volume"; return 1; }
  destination=$(docker inspect --format \
    "{{range .Mounts}}{{if eq .Name \"$volume\"}}{{.Destination}}{{end}}{{end}}" "$container")
  mapfile -t running < <(docker ps --quiet --filter "volume=$volume")
  # Stop the writers, replace the volume's content, start them again.
  ((${#running[@]} == 0)) || docker stop "${running[@]}" >/dev/null || return 1
  # Empty it first with the tenant's own image (the host may have no other): files made after
  # the backup must not survive a restore.
  if ! docker run --rm --volumes-from "$container" --entrypoint sh \
    "$(docker inspect --format '{{.Image}}' "$container")" \
    -c 'rm -rf "$1"/* "$1"/.[!.]* "$1"/..?*' sh "$destination" >/dev/null 2>&1; then
    platform_log "    warning: could not empty $volume first (the image has no sh);" \
      "files made after the backup remain"
  fi
  gunzip -c "$2" | docker cp - "$container:$destination" || return 1
  ((${#running[@]} == 0)) || docker start "${running[@]}" >/dev/null
}
