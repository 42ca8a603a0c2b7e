# shellcheck shell=bash
# runtime/canary_weights.sh: the upstreams of a rollout in progress, its services' requests
# split by their weights between the old and the new release's containers.

# platform_canary_upstreams BASE RELEASE PROJECT PROXY(4): the project's upstreams as the
# rollout has them (platform_canary_upstreams_write); then nginx -t and one graceful reload.
platform_canary_upstreams() {
  platform_canary_upstreams_write "$1" "$2" "$3" "$4" ".$3.new" || return 1
  platform_proxy_locked "$4" platform_proxy_swap "$4" "$5" "$6" "$7" ".$3.new" \
    "upstreams/$3.conf"
}

# platform_canary_upstreams_write BASE RELEASE PROJECT PROXY_DIR SUFFIX: the upstreams as the
# rollout has them into PROXY_DIR/upstreams/PROJECT.conf<SUFFIX>: a canary service's old and
# new containers weighted by SVC.weight (0: the old ones only, 100: the new ones only), every
# other routed service's running containers (less any canary's new ones).
platform_canary_upstreams_write() {
  local base=$1 release=$2 project=$3 pdir=$4 suffix=$5
  local dir=$base/releases/$release state=$base/rollout
  local svc port upstream servers upstreams='' hidden=' '
  local -A seen=()
  local f
  # A canary's new containers serve only through its weights; once switched (its old ones
  # paused), they are simply the running ones, and the old ones never (retire unpauses them
  # to stop them).
  for f in "$state"/*.new; do
    [[ -e $f ]] || continue
    if [[ -f ${f%.new}.paused ]]; then
      [[ ! -f ${f%.new}.old ]] || hidden+="$(tr '\n' ' ' <"${f%.new}.old")"
    else
      hidden+="$(tr '\n' ' ' <"$f")"
    fi
  done
  while IFS=$'\t' read -r _ svc port _ upstream _; do
    [[ -n ${seen[$upstream]:-} ]] && continue
    seen[$upstream]=1
    if [[ -f $state/$svc.new && -f $state/$svc.weight ]]; then
      servers=$(platform_canary_servers "$state" "$svc" "$port") || return 1
    else
      servers=$(platform_running_servers "$project" "$svc" "$port" "$hidden") || return 1
    fi
    upstreams+=$(platform_upstream_block "$upstream" "$servers")$'\n'
  done <"$dir/nginx.tsv"
  (umask 022 && printf '%s' "$upstreams" >"$pdir/upstreams/$project.conf$suffix")
}

# platform_canary_refresh BASE PROJECT PROXY(4), holding the proxy lock: the upstreams of the
# rollout in progress written again by its weights (its containers' addresses as they are now),
# then nginx -t and a reload; prints the rollout's release. Returns 3, changing nothing, when
# the rollout ended meanwhile, 4 while it is switched (see below). It writes under a suffix of
# its own: the rollout's deploy may have its `.new` file written, waiting for this lock.
platform_canary_refresh() {
  local base=$1 project=$2 pdir=$3 release='' status
  local re='"release"[[:space:]]*:[[:space:]]*"([^"/]+)"'
  local switching='"phase"[[:space:]]*:[[:space:]]*"switched '
  [[ -f $base/rollout/status.json ]] || return 3
  status=$(<"$base/rollout/status.json")
  # Switched: the rest of the tenant's switch may be under way, its old containers about to
  # stop (the switch alone knows which): wait for the warm period or the rollout's end.
  [[ $status =~ $switching ]] && return 4
  [[ $status =~ $re ]] && release=${BASH_REMATCH[1]}
  if [[ ! -f $base/releases/$release/nginx.tsv ]]; then
    platform_die "the rollout in progress names no release with routes ($base/rollout/status.json)"
    return 1
  fi
  platform_canary_upstreams_write "$base" "$release" "$project" "$pdir" ".$project.refresh" &&
    platform_proxy_swap "$pdir" "$4" "$5" "$6" ".$project.refresh" "upstreams/$project.conf" ||
    return 1
  printf '%s' "$release"
}

# platform_canary_servers STATE SERVICE PORT: nginx `server` lines splitting the service's
# requests by its weight: each old container (100-W)*NEW, each new one W*OLD, so the shares
# are exact whatever the counts.
platform_canary_servers() {
  local state=$1 svc=$2 port=$3 weight id address out=''
  local -a old=() new=()
  weight=$(<"$state/$svc.weight")
  mapfile -t old <"$state/$svc.old"
  mapfile -t new <"$state/$svc.new"
  if ((weight < 100)); then
    for id in "${old[@]}"; do
      address=$(platform_address_of "$id") || return 1
      out+="    server $address:$port"
      ((weight == 0)) || out+=" weight=$(((100 - weight) * ${#new[@]}))"
      out+=";"$'\n'
    done
  fi
  if ((weight > 0)); then
    for id in "${new[@]}"; do
      address=$(platform_address_of "$id") || return 1
      out+="    server $address:$port"
      ((weight == 100)) || out+=" weight=$((weight * ${#old[@]}))"
      out+=";"$'\n'
    done
  fi
  printf '%s' "$out"
}

platform_canary_addresses() {  # FILE: the addresses of the container ids in it, one a line
  local id
  while read -r id; do
    [[ -n $id ]] && platform_address_of "$id" && printf '\n'
  done <"$1"
  return 0
}
