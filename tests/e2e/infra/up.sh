#!/usr/bin/env bash
# Start (or confirm running) the machine's one local server stack, which the
# end-to-end tests and `make demo` share:
#   - dockerd on unix://STATE_DIR/docker.sock (vfs storage, no iptables), with
#     --registry-mirror=http://<the mirror> and any extra $DOCKERD_ARGS
#   - a registry on 127.0.0.1:$REGISTRY_PORT (default 5000), htpasswd auth,
#     user "platform", password in STATE_DIR/registry-password
#   - the mirror on 127.0.0.1:$MIRROR_PORT (default 5001): an anonymous,
#     read-only view of the registry's storage, dockerd's Docker Hub mirror
#     (what is pushed as $REGISTRY/library/NAME:TAG pulls as NAME:TAG)
#   - sshd on 127.0.0.1:$SSH_PORT (default 2222), root login with
#     STATE_DIR/ssh/client_ed25519 only; its sessions talk to our dockerd
# and write STATE_DIR/env (shell exports) for tests and scripts to source.
#
#   tests/e2e/infra/up.sh STATE_DIR     # the usual one: /tmp/platform-local
#
# Idempotent: servers whose pidfile names a live process of this state dir
# are left alone; keys and the password are made once. Run install.sh first.
# Ports are only read at first start: run down.sh before changing them.
# DOCKERD_ARGS (extra dockerd flags, split on whitespace, no quoting) apply
# when dockerd starts; a running dockerd that lacks one of them, or the
# mirror flag, is an error (stop the stack with down.sh first).
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 STATE_DIR" >&2
    exit 2
fi
t0=$(date +%s%N)
mkdir -p "$1"
STATE=$(cd "$1" && pwd -P)
REGISTRY_PORT=${REGISTRY_PORT:-5000}
SSH_PORT=${SSH_PORT:-2222}
MIRROR_PORT=${MIRROR_PORT:-5001}
REGISTRY_USER=platform
DOCKER_WAIT=${DOCKER_WAIT:-90}   # seconds; the first start on vfs is the slow one
REGISTRY_WAIT=${REGISTRY_WAIT:-30}
MIRROR_WAIT=${MIRROR_WAIT:-30}
SSH_WAIT=${SSH_WAIT:-30}

log() { echo "up.sh: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

for tool in dockerd docker docker-registry htpasswd curl ssh ssh-keygen flock; do
    command -v "$tool" >/dev/null || die "$tool not found: run tests/e2e/infra/install.sh"
done
[ -x /usr/sbin/sshd ] || die "/usr/sbin/sshd not found: run tests/e2e/infra/install.sh"

case $STATE in
    *[[:space:]\'\"\\]*) die "state dir path must not contain spaces, quotes or backslashes: $STATE" ;;
esac
SOCK="$STATE/docker.sock"
# unix socket paths are limited to 107 bytes; containerd's is the longest.
longest="$STATE/docker/exec/containerd/containerd.sock.ttrpc"
[ "${#longest}" -le 107 ] || die "state dir path too long for unix sockets: $STATE"

mkdir -p "$STATE"/{run,logs,docker/data,docker/exec,registry/data,mirror,ssh} \
         "$STATE"/{docker-config,remote-docker-config}

# Like a host whose compose plugin sits in its docker config dir (the
# platform's runtime links $DOCKER_CONFIG/cli-plugins into its private config).
if [ -e /usr/local/lib/docker/cli-plugins/docker-compose ]; then
    mkdir -p "$STATE/remote-docker-config/cli-plugins"
    ln -sfn /usr/local/lib/docker/cli-plugins/docker-compose \
        "$STATE/remote-docker-config/cli-plugins/docker-compose"
fi

# One up.sh/down.sh at a time per state dir (parallel pytest workers, CI).
exec 9>"$STATE/.lock"
flock -w 300 9 || die "could not lock $STATE/.lock"

# ---------------------------------------------------------------- helpers ---
pidfile() { echo "$STATE/run/$1.pid"; }

# running NAME: the pidfile names a live process of the expected binary whose
# command line has this state dir's argument for NAME (stale pidfiles, reused
# pids; the registry and the mirror are both docker-registry).
running() {
    local f pid want arg
    case $1 in
        dockerd) want=dockerd arg="unix://$SOCK" ;;
        registry | mirror) want=docker-registry arg="$STATE/$1/config.yml" ;;
        sshd) want=sshd arg="$STATE/ssh/sshd_config" ;;
        *) return 1 ;;
    esac
    f=$(pidfile "$1")
    [ -s "$f" ] || return 1
    pid=$(tr -dc 0-9 <"$f")
    [ -n "$pid" ] || return 1
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$want" ] || return 1
    # Arguments end in NUL; sshd rewrites its title into one space-separated string.
    [[ " $(tr '\0' ' ' <"/proc/$pid/cmdline") " == *" $arg "* ]]
}

