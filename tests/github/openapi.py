"""GitHub's official REST description (npm `@octokit/openapi`), to check every request the
client sends and every answer the test server gives against GitHub's real API.

The package is not committed (the dereferenced description alone is 73 MB). `npm pack`
fetches it into `.state/openapi/` (gitignored; `PLATFORM_OPENAPI_CACHE` moves it) the first
time; when that fails the tests fail, they never skip. Parsing 73 MB costs ~2 s and ~400 MB
per test process, so the operations in `OPERATIONS` are extracted once into a small file next
to it, with the list of every path template GitHub has (a request to anything else is no
GitHub endpoint at all).

OpenAPI 3.0 schemas are JSON Schema draft 4 plus `nullable`, which `json_schema` rewrites.
Request bodies are checked strictly: an object that lists its properties admits no others,
so a misspelt field fails here instead of being ignored by GitHub.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import os
import re
import subprocess
import tarfile
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator, FormatChecker

PACKAGE = "@octokit/openapi"
VERSION = "23.0.2"
MEMBER = "package/generated/api.github.com.deref.json"
SHA256 = "a631e5d9cf86ad9711e1da69015589fb270cc0f17ff33731d22b5eae845219c2"
REPO_ROOT = Path(__file__).resolve().parents[2]

# Every operation the client may call. Add one here when the client learns a new endpoint.
OPERATIONS = [
    ("post", "/repos/{owner}/{repo}/dispatches"),
    ("post", "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches"),
    ("get", "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs"),
    ("get", "/repos/{owner}/{repo}/actions/runs/{run_id}"),
    ("get", "/repos/{owner}/{repo}/actions/runs/{run_id}/jobs"),
    ("get", "/repos/{owner}/{repo}/actions/runs/{run_id}/pending_deployments"),
    ("post", "/repos/{owner}/{repo}/actions/runs/{run_id}/pending_deployments"),
    ("get", "/repos/{owner}/{repo}/actions/runs/{run_id}/approvals"),
    ("get", "/user"),
    ("get", "/repos/{owner}/{repo}"),
    ("get", "/repos/{owner}/{repo}/environments/{environment_name}"),
    ("put", "/repos/{owner}/{repo}/environments/{environment_name}"),
    ("get", "/repos/{owner}/{repo}/environments/{environment_name}/deployment-branch-policies"),
    ("post", "/repos/{owner}/{repo}/environments/{environment_name}/deployment-branch-policies"),
    ("get", "/repos/{owner}/{repo}/environments/{environment_name}/secrets"),
    ("get", "/users/{username}"),
    ("get", "/orgs/{org}/teams/{team_slug}"),
    ("get", "/orgs/{org}/teams/{team_slug}/members"),
    ("get", "/repos/{owner}/{repo}/deployments"),
    ("post", "/repos/{owner}/{repo}/deployments"),
    ("post", "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses"),
]
# GitHub's generic error shapes, as documented on operations that list them.
BASIC_ERROR = ("get", "/repos/{owner}/{repo}", "404")
VALIDATION_ERROR = ("post", "/repos/{owner}/{repo}/dispatches", "422")

_IGNORED = {"nullable", "example", "examples", "description", "discriminator", "deprecated",
            "readOnly", "writeOnly", "xml", "externalDocs", "title"}  # fmt: skip
_COMBINATORS = ("allOf", "anyOf", "oneOf", "not")


def cache_dir() -> Path:
    configured = os.environ.get("PLATFORM_OPENAPI_CACHE")
    return Path(configured) if configured else REPO_ROOT / ".state" / "openapi"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ensure_description() -> Path:
    """The dereferenced description of api.github.com, downloaded with `npm pack` if missing."""
    target = cache_dir() / f"octokit-openapi-{VERSION}" / "api.github.com.deref.json"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        try:
            done = subprocess.run(
                ["npm", "pack", f"{PACKAGE}@{VERSION}", "--pack-destination", tmp, "--json"],
                capture_output=True, text=True, timeout=600, check=False,
            )  # fmt: skip
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RuntimeError(f"npm pack {PACKAGE}@{VERSION} failed to run: {exc}") from exc
        if done.returncode != 0:
            raise RuntimeError(f"npm pack {PACKAGE}@{VERSION} failed:\n{done.stderr[-2000:]}")
        tarball = next(Path(tmp).glob("*.tgz"))
        part = Path(tmp) / "deref.json"
        with tarfile.open(tarball) as archive:
            source = archive.extractfile(MEMBER)
            if source is None:
                raise RuntimeError(f"{tarball.name} has no {MEMBER}")
            with part.open("wb") as out:
                while block := source.read(1 << 20):
                    out.write(block)
        if _sha256(part) != SHA256:
            raise RuntimeError(f"{MEMBER} of {PACKAGE}@{VERSION} is not the expected file")
        part.replace(target)  # atomic: parallel test workers never see half a file
    return target


def _extract() -> dict[str, Any]:
    key = hashlib.sha256(json.dumps([SHA256, OPERATIONS]).encode()).hexdigest()[:16]
    slim = cache_dir() / f"octokit-openapi-{VERSION}" / f"operations-{key}.json"
    if slim.is_file():
        loaded: dict[str, Any] = json.loads(slim.read_text(encoding="utf-8"))
        return loaded
    full = json.loads(ensure_description().read_text(encoding="utf-8"))
    paths = full["paths"]
    data = {
        "version": full["info"]["version"],
        "templates": sorted(
            [m, t]
            for t, item in paths.items()
            for m in item
            if m in ("get", "post", "put", "patch", "delete")
        ),
        "operations": {f"{m} {t}": paths[t][m] for m, t in OPERATIONS},
    }
    part = slim.with_suffix(f".{os.getpid()}.tmp")
    part.write_text(json.dumps(data), encoding="utf-8")
    part.replace(slim)
    return data


def json_schema(schema: Any, strict: bool = False) -> Any:
    """An OpenAPI 3.0 schema as JSON Schema: `nullable` becomes a null alternative; with
    `strict`, objects listing their properties admit no other (outside combinators)."""
    if isinstance(schema, list):
        return [json_schema(s, strict) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _IGNORED:
            continue
        if key == "properties":
            out[key] = {name: json_schema(s, strict) for name, s in value.items()}
        elif key in _COMBINATORS:
            out[key] = json_schema(value, False)
        else:
            out[key] = json_schema(value, strict)
    if strict and "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    if schema.get("nullable"):
        if "type" not in out:
            return {"anyOf": [out, {"type": "null"}]}
        # A type list keeps validation messages precise (an anyOf only says "no branch").
        out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


def _errors(schema: Any, value: Any, where: str) -> list[str]:
    validator = Draft4Validator(schema, format_checker=FormatChecker())
    return [
        f"{where} at /{'/'.join(str(p) for p in e.absolute_path)}: {e.message[:300]}"
        for e in sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
    ]


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    spec: Mapping[str, Any]

    def parameters(self, where: str) -> dict[str, Any]:
        return {p["name"]: p["schema"] for p in self.spec.get("parameters", []) if p["in"] == where}

    def response_schema(self, status: int, spec: Spec) -> Any | None:
        """The documented body of this status; GitHub's generic error shapes for
        undocumented 4xx. None: the status has no body. KeyError: not documented at all."""
        responses = self.spec["responses"]
        if str(status) in responses:
            content = responses[str(status)].get("content", {}).get("application/json")
            return None if content is None else content["schema"]
        if 400 <= status < 500:
            generic = VALIDATION_ERROR if status == 422 else BASIC_ERROR
            answer = spec.operation(generic[0], generic[1]).spec["responses"][generic[2]]
            return answer["content"]["application/json"]["schema"]
        raise KeyError(f"{self.method.upper()} {self.template} documents no {status} answer")


def _coerce(value: str, schema: Mapping[str, Any]) -> Any:
    kinds = [schema.get("type")] + [s.get("type") for s in schema.get("oneOf", [])]
    if "integer" in kinds and re.fullmatch(r"-?\d+", value):
        return int(value)
    if "boolean" in kinds and value in ("true", "false"):
        return value == "true"
    return value


class Spec:
    def __init__(self, data: Mapping[str, Any]) -> None:
        self.version = data["version"]
        self._operations = data["operations"]
        self._templates = [
            (m, t, re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "([^/]+)", re.escape(t)) + "$"))
            for m, t in data["templates"]
        ]

    def operation(self, method: str, template: str) -> Operation:
        key = f"{method.lower()} {template}"
        if key not in self._operations:
            raise KeyError(f"{key} is not in tests/github/openapi.py OPERATIONS")
        return Operation(method.lower(), template, self._operations[key])

    def match(self, method: str, path: str) -> tuple[Operation, dict[str, str]]:
        """The operation a concrete path calls; a literal segment beats a parameter."""
        found = []
        for m, template, pattern in self._templates:
            match = pattern.match(path)
            if m == method.lower() and match:
                names = re.findall(r"\{([^}]+)\}", template)
                found.append((len(names), template, dict(zip(names, match.groups(), strict=True))))
        if not found:
            raise KeyError(f"{method} {path} is no operation of GitHub's REST API")
        _, template, params = min(found)
        return self.operation(method, template), params

    def check_request(
        self, method: str, path: str, query: Mapping[str, list[str]], body: bytes
    ) -> list[str]:
        """Everything wrong with a request, against the operation it calls."""
        try:
            operation, path_params = self.match(method, path)
        except KeyError as exc:
            return [str(exc.args[0])]
        where = f"{method} {operation.template}"
        problems: list[str] = []
        for name, value in path_params.items():
            schema = json_schema(operation.parameters("path")[name])
            problems += _errors(schema, _coerce(value, schema), f"{where} path {name}")
        declared = operation.parameters("query")
        for name, values in query.items():
            if name not in declared:
                problems.append(f"{where}: undocumented query parameter {name!r}")
                continue
            if len(values) != 1:
                problems.append(f"{where}: query parameter {name!r} given {len(values)} times")
            schema = json_schema(declared[name])
            problems += _errors(schema, _coerce(values[0], schema), f"{where} query {name}")
        request_body = operation.spec.get("requestBody")
        if request_body is None:
            if body:
                problems.append(f"{where}: takes no body, got {body[:100]!r}")
            return problems
        if not body:
            if request_body.get("required"):
                problems.append(f"{where}: body required")
            return problems
        try:
            value = json.loads(body)
        except ValueError:
            return [*problems, f"{where}: body is not JSON"]
        schema = json_schema(request_body["content"]["application/json"]["schema"], strict=True)
        return problems + _errors(schema, value, f"{where} request body")

    def check_response(self, method: str, path: str, status: int, body: Any) -> list[str]:
        operation, _ = self.match(method, path)
        where = f"{method} {operation.template} {status}"
        try:
            schema = operation.response_schema(status, self)
        except KeyError as exc:
            return [str(exc.args[0])]
        if schema is None:
            return [] if body is None else [f"{where}: documented without a body"]
        if body is None:
            return [f"{where}: documented with a body"]
        return _errors(json_schema(schema), body, f"{where} answer")

    def example(
        self, method: str, template: str, status: int = 200, name: str | None = None
    ) -> Any:
        """A fresh copy of GitHub's own example answer, to build canned answers from."""
        content = self.operation(method, template).spec["responses"][str(status)]["content"]
        examples = content["application/json"]["examples"]
        return copy.deepcopy(examples[name or next(iter(examples))]["value"])


@functools.cache
def load() -> Spec:
    return Spec(_extract())
