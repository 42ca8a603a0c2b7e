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
#   $REGISTRY/platform-tests/busybox:1.35 bare busybox (sh, wget, sleep, ...)
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
BUSYBOX=/bin/busybox
[ "$(dpkg-query -W -f='${db:Status-Status}' busybox-static 2>/dev/null)" = installed ] ||
    { log "busybox-static is not installed: run install.sh"; exit 1; }

t0=$(date +%s%N)
# Credentials go to $DOCKER_CONFIG (STATE_DIR/docker-config, from the env file).
docker login "$REGISTRY" -u "$REGISTRY_USER" --password-stdin <"$REGISTRY_PASSWORD_FILE" >/dev/null 2>&1 ||
    { log "docker login $REGISTRY failed"; exit 1; }

WORK=$(mktemp -d "$STATE/build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# ------------------------------------------------------------------ rootfs ---
# make_rootfs DIR: busybox with every applet as a symlink, minimal /etc.
make_rootfs() {
    local root=$1 target
    mkdir -p "$root"/{bin,etc,tmp,www,root}
    chmod 1777 "$root/tmp"
    cp "$BUSYBOX" "$root/bin/busybox"
    # One process for all ~270 links; they point at the path busybox runs
    # from here (/usr/bin/busybox on merged-/usr hosts): provide that path too.
    "$BUSYBOX" --install -s "$root/bin"
    target=$(readlink "$root/bin/sh")
    if [ "$target" != /bin/busybox ]; then
        mkdir -p "$root$(dirname "$target")"
        ln -sfn /bin/busybox "$root$target"
    fi
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
}

# Same tar bytes for the same inputs: the layer digest only changes with them.
pack() { tar -C "$1" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -c .; }

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
# shellcheck disable=SC2016 # expanded in the container, by its /bin/sh
HEALTHCHECK='HEALTHCHECK --interval=1s --timeout=3s --retries=3 CMD wget -q -O- http://127.0.0.1:${PORT:-8080}/health || exit 1'

# Any change to this script or to busybox gives new images.
RECIPE=$(cat "$BUSYBOX" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-16)

# registry_digest REPO TAG: the manifest digest the registry serves, or "".
registry_digest() {
    curl -sfI -u "$REGISTRY_USER:$(cat "$REGISTRY_PASSWORD_FILE")" \
        -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
        "http://$REGISTRY/v2/$1/manifests/$2" |
        tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p' || true
}

# up_to_date REF REPO TAG: local image has this recipe and the registry serves it.
up_to_date() {
    local ref=$1 repo=$2 tag=$3 recipe local_digests remote
    [ "$FORCE" != --force ] || return 1
    recipe=$(docker image inspect "$ref" --format '{{index .Config.Labels "org.platform-tests.recipe"}}' 2>/dev/null) || return 1
    [ "$recipe" = "$RECIPE" ] || return 1
    remote=$(registry_digest "$repo" "$tag")
    [ -n "$remote" ] || return 1
    local_digests=$(docker image inspect "$ref" --format '{{range .RepoDigests}}{{println .}}{{end}}')
    grep -qxF "$REGISTRY/$repo@$remote" <<<"$local_digests"
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
    if up_to_date "$ref" "$repo" "$tag"; then
        log "$ref is up to date"
    else
        local changes=() c root="$WORK/$tag-rootfs"
        "$make" "$root"
        for c in "$@" "LABEL org.platform-tests.recipe=$RECIPE"; do changes+=(--change "$c"); done
        pack "$root" | docker import "${changes[@]}" - "$ref" >/dev/null
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
    make_rootfs "$root"
    printf '%s' "$version" >"$root/www/version"
    if [ "$version" = v3 ]; then
        printf '%s\n' "$BROKEN_START" >"$root/start"
    else
        printf 'ok' >"$root/www/health"
        printf '<h1>demo-web %s</h1>\n' "$version" >"$root/www/index.html"
        printf '%s\n' "$WEB_START" >"$root/start"
    fi
    chmod 755 "$root/start"
}
demo_web_v1() { demo_web_rootfs v1 "$1"; }
demo_web_v2() { demo_web_rootfs v2 "$1"; }
demo_web_v3() { demo_web_rootfs v3 "$1"; }

# ----------------------------------------------------------------- images ---
build_push BUSYBOX_IMAGE platform-tests/busybox 1.35 make_rootfs 'ENV PATH=/bin' 'CMD ["sh"]'
for version in v1 v2 v3; do
    build_push "DEMO_WEB_${version^^}" platform-tests/demo-web "$version" "demo_web_$version" \
        'ENV PATH=/bin' 'EXPOSE 8080' 'WORKDIR /www' 'CMD ["/start"]' "$HEALTHCHECK" \
        "LABEL org.opencontainers.image.version=$version"
done

mv "$IMAGES_ENV" "$STATE/images.env"
printf '%s\n' "${summary[@]}"
log "done in $((($(date +%s%N) - t0) / 1000000)) ms; exports in $STATE/images.env"