# has_arg PID ARG: ARG is one of the arguments of process PID.
has_arg() {
    tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null | grep -qxF -- "$2"
}

# port_user HOST:PORT: "pid N (command line)" of the process listening there,
# if ss can tell (iproute2); else nothing.
port_user() {
    local pid
    command -v ss >/dev/null || return 0
    pid=$(ss -Hltnp "sport = :${1##*:}" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2)
    [ -n "$pid" ] || return 0
    echo "pid $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | sed 's/ *$//' | cut -c1-200))"
}

# bridges: the bridge interfaces of our dockerd's networks, one a line.
bridges() {
    local ids id name
    ids=$(docker network ls -q --no-trunc --filter driver=bridge) || return 1
    [ -n "$ids" ] || return 0
    # shellcheck disable=SC2086 # one id a word
    docker network inspect -f '{{.Id}} {{index .Options "com.docker.network.bridge.name"}}' $ids |
        while read -r id name; do
            case $name in "" | "<no value>") name=br-${id:0:12} ;; esac
            echo "$name"
        done
}

# other_dockerd: a dockerd other than ours runs on this machine (zombies aside).
other_dockerd() {
    local dir ours comm stat
    ours=$(tr -dc 0-9 <"$(pidfile dockerd)" 2>/dev/null || true)
    for dir in /proc/[0-9]*; do # read, not $(cat): no fork per process
        [ "${dir#/proc/}" != "$ours" ] && read -r comm <"$dir/comm" && [ "$comm" = dockerd ] &&
            read -r stat <"$dir/stat" && [[ $stat != *") Z "* ]] && return 0
    done 2>/dev/null
    return 1
}

# taken HOST:PORT WHAT: die, naming who holds the port.
taken() {
    local user
    user=$(port_user "$1")
    die "$1 is taken by another process${user:+: $user}. If it is another stack, stop it \
(tests/e2e/infra/down.sh ITS_STATE_DIR): this machine runs one. Or give this state dir other \
ports at its first start ($2=...)"
}

declare -A started_pid=()

# alive_if_started NAME: unless this run started NAME, or it still runs.
alive_if_started() {
    local pid=${started_pid[$1]:-}
    [ -z "$pid" ] || kill -0 "$pid" 2>/dev/null
}

