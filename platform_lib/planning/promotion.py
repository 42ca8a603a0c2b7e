"""The promotion policy: which images a deploy of one tenant to one environment takes, decided
from facts alone (no host, no git, no clock). `deploy`, `plan --from-host`, `promote` and the
workflow's actions/apply all ask `decide`, so a deploy from a terminal and one from CI take the
same decision for the same facts.

The rule:
  an environment without `deploy_after` (staging)
      the requested images; every built service not requested keeps the digest it runs now
      (a config change redeploys what runs). Nothing requested and nothing running: skipped.
  an environment with `deploy_after: S` (production)
      exactly the digests S's current release runs, and only if S verified them for this
      configuration: that release was made from this commit, or from one whose configs for
      the tenant (and every shared file) are the same; requested and expected digests, if
      any, must be the ones it runs. S running nothing, with nothing requested: skipped.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from platform_lib.config.images import is_digest, parse_image
from platform_lib.models.base import Model


class SourceRelease(Model):
    """The current release of the environment a promotion takes its digests from."""

    environment: str
    release: str | None = None
    """None: it runs nothing for the tenant."""
    platform_sha: str = ""
    """The platform commit the release was made from."""
    configs_changed: bool | None = None
    """Whether the tenant's configs (or a shared file) differ between `platform_sha` and the
    commit deploying now: computed at the edge by `changed`; None when they cannot be compared
    (the release was not made from a commit of this repository)."""
    digests: dict[str, str] = Field(default_factory=dict)
    """Service -> `repository@sha256:...` the release runs."""


class PromotionFacts(Model):
    """Everything the policy decides from."""

    project: str
    environment: str
    built: tuple[str, ...]
    """The tenant's built services (`images:` of its project.yml)."""
    requested: dict[str, str] = Field(default_factory=dict)
    """Service -> image reference asked for (`--image`, the dispatch's images)."""
    expected: dict[str, str] | None = None
    """Service -> `sha256:...` the deploy must take exactly (the digests an approval showed)."""
    running: dict[str, str] = Field(default_factory=dict)
    """Service -> `repository@sha256:...` the target environment runs now."""
    running_release: str | None = None
    source: SourceRelease | None = None
    """The `deploy_after` environment's current release; None without `deploy_after`."""


class Deploy(Model):
    decision: Literal["deploy"] = "deploy"
    images: dict[str, str]
    """Built service -> image reference to deploy (every built service)."""
    kept: tuple[str, ...] = ()
    """Services that keep the digest they run (not requested)."""
    source_release: str | None = None
    """The release whose digests are promoted."""
    note: str = ""


class Refuse(Model):
    decision: Literal["refuse"] = "refuse"
    reason: str
    remedy: str


class Skip(Model):
    decision: Literal["skip"] = "skip"
    reason: str
    """Why there is nothing to deploy."""


Decision = Annotated[Deploy | Refuse | Skip, Field(discriminator="decision")]


def digest_of(ref: str) -> str:
    """`sha256:...` of a reference by digest (or a bare digest), '' when it has none."""
    bare = ref.strip().removeprefix("@")
    if is_digest(bare):
        return bare
    digest = parse_image(bare).digest
    return digest if digest is not None and is_digest(digest) else ""


def decide(facts: PromotionFacts) -> Deploy | Refuse | Skip:
    unknown = sorted({*facts.requested, *(facts.expected or {})} - set(facts.built))
    if unknown:
        return Refuse(
            reason=f"{facts.project} does not build {', '.join(unknown)}",
            remedy=f"built services: {', '.join(sorted(facts.built)) or 'none'}",
        )
    decision = _keep_running(facts) if facts.source is None else _promote(facts, facts.source)
    if isinstance(decision, Deploy) and facts.expected is not None:
        return _check_expected(facts, decision)
    return decision


