"""Runtime functions run alone with fake `docker`, `nginx` and `curl` on PATH, which record
their argv: the lock (expiry, takeover), the switch's classification of services, the proxy's
swap and its restore, route checks. No server: what the host would be asked is asserted."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from runtime_harness import Fakes, run_runtime

from platform_lib.models.records import LockHolder


@pytest.fixture
def fakes(tmp_path: Path) -> Fakes:
    return Fakes(tmp_path / "fakes")


def run(script: str, base: Path, fakes: Fakes) -> subprocess.CompletedProcess[str]:
    return run_runtime(script, base, path=str(fakes.bin))


# --- lock --------------------------------------------------------------------------------


def holder(base: Path, **fields: object) -> None:
    (base / "lock").mkdir(parents=True)
    (base / "lock" / "holder.json").write_text(json.dumps({"actor": "bob", **fields}))


def test_a_lock_past_its_expiry_is_taken_over(tmp_path: Path, fakes: Fakes) -> None:
    holder(tmp_path, expires_epoch=int(time.time()) - 5, plan="old")
    done = run(f"platform_lock_acquire {tmp_path} alice r9 0 60\ncat {tmp_path}/lock/holder.json",
               tmp_path, fakes)  # fmt: skip
    assert done.returncode == 0, done.stderr
    taken = LockHolder.model_validate_json(done.stdout)
    assert (taken.actor, taken.release, taken.plan) == ("alice", "r9", "plan")
    assert taken.expires_epoch >= int(time.time()) + 55
    assert not list(tmp_path.glob("lock.expired.*"))


def test_a_live_lock_is_not_taken_and_its_holder_is_named(tmp_path: Path, fakes: Fakes) -> None:
    holder(tmp_path, expires_epoch=int(time.time()) + 600, plan="theirs")
    done = run(f"platform_lock_acquire {tmp_path} alice r9 0 60", tmp_path, fakes)
    assert done.returncode == 1
    assert '"actor": "bob"' in done.stderr  # the holder, as it is on the host
    assert LockHolder.model_validate_json((tmp_path / "lock/holder.json").read_text()).plan == (
        "theirs"
    )


def test_a_script_releases_only_the_lock_it_holds(tmp_path: Path, fakes: Fakes) -> None:
    holder(tmp_path, expires_epoch=int(time.time()) + 600)
    assert run(f"platform_lock_release {tmp_path}", tmp_path, fakes).returncode == 0
    assert (tmp_path / "lock").is_dir()
    assert run(f"platform_lock_break {tmp_path}", tmp_path, fakes).returncode == 0
    assert not (tmp_path / "lock").exists()
    mine = run(f"platform_lock_acquire {tmp_path} a r9 0 60\nplatform_lock_release {tmp_path}",
               tmp_path, fakes)  # fmt: skip
    assert mine.returncode == 0 and not (tmp_path / "lock").exists()


# --- the switch --------------------------------------------------------------------------

# Routed: web (runs with another config: blue/green), api (same config: kept), admin (not
# running yet: started). Not routed: worker (in place). The old web container is `web-old`.
FAKE_DOCKER = r"""
args="$*" P=label=com.docker.compose.project=shop-staging S=label=com.docker.compose.service
case $args in
  "compose "*" config --hash *") printf 'web h-web-new\napi h-api\nadmin h-admin\nworker h-w\n' ;;
  "compose "*" up --detach --no-deps --no-recreate --scale web=2 web") touch "$STATE/web-new" ;;
  "compose "*) ;;
  "ps --no-trunc --filter $P --filter status=running --format "*)
    printf 'web web-old h-web-old\napi api-1 h-api\nworker worker-1 h-w\n' ;;
  "ps --quiet --no-trunc --filter $P --filter $S=web --filter status=running")
    printf 'web-old\n'; [[ -e $STATE/web-new ]] && printf 'web-new\n' ;;
  "ps --quiet --no-trunc --filter $P --filter $S="*" --filter status=running")
    service=${args##*service=}; printf '%s-1\n' "${service%% *}" ;;
  "ps --all --filter $P --filter label=com.docker.compose.oneoff=False"*)
    printf 'web-old web\napi-1 api\nworker-1 worker\nold-1 gone\n' ;;
  "inspect -f {{.Id}} {{.State.Status}}"*)
    for id in "${@:4}"; do echo "$id running healthy"; done ;;
  "inspect -f {{range .NetworkSettings.Networks}}"*) printf '10.0.0.%s \n' "${#args}" ;;
  "rm -f old-1" | "stop web-old" | "rm web-old") ;;
  *) echo "unexpected: docker $args" >&2; exit 99 ;;
