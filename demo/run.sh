#!/usr/bin/env bash
# `make demo`: deploy every example tenant of configs/ to a local Docker host with the
# platform's own `deploy` command, staging then production, and print where each routed
# service answers. demo/README.md says what is real and what is a stand-in.
#
#   PYTHON=.venv/bin/python bash demo/run.sh
#
# The servers are the machine's one local stack of tests/e2e/infra/up.sh (dockerd with a Docker
# Hub mirror, registry, sshd), shared with the e2e tests: state dir $PLATFORM_LOCAL_STATE
# (default /tmp/platform-local). The demo's own files (platform root, secrets, deploy root,
# deploy logs) are in $DEMO_STATE (default .state/demo). The demo never stops the servers.
#
# Environment: PYTHON (the platform's python; default .venv/bin/python), PLATFORM_LOCAL_STATE,
# DEMO_STATE, and up.sh's REGISTRY_PORT / MIRROR_PORT / SSH_PORT / DOCKERD_ARGS (read when the
# stack first starts). Idempotent: a second run reuses the servers, images and secrets, and
# redeploys every tenant.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$REPO"
INFRA=$REPO/tests/e2e/infra
PYTHON=${PYTHON:-.venv/bin/python}
[[ $PYTHON != */* ]] || PYTHON=$(cd "$(dirname "$PYTHON")" && pwd)/$(basename "$PYTHON")
SERVERS=${PLATFORM_LOCAL_STATE:-/tmp/platform-local} # tests/e2e/servers.py has the same default
mkdir -p "$SERVERS"
SERVERS=$(cd "$SERVERS" && pwd -P)
STATE=${DEMO_STATE:-$REPO/.state/demo}
mkdir -p "$STATE/logs"
STATE=$(cd "$STATE" && pwd -P)
ROOT=$STATE/root
FACTS=$STATE/facts.txt
SECRETS=$STATE/secrets.env

T0=$EPOCHREALTIME
declare -a TIMINGS=()
us() { echo "${1//[.,]/}"; }                 # $EPOCHREALTIME -> microseconds (any locale)
since() {                                     # START -> "12.3s"
    local d=$((($(us "$EPOCHREALTIME") - $(us "$1")) / 100000))
    echo "$((d / 10)).$((d % 10))s"
}
PHASE_START=
phase() { # NAME [TITLE]: end the previous phase (recording its time), start this one
    [ -z "$PHASE_START" ] || TIMINGS+=("$PHASE_NAME $(since "$PHASE_START")")
    PHASE_NAME=$1 PHASE_START=$EPOCHREALTIME
    [ $# -lt 2 ] || printf '\n==> %s\n' "$2"
}
die() { echo "demo: ERROR: $*" >&2; exit 1; }

echo "demo: every tenant of configs/ deployed by 'python -m platform_lib deploy' to a local dockerd."
echo "demo: this machine is offline (no Docker Hub, no ghcr.io): every image is a busybox STAND-IN"
echo "demo: built here, serving the ports and health paths of the tenant's compose file and routes."

# ------------------------------------------------------------------------------- install ---
phase install "Debian packages, docker compose v2 (tests/e2e/infra/install.sh)"
[ -x "$PYTHON" ] || die "$PYTHON not found: run 'make install' (or make demo) first"
PYTHON=$PYTHON "$INFRA/install.sh"

# ------------------------------------------------------------------------------- servers ---
phase servers "dockerd, registry, Docker Hub mirror, sshd (tests/e2e/infra/up.sh $SERVERS)"
# Before the stack was shared, the demo ran its own servers in its dir (run/, docker/,
# registry/, ...), on the same ports. Stop them and delete that server state, once; the secrets
# and the deploy root stay.
if [ "$STATE" != "$SERVERS" ] && [ -d "$STATE/run" ]; then
    echo "demo: stopping the demo's old servers of $STATE (the demo now uses $SERVERS)"
    "$INFRA/down.sh" "$STATE"
    (cd "$STATE" && rm -rf run docker registry mirror ssh demo-bin docker-config remote-docker-config \
        env env.tmp images.env registry-password docker.sock .lock logs/{dockerd,registry,mirror,sshd}.log) ||
        echo "demo: could not delete all of the old server state in $STATE (ignored)" >&2
fi
"$INFRA/up.sh" "$SERVERS" ||
    die "up.sh failed (see above). A port taken by another stack: stop that one with \
tests/e2e/infra/down.sh ITS_STATE_DIR (this machine runs one stack, in $SERVERS)"
# shellcheck source=/dev/null
. "$SERVERS/env" # DOCKER_HOST, DOCKER_CONFIG, REGISTRY, REGISTRY_USER, REGISTRY_PASSWORD_FILE, MIRROR
echo "demo: dockerd $DOCKER_HOST pulls Docker Hub images through the mirror http://$MIRROR \
(read-only, anonymous view of $REGISTRY); the e2e tests share these servers"

# ------------------------------------------------------------------------ root & images ---
phase proxy "nginx for every tenant's domains on 127.0.0.1:8880 ($STATE/nginx)"
NGINX=$STATE/nginx
mkdir -p "$NGINX"/{platform/sites,platform/upstreams,logs,tmp,certs,acme}
cat >"$NGINX/nginx.conf" <<CONF
# Written by demo/run.sh: the host's main config; the platform writes platform/*.conf.
pid $NGINX/nginx.pid;
error_log $NGINX/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $NGINX/tmp/body;
    proxy_temp_path $NGINX/tmp/proxy;
    fastcgi_temp_path $NGINX/tmp/fastcgi;
    uwsgi_temp_path $NGINX/tmp/uwsgi;
    scgi_temp_path $NGINX/tmp/scgi;
    include $NGINX/platform/*.conf;
}
CONF
if pid=$(cat "$NGINX/nginx.pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null; then
    echo "demo: nginx runs (pid $pid)"
else
    # The generated sites listen on 8880/8443 only once the first deploy writes them: an
    # nginx that started fine would then fail its reload if another process holds a port.
    for port in 8880 8443; do
        holder=$(ss -Hltnp "sport = :$port" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 || true)
        [ -z "$holder" ] || die "port $port is taken by ${holder} ($(tr '\0' ' ' \
</proc/"${holder#pid=}"/cmdline 2>/dev/null)): stop it first (an nginx of another demo checkout?)"
    done
    # nginx does not remove a unix socket an nginx killed outright left: the maintenance
    # server's would stop this start (bind: address in use). No nginx runs, so it is stale.
    rm -f "$NGINX/platform/maintenance.sock"
    nginx -e stderr -c "$NGINX/nginx.conf" || die "nginx did not start (see above)"
    echo "demo: nginx started (pid $(cat "$NGINX/nginx.pid")); the deploys write its sites"
fi

phase root "platform root: $ROOT (tenant folders of configs/ + demo/platform.yml)"
"$PYTHON" demo/root.py "$STATE" "$REGISTRY" "$DOCKER_HOST" >"$FACTS.tmp" || die "demo/root.py failed"
mv "$FACTS.tmp" "$FACTS"
echo "demo: $(grep -c '^deploy ' "$FACTS") deploys of $(grep '^deploy ' "$FACTS" | cut -d' ' -f2 | sort -u | wc -l) tenants, \
registry $REGISTRY, deploy_root $STATE/srv, host: the dockerd at $DOCKER_HOST"

phase images "stand-in images (demo/build-images.sh), pushed to $REGISTRY"
bash demo/build-images.sh "$SERVERS" "$FACTS"

# ------------------------------------------------------------------------------ secrets ---
# Random values made once and kept (mode 0600) so that redeploys keep the same database
# password; never printed, never in git (.state/ is ignored). Each tenant's secret NAME is
# read from <PROJECT>__NAME, so two tenants' POSTGRES_PASSWORD are two values. The registry token is the
# registry's password from up.sh.
(umask 077 && touch "$SECRETS")
chmod 600 "$SECRETS"
while read -r kind name; do
    case $kind in
        secret)
            grep -q "^$name=" "$SECRETS" ||
                printf '%s=%s\n' "$name" "$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')" >>"$SECRETS"
            value=$(sed -n "s/^$name=//p" "$SECRETS")
            export "$name=$value" ;;
        token) export "$name=$(cat "$REGISTRY_PASSWORD_FILE")" ;;
    esac
done < <(grep -E '^(secret|token) ' "$FACTS")

# ------------------------------------------------------------------------------ deploys ---
phase deploys "staging with --image SERVICE=demo, then production promoting staging's digests"
echo "demo: tenants in parallel, each tenant's environments in order; full logs in $STATE/logs/deploy-*.log"

deploy_one() { # TENANT ENV SOURCE|- [SERVICE=REF...]
    local tenant=$1 env=$2 source=$3 started=$EPOCHREALTIME log="$STATE/logs/deploy-$1-$2.log" ref how
    local -a images=()
    shift 3
    for ref in "$@"; do images+=(--image "$ref"); done
    how="--image ${*// / --image }"
    [ "$source" = - ] || how="no --image: promotes the digests $source verified"
    # Each report is printed with one write: tenants deploy in parallel.
    if ! "$PYTHON" -m platform_lib deploy --root "$ROOT" --project "$tenant" --env "$env" \
        --actor demo "${images[@]}" </dev/null >"$log" 2>&1; then
        printf '  %s/%s: FAILED after %s; the end of %s:\n%s\n' "$tenant" "$env" \
            "$(since "$started")" "$log" "$(tail -n 40 "$log" | sed 's/^/    | /')"
        return 1
    fi
    printf '  %s/%s: %s in %s (%s)\n%s\n' "$tenant" "$env" \
        "$(sed -n 's/^deployed .*: \(release .*\)/\1/p' "$log")" "$(since "$started")" "$how" \
        "$(sed -n 's/^  image  *\([^ ]*\)  *\([^ ]*\).*/      \1 = \2/p' "$log")"
}

