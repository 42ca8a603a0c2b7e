#!/usr/bin/env bash
# Start (or confirm running) the real servers the end-to-end tests use:
#   - dockerd on unix://STATE_DIR/docker.sock (vfs storage, no iptables)
#   - a registry on 127.0.0.1:$REGISTRY_PORT (default 5000), htpasswd auth,
#     user "platform", password in STATE_DIR/registry-password
#   - sshd on 127.0.0.1:$SSH_PORT (default 2222), root login with
#     STATE_DIR/ssh/client_ed25519 only; its sessions talk to our dockerd
# and write STATE_DIR/env (shell exports) for tests and scripts to source.
#
#   tests/e2e/infra/up.sh STATE_DIR
#
# Idempotent: servers whose pidfile names a live process of this state dir
# are left alone; keys and the password are made once. Run install.sh first.
# Ports are only read at first start: run down.sh before changing them.
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
REGISTRY_USER=platform
DOCKER_WAIT=${DOCKER_WAIT:-90}   # seconds; the first start on vfs is the slow one
REGISTRY_WAIT=${REGISTRY_WAIT:-30}
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

mkdir -p "$STATE"/{run,logs,docker/data,docker/exec,registry/data,ssh} \
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
# command line mentions this state dir (stale pidfiles, reused pids).
running() {
    local f pid comm
    f=$(pidfile "$1")
    [ -s "$f" ] || return 1
    pid=$(tr -dc 0-9 <"$f")
    [ -n "$pid" ] || return 1
    comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
    case $1 in
        registry) [ "$comm" = docker-registry ] || return 1 ;;
        *) [ "$comm" = "$1" ] || return 1 ;;
    esac
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$STATE"
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

# ---------------------------------------------------------- sshd config ---
SSH_DIR="$STATE/ssh"
[ -s "$SSH_DIR/host_ed25519_key" ] ||
    ssh-keygen -q -t ed25519 -N '' -C platform-e2e-host -f "$SSH_DIR/host_ed25519_key" <<<y >/dev/null
[ -s "$SSH_DIR/client_ed25519" ] ||
    ssh-keygen -q -t ed25519 -N '' -C platform-e2e-client -f "$SSH_DIR/client_ed25519" <<<y >/dev/null
chmod 600 "$SSH_DIR/host_ed25519_key" "$SSH_DIR/client_ed25519"
cp "$SSH_DIR/client_ed25519.pub" "$SSH_DIR/authorized_keys"
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
# Port clashes are reported before anything starts.
running registry || port_free "$REGISTRY_ADDR" ||
    die "$REGISTRY_ADDR is taken by another process (another stack? REGISTRY_PORT=...)"
if ! running sshd; then
    port_free "$SSH_ADDR:$SSH_PORT" ||
        die "$SSH_ADDR:$SSH_PORT is taken by another process (another stack? SSH_PORT=...)"
    /usr/sbin/sshd -t -f "$SSH_DIR/sshd_config" || die "bad $SSH_DIR/sshd_config"
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
        -H "unix://$SOCK"
fi

if running registry; then
    log "registry already running (pid $(cat "$(pidfile registry)"))"
else
    start registry docker-registry serve "$STATE/registry/config.yml"
    echo "${started_pid[registry]}" >"$(pidfile registry)"
fi

if running sshd; then
    log "sshd already running (pid $(cat "$(pidfile sshd)"))"
else
    mkdir -p /run/sshd
    rm -f "$(pidfile sshd)"
    # -D: stay in the foreground so the pid we record is the listener's.
    start sshd /usr/sbin/sshd -D -f "$SSH_DIR/sshd_config" -E "$STATE/logs/sshd.log"
    echo "${started_pid[sshd]}" >"$(pidfile sshd)"
fi

# ------------------------------------------- env file (published when ready) ---
{
    q() { printf "export %s='%s'\n" "$1" "$2"; }
    echo "# Written by tests/e2e/infra/up.sh; source it: . $STATE/env"
    q E2E_STATE_DIR "$STATE"
    q DOCKER_HOST "unix://$SOCK"
    q DOCKER_CONFIG "$STATE/docker-config"
    q REGISTRY "$REGISTRY_ADDR"
    q REGISTRY_USER "$REGISTRY_USER"
    q REGISTRY_PASSWORD_FILE "$STATE/registry-password"
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
    q REMOTE_DOCKER_CONFIG "$STATE/remote-docker-config"
} >"$STATE/env.tmp"

# ------------------------------------------------------------------- checks ---
export DOCKER_HOST="unix://$SOCK"
export DOCKER_CONFIG="$STATE/docker-config"

wait_for dockerd "$DOCKER_WAIT" curl -sf --unix-socket "$SOCK" http://docker/_ping
docker_root=$(docker info --format '{{.DockerRootDir}}') || fail "docker info failed"
[ "$docker_root" = "$STATE/docker/data" ] || fail "docker info reports root dir $docker_root"

registry_unauthorized() {
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$REGISTRY_ADDR/v2/")" = 401 ]
}
wait_for registry "$REGISTRY_WAIT" registry_unauthorized
curl -sf -u "$REGISTRY_USER:$(cat "$STATE/registry-password")" "http://$REGISTRY_ADDR/v2/" >/dev/null ||
    fail "registry rejects user $REGISTRY_USER with the password in $STATE/registry-password"

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
log "ready in ${elapsed} ms: dockerd unix://$SOCK, registry $REGISTRY_ADDR, sshd $SSH_ADDR:$SSH_PORT; env in $STATE/env"
