"""A local OIDC issuer playing GitHub Actions' token service: its own RSA signing key, its
JWKS served over HTTP on 127.0.0.1 (`<issuer>/.well-known/jwks`, as GitHub publishes it),
and the runner's token endpoint (`ACTIONS_ID_TOKEN_REQUEST_URL`: `GET ?audience=...` with
the request token as bearer) minting tokens shaped like GitHub's."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

KID = "local-issuer-key-1"
REQUEST_TOKEN = "runner-request-token-must-never-be-printed"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class LocalIssuer:
    def __init__(self, repository: str, sha: str, actor: str = "alice") -> None:
        self.key = new_key()
        self.claims: dict[str, Any] = {"repository": repository, "sha": sha, "actor": actor}
        """What the token endpoint puts in the tokens it mints (a test may change them)."""
        self.minted: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.issuer = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        """The issuer (`iss`), also the base of its JWKS URL."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def jwks_url(self) -> str:
        return f"{self.url}/.well-known/jwks"

    @property
    def request_url(self) -> str:
        """What the runner sets as ACTIONS_ID_TOKEN_REQUEST_URL (it carries a query already)."""
        return f"{self.url}/token?api-version=2.0"

    def start(self) -> LocalIssuer:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def jwks(self) -> dict[str, Any]:
        public = RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return {"keys": [{**public, "kid": KID, "use": "sig", "alg": "RS256"}]}

    def mint(
        self,
        audience: str,
        *,
        now: datetime | None = None,
        lifetime: timedelta = timedelta(minutes=5),
        key: rsa.RSAPrivateKey | None = None,
        kid: str = KID,
        **claims: Any,
    ) -> str:
        """A token as GitHub issues one (`nbf` 5 minutes before `iat`); `claims` replace or
        add any claim, `key`/`kid` sign it differently."""
        issued = now or datetime.now(UTC)
        repository = str(self.claims["repository"])
        body: dict[str, Any] = {
            "jti": str(uuid.uuid4()),
            "sub": f"repo:{repository}:ref:refs/heads/main",
            "aud": audience,
            "ref": "refs/heads/main",
            "ref_type": "branch",
            "repository_owner": repository.split("/")[0],
            "run_id": "4242",
            "run_attempt": "1",
            "event_name": "push",
            "workflow_ref": f"{repository}/.github/workflows/release.yml@refs/heads/main",
            **self.claims,
            "iss": self.url,
            "nbf": int((issued - timedelta(minutes=5)).timestamp()),
            "iat": int(issued.timestamp()),
            "exp": int((issued + lifetime).timestamp()),
        }
        body.update(claims)
        token = jwt.encode(body, key or self.key, algorithm="RS256", headers={"kid": kid})
        self.minted.append(token)
        return token


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        issuer: LocalIssuer = self.server.issuer  # type: ignore[attr-defined]
        url = urlsplit(self.path)
        if url.path == "/.well-known/jwks":
            self._answer(200, issuer.jwks())
        elif url.path == "/token":
            if self.headers.get("Authorization") != f"Bearer {REQUEST_TOKEN}":
                self._answer(401, {"message": "bad request token"})
                return
            audience = parse_qs(url.query).get("audience", [""])[-1]
            self._answer(200, {"value": issuer.mint(audience), "count": 1})
        else:
            self._answer(404, {"message": "not found"})

    def _answer(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass
