# shellcheck shell=bash
# Build small images from Debian's static busybox, with no Docker Hub and no Dockerfile:
# a rootfs directory, packed into a reproducible tar, `docker import`ed with Dockerfile-style
# settings (--change), and checked against the registry of up.sh.
#
#   . tests/e2e/infra/lib/busybox-image.sh
#
# Sourced by tests/e2e/infra/build-test-images.sh and demo/build-images.sh. Sourcing it only
# defines functions (no variables, no commands). When called they use:
#   BUSYBOX                 the busybox binary to copy (default /bin/busybox, busybox-static)
#   REGISTRY, REGISTRY_USER, REGISTRY_PASSWORD_FILE, DOCKER_HOST, DOCKER_CONFIG
#                           from up.sh's STATE_DIR/env (registry_digest, image_up_to_date,
#                           busybox_import)

# busybox_require: fail (with a message) unless the static busybox is installed.
busybox_require() {
    local busybox=${BUSYBOX:-/bin/busybox}
    if [ "$busybox" = /bin/busybox ] &&
        [ "$(dpkg-query -W -f='${db:Status-Status}' busybox-static 2>/dev/null)" != installed ]; then
        echo "busybox-image.sh: busybox-static is not installed: run tests/e2e/infra/install.sh" >&2
        return 1
    fi
    [ -x "$busybox" ] || { echo "busybox-image.sh: $busybox is not executable" >&2; return 1; }
}

# busybox_rootfs DIR: busybox with every applet as a symlink in /bin, a minimal /etc
# (root, nobody), and empty /tmp (1777), /root and /www.
busybox_rootfs() {
    local root=$1 busybox=${BUSYBOX:-/bin/busybox} target
    mkdir -p "$root"/{bin,etc,tmp,www,root}
    chmod 1777 "$root/tmp"
    cp "$busybox" "$root/bin/busybox"
    # One process for all ~270 links; they point at the path busybox runs from here
    # (/usr/bin/busybox on merged-/usr hosts): provide that path too.
    "$busybox" --install -s "$root/bin"
    target=$(readlink "$root/bin/sh")
    if [ "$target" != /bin/busybox ]; then
        mkdir -p "$root$(dirname "$target")"
        ln -sfn /bin/busybox "$root$target"
    fi
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
}

# busybox_pack DIR: DIR as a tar on stdout, the same bytes for the same inputs (sorted names,
# mtime 0, owner root), so the layer digest only changes when the content does.
busybox_pack() {
    tar -C "$1" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -c .
}

# busybox_import DIR REF [CHANGE...]: import DIR as image REF, each CHANGE a Dockerfile line
# given to `docker import --change` (CMD, ENV, EXPOSE, WORKDIR, LABEL, HEALTHCHECK).
busybox_import() {
    local root=$1 ref=$2 c
    local -a changes=()
    shift 2
    for c in "$@"; do changes+=(--change "$c"); done
    busybox_pack "$root" | docker import "${changes[@]}" - "$ref" >/dev/null
}

# busybox_recipe [FILE...]: 16 hex digits naming the inputs of an image: busybox, this
# library and FILEs (the calling script, its stand-ins). Store it in a label: a change to any
# of them rebuilds the image.
busybox_recipe() {
    cat "${BUSYBOX:-/bin/busybox}" "${BASH_SOURCE[0]}" "$@" | sha256sum | cut -c1-16
}

# registry_digest REPO TAG: the manifest digest $REGISTRY serves for REPO:TAG, or "".
registry_digest() {
    curl -sfI --noproxy '*' -u "$REGISTRY_USER:$(cat "$REGISTRY_PASSWORD_FILE")" \
        -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
        "http://$REGISTRY/v2/$1/manifests/$2" |
        tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p' || true
}

# image_up_to_date REPO TAG LABEL RECIPE: the local image $REGISTRY/REPO:TAG has label
# LABEL=RECIPE and the registry still serves its digest (so it need not be built again).
image_up_to_date() {
    local ref=$REGISTRY/$1:$2 recipe remote
    recipe=$(docker image inspect "$ref" --format "{{index .Config.Labels \"$3\"}}" 2>/dev/null) ||
        return 1
    [ "$recipe" = "$4" ] || return 1
    remote=$(registry_digest "$1" "$2")
    [ -n "$remote" ] || return 1
    docker image inspect "$ref" --format '{{range .RepoDigests}}{{println .}}{{end}}' |
        grep -qxF "$REGISTRY/$1@$remote"
}
