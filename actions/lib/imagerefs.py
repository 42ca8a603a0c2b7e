"""Image references as deploy requests carry them: `SERVICE=REGISTRY/REPOSITORY[:TAG]@sha256:HEX`
or a bare `SERVICE=sha256:HEX`. App repositories and promotions deploy by digest only, so what
staging verifies is byte for byte what production runs; a person deploying staging by hand
(workflow_dispatch) may also name a tag, which staging resolves to a digest and records."""

from __future__ import annotations

import re
from typing import Any

SERVICE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")
DIGEST_REF = re.compile(
    r"^(?:(?P<repository>[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]{1,5})?"
    r"(?:/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*)(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?@)?"
    r"(?P<digest>sha256:[a-f0-9]{64})$"
)


TAG_OR_REF = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:/@-]{0,255}$")


def parse_images(value: Any, problems: list[str], tags: bool = False) -> dict[str, str]:
    """Images as a JSON object {service: ref}, a list of "service=ref", or text of
    "service=ref" items separated by newlines, spaces or commas; problems are appended.
    Refs must be by digest unless `tags` (the platform checks a tag or reference itself)."""
    if value in (None, "", [], {}):
        return {}
    pairs: list[tuple[str, str]] = []
    if isinstance(value, dict):
        pairs = [(str(k), str(v)) for k, v in value.items()]
    else:
        items = value if isinstance(value, list) else re.split(r"[\s,]+", str(value).strip())
        for item in items:
            service, sep, ref = str(item).strip().partition("=")
            if not sep:
                problems.append(f"image {item!r}: expected SERVICE=REF@sha256:DIGEST")
                continue
            pairs.append((service.strip(), ref.strip()))
    images: dict[str, str] = {}
    for service, ref in pairs:
        if not SERVICE.fullmatch(service):
            problems.append(f"image service {service!r}: not a compose service name")
        elif service in images:
            problems.append(f"image for {service!r} given twice")
        elif tags and TAG_OR_REF.fullmatch(ref):
            images[service] = ref
        elif not DIGEST_REF.fullmatch(ref):
            problems.append(
                f"image {service}={ref!r}: deploys are by digest; give "
                "REGISTRY/REPOSITORY@sha256:<64 hex> (the build's digest), not a tag"
            )
        else:
            images[service] = ref
    return images


def digest_of(ref: str) -> str:
    """`sha256:...` of a digest reference, '' when it has none."""
    match = DIGEST_REF.fullmatch(ref.strip())
    return match["digest"] if match else ""


def repository_of(ref: str) -> str:
    """The repository a digest reference names, '' for a bare digest."""
    match = DIGEST_REF.fullmatch(ref.strip())
    return (match["repository"] or "") if match else ""


def as_lines(images: dict[str, str]) -> str:
    return "\n".join(f"{service}={ref}" for service, ref in sorted(images.items()))
