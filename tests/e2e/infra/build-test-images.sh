#!/usr/bin/env bash
# Build the e2e test images from Debian's static busybox (no Docker Hub, no
# Dockerfile: `docker import` of a tar, Dockerfile-style settings given with
# --change) and push them to the registry that up.sh started.
#
#   tests/e2e/infra/build-test-images.sh STATE_DIR [--force]
#
# Images ($REGISTRY = 127.0.0.1:5000):
#   $REGISTRY/platform-tests/demo-web:v1  httpd on :8080, /version = "v1", /health = "ok"
#   $REGISTRY/platform-tests/demo-web:v2  same, /version = "v2"
#   $REGISTRY/platform-tests/demo-web:v3  broken release: no httpd, just sleeps,
#                                         so its healthcheck always fails
#   $REGISTRY/platform-tests/demo-web:v4  same, /version = "v4", and /cgi-bin/app answers
#                                         500 to every fifth request (a bad canary)
#   $REGISTRY/platform-tests/busybox:1.35 bare busybox (sh, wget, sleep, ...)
# demo-web v1, v2 and v4 also answer /cgi-bin/app with their version (a CGI, so each answer
# is decided as it is asked), or with 500 once /tmp/degrade exists in the container (a release
# that degrades: a test creates it with docker exec).
# demo-web images carry a HEALTHCHECK (wget -q -O- http://127.0.0.1:8080/health,
# every 1 s, 3 retries); a compose file may still declare its own.
#
# Idempotent: a tag whose recipe (label org.platform-tests.recipe) is unchanged
# and whose digest the registry still serves is not rebuilt (--force rebuilds).
# Writes STATE_DIR/images.env (exports DEMO_WEB_V1=..., DEMO_WEB_V1_DIGEST=sha256:...).
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ] || { [ $# -eq 2 ] && [ "$2" != --force ]; }; then
    echo "usage: $0 STATE_DIR [--force]" >&2
    exit 2
fi
STATE=$(cd "$1" && pwd -P)
FORCE=${2:-}
[ -s "$STATE/env" ] || { echo "build-test-images.sh: no $STATE/env: run up.sh first" >&2; exit 1; }
# shellcheck source=/dev/null
. "$STATE/env"

log() { echo "build-test-images.sh: $*" >&2; }
# shellcheck source-path=SCRIPTDIR source=lib/busybox-image.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/busybox-image.sh"
busybox_require || exit 1

t0=$(date +%s%N)
# Credentials go to $DOCKER_CONFIG (STATE_DIR/docker-config, from the env file).
docker login "$REGISTRY" -u "$REGISTRY_USER" --password-stdin <"$REGISTRY_PASSWORD_FILE" >/dev/null 2>&1 ||
    { log "docker login $REGISTRY failed"; exit 1; }

WORK=$(mktemp -d "$STATE/build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# The rootfs, tar and import helpers (busybox_rootfs, busybox_import, registry_digest,
# image_up_to_date) are in lib/busybox-image.sh, shared with demo/build-images.sh.

# ------------------------------------------------ what the images run ---
WEB_START=$(cat <<'EOF'
#!/bin/sh
# demo-web: serve /www on $PORT (default 8080). As PID 1 a process ignores
# SIGTERM unless it handles it: trap it so that stopping takes no 10 s.
port=${PORT:-8080}
httpd -f -p "$port" -h /www &
pid=$!
trap 'kill $pid 2>/dev/null; exit 0' TERM INT
echo "demo-web $(cat /www/version) listening on :$port"
wait $pid
EOF
)
BROKEN_START=$(cat <<'EOF'
#!/bin/sh
# demo-web v3, a broken release: it never starts httpd, so /health never
# answers and the healthcheck fails, but the container stays up.
trap 'exit 0' TERM INT
echo "demo-web v3: broken release, not serving"
sleep 2147483647 &
wait
EOF
)
APP_CGI=$(cat <<'EOF'
#!/bin/sh
# demo-web's app: its version; 500 once degraded (/tmp/degrade), and to every fifth request
# of a flaky release (/www/flaky).
code='200 OK'
if [ -e /tmp/degrade ]; then
    code='500 Internal Server Error'
elif [ -e /www/flaky ]; then
    n=$(($(cat /tmp/count 2>/dev/null || echo 0) + 1))
    echo "$n" >/tmp/count
    [ $((n % 5)) -ne 0 ] || code='500 Internal Server Error'
fi
printf 'HTTP/1.0 %s\r\nContent-Type: text/plain\r\n\r\n%s\n' "$code" "$(cat /www/version)"
EOF
)
# shellcheck disable=SC2016 # expanded in the container, by its /bin/sh
HEALTHCHECK='HEALTHCHECK --interval=1s --timeout=3s --retries=3 CMD wget -q -O- http://127.0.0.1:${PORT:-8080}/health || exit 1'

# Any change to this script, to lib/busybox-image.sh or to busybox gives new images.
RECIPE=$(busybox_recipe "${BASH_SOURCE[0]}")

# up_to_date REPO TAG: the local image has this recipe and the registry serves it.
up_to_date() {
    [ "$FORCE" != --force ] && image_up_to_date "$1" "$2" org.platform-tests.recipe "$RECIPE"
}

declare -a summary=()
IMAGES_ENV="$WORK/images.env"
echo "# Written by tests/e2e/infra/build-test-images.sh" >"$IMAGES_ENV"

# build_push VAR REPO TAG MAKE CHANGE...: unless up to date, run "MAKE ROOTFS",
# import ROOTFS as REGISTRY/REPO:TAG with the Dockerfile-style CHANGEs, push it.
build_push() {
    local var=$1 repo=$2 tag=$3 make=$4 ref digest
    shift 4
    ref="$REGISTRY/$repo:$tag"
    if up_to_date "$repo" "$tag"; then
        log "$ref is up to date"
    else
        local root="$WORK/$tag-rootfs"
        "$make" "$root"
        busybox_import "$root" "$ref" "$@" "LABEL org.platform-tests.recipe=$RECIPE"
        docker push -q "$ref" >/dev/null
        log "pushed $ref"
    fi
    digest=$(registry_digest "$repo" "$tag")
    [ -n "$digest" ] || { log "registry does not serve $ref"; exit 1; }
    summary+=("$ref@$digest")
    printf "export %s='%s'\nexport %s_DIGEST='%s'\n" "$var" "$ref" "$var" "$digest" >>"$IMAGES_ENV"
}

# demo_web_rootfs VERSION DIR
demo_web_rootfs() {
    local version=$1 root=$2
    busybox_rootfs "$root"
    printf '%s' "$version" >"$root/www/version"
    if [ "$version" = v3 ]; then
        printf '%s\n' "$BROKEN_START" >"$root/start"
    else
        printf 'ok' >"$root/www/health"
        printf '<h1>demo-web %s</h1>\n' "$version" >"$root/www/index.html"
        printf '%s\n' "$WEB_START" >"$root/start"
        mkdir -p "$root/www/cgi-bin"
        printf '%s\n' "$APP_CGI" >"$root/www/cgi-bin/app"
        chmod 755 "$root/www/cgi-bin/app"
        [ "$version" != v4 ] || : >"$root/www/flaky"
    fi
    chmod 755 "$root/start"
}
demo_web_v1() { demo_web_rootfs v1 "$1"; }
demo_web_v2() { demo_web_rootfs v2 "$1"; }
demo_web_v3() { demo_web_rootfs v3 "$1"; }
demo_web_v4() { demo_web_rootfs v4 "$1"; }

# ----------------------------------------------------------------- images ---
build_push BUSYBOX_IMAGE platform-tests/busybox 1.35 busybox_rootfs 'ENV PATH=/bin' 'CMD ["sh"]'
for version in v1 v2 v3 v4; do
    build_push "DEMO_WEB_${version^^}" platform-tests/demo-web "$version" "demo_web_$version" \
        'ENV PATH=/bin' 'EXPOSE 8080' 'WORKDIR /www' 'CMD ["/start"]' "$HEALTHCHECK" \
        "LABEL org.opencontainers.image.version=$version"
done

mv "$IMAGES_ENV" "$STATE/images.env"
printf '%s\n' "${summary[@]}"
log "done in $((($(date +%s%N) - t0) / 1000000)) ms; exports in $STATE/images.env"
