"""The platform's rules for tenant compose files, beyond the Compose Specification."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Set
from typing import Any

from platform_lib.config.images import is_valid_image_ref, parse_image
from platform_lib.config.interpolation import (
    InterpolationSyntaxError,
    MissingVariable,
    VarRef,
    find_references,
    substitute,
)
from platform_lib.config.ports import PortClaims, published_ports
from platform_lib.config.yaml_source import YamlDocument
from platform_lib.errors import Problem


def services(doc: YamlDocument) -> dict[str, dict[str, Any]]:
    data = doc.data if isinstance(doc.data, dict) else {}
    found = data.get("services")
    if not isinstance(found, dict):
        return {}
    return {str(k): v for k, v in found.items() if isinstance(v, dict)}


def compose_policy_problems(doc: YamlDocument, built: Set[str]) -> list[Problem]:
    """Rules that hold whatever the environment: no container_name, no build:, pinned images,
    no host port published twice."""
    problems: list[Problem] = []
    seen_ports: PortClaims[str] = PortClaims()
    for name, service in services(doc).items():
        at = ["services", name]
        if "container_name" in service:
            problems.append(
                Problem(
                    doc.locate([*at, "container_name"]),
                    "compose.container-name",
                    f"service {name!r} sets container_name",
                    "remove it: fixed names collide between environments and releases and make "
                    "zero-downtime deploys impossible; compose names containers per project",
                )
            )
        if "build" in service:
            problems.append(
                Problem(
                    doc.locate([*at, "build"]),
                    "compose.build",
                    f"service {name!r} is built on the host (build:)",
                    "build the image in the app repo, push it to the registry and list the "
                    "service under images: in project.yml"
                    if name not in built
                    else "remove build:; the app repo builds this image, the platform deploys it",
                )
            )
        problems.extend(_image_problems(doc, name, service, built))
        for index, entry in enumerate(service.get("ports") or []):
            for ports in published_ports(entry) or []:
                clashes = seen_ports.claim(ports, name)
                if not clashes:
                    continue
                overlap, first = clashes[0]
                if ports.first == ports.last:
                    message = f"publishes host port {ports}, already published"
                else:
                    message = f"publishes host ports {ports}: {overlap} of them already published"
                problems.append(
                    Problem(
                        doc.locate([*at, "ports", index]),
                        "compose.port-collision",
                        f"service {name!r} {message} by service {first!r}",
                        "publish each host port once, or route HTTP through the platform's "
                        "proxy (routes: in project.yml) instead of publishing ports",
                    )
                )
    return problems


def _image_problems(
    doc: YamlDocument, name: str, service: dict[str, Any], built: Set[str]
) -> list[Problem]:
    at = ["services", name, "image"]
    image = service.get("image")
    if name in built:
        if isinstance(image, str) and "$" not in image:
            ref = parse_image(image)
            if ref.tag is not None or ref.digest is not None:
                return [
                    Problem(
                        doc.locate(at),
                        "compose.built-image-pinned",
                        f"service {name!r} is built by the app repo but pins {image!r}",
                        "drop the tag: the platform sets this image's digest at deploy time",
                    )
                ]
        return []
    if image is None:
        if "build" in service:
            return []
        return [
            Problem(
                doc.locate(["services", name]),
                "compose.missing-image",
                f"service {name!r} has no image",
                "set image: with a pinned version, or list the service under images: "
                "in project.yml if the app repo builds it",
            )
        ]
    if not isinstance(image, str) or "$" in image:
        return []
    if not is_valid_image_ref(image):
        return [
            Problem(
                doc.locate(at),
                "compose.invalid-image",
                f"service {name!r}: {image!r} is not a valid image reference",
                "use [registry/]repository:tag or repository@sha256:digest",
            )
        ]
    ref = parse_image(image)
    if not ref.pinned:
        what = f"the mutable tag {ref.tag!r}" if ref.tag else "no tag (that means 'latest')"
        return [
            Problem(
                doc.locate(at),
                "compose.mutable-image",
                f"service {name!r}: image {image!r} has {what}",
                f"pin a version ({ref.repository}:1.2.3) or a digest "
                f"({ref.repository}@sha256:...) so every deploy runs the same image",
            )
        ]
    return []


def string_values(
    data: Any, path: tuple[object, ...] = ()
) -> Iterator[tuple[tuple[object, ...], str]]:
    """Every string value in a document with its path (keys are not interpolated by compose)."""
    if isinstance(data, str):
        yield path, data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from string_values(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from string_values(value, (*path, index))


def variable_problems(
    doc: YamlDocument,
    environment: str,
    provided: Set[str],
    env_values: Mapping[str, str],
    env_file: str,
) -> list[Problem]:
    """`${VAR}` references in the compose file that nothing sets for this environment.
    `provided` (secrets, platform variables) are set and non-empty at deploy time."""
    problems: list[Problem] = []
    for path, value in string_values(doc.data):
        if "$" not in value:
            continue
        try:
            refs = find_references(value)
        except InterpolationSyntaxError as exc:
            problems.append(
                Problem(
                    doc.locate(path),
                    "compose.interpolation-syntax",
                    f"bad variable reference in {value!r}: {exc}",
                    "use $VAR, ${VAR}, ${VAR:-default} or ${VAR:?message}; write $$ for a "
                    "literal $",
                )
            )
            continue
        for ref in refs:
            if not ref.nested and _argument_used(ref, provided, env_values):
                problems += _fallback_problems(
                    doc, path, ref, environment, provided, env_values, env_file
                )
            if ref.nested or not ref.required or ref.name in provided:
                continue
            if ref.name not in env_values:
                problems.append(
                    Problem(
                        doc.locate(path),
                        "compose.unresolved-variable",
                        f"${{{ref.name}}} is not set for environment {environment!r}",
                        f"add {ref.name}=... to {env_file}, declare it under secrets: in "
                        f"project.yml, or give a default: ${{{ref.name}:-value}}",
                    )
                )
            elif ref.operator == ":?" and not env_values[ref.name]:
                problems.append(
                    Problem(
                        doc.locate(path),
                        "compose.unresolved-variable",
                        f"${{{ref.name}:?...}} requires a value but {ref.name} is empty for "
                        f"environment {environment!r}",
                        f"give {ref.name} a value in {env_file}",
                    )
                )
    return problems


def _argument_used(ref: VarRef, provided: Set[str], env_values: Mapping[str, str]) -> bool:
    """Whether compose evaluates the references in `ref`'s default (or `:+` value)."""
    if "$" not in ref.argument:
        return False
    value = "set" if ref.name in provided else env_values.get(ref.name)
    if ref.operator in (":-", "-"):
        return value is None or (ref.operator == ":-" and value == "")
    if ref.operator in (":+", "+"):
        return value is not None and (ref.operator == "+" or value != "")
    return False


def _fallback_problems(
    doc: YamlDocument,
    path: tuple[object, ...],
    ref: VarRef,
    environment: str,
    provided: Set[str],
    env_values: Mapping[str, str],
    env_file: str,
) -> list[Problem]:
    """`${A:-${B}}` with A and B unset: the default compose falls back to needs B."""
    variables = {**env_values, **dict.fromkeys(provided, "set")}
    try:
        substitute(ref.argument, variables)
        return []
    except InterpolationSyntaxError:
        return []  # reported once for the whole value already
    except MissingVariable as exc:
        missing = exc
    role = "default" if ref.operator in (":-", "-") else "alternative value"
    need = (
        f"${{{missing.name}:?...}} requires a value but {missing.name} is empty or unset"
        if missing.message
        else f"${{{missing.name}}} is not set"
    )
    return [
        Problem(
            doc.locate(path),
            "compose.unresolved-variable",
            f"{need} for environment {environment!r}, and compose reads it: it is in the "
            f"{role} of ${{{ref.name}{ref.operator}{ref.argument}}}",
            f"add {missing.name}=... (or {ref.name}=...) to {env_file}, declare it under "
            f"secrets: in project.yml, or give it a default: ${{{missing.name}:-value}}",
        )
    ]