deploy_tenant() { # TENANT: its deploys in order; a failure skips the later environments
    local _ tenant env source images
    while read -r _ tenant env source images; do
        # shellcheck disable=SC2086 # SERVICE=REF words
        deploy_one "$tenant" "$env" "$source" $images || return 1
    done < <(grep "^deploy $1 " "$FACTS")
}

declare -a pids=()
for tenant in $(grep '^deploy ' "$FACTS" | cut -d' ' -f2 | uniq); do
    deploy_tenant "$tenant" &
    pids+=("$!")
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
[ "$failed" = 0 ] || die "a deploy failed (see above); the platform rolled it back or left the previous release running"

# ------------------------------------------------------------------------------- report ---
phase report "where each route answers: through nginx on 127.0.0.1:8880, by its domain"
echo "demo: the domains do not resolve here: curl --resolve DOMAIN:8880:127.0.0.1 http://DOMAIN:8880/"
bad=0
while read -r _ tenant env service port path domains; do
    for domain in ${domains//,/ }; do
        url=http://$domain:8880$path
        answer=$(curl -s --noproxy '*' -m 5 --resolve "$domain:8880:127.0.0.1" -o /dev/null \
            -w '%{http_code}' "$url" || true)
        title=$(curl -sf --noproxy '*' -m 5 --resolve "$domain:8880:127.0.0.1" \
            "http://$domain:8880/title" || echo '?')
        case $answer in 2?? | 3??) ;; *) bad=1 ;; esac
        printf '  %-24s %-9s %-46s -> HTTP %s  %s\n' "$tenant/$env" "$service" "$url" "$answer" "$title"
    done
