# shellcheck shell=bash
# runtime/proxy.sh: the edge proxy (nginx): sites, upstreams, test and graceful reload, route checks.

platform_nginx_master() {  # PID_FILE: the pid of the running nginx master
  local master=''
  [[ -r $1 ]] && master=$(<"$1")
  if [[ ! $master =~ ^[0-9]+$ ]] || ! kill -0 "$master" 2>/dev/null; then
    platform_die "nginx is not running (no live pid in $1): start it, then deploy again"
    return 1
  fi
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

# platform_running_servers PROJECT SERVICE PORT SKIP: an nginx `server` line per running
# container of the service, less those in SKIP (" id id "), one per line.
platform_running_servers() {
  local id address
  for id in $(platform_running "$1" "$2"); do
    [[ $4 == *" $id "* ]] && continue
    address=$(platform_address_of "$id") || return 1
    [[ -z $address ]] || printf '    server %s:%s;\n' "$address" "$3"
  done
}

# platform_upstream_block NAME SERVERS: the upstream of a route, its SERVERS lines, or a `down`
# server when there are none (502 on that route only; nginx still loads).
platform_upstream_block() {
  local servers=${2:-    server 127.0.0.1:9 down;  # no running container}
  printf 'upstream %s {\n%s\n    keepalive 8;\n}' "$1" "${servers%$'\n'}"
}

# platform_proxy_install RELEASE_DIR PROJECT PROXY_DIR CONF PID_FILE DRAIN [RETIRING_ID...]:
# the release's sites (per route: tls when its certificate is there, else plain) and
# upstreams (the routed services' running containers, less the retiring ones); nginx -t, then
# a graceful reload. On any failure the previous files are put back.
platform_proxy_install() {
  local dir=$1 project=$2 pdir=$3 conf=$4 pid=$5 drain=$6
  shift 6
  local skip=" $* " n svc port upstream cert domain path variant
  local site='' modes='' upstreams='' servers
  local -A seen=()
  # nginx's own files stay as nginx needs them, 0644 in 0755 directories (unlike tenant data:
  # its workers may run as another user); they hold routes and container addresses only.
  (umask 022 && mkdir -p "$pdir/sites" "$pdir/upstreams" "$pdir/logs") || return 1
  while IFS=$'\t' read -r n svc port _ upstream cert domain path; do
    variant=plain
    [[ -s $cert/fullchain.pem && -s $cert/privkey.pem ]] && variant=tls
    site+=$(<"$dir/nginx-$n.$variant.conf")$'\n'
    modes+="$n"$'\t'"$variant"$'\t'"$domain"$'\t'"$cert"$'\t'"$path"$'\n'
    [[ -n ${seen[$upstream]:-} ]] && continue
    seen[$upstream]=1
    servers=$(platform_running_servers "$project" "$svc" "$port" "$skip") || return 1
    upstreams+=$(platform_upstream_block "$upstream" "$servers")$'\n'
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

# platform_proxy_maintenance RELEASE_DIR PROJECT PROXY_DIR CONF PID_FILE: the project's
# upstreams point at the maintenance server of the shared http.conf (proxy_config.py), so its
# routes, and only its, answer 503 with Retry-After; nginx -t, a reload, and its old workers'
# requests to the containers done. platform_proxy_install puts the real upstreams back.
# Returns 2, changing nothing, when the installed http.conf has no maintenance server (written
# by an older platform: the next deploy of any tenant brings it).
platform_proxy_maintenance() {
  local dir=$1 project=$2 pdir=$3 conf=$4 pid=$5 upstream upstreams=''
  local socket=$pdir/maintenance.sock
  local -A seen=()
  if [[ ! -f $pdir/http.conf || $(<"$pdir/http.conf") != *"listen unix:$socket;"* ]]; then
    platform_log "    warning: $pdir/http.conf has no maintenance server yet (deploy once with" \
      "this platform version): the routes are not put in maintenance"
    return 2
  fi
  while IFS=$'\t' read -r _ _ _ _ upstream _; do
    [[ -n ${seen[$upstream]:-} ]] && continue
    seen[$upstream]=1
    upstreams+="upstream $upstream {"$'\n'"    server unix:$socket;"$'\n''}'$'\n'
  done <"$dir/nginx.tsv"
  (umask 022 && printf '%s' "$upstreams" >"$pdir/upstreams/$project.conf.maintenance") || return 1
  platform_proxy_locked "$pdir" platform_proxy_swap "$pdir" "$conf" "$pid" 0 .maintenance \
    "upstreams/$project.conf" || return 1
  platform_log "    $project: its routes answer 503 (maintenance)"
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
# A rollout in progress (BASE/rollout/status.json while the lock is held: its deploy holds it
# throughout) keeps its split: only its upstreams are written again, by its weights (its deploy
# installs the sites at its switch; while switched, up to LOCK_WAIT is waited for its warm
# period or its end). A rollout left unfinished (the lock is free but
# BASE/rollout is there: its deploy was killed) is undone first, as the next deploy would undo
# it: every request back on the current release, the unfinished one's containers removed (one
# killed in its retire, its release already current, is finished instead: its warm containers
# stop). Prints a ProxyRefreshed (models/host_state.py).
platform_proxy_refresh() {
  local base=$1 project=$2 pdir=$3 conf=$4 pid=$5 rc=0 release='' undone=false left=''
  local finished='' kind
  local deadline=$(($(platform_epoch) + $7))
  while [[ -d $base/lock && -f $base/rollout/status.json ]]; do
    rc=0
    release=$(platform_proxy_locked "$pdir" platform_canary_refresh "$base" "$project" "$pdir" \
      "$conf" "$pid" 0) || rc=$?
    if ((rc == 4 && $(platform_epoch) < deadline)); then
      sleep 1
      continue
    fi
    if ((rc == 4)); then
      platform_die "the rollout of $project stayed switched for ${7}s (its deploy switches the" \
        "rest of the tenant; if that deploy was killed: lock release, then refresh)"
      return 1
    fi
    if ((rc == 0)); then
      platform_log "    $project: a rollout of release $release is in progress: its upstreams" \
        "written again with its split (if its deploy was killed: lock release, then refresh)"
      platform_json_object '#version' 1 routes rollout '?release' "$release" '#undone' false \
        '?undone_release' '' '?finished_release' ''
      printf '\n'
      return 0
    fi
    ((rc == 3)) || return "$rc"
    break  # the rollout ended meanwhile: its deploy's lock is waited for below
  done
  rc=0
  if [[ ! -f $base/current/nginx.tsv && ! -d $base/rollout ]]; then
    platform_log "    $project: nothing to refresh (no current release with routes)"
    platform_json_object '#version' 1 routes none '?release' '' '#undone' false \
      '?undone_release' '' '?finished_release' ''
    printf '\n'
    return 0
  fi
  platform_lock_acquire "$base" "$6" "proxy-refresh" "$7" "$8" || return 1
  trap platform_cleanup EXIT
  if read -r kind left < <(platform_canary_leftover "$base"); then
    if [[ $kind == finished ]]; then finished=$left; else undone=true; fi
    platform_canary_recover "$base" "$project" "$pdir" "$conf" "$pid" 0 || rc=$?
    if ((rc == 0)) && [[ -n $finished ]]; then
      platform_log "    $project: put right: the rollout of release $finished, left as it" \
        "finished, is finished: its warm containers stopped"
    elif ((rc == 0)); then
      platform_log "    $project: put right: the rollout${left:+ of release $left}" \
        "left unfinished is undone, every request back on the current release"
    fi
  fi
  release=$(platform_current "$base")
  if ((rc == 0)) && [[ -f $base/current/nginx.tsv ]]; then
    platform_proxy_install "$base/current" "$project" "$pdir" "$conf" "$pid" 0 || rc=$?
    ((rc == 0)) && platform_log "    $project: routes installed again"
  fi
  platform_lock_release "$base"
  ((rc == 0)) || return "$rc"
  platform_json_object '#version' 1 routes \
    "$([[ -f $base/current/nginx.tsv ]] && echo installed || echo none)" '?release' "$release" \
    '#undone' "$undone" '?undone_release' "$([[ $undone == true ]] && printf '%s' "$left")" \
    '?finished_release' "$finished"
  printf '\n'
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