esac
"""

NGINX_TSV = (
    "1\tweb\t8080\t1\tshop-staging.web.8080\t/certs/a\ta.example.test\t/health\n"
    "2\tapi\t9000\t1\tshop-staging.api.9000\t/certs/b\tb.example.test\t/\n"
    "3\tadmin\t7000\t1\tshop-staging.admin.7000\t/certs/c\tc.example.test\t/\n"
)


@pytest.fixture
def nginx_master(tmp_path: Path) -> Iterator[int]:
    """A live process standing for nginx's master: a reload's HUP leaves `reloaded` behind."""
    process = subprocess.Popen(["bash", "-c", f"trap 'touch {tmp_path}/reloaded' HUP\n"
                                "for _ in $(seq 600); do sleep 0.1; done"])  # fmt: skip
    time.sleep(0.2)  # its trap is set
    yield process.pid
    process.kill()
    process.wait()


def release_with_routes(base: Path) -> Path:
    release = base / "releases" / "r9"
    release.mkdir(parents=True)
    (release / "nginx.tsv").write_text(NGINX_TSV)
    (release / "nginx-http.conf").write_text("# shared\n")
    for n in (1, 2, 3):
        (release / f"nginx-{n}.plain.conf").write_text(f"# site {n}\n")
    return release


def test_the_switch_treats_each_kind_of_service_as_documented(
    tmp_path: Path, fakes: Fakes, nginx_master: int
) -> None:
    base, pdir = tmp_path / "base", tmp_path / "proxy"
    release_with_routes(base)
    (tmp_path / "nginx.pid").write_text(f"{nginx_master}\n")
    fakes.add("docker", f"STATE={tmp_path}\n{FAKE_DOCKER}")
    fakes.add("nginx")

    done = run(
        f"platform_switch {base} r9 shop-staging 20 {pdir} /etc/nginx.conf {tmp_path}/nginx.pid 1"
        " -- docker compose -p shop-staging", base, fakes,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    ups = [argv[argv.index("up") :] for argv in fakes.calls("docker") if "up" in argv]
    assert ups == [
        [
            "up",
            "--detach",
            "--wait",
            "--wait-timeout",
            "20",
            "--remove-orphans",
            "--no-deps",
            "worker",
        ],  # not routed: in place, first
        ["up", "--detach", "--wait", "--wait-timeout", "20", "--no-deps", "admin"],  # fresh
        ["up", "--detach", "--no-deps", "--no-recreate", "--scale", "web=2", "web"],  # changed
    ]  # fmt: skip  (api: unchanged, kept)
    docker = [argv[1:] for argv in fakes.calls("docker")]
    assert ["rm", "-f", "old-1"] in docker  # a service no longer in the compose file
    assert docker[-2:] == [["stop", "web-old"], ["rm", "web-old"]]  # after nginx switched
    assert [argv[1:] for argv in fakes.calls("nginx")] == [["-t", "-q", "-c", "/etc/nginx.conf"]]
    upstreams = (pdir / "upstreams" / "shop-staging.conf").read_text()
    assert upstreams.count("server 10.0.0.") == 3  # web-new, api-1, admin-1: not web-old
    assert (pdir / "sites" / "shop-staging.conf").read_text() == "# site 1\n# site 2\n# site 3\n"


# A new container the daemon has not health-checked yet, its healthcheck a CMD-SHELL.
FAKE_STARTING = r"""
case "$1 $2 $3" in
  "inspect -f {{.Id}}"*) echo "$4 running starting" ;;
  "inspect -f {{range .Config.Shell}}"*)
    printf '\0CMD-SHELL\0wget -q -O- http://127.0.0.1/health\0\n' ;;
  exec*) [[ -e $STATE/answers ]] ;;
  *) echo "unexpected: docker $*" >&2; exit 99 ;;
