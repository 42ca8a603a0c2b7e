#!/usr/bin/env bash
# Build the demo's stand-in images and push them to the registry of tests/e2e/infra/up.sh.
#
#   demo/build-images.sh STATE_DIR FACTS_FILE
#
# This machine is offline (no Docker Hub, no ghcr.io) and no app repo builds anything here, so
# every image is a small busybox STAND-IN: `docker import` of a busybox rootfs tar, settings
# given with --change, made with the helpers tests/e2e/infra/build-test-images.sh uses too
# (tests/e2e/infra/lib/busybox-image.sh). STATE_DIR is the servers' state dir: its env file
# names the registry and the dockerd. FACTS_FILE (demo/root.py's output) says what to build:
#   web NS/REPO TENANT SERVICE PORTS PATHS  ->  $REGISTRY/NS/REPO:demo
#       busybox httpd on each of PORTS; each of PATHS answers "ok" (/ answers the page); the
#       page (/, /index.html) names the tenant, the service and the version.
#   postgres TAG  ->  $REGISTRY/library/postgres:TAG (the mirror serves it as postgres:TAG)
#       no database: pg_isready and pg_dump shell scripts (demo/standins/) for the tenant's
#       healthcheck and the platform's pg_dump backup.
#
# Idempotent: an image whose recipe (label org.platform-demo.recipe: busybox, the helpers, this
# script, demo/standins/ and the image's facts) is unchanged and whose digest the registry still
# serves is not rebuilt. So a second run deploys the same digests, and compose keeps the
# containers.
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 STATE_DIR FACTS_FILE" >&2
    exit 2
fi
STATE=$(cd "$1" && pwd -P)
FACTS=$2
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=/dev/null
. "$STATE/env" # DOCKER_HOST, DOCKER_CONFIG, REGISTRY, REGISTRY_USER, REGISTRY_PASSWORD_FILE
TAG=demo

log() { echo "build-images.sh: $*" >&2; }
# shellcheck source-path=SCRIPTDIR source=../tests/e2e/infra/lib/busybox-image.sh
. "$HERE/../tests/e2e/infra/lib/busybox-image.sh"
busybox_require || exit 1

docker login "$REGISTRY" -u "$REGISTRY_USER" --password-stdin <"$REGISTRY_PASSWORD_FILE" >/dev/null 2>&1 ||
    { log "docker login $REGISTRY failed"; exit 1; }

WORK=$(mktemp -d "$STATE/demo-build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# Every stand-in starts from this rootfs: busybox with all applets, a minimal /etc.
BASE=$WORK/base
busybox_rootfs "$BASE"
RECIPE_BASE=$(busybox_recipe "${BASH_SOURCE[0]}" "$HERE"/standins/*)

# build_push REPO TAG FACTS ROOTFS_FUNCTION CHANGE...: unless up to date, make the rootfs with
# ROOTFS_FUNCTION DIR, import it as $REGISTRY/REPO:TAG with the CHANGEs, push it.
build_push() {
    local repo=$1 tag=$2 recipe make=$4 ref=$REGISTRY/$1:$2 digest state
    recipe=$(printf '%s %s\n' "$RECIPE_BASE" "$3" | sha256sum | cut -c1-16)
    shift 4
    if image_up_to_date "$repo" "$tag" org.platform-demo.recipe "$recipe"; then
        state="up to date"
    else
        local root=$WORK/${repo//\//_}
        cp -a "$BASE" "$root"
        "$make" "$root"
        busybox_import "$root" "$ref" "$@" "LABEL org.platform-demo.recipe=$recipe"
        docker push -q "$ref" >/dev/null
        state="built and pushed"
    fi
    digest=$(registry_digest "$repo" "$tag")
    [ -n "$digest" ] || { log "the registry does not serve $ref"; exit 1; }
    printf '  %-52s %s (%s)\n' "$ref" "${digest:0:19}..." "$state"
}

# ----------------------------------------------------------- web stand-ins ---
web_rootfs() { # DIR; uses $repo $tenant $service $paths of the facts line being built
    local root=$1 path file title list
    title="$tenant/$service version $TAG (busybox stand-in for $repo)"
    printf '%s\n' "$title" >"$root/www/title"
    printf '%s' "$TAG" >"$root/www/version"
    printf '<!doctype html>\n<title>%s</title>\n<h1>%s</h1>\n<p>%s</p>\n' "$tenant/$service" "$title" \
        "Offline demo: a busybox httpd standing in for the image the app repo would build." \
        >"$root/www/index.html"
    IFS=, read -ra list <<<"$paths"
    for path in "${list[@]}"; do
        case $path in
            / | /index.html) continue ;;
            */) file=$root/www${path}index.html ;;
            *) file=$root/www$path ;;
        esac
        mkdir -p "$(dirname "$file")"
        printf 'ok\n' >"$file"
    done
    install -m 755 "$HERE/standins/web" "$root/start"
}

postgres_rootfs() { # DIR
    mkdir -p "$1/usr/local/bin" "$1/var/lib/postgresql/data" "$1/run"
    install -m 755 "$HERE/standins/postgres" "$HERE/standins/pg_isready" "$HERE/standins/pg_dump" \
        "$1/usr/local/bin/"
}

while read -r kind rest; do
    case $kind in
        web)
            read -r repo tenant service ports paths <<<"$rest"
            first_path=${paths%%,*}
            build_push "$repo" "$TAG" "$kind $rest" web_rootfs </dev/null \
                'ENV PATH=/bin' "ENV PORTS=\"${ports//,/ }\"" "EXPOSE ${ports//,/ }" \
                'CMD ["/start"]' \
                "HEALTHCHECK --interval=1s --timeout=3s --retries=3 CMD wget -q -O /dev/null http://127.0.0.1:${ports%%,*}${first_path} || exit 1" \
                "LABEL org.opencontainers.image.title=$tenant/$service" \
                "LABEL org.opencontainers.image.version=$TAG"
            ;;
        postgres)
            build_push library/postgres "$rest" "$kind $rest" postgres_rootfs </dev/null \
                'ENV PATH=/usr/local/bin:/bin' 'ENV PGDATA=/var/lib/postgresql/data' \
                'EXPOSE 5432' 'CMD ["postgres"]' \
                'HEALTHCHECK --interval=1s --timeout=3s --retries=10 CMD pg_isready' \
                'LABEL org.opencontainers.image.title="postgres stand-in"' \
                "LABEL org.opencontainers.image.version=$rest"
            ;;
    esac
done <"$FACTS"