# port_free HOST:PORT: nothing accepts connections there.
port_free() {
    ! (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null
}

# wait_for NAME TIMEOUT CMD...: poll CMD until it succeeds.
wait_for() {
    local name=$1 timeout=$2 deadline
    shift 2
    deadline=$((SECONDS + timeout))
    until "$@" >/dev/null 2>&1 && alive_if_started "$name"; do
        alive_if_started "$name" || fail "$name exited during startup"
        if [ "$SECONDS" -ge "$deadline" ]; then
            fail "$name not ready after ${timeout}s (check: $*)"
        fi
        sleep 0.1
    done
}

fail() {
    log "ERROR: $1"
    rm -f "$STATE/env" "$STATE/env.tmp"
    local f
    for f in "$STATE"/logs/*.log; do
        [ -e "$f" ] || continue
        echo "----- last lines of $f -----" >&2
        tail -n 30 "$f" >&2
    done
    log "servers that did start keep running: stop them with down.sh $STATE"
    exit 1
}

# start NAME CMD...: run CMD detached (own session, no tty, output to its log,
# and without fd 9: a daemon inheriting it would hold the lock forever; nor
# the caller's stdout: a pytest subprocess.run would wait for it to close),
# with a clean environment: the registry takes any REGISTRY_* variable (as in
# our env file) for a config override, dockerd reads some DOCKER_* ones.
start() {
    local name=$1
    shift
    setsid env -i PATH="$PATH" HOME="${HOME:-/root}" LANG=C.UTF-8 "$@" \
        </dev/null >>"$STATE/logs/$name.log" 2>&1 9>&- &
    started_pid[$name]=$!
}

# ------------------------------------------------------ registry config ---
umask 077
if [ ! -s "$STATE/registry-password" ]; then
    od -An -tx1 -N16 /dev/urandom | tr -d ' \n' >"$STATE/registry-password"
    rm -f "$STATE/registry/htpasswd"
fi
if [ ! -s "$STATE/registry/htpasswd" ]; then
    htpasswd -Bbn "$REGISTRY_USER" "$(cat "$STATE/registry-password")" \
        | grep . >"$STATE/registry/htpasswd"
fi
if [ ! -s "$STATE/registry/config.yml" ]; then
    cat >"$STATE/registry/config.yml" <<EOF
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: $STATE/registry/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$REGISTRY_PORT
  secret: $(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
auth:
  htpasswd:
    realm: platform-e2e
    path: $STATE/registry/htpasswd
EOF
fi
umask 022
REGISTRY_ADDR=$(sed -n 's/^  addr: //p' "$STATE/registry/config.yml")

# ---------------------------------------------------------- mirror config ---
# dockerd sends a mirror the credentials it has for docker.io: none. The
# registry above requires a login even for pulls, so it cannot be the mirror.
# The mirror is a second docker-registry: anonymous, read-only, on loopback,
# serving the same storage. An image pushed to $REGISTRY/library/NAME:TAG so
# pulls as NAME:TAG (what a compose file names from Docker Hub).
if [ ! -s "$STATE/mirror/config.yml" ]; then
    cat >"$STATE/mirror/config.yml" <<EOF
# Written by tests/e2e/infra/up.sh: dockerd's Docker Hub mirror, an anonymous
# read-only view of the registry's storage ($STATE/registry/data).
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: $STATE/registry/data
  maintenance:
    readonly:
      enabled: true
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$MIRROR_PORT
  secret: $(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
EOF
fi
MIRROR_ADDR=$(sed -n 's/^  addr: //p' "$STATE/mirror/config.yml")
MIRROR_URL="http://$MIRROR_ADDR"

# dockerd's flags beyond the fixed ones: the mirror, then $DOCKERD_ARGS.
read -ra extra_args <<<"${DOCKERD_ARGS:-}"
DOCKERD_EXTRA=("--registry-mirror=$MIRROR_URL" "${extra_args[@]}")

# ---------------------------------------------------------- sshd config ---
SSH_DIR="$STATE/ssh"
[ -s "$SSH_DIR/host_ed25519_key" ] ||
    ssh-keygen -q -t ed25519 -N '' -C platform-e2e-host -f "$SSH_DIR/host_ed25519_key" <<<y >/dev/null
[ -s "$SSH_DIR/client_ed25519" ] ||
    ssh-keygen -q -t ed25519 -N '' -C platform-e2e-client -f "$SSH_DIR/client_ed25519" <<<y >/dev/null
chmod 600 "$SSH_DIR/host_ed25519_key" "$SSH_DIR/client_ed25519"
# Add the stack's client key; never rewrite the file: a running test may have
# authorized a key of its own (Servers.client_key), and it must stay.
touch "$SSH_DIR/authorized_keys"
grep -qxF "$(cat "$SSH_DIR/client_ed25519.pub")" "$SSH_DIR/authorized_keys" ||
    cat "$SSH_DIR/client_ed25519.pub" >>"$SSH_DIR/authorized_keys"
HOST_KEY_PUB=$(cut -d' ' -f1,2 "$SSH_DIR/host_ed25519_key.pub")

if [ ! -s "$SSH_DIR/sshd_config" ]; then
    cat >"$SSH_DIR/sshd_config" <<EOF
# Private sshd for the platform's end-to-end tests (see tests/e2e/infra).
ListenAddress 127.0.0.1
Port $SSH_PORT
HostKey $SSH_DIR/host_ed25519_key
PidFile $(pidfile sshd)
AuthorizedKeysFile $SSH_DIR/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
LogLevel VERBOSE
MaxStartups 100:30:200
MaxSessions 100
X11Forwarding no
PrintMotd no
# Every session (commands, sftp, 'docker -H ssh://' dial-stdio) uses our dockerd
# and a docker config of its own (login state of the "remote host").
SetEnv DOCKER_HOST=unix://$SOCK DOCKER_CONFIG=$STATE/remote-docker-config
Subsystem sftp internal-sftp
EOF
fi
SSH_PORT=$(sed -n 's/^Port //p' "$SSH_DIR/sshd_config")
SSH_ADDR=$(sed -n 's/^ListenAddress //p' "$SSH_DIR/sshd_config")
if [ "$SSH_PORT" = 22 ]; then
    echo "$SSH_ADDR $HOST_KEY_PUB" >"$SSH_DIR/known_hosts"
else
    echo "[$SSH_ADDR]:$SSH_PORT $HOST_KEY_PUB" >"$SSH_DIR/known_hosts"
fi
# ssh -F STATE_DIR/ssh/config e2e CMD (also: a wrapper 'ssh -F ...' in PATH
# lets DOCKER_HOST=ssh://e2e work, as docker runs plain "ssh").
cat >"$SSH_DIR/config" <<EOF
Host e2e
  HostName $SSH_ADDR
  Port $SSH_PORT
  User root
  IdentityFile $SSH_DIR/client_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $SSH_DIR/known_hosts
  StrictHostKeyChecking yes
  BatchMode yes
  ConnectTimeout 5
  LogLevel ERROR
EOF

# ------------------------------------------------- start what is not running ---
# Port clashes, and a dockerd started with other flags, are reported before
# anything starts.
running registry || port_free "$REGISTRY_ADDR" || taken "$REGISTRY_ADDR" REGISTRY_PORT
running mirror || port_free "$MIRROR_ADDR" || taken "$MIRROR_ADDR" MIRROR_PORT
if ! running sshd; then
    # sshd (also `sshd -t`) needs its privilege separation directory. The
    # package's service would make it; ours never runs, and /run is a tmpfs
    # that a reboot empties.
    mkdir -p /run/sshd
    chmod 755 /run/sshd
    port_free "$SSH_ADDR:$SSH_PORT" || taken "$SSH_ADDR:$SSH_PORT" SSH_PORT
    /usr/sbin/sshd -t -f "$SSH_DIR/sshd_config" || die "bad $SSH_DIR/sshd_config"
fi
if running dockerd; then
    dockerd_pid=$(tr -dc 0-9 <"$(pidfile dockerd)")
    for arg in "${DOCKERD_EXTRA[@]}"; do
        has_arg "$dockerd_pid" "$arg" ||
            die "the running dockerd of $STATE (pid $dockerd_pid) lacks $arg (started by an \
older up.sh, or with other DOCKERD_ARGS): stop the stack (down.sh $STATE), then run up.sh again"
    done
fi

if running dockerd; then
    log "dockerd already running (pid $(cat "$(pidfile dockerd)"))"
else
    rm -f "$(pidfile dockerd)" "$SOCK"
    start dockerd dockerd \
        --iptables=false --ip-masq=false \
        --storage-driver=vfs \
        --data-root "$STATE/docker/data" \
        --exec-root "$STATE/docker/exec" \
        --pidfile "$(pidfile dockerd)" \
        --shutdown-timeout 5 \
        -H "unix://$SOCK" \
        "${DOCKERD_EXTRA[@]}"
fi

if running registry; then
    log "registry already running (pid $(cat "$(pidfile registry)"))"
else
    start registry docker-registry serve "$STATE/registry/config.yml"
    echo "${started_pid[registry]}" >"$(pidfile registry)"
fi

if running mirror; then
    log "mirror already running (pid $(cat "$(pidfile mirror)"))"
else
    start mirror docker-registry serve "$STATE/mirror/config.yml"
    echo "${started_pid[mirror]}" >"$(pidfile mirror)"
fi

if running sshd; then
    log "sshd already running (pid $(cat "$(pidfile sshd)"))"
else
    rm -f "$(pidfile sshd)"
    # -D: stay in the foreground so the pid we record is the listener's.
    start sshd /usr/sbin/sshd -D -f "$SSH_DIR/sshd_config" -E "$STATE/logs/sshd.log"
    echo "${started_pid[sshd]}" >"$(pidfile sshd)"
fi

# ------------------------------------------- env file (published when ready) ---
{
    q() { printf "export %s='%s'\n" "$1" "$2"; }
    echo "# Written by tests/e2e/infra/up.sh; source it: . $STATE/env"
    q PLATFORM_LOCAL_STATE "$STATE"
    q E2E_STATE_DIR "$STATE"   # the same, under its older name
    q DOCKER_HOST "unix://$SOCK"
    q DOCKER_CONFIG "$STATE/docker-config"
    q REGISTRY "$REGISTRY_ADDR"
    q REGISTRY_USER "$REGISTRY_USER"
    q REGISTRY_PASSWORD_FILE "$STATE/registry-password"
    q MIRROR "$MIRROR_ADDR"
    q SSH_HOST "$SSH_ADDR"
    q SSH_PORT "$SSH_PORT"
    q SSH_USER root
    q SSH_HOST_KEY_PUB "$HOST_KEY_PUB"
    q SSH_KNOWN_HOSTS "$SSH_DIR/known_hosts"
    q SSH_CLIENT_KEY "$SSH_DIR/client_ed25519"
    q SSH_CONFIG "$SSH_DIR/config"
    q SSHD_LOG "$STATE/logs/sshd.log"
    q DOCKERD_LOG "$STATE/logs/dockerd.log"
    q REGISTRY_LOG "$STATE/logs/registry.log"
    q MIRROR_LOG "$STATE/logs/mirror.log"
    q REMOTE_DOCKER_CONFIG "$STATE/remote-docker-config"
} >"$STATE/env.tmp"

# ------------------------------------------------------------------- checks ---
export DOCKER_HOST="unix://$SOCK"
export DOCKER_CONFIG="$STATE/docker-config"

wait_for dockerd "$DOCKER_WAIT" curl -sf --unix-socket "$SOCK" http://docker/_ping
docker_info=$(docker info --format '{{.DockerRootDir}} {{range .RegistryConfig.Mirrors}}{{.}} {{end}}') ||
    fail "docker info failed"
[ "${docker_info%% *}" = "$STATE/docker/data" ] || fail "docker info reports root dir ${docker_info%% *}"
[[ " $docker_info " == *" $MIRROR_URL/ "* ]] || fail "docker info reports mirrors: ${docker_info#* }"

# A dockerd leaves the bridges of its networks (br-ID, each holding a subnet of
# Docker's default pools) when it stops. Those of a stopped stack, or of a
# deleted state dir, would make ours fail with "could not find an available,
# non-overlapping IPv4 address pool" after some 30 networks. With no other
# dockerd running, an idle br-ID that is not one of ours is such a leftover
# (its dockerd, if it ever starts again, makes it anew): delete it.
if ! other_dockerd && command -v ip >/dev/null; then
    ours=$(bridges) || fail "docker network ls failed"
    stale=()
    for dev in /sys/class/net/br-*; do
        name=${dev##*/}
        [[ $name =~ ^br-[0-9a-f]{12}$ ]] || continue
        ! grep -qxF "$name" <<<"$ours" || continue
        [ -z "$(ls -A "$dev/brif" 2>/dev/null)" ] || continue
        if ip link delete "$name" 2>/dev/null; then stale+=("$name"); fi
    done
    [ "${#stale[@]}" -eq 0 ] || log "deleted ${#stale[@]} idle bridges left by stopped dockerds: ${stale[*]}"
fi

registry_unauthorized() {
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$REGISTRY_ADDR/v2/")" = 401 ]
}
wait_for registry "$REGISTRY_WAIT" registry_unauthorized
curl -sf -u "$REGISTRY_USER:$(cat "$STATE/registry-password")" "http://$REGISTRY_ADDR/v2/" >/dev/null ||
    fail "registry rejects user $REGISTRY_USER with the password in $STATE/registry-password"

mirror_anonymous() {
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$MIRROR_URL/v2/")" = 200 ]
}
wait_for mirror "$MIRROR_WAIT" mirror_anonymous

ssh_docker_root() {
    ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes \
        -o UserKnownHostsFile="$SSH_DIR/known_hosts" -o IdentitiesOnly=yes \
        -o ConnectTimeout=5 -o LogLevel=ERROR -i "$SSH_DIR/client_ed25519" \
        -p "$SSH_PORT" "root@$SSH_ADDR" docker info --format '{{.DockerRootDir}}'
}
ssh_uses_our_dockerd() {
    [ "$(ssh_docker_root)" = "$STATE/docker/data" ]
}
wait_for sshd "$SSH_WAIT" ssh_uses_our_dockerd

mv "$STATE/env.tmp" "$STATE/env"   # only once everything answers

elapsed=$((($(date +%s%N) - t0) / 1000000))
log "ready in ${elapsed} ms: dockerd unix://$SOCK, registry $REGISTRY_ADDR, mirror $MIRROR_ADDR, \
sshd $SSH_ADDR:$SSH_PORT; env in $STATE/env"