def _keep_running(facts: PromotionFacts) -> Deploy | Refuse | Skip:
    images = dict(facts.requested)
    kept: list[str] = []
    for service in facts.built:
        if service not in images and digest_of(facts.running.get(service, "")):
            images[service] = facts.running[service]
            kept.append(service)
    missing = [service for service in facts.built if service not in images]
    if missing and not facts.requested and facts.running_release is None:
        return Skip(
            reason=f"no image requested and {facts.environment} runs nothing for "
            f"{facts.project} yet (pass --image {missing[0]}=REF)"
        )
    if missing:
        return Refuse(
            reason=f"no image for {facts.project}/{', '.join(missing)}: {facts.environment} "
            f"does not run {'it' if len(missing) == 1 else 'them'} yet and the request names none",
            remedy=f"pass --image {missing[0]}=TAG or --image {missing[0]}=sha256:DIGEST",
        )
    return Deploy(images=images, kept=tuple(kept))


def _promote(facts: PromotionFacts, source: SourceRelease) -> Deploy | Refuse | Skip:
    env, project, name = facts.environment, facts.project, source.environment
    if source.release is None:
        if facts.requested or facts.expected:
            return Refuse(
                reason=f"{name} runs nothing for {project}: the requested images were never "
                f"verified there",
                remedy=f"{env} deploys exactly what {name} verified: deploy {name} first "
                f"(did this run's {name} deploy fail?)",
            )
        first = facts.built[0] if facts.built else "its services"
        return Skip(reason=f"no verified {name} image for {project}/{first}: {name} has not "
                    f"deployed {project} yet")  # fmt: skip
    where = f"{name} release {source.release}"
    made_from = source.platform_sha
    if source.configs_changed is None:
        return Refuse(
            reason=f"{where} was made from {made_from or 'an unknown commit'!r}, not from a "
            f"commit of this repository, so it cannot be known to run these configs",
            remedy=f"deploy {name} from a commit of the platform repository (CI) first",
        )
    if source.configs_changed:
        return Refuse(
            reason=f"{where} runs the configs of {made_from[:12]}; {project}'s configs changed "
            f"since, and {name} has not verified them",
            remedy=f"deploy {name} with these configs first (did this run's {name} deploy fail?)",
        )
    verified = {s: source.digests[s] for s in facts.built if digest_of(source.digests.get(s, ""))}
    missing = [service for service in facts.built if service not in verified]
    if missing:
        return Refuse(
            reason=f"{where} runs no digest of {project}/{', '.join(missing)}",
            remedy=f"deploy {name} with every built service first",
        )
    for service, ref in sorted(facts.requested.items()):
        want, have = digest_of(ref), digest_of(verified[service])
        if not want:
            return Refuse(
                reason=f"image {service}={ref!r}: {env} deploys by digest only",
                remedy=f"give the digest {name} verified, or none ({name} runs {have})",
            )
        if want != have:
            return Refuse(
                reason=f"{where} runs {service} {have}, not the requested {want}: {name} has "
                f"not verified it",
                remedy=f"deploy it to {name} first (did this run's {name} deploy fail?)",
            )
    return Deploy(
        images=verified,
        source_release=source.release,
        note=f"promoting the digests {where} verified (made from {made_from[:12]})",
    )


def _check_expected(facts: PromotionFacts, decision: Deploy) -> Deploy | Refuse:
    for service, want in sorted((facts.expected or {}).items()):
        have = digest_of(decision.images.get(service, ""))
        if not is_digest(want):
            return Refuse(
                reason=f"expected digest of {service} {want!r} is not a sha256 digest",
                remedy="give each expected digest as sha256:<64 hex>",
            )
        if have != want:
            source = facts.source.environment if facts.source else facts.environment
            return Refuse(
                reason=f"{facts.environment} would get {service} {have or 'by tag'}, not the "
                f"expected {want}: {source} no longer runs the digests this deploy was "
                f"approved with",
                remedy="nothing was deployed; start a new run to review what it runs now",
            )
    missing = sorted(set(facts.built) - set(facts.expected or {}))
    if missing:
        return Refuse(
            reason=f"no expected digest for {facts.project}/{', '.join(missing)}",
            remedy="expected digests name every built service",
        )
    return decision
