# shellcheck shell=bash
# runtime/facts.sh: the host facts (models/host_state.py HostState), read by the platform.

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
    done < <(platform_releases "$base")
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
  [[ ! -f $base/rollout/status.json ]] || more+=('#rollout' "$(platform_canary_show "$base")")
  platform_json_object '#version' 1 '?current_release' "$current" '#current' "$record" \
    '#releases' "[$releases]" '#lock' "$lock" "${more[@]}" || return 1
  printf '\n'
}

# platform_canary_show BASE: the canary rollout in progress (runtime canary) as JSON:
# status.json and the decisions so far, or null.
platform_canary_show() {
  local base=$1 decisions='' line
  [[ -f $base/rollout/status.json ]] || { printf 'null'; return 0; }
  if [[ -f $base/rollout/decisions.jsonl ]]; then
    while read -r line; do decisions+="${decisions:+,}$line"; done <"$base/rollout/decisions.jsonl"
  fi
  platform_json_extend "$(<"$base/rollout/status.json")" '#decisions' "[$decisions]"
}
