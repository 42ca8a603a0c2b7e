"""Image references: `[registry/]repository[:tag][@digest]`."""

from __future__ import annotations

import re
from dataclasses import dataclass

DIGEST = re.compile(r"sha256:[a-f0-9]{64}")
MUTABLE_TAGS = frozenset({"latest", "stable", "main", "master", "edge", "nightly", "dev"})


@dataclass(frozen=True)
class ImageRef:
    repository: str
    tag: str | None
    digest: str | None

    @property
    def pinned(self) -> bool:
        """A digest, or a tag that names one version (not `latest` and friends)."""
        return self.digest is not None or (self.tag is not None and self.tag not in MUTABLE_TAGS)

    def __str__(self) -> str:
        text = self.repository
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def parse_image(ref: str) -> ImageRef:
    name, _, digest = ref.partition("@")
    last_slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > last_slash:
        return ImageRef(name[:colon], name[colon + 1 :], digest or None)
    return ImageRef(name, None, digest or None)


# The reference grammar of the distribution project, as docker reads it: an optional registry
# (DNS labels with a dot or a port, or localhost), path components joined by `.`, `_`, `__` or
# dashes, a tag, a digest.
_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_REGISTRY = rf"(?:(?:{_LABEL}(?:\.{_LABEL})+|localhost)(?::[0-9]+)?|{_LABEL}:[0-9]+)"
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
IMAGE_REF = re.compile(
    rf"(?:{_REGISTRY}/)?{_COMPONENT}(?:/{_COMPONENT})*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?"
)
TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")


def is_valid_image_ref(ref: str) -> bool:
    return IMAGE_REF.fullmatch(ref) is not None


def is_digest(text: str) -> bool:
    return DIGEST.fullmatch(text) is not None


def is_tag(text: str) -> bool:
    return TAG.fullmatch(text) is not None
