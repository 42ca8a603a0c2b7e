# shellcheck shell=bash
# runtime/policy.sh: the tenant security policy, checked again on the host (defence in depth).

# Validation refuses these in configs/; the host refuses them again in the model docker
# compose resolves from the release's own files, with the arguments `up` gets (every profile
# on), so a compose file that reached the host past validation (an edited plan, a bug) never
# starts. Rule ids are validation's. A plan may grant a tenant rules (--grant RULE).
#
# Why reading compose's JSON with bash is sound: `docker compose config --format json` writes
# Go's indented JSON, one token per line: `"key": value`, an array item, or a closing bracket;
# an empty object or array is `{}` / `[]` on its line. A JSON string never holds a raw newline
# or control character (they are written \n, \u0001, ...), so nothing a tenant puts in a value
# can start a line or pass for structure. The walker below tracks objects and arrays by their
# brackets and expects a key exactly where an object member must be; a key or string ends at
# its first unescaped quote (`\\.` consumes escape pairs), so a quote or `": ` inside a value
# cannot end it early. Anything that does not parse as exactly that shape fails the check.
# Values are compared in their JSON encoding, which Go writes one way only (" \ control
# characters, <>& and U+2028/9 escaped): a word such as `host` matches exactly, and a path or
# name with an escape in it never matches an allowed prefix, so it is refused.

# platform_json_walk CALLBACK < JSON: CALLBACK for every scalar (and empty {} or []) of
# indented JSON, seeing the locals `path` (keys from the root; array items by index) and
# `value` (its JSON text). Non-zero on anything that is not such JSON, or when CALLBACK fails.
platform_json_walk() {
  local callback=$1 line rest key value depth=0 began=0
  local -a path=() bracket=() next=()
  local re_close='^([]}]),?$'
  local re_key='^"(([^"\\]|\\.)*)": (.*)$'
  local re_value='^("([^"\\]|\\.)*"|-?[0-9][-+.eE0-9]*|true|false|null|\{\}|\[\]|\{|\[),?$'
  while IFS= read -r line || [[ -n $line ]]; do
    rest=${line#"${line%%[! ]*}"}
    if [[ $rest =~ $re_close ]]; then
      ((depth > 0)) || return 1
      case ${BASH_REMATCH[1]}${bracket[depth - 1]} in '}o' | ']a') ;; *) return 1 ;; esac
      depth=$((depth - 1))
      continue
    fi
    if ((depth == 0)); then
      [[ $began == 0 && $rest == '{' ]] || return 1
      began=1 bracket[0]=o depth=1
      continue
    fi
    if [[ ${bracket[depth - 1]} == o ]]; then
      [[ $rest =~ $re_key ]] || return 1
      key=${BASH_REMATCH[1]} value=${BASH_REMATCH[3]}
    else
      key=${next[depth - 1]} value=$rest
      next[depth - 1]=$((key + 1))
    fi
    [[ $value =~ $re_value ]] || return 1
    value=${BASH_REMATCH[1]}
    path=("${path[@]:0:depth-1}" "$key")
    case $value in
      '{') bracket[depth]=o depth=$((depth + 1)) ;;
      '[') bracket[depth]=a next[depth]=0 depth=$((depth + 1)) ;;
      *) "$callback" || return 1 ;;
    esac
  done
  ((began == 1 && depth == 0))
}

