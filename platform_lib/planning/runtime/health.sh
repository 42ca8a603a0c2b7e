# shellcheck shell=bash
# runtime/health.sh: HTTP health checks of a release's routes.

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