done < <(grep '^route ' "$FACTS")
answer=$(curl -s --noproxy '*' -m 5 -H 'Host: unknown.example' http://127.0.0.1:8880/ || true)
printf '  %-34s %-46s -> %s\n' "any other name" "http://unknown.example:8880/" "$answer"
[ "$bad" = 0 ] || die "a route did not answer through the proxy (see above)"

phase status "python -m platform_lib status --root $ROOT"
"$PYTHON" -m platform_lib status --root "$ROOT"

phase check "docker ps (DOCKER_HOST=$DOCKER_HOST): the demo's compose projects"
# Only the demo's projects (TENANT-ENV): the dockerd is shared, the e2e tests' tenants are not
# the demo's business.
containers=
while read -r _ tenant env _; do
    found=$(docker ps -a --filter "label=com.docker.compose.project=$tenant-$env" \
        --format '{{.Names}}\t{{.Status}}\t{{.Image}}')
    [ -n "$found" ] || die "no container runs for $tenant/$env"
    containers+=$found$'\n'
done < <(grep '^deploy ' "$FACTS")
{ printf 'NAMES\tSTATUS\tIMAGE\n'; printf '%s' "$containers" | sort; } |
    awk -F '\t' '{ printf "%-36s %-26s %s\n", $1, $2, $3 }'
unhealthy=$(printf '%s' "$containers" | grep -v '(healthy)' | cut -f1,2 || true)
[ -z "$unhealthy" ] || die "containers not healthy: $unhealthy"
echo "demo: every container of every tenant and environment is healthy"

phase end
summary=$(printf '%s, ' "${TIMINGS[@]}")
echo
echo "demo: done in $(since "$T0") (${summary%, })"
echo "demo: look around: . $SERVERS/env; docker ps; ls $STATE/srv/projects/*/*"
echo "demo: the servers keep running (the e2e tests use them too); stop them:" \
    "tests/e2e/infra/down.sh $SERVERS  (add --purge to delete their state)"