# platform_policy_check BASE RELEASE COMPOSE_PROJECT [--grant RULE]...
#   [--shared-network NAME]... [--tenant-images REGISTRY/NAMESPACE/PROJECT]
#   [--shared-image REPOSITORY]... -- COMPOSE_ARGV...: the release's compose model breaks no
#   rule of the tenant security policy (but granted ones); each refusal names its rule and where.
#   Rules: policy.privileged, policy.capabilities (any cap_add), policy.security-opt (all but
#   no-new-privileges, label user/role/type/level and a named apparmor profile),
#   policy.host-namespace (network_mode/pid/ipc host or container:, a service: outside the
#   project, uts/userns_mode/cgroup host, a network driver host), policy.devices (devices,
#   device_cgroup_rules, gpus, device reservations), policy.cgroup-parent,
#   policy.host-bind-mount (every bind mount, npipe, volume driver_opts),
#   policy.docker-socket (a bind of the socket or a directory holding it),
#   policy.foreign-volume (external, a name outside "<project>_", volumes_from container:),
#   policy.foreign-network (external or named outside "<project>_" unless shared, another
#   network_mode, external_links, network drivers but bridge/overlay, driver_opts),
#   policy.host-file (secrets/configs file:, env_file, label_file outside the release),
#   policy.platform-variable (secrets/configs environment: not set by the release's .env, or
#   a PLATFORM_ variable; a ${VAR} the .env does not set but the deploy's environment does),
#   policy.foreign-image (with --tenant-images: an image or `type: image` volume of the
#   platform's registry namespace that is not PROJECT or PROJECT-..., nor a shared one),
#   and, never granted and before compose reads anything, env.host-variable (a key of the
#   release's .env that compose or a program it starts acts on: platform_policy_env_keys).
platform_policy_check() {
  local base=$1 release=$2 project=$3 model files line refusals=0 ref svc key target
  shift 3
  local -A grants=() shared=() services=() env_keys=() vtype=() vsource=()
  local -A vol_name=() vol_external=() net_name=() net_external=() net_driver=() once=()
  local -A exported=() shared_images=()
  local tenant_images=''
  while read -r line; do exported[$line]=1; done < <(compgen -e)
  local -a refs=() roots=()
  while (($#)) && [[ $1 != -- ]]; do
    case $1 in
      --grant) grants[$2]=1 ;;
      --shared-network) shared[$2]=1 ;;
      --tenant-images) tenant_images=$2 ;;
      --shared-image) shared_images[$2]=1 ;;
      *) platform_die "platform_policy_check: unknown option $1"; return 1 ;;
    esac
    shift 2
  done
  shift
  local dir=$base/releases/$release
  [[ -f $dir/.env ]] || { platform_die "release $release has no .env"; return 1; }
  roots=("$(cd "$dir" && pwd)" "$(cd "$dir" && pwd -P)")
  while IFS= read -r line || [[ -n $line ]]; do
    [[ $line =~ ^([A-Za-z_][A-Za-z0-9_]*)= ]] && env_keys[${BASH_REMATCH[1]}]=1
  done <"$dir/.env"
  platform_policy_env_keys "$dir/.env" || return 1
  # The model holds the release's configuration, secrets included: it is only read, never shown.
  local -a config=(timeout --kill-after=10 "${PLATFORM_STEP_TIMEOUT:-60}" "$@" --profile '*' config
    --format json)
  model=$(cd "$dir" && "${config[@]}") || {
    platform_die "docker compose cannot read the release's compose files"
    return 1
  }
  # Without interpolation, compose keeps env_file and label_file (else read into the model).
  files=$(cd "$dir" && "${config[@]}" --no-interpolate) || return 1
  if ! platform_json_walk platform_policy_fact <<<"$model" ||
    ! platform_json_walk platform_policy_file_fact <<<"$files"; then
    platform_die "the output of docker compose config is not the JSON this check reads"
    return 1
  fi
  platform_policy_resources
  for ref in "${refs[@]}"; do  # "SERVICE KEY X" of `KEY: service:X`: X must be in the project
    read -r svc key target <<<"$ref"
    local -a path=(services "$svc" "$key")
    [[ -n ${services[$target]:-} ]] || platform_policy_refuse policy.host-namespace \
      "shares the namespace of something that is no service of this project"
  done
  if ((refusals)); then
    platform_die "release $release breaks the tenant security policy ($refusals refused); nothing was started"
    return 1
  fi
}