esac
"""


@pytest.mark.parametrize("answers", [True, False])
def test_a_new_container_is_probed_with_its_own_healthcheck_before_the_daemon_runs_it(
    answers: bool, tmp_path: Path, fakes: Fakes
) -> None:
    fakes.add("docker", f"STATE={tmp_path}\n{FAKE_STARTING}")
    if answers:
        (tmp_path / "answers").touch()
    done = run("platform_wait_healthy 1 web-new", tmp_path, fakes)
    probes = [argv[1:] for argv in fakes.calls("docker") if argv[1] == "exec"]
    assert probes[0] == ["exec", "web-new", "/bin/sh", "-c", "wget -q -O- http://127.0.0.1/health"]
    if answers:
        assert done.returncode == 0, done.stderr
        assert len(probes) == 1
    else:  # never healthy: not within the timeout
        assert done.returncode == 1
        assert "not healthy within 1s" in done.stderr


def test_a_release_without_a_proxy_is_one_compose_up(tmp_path: Path, fakes: Fakes) -> None:
    (tmp_path / "releases" / "r9").mkdir(parents=True)
    fakes.add("docker")
    done = run(f"platform_switch {tmp_path} r9 shop-staging 20 '' '' '' 0 -- docker compose",
               tmp_path, fakes)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert [argv[1:] for argv in fakes.calls()] == [
        ["compose", "up", "--detach", "--wait", "--wait-timeout", "20", "--remove-orphans"]
    ]


# --- the proxy's swap and its restore --------------------------------------------------------


def staged_swap(pdir: Path) -> None:
    (pdir / "sites").mkdir(parents=True)
    (pdir / "sites" / "shop.conf").write_text("old site\n")
    (pdir / "sites" / "shop.conf.new").write_text("new site\n")
    (pdir / "http.conf.new").write_text("new shared\n")  # there was none before


@pytest.mark.parametrize("nginx_t_passes", [True, False])
def test_the_swap_keeps_the_new_files_or_puts_the_old_ones_back(
    nginx_t_passes: bool, tmp_path: Path, fakes: Fakes, nginx_master: int
) -> None:
    pdir = tmp_path / "proxy"
    staged_swap(pdir)
    (tmp_path / "nginx.pid").write_text(str(nginx_master))
    fakes.add("nginx", "exit 0" if nginx_t_passes else "echo 'emerg: bad' >&2; exit 1")

    done = run(f"platform_proxy_swap {pdir} /c {tmp_path}/nginx.pid 0 .new http.conf "
               "sites/shop.conf", tmp_path, fakes)  # fmt: skip

    files = sorted(str(p.relative_to(pdir)) for p in pdir.rglob("*") if p.is_file())
    if nginx_t_passes:
        assert done.returncode == 0, done.stderr
        assert (pdir / "sites/shop.conf").read_text() == "new site\n"
        assert (pdir / "http.conf").read_text() == "new shared\n"
    else:
        assert done.returncode == 1
        assert (pdir / "sites/shop.conf").read_text() == "old site\n"
        assert files == ["sites/shop.conf"]  # no new, no .previous, no http.conf it never had
    assert [argv[1] for argv in fakes.calls("nginx")] == ["-t"]
    time.sleep(0.3)
    assert (tmp_path / "reloaded").exists() == nginx_t_passes  # reloaded only after nginx -t


@pytest.mark.parametrize("has_maintenance_server", [True, False])
def test_maintenance_points_only_the_projects_upstreams_at_the_503_server(
    has_maintenance_server: bool, tmp_path: Path, fakes: Fakes, nginx_master: int
) -> None:
    release, pdir = release_with_routes(tmp_path / "base"), tmp_path / "proxy"
    (pdir / "upstreams").mkdir(parents=True)
    socket = f"{pdir}/maintenance.sock"
    listen = f"    listen unix:{socket};\n" if has_maintenance_server else ""
    (pdir / "http.conf").write_text(f"server {{\n{listen}}}\n")
    (pdir / "upstreams" / "shop-staging.conf").write_text("upstream real {}\n")
    (pdir / "upstreams" / "blog-staging.conf").write_text("upstream blog {}\n")
    (tmp_path / "nginx.pid").write_text(str(nginx_master))
    fakes.add("nginx")

    done = run(f"platform_proxy_maintenance {release} shop-staging {pdir} /c {tmp_path}/nginx.pid",
               tmp_path, fakes)  # fmt: skip

    shop = (pdir / "upstreams" / "shop-staging.conf").read_text()
    assert (pdir / "upstreams" / "blog-staging.conf").read_text() == "upstream blog {}\n"
    if has_maintenance_server:
        assert done.returncode == 0, done.stderr
        assert shop == "".join(
            f"upstream shop-staging.{name} {{\n    server unix:{socket};\n}}\n"
            for name in ("web.8080", "api.9000", "admin.7000")
        )
        assert [argv[1] for argv in fakes.calls("nginx")] == ["-t"]
    else:  # an http.conf of an older platform: nothing changes, and the caller is told so
        assert done.returncode == 2
        assert shop == "upstream real {}\n"
        assert fakes.calls("nginx") == []


# --- route checks through the proxy -----------------------------------------------------------


def test_a_route_check_waits_for_2xx_and_gives_up_at_its_timeout(
    tmp_path: Path, fakes: Fakes
) -> None:
    counter = tmp_path / "n"
    fakes.add("curl", f'n=$(cat {counter} 2>/dev/null || echo 0); echo $((n + 1)) >{counter}\n'
                      '((n >= 2)) && printf 200 || printf 502')  # fmt: skip
    done = run("platform_route_check tls a.example.test /health 80 443 10", tmp_path, fakes)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "https://a.example.test:443/health 200\n"
    (first,) = {tuple(argv) for argv in fakes.calls("curl")}
    assert "--resolve" in first and "a.example.test:443:127.0.0.1" in first

    fakes.add("curl", "printf 404")
    failed = run("platform_route_check plain b.example.test / 80 443 1", tmp_path, fakes)
    assert failed.returncode == 1
    assert failed.stdout == "http://b.example.test:80/ 404\n"
