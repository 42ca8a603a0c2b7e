"""Any routes the models admit give a proxy config the real nginx loads, whose server names are
exactly the routes' domains (a domain can never add a directive)."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from nginx_harness import Nginx, self_signed
from plan_strategies import DOMAIN, HEALTH_PATH, PROPERTY_SETTINGS, ROUTE_SERVICE, strings

from platform_lib.models.settings import Proxy
from platform_lib.planning.proxy_config import RouteGroup, group_conf, http_conf, upstream_name

GROUPS = st.lists(
    st.tuples(
        strings(ROUTE_SERVICE),
        st.integers(1, 65535),
        st.lists(strings(DOMAIN), min_size=1, max_size=3, unique=True),
        strings(HEALTH_PATH),
    ),
    min_size=1,
    max_size=3,
)


@settings(PROPERTY_SETTINGS, max_examples=25)
@given(groups=GROUPS, tls=st.booleans())
def test_admitted_routes_load_in_nginx_with_exactly_their_names(
    groups: list[tuple[str, int, list[str], str]], tls: bool
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        nginx = Nginx(Path(tmp))
        nginx.write_main()
        proxy = Proxy(dir=str(nginx.platform_dir), certificates=f"{tmp}/certs", ipv6=False,
                      acme_webroot=f"{tmp}/acme", http_port=18080, https_port=18443)  # fmt: skip
        project = "tenant-staging"
        site, upstreams = [], set()
        for number, (service, port, domains, path) in enumerate(groups, 1):
            group = RouteGroup(number, service, port, tuple(domains), path, replicas=1)
            text = group_conf(proxy, project, group, tls=tls)
            names = re.findall(r"server_name ([^;]*);", text)
            assert names and all(found.split() == domains for found in names)
            site.append(text)
            upstreams.add(upstream_name(project, service, port))
            if tls:
                directory = Path(proxy.certificates) / group.certificate_name
                directory.mkdir(parents=True, exist_ok=True)
                # nginx -t loads the certificate: any valid pair will do for every group.
                _certificate(directory)
        (nginx.platform_dir / "http.conf").write_text(http_conf(proxy))
        (nginx.platform_dir / "sites" / f"{project}.conf").write_text("".join(site))
        (nginx.platform_dir / "upstreams" / f"{project}.conf").write_text(
            "".join(f"upstream {u} {{\n    server 127.0.0.1:9;\n}}\n" for u in sorted(upstreams))
        )
        done = nginx.test()
        assert done.returncode == 0, done.stderr


_PAIR: dict[str, bytes] = {}


def _certificate(directory: Path) -> None:
    """One self-signed pair per run, copied where each group expects its own."""
    if not _PAIR:
        with tempfile.TemporaryDirectory() as tmp:
            self_signed(Path(tmp), "example.test")
            for name in ("fullchain.pem", "privkey.pem"):
                _PAIR[name] = (Path(tmp) / name).read_bytes()
    for name, data in _PAIR.items():
        (directory / name).write_bytes(data)