platform_policy_env_keys() {  # ENV_FILE: refuse it if it sets a variable of `reserved`
  # The variables compose reads from its project environment (the release's .env) for itself,
  # or passes to the programs it starts: platform_lib/config/host_variables.py says why, and
  # tests hold this list to its HOST_VARIABLES.
  local -a reserved=(
    'COMPOSE_*' 'DOCKER_*' BASH_ENV ENV 'BASH_FUNC_*' SHELLOPTS BASHOPTS PS4 PROMPT_COMMAND IFS
    CDPATH GLOBIGNORE 'LD_*' PATH HOME TMPDIR 'SSH_*' 'GIT_*' HTTP_PROXY HTTPS_PROXY NO_PROXY
    ALL_PROXY http_proxy https_proxy no_proxy all_proxy
  )
  # Every key as compose's dotenv reads one (leading blanks, `export `, a name running to
  # `=`, `:` or the line's end); a line of a quoted value taken for one only refuses more.
  local line key pattern found=0
  while IFS= read -r line || [[ -n $line ]]; do
    [[ $line =~ ^[[:space:]]*(export[[:space:]]+)?([^[:space:]=:#][^[:space:]=:]*)[[:space:]]*([=:]|$) ]] ||
      continue
    key=${BASH_REMATCH[2]}
    for pattern in "${reserved[@]}"; do
      # shellcheck disable=SC2053  # the pattern is a glob on purpose
      if [[ $key == $pattern ]]; then
        platform_log "    refused env.host-variable: .env $key would change how docker compose runs on the host"
        found=$((found + 1))
        break
      fi
    done
  done <"$1"
  if ((found)); then
    platform_die "the release's .env sets $found variable(s) docker compose acts on; nothing was started"
    return 1
  fi
}

platform_policy_refuse() {  # RULE WHY: unless RULE is granted; where is the caller's `path`
  local where
  where=$(IFS=.; printf '%s' "${path[*]}")
  if [[ -n ${grants[$1]:-} ]]; then
    platform_log "    granted $1: $where $2"
    return 0
  fi
  platform_log "    refused $1: $where $2"
  refusals=$((refusals + 1))
}

platform_policy_refuse_once() {  # DEPTH RULE WHY: once per prefix of DEPTH keys of `path`
  local first
  first=$(IFS=.; printf '%s' "${path[*]:0:$1}")
  [[ -z ${once[$first]:-} ]] || return 0
  once[$first]=1
  local -a path=("${path[@]:0:$1}")
  platform_policy_refuse "$2" "$3"
}

platform_policy_inside() {  # PATH (JSON text): a plain path inside the release directory
  local p=$1 root
  [[ $p != *\\* && $p != *'$'* && /$p/ != */../* && /$p/ != */./* ]] || return 1
  for root in "${roots[@]}"; do [[ $p == "$root"/* ]] && return 0; done
  return 1
}

# Every scalar of the resolved model (platform_json_walk's callback).
platform_policy_fact() {
  local n=${#path[@]} s=$value key
  [[ $s == \"*\" ]] && s=${s:1:${#s}-2}
  platform_policy_allowed top "${path[0]}" ||
    { platform_policy_refuse_once 1 policy.unsupported-key "is not a Compose key the platform allows"; return 0; }
  case ${path[0]} in
    services)
      ((n >= 2)) && services[${path[1]}]=1
      ((n >= 3)) || return 0
      key=${path[2]}
      platform_policy_allowed service "$key" ||
        { platform_policy_refuse_once 3 policy.unsupported-key "is not a Compose key the platform allows"; return 0; }
      platform_policy_service_fact
      case $key:$n in
        privileged:3) [[ $s == false ]] || platform_policy_refuse policy.privileged "is $s" ;;
        cap_add:4) platform_policy_refuse policy.capabilities "adds a capability" ;;
        security_opt:4) platform_policy_security_opt "$s" ||
          platform_policy_refuse policy.security-opt "loosens confinement" ;;
        network_mode:3)
          case $s in
            none | '') ;;
            service:*) refs+=("${path[1]} $key ${s#service:}") ;;
            host | container:*) platform_policy_refuse policy.host-namespace "joins the host's or another container's network" ;;
            *) platform_policy_refuse policy.foreign-network "joins a network outside the project" ;;
          esac ;;
        pid:3 | ipc:3)
          case $key:$s in
            *: | ipc:private | ipc:shareable | ipc:none) ;;
            *:service:*) refs+=("${path[1]} $key ${s#service:}") ;;
            *) platform_policy_refuse policy.host-namespace "shares a namespace outside the project" ;;
          esac ;;
        uts:3 | userns_mode:3) [[ -z $s ]] || platform_policy_refuse policy.host-namespace "is not the container's own" ;;
        cgroup:3) [[ -z $s || $s == private ]] || platform_policy_refuse policy.host-namespace "is not private" ;;
        cgroup_parent:3) [[ -z $s ]] || platform_policy_refuse policy.cgroup-parent "is set" ;;
        devices:* | device_cgroup_rules:* | gpus:*)
          [[ $value == '[]' || $value == null ]] ||
            platform_policy_refuse_once 3 policy.devices "gives host devices" ;;
        deploy:*)
          if [[ $n -ge 6 && ${path[3]}.${path[4]}.${path[5]} == resources.reservations.devices &&
            $value != '[]' ]]; then
            platform_policy_refuse_once 6 policy.devices "reserves host devices"
          fi ;;
        volumes:5)
          case ${path[4]} in
            type) vtype[${path[1]} ${path[3]}]=$s ;;
            source) vsource[${path[1]} ${path[3]}]=$s ;;
          esac ;;
        image:3) platform_policy_image "$s" ;;
        volumes_from:4) [[ $s != container:* ]] ||
          platform_policy_refuse policy.foreign-volume "mounts the volumes of a container outside the project" ;;
        external_links:4) platform_policy_refuse policy.foreign-network "links a container outside the project" ;;
      esac ;;
    volumes | networks)
      ((n >= 3)) || return 0
      platform_policy_allowed "${path[0]%s}" "${path[2]}" ||
        { platform_policy_refuse_once 3 policy.unsupported-key "is not a Compose key the platform allows"; return 0; }
      case ${path[0]}:${path[2]}:$n in
        volumes:driver:3) [[ $s == local ]] ||
          platform_policy_refuse policy.foreign-volume "uses a volume plugin of the host's" ;;
        networks:ipam:*)
          [[ $n == 3 && $value == '{}' || $n == 4 && ${path[3]} == driver && $s == default ]] ||
            platform_policy_refuse_once 3 policy.foreign-network "picks its own addresses (ipam)" ;;
        volumes:name:3) vol_name[${path[1]}]=$s ;;
        volumes:external:3) vol_external[${path[1]}]=$s ;;
        volumes:driver_opts:4)
          platform_policy_refuse_once 3 policy.host-bind-mount "sets driver options (a host path or device)" ;;
        networks:name:3) net_name[${path[1]}]=$s ;;
        networks:external:3) net_external[${path[1]}]=$s ;;
        networks:driver:3) net_driver[${path[1]}]=$s ;;
        networks:driver_opts:4) platform_policy_refuse_once 3 policy.foreign-network "sets driver options" ;;
      esac ;;
    secrets | configs)
      ((n >= 3)) || return 0
      platform_policy_allowed "${path[0]%s}" "${path[2]}" ||
        { platform_policy_refuse_once 3 policy.unsupported-key "is not a Compose key the platform allows"; return 0; }
      ((n == 3)) || return 0
      case ${path[2]} in
        file) platform_policy_inside "$s" ||
          platform_policy_refuse policy.host-file "is a file outside the release" ;;
        environment)
          [[ $s =~ ^[A-Za-z_][A-Za-z0-9_]*$ && $s != PLATFORM_* && -n ${env_keys[$s]:-} ]] ||
            platform_policy_refuse policy.platform-variable "reads a variable the release's .env does not set" ;;
      esac ;;
  esac
  return 0
}

# Every scalar of the model without interpolation: the files compose reads into the model,
# and the variables it interpolates: one the release's .env does not set would be read from
# the deploy's own environment (the registry token, the session's), which compose prefers.
platform_policy_file_fact() {
  local n=${#path[@]} s=$value rest name
  [[ $s == \"*\" ]] && s=${s:1:${#s}-2}
  rest=$s
  while [[ $value == \"* && $rest == *'$'* ]]; do
    rest=${rest#*'$'}
    case $rest in
      '$'*) rest=${rest:1}; continue ;;  # $$: a literal $
      '{'*) name=${rest:1} ;;
      *) name=$rest ;;
    esac
    name=${name%%[!A-Za-z0-9_]*}
    if [[ -n $name && -z ${env_keys[$name]:-} && -n ${exported[$name]:-} ]]; then
      platform_policy_refuse policy.platform-variable "reads a variable of the deploy's environment"
    fi
  done
  [[ ${path[0]} == services ]] || return 0
  case ${path[2]:-}:$n in
    env_file:5) [[ ${path[4]} != path ]] || platform_policy_inside "$s" ||
      platform_policy_refuse policy.host-file "is a file outside the release" ;;
    label_file:4) platform_policy_inside "$s" ||
      platform_policy_refuse policy.host-file "is a file outside the release" ;;
  esac
  return 0
}

# platform_policy_reference REF: "REGISTRY/PATH" of an image reference as docker reads it
# (registry lower-cased, Docker Hub's for a reference without one), without tag or digest.
platform_policy_reference() {
  local name=${1%%@*} domain path
  domain=${name%%/*}
  if [[ $name == */* && ($domain == *.* || $domain == *:* || ${domain,,} == localhost) ]]; then
    domain=${domain,,} path=${name#*/}
  else
    domain=docker.io path=$name
  fi
  case $domain in index.docker.io | registry-1.docker.io) domain=docker.io ;; esac
  [[ ${path##*/} != *:* ]] || path=${path%:*}
  printf '%s/%s' "$domain" "$path"
}

# platform_policy_image REF: with --tenant-images, REF is no repository of the platform's
# registry namespace but the tenant's own (PROJECT, PROJECT-...) and the shared ones.
platform_policy_image() {
  [[ -n $tenant_images ]] || return 0
  local ref namespace own repository
  ref=$(platform_policy_reference "$1")
  namespace=$(platform_policy_reference "${tenant_images%/*}/x") own=${tenant_images##*/}
  namespace=${namespace%/x}
  [[ $ref == "$namespace"/* ]] || return 0
  repository=${ref#"$namespace"/}
  case ${repository%%/*} in
    "$own" | "$own"-*) return 0 ;;
  esac
  [[ -n ${shared_images[$repository]:-} ]] ||
    platform_policy_refuse policy.foreign-image "is a repository of the platform's registry that is not the tenant's"
}

platform_policy_security_opt() {  # OPTION: one that only tightens confinement
  # A named AppArmor profile may be one the host ships unconfined; an SELinux type (spc_t)
  # or level, another tenant's category: seccomp, AppArmor and SELinux stay the host's.
  case $1 in
    no-new-privileges | no-new-privileges[:=]true | no-new-privileges[:=]false) return 0 ;;
    *) return 1 ;;
  esac
}

# platform_policy_allowed KIND KEY: KEY is one a tenant may use in a KIND (top, service,
# network, volume, secret, config, hook, service-network): config/compose_keys.py's lists, which
# tests/planning/test_runtime_policy.py keeps equal to these. `x-` extensions are ignored by
# compose and allowed.
platform_policy_allowed() {
  [[ $2 != x-* ]] || return 0
  case $1:$2 in
    top:configs | top:include | top:name | top:networks | top:secrets | top:services | \
      top:version | top:volumes) return 0 ;;
    service:attach | service:build | service:cap_add | service:cap_drop | service:cgroup | \
      service:cgroup_parent | service:command | service:configs | service:container_name | \
      service:cpu_period | service:cpu_quota | service:cpu_shares | service:cpus | \
      service:cpuset | service:depends_on | service:deploy | service:develop | \
      service:device_cgroup_rules | service:devices | service:dns | service:dns_opt | \
      service:dns_search | service:domainname | service:entrypoint | service:env_file | \
      service:environment | service:expose | service:extends | service:external_links | \
      service:extra_hosts | service:gpus | service:group_add | service:healthcheck | \
      service:hostname | service:image | service:init | service:ipc | service:label_file | \
      service:labels | service:links | service:logging | service:mac_address | \
      service:mem_limit | service:mem_reservation | service:mem_swappiness | \
      service:memswap_limit | service:network_mode | service:networks | \
      service:oom_kill_disable | service:oom_score_adj | service:pid | service:pids_limit | \
      service:platform | service:ports | service:post_start | service:pre_stop | \
      service:privileged | service:profiles | service:pull_policy | \
      service:pull_refresh_after | service:read_only | service:restart | service:runtime | \
      service:scale | service:secrets | service:security_opt | service:shm_size | \
      service:stdin_open | service:stop_grace_period | service:stop_signal | service:sysctls | \
      service:tmpfs | service:tty | service:ulimits | service:umask | service:use_api_socket | \
      service:user | service:userns_mode | service:uts | service:volumes | \
      service:volumes_from | service:working_dir) return 0 ;;
    network:attachable | network:driver | network:driver_opts | network:enable_ipv4 | \
      network:enable_ipv6 | network:external | network:internal | network:ipam | \
      network:labels | network:name) return 0 ;;
    volume:driver | volume:driver_opts | volume:external | volume:labels | volume:name) return 0 ;;
    secret:environment | secret:external | secret:file | secret:labels | secret:name) return 0 ;;
    config:content | config:environment | config:external | config:file | config:labels | \
      config:name) return 0 ;;
    hook:command | hook:environment | hook:privileged | hook:user | hook:working_dir) return 0 ;;
    service-network:aliases | service-network:gw_priority | service-network:interface_name | \
      service-network:ipv4_address | service-network:ipv6_address | \
      service-network:priority | service-network:use_service_name_alias) return 0 ;;
  esac
  return 1
}

# A service's settings beyond its namespaces and mounts (platform_policy_fact's `path`,
# `value`, `s`, `n`, `key`): the engine's socket, a runtime, a fixed name or address, a build
# on the host, hooks, resources that exempt it from its share, a log driver that connects
# from the host.
platform_policy_service_fact() {
  case $key:$n in
    use_api_socket:3) [[ $s == false ]] ||
      platform_policy_refuse policy.docker-socket "hands the container the engine's socket" ;;
    runtime:3) [[ -z $s ]] || platform_policy_refuse policy.runtime "picks a container runtime" ;;
    container_name:3) [[ -z $s ]] ||
      platform_policy_refuse compose.container-name "fixes a name other projects may hold" ;;
    build:*) platform_policy_refuse_once 3 compose.build "builds an image on the host" ;;
    mac_address:3) [[ -z $s ]] ||
      platform_policy_refuse policy.foreign-network "fixes a MAC address" ;;
    networks:5 | networks:6) platform_policy_allowed service-network "${path[4]}" ||
      platform_policy_refuse_once 5 policy.foreign-network "sets the host's or another container's addresses" ;;
    post_start:5 | post_start:6 | pre_stop:5 | pre_stop:6)
      if ! platform_policy_allowed hook "${path[4]}"; then
        platform_policy_refuse_once 5 policy.unsupported-key "is not a Compose key the platform allows"
      elif [[ ${path[4]} == privileged && $s != false ]]; then
        platform_policy_refuse policy.privileged "runs a hook privileged"
      fi ;;
    oom_kill_disable:3) [[ $s == false ]] ||
      platform_policy_refuse policy.resources "exempts it from the out-of-memory killer" ;;
    oom_score_adj:3) [[ $s =~ ^[0-9]+$ ]] ||
      platform_policy_refuse policy.resources "has other processes killed first" ;;
    cpu_shares:3) [[ $s =~ ^([0-9]{1,3}|10[01][0-9]|102[0-4])$ ]] ||
      platform_policy_refuse policy.resources "takes more than a container's share of the CPUs" ;;
    pids_limit:3) [[ $s =~ ^[1-9][0-9]*$ ]] ||
      platform_policy_refuse policy.resources "lifts the limit on its processes" ;;
    deploy:6) [[ ${path[3]}.${path[4]}.${path[5]} != resources.limits.pids || $s =~ ^[1-9][0-9]*$ ]] ||
      platform_policy_refuse policy.resources "lifts the limit on its processes" ;;
    logging:4) [[ ${path[3]} != driver || $s == json-file || $s == local ]] ||
      platform_policy_refuse policy.log-driver "has the engine connect from the host" ;;
  esac
  return 0
}

platform_policy_keys() {  # ASSOC...: the keys of those associative arrays, sorted, once
  local name
  for name in "$@"; do
    local -n one=$name
    ((${#one[@]} == 0)) || printf '%s\n' "${!one[@]}"
    unset -n one
  done | sort -u
}

# Mounts, volumes and networks, once the whole model is read.
platform_policy_resources() {
  local k name prefix="${project}_"
  while read -r k; do
    [[ -n $k ]] || continue
    local -a path=(services "${k% *}" volumes "${k#* }")
    case ${vtype[$k]} in
      bind)
        case ${vsource[$k]:-} in
          */docker.sock | */docker.sock/* | / | /run | /var | /var/run | /run/docker* | /var/run/docker*)
            platform_policy_refuse policy.docker-socket "mounts the docker socket or a directory holding it" ;;
          *) platform_policy_refuse policy.host-bind-mount "mounts a host path" ;;
        esac ;;
      npipe) platform_policy_refuse policy.host-bind-mount "mounts a host pipe" ;;
      image) platform_policy_image "${vsource[$k]:-}" ;;
    esac
  done < <(platform_policy_keys vtype)
  while read -r k; do
    [[ -n $k ]] || continue
    local -a path=(volumes "$k")
    if [[ ${vol_external[$k]:-false} != false ]]; then
      platform_policy_refuse policy.foreign-volume "is external: not this project's"
    elif [[ ${vol_name[$k]:-} != "$prefix"?* ]]; then
      platform_policy_refuse policy.foreign-volume "is named outside the project ($prefix...)"
    fi
  done < <(platform_policy_keys vol_name vol_external)
  while read -r k; do
    [[ -n $k ]] || continue
    local -a path=(networks "$k")
    name=${net_name[$k]:-$k}
    if [[ -n ${shared[$name]:-} ]]; then
      continue
    elif [[ ${net_external[$k]:-false} != false ]]; then
      platform_policy_refuse policy.foreign-network "is external and not shared by the platform"
    elif [[ $name != "$prefix"?* ]]; then
      platform_policy_refuse policy.foreign-network "is named outside the project ($prefix...)"
    fi
    case ${net_driver[$k]:-} in
      '' | bridge | overlay) ;;
      host) platform_policy_refuse policy.host-namespace "uses the host's network" ;;
      *) platform_policy_refuse policy.foreign-network "uses another network driver" ;;
    esac
  done < <(platform_policy_keys net_name net_external net_driver)
}
