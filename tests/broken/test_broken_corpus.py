"""The broken-config corpus: every case must produce exactly its expected problems.

Layout, one folder per case under `tests/broken/`:

    <case>/files/...      files overlaid on a copy of the repository's valid `configs/` tree, at
                          their repo-relative paths (`files/configs/paiss/docker-compose.yml`);
                          may be left out when delete.txt alone makes the case
    <case>/delete.txt     optional: repo-relative paths removed from the copy, one per line
    <case>/special.txt    optional: entries git cannot hold, made in the copy after the overlay,
                          one per line: `link PATH TARGET` (a symbolic link to TARGET, as
                          written) or `fifo PATH`; PATH repo-relative (an existing file there
                          is replaced)
    <case>/expected.txt   one line per expected problem, `FILE:LINE:COL RULE`, in the order
                          `validate_sources` returns them (sorted); `-` stands for a problem
                          without a line or column (a missing file, a bad folder name)

The case is copied to a temporary platform root and read with `read_sources`, exactly as
`python -m platform_lib validate --root DIR` reads it, then validated. The full list must be equal:
a missing problem and an extra one both fail.

Regenerating goldens: `UPDATE_GOLDEN=1 pytest tests/broken` (re)writes every case's
expected.txt from what the validator reports now. A golden is a claim about correct behaviour, not
a snapshot: review every changed line by hand (file, line, column and rule) before keeping it.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
from pathlib import Path

import pytest

from platform_lib.config.sources import read_sources
from platform_lib.config.validate import validate_sources
from platform_lib.errors import Problem

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
BASE_CONFIGS = REPO / "configs"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
LINE = re.compile(r"^configs/\S+:(\d+|-):(\d+|-) [a-z]+\.[a-z-]+$")

# Every rule the validator can report. A rule added to platform_lib/config without a case here
# fails test_rule_ids_in_the_source_match_this_list; one without a case fails test_every_rule_...
RULES = frozenset(
    {
        "policy.privileged",
        "policy.capabilities",
        "policy.security-opt",
        "policy.host-namespace",
        "policy.devices",
        "policy.cgroup-parent",
        "policy.docker-socket",
        "policy.host-bind-mount",
        "policy.foreign-volume",
        "policy.foreign-network",
        "policy.foreign-image",
        "project.foreign-repository",
        "tenant.repository-conflict",
        "policy.host-file",
        "policy.reserved-label",
        "policy.unchecked-variable",
        "policy.unsupported-key",
        "policy.runtime",
        "policy.resources",
        "policy.log-driver",
        "compose.platform-secret",
        "project.platform-secret",
        "env.platform-secret",
        "settings.unused-grant",
        "project.fewer-approvals",
        "project.limit-above-maximum",
        "yaml.syntax",
        "yaml.duplicate-key",
        "yaml.too-large",
        "yaml.too-deep",
        "yaml.excessive-aliasing",
        "yaml.recursive-alias",
        "settings.unknown-key",
        "settings.missing-key",
        "settings.invalid",
        "settings.unknown-env",
        "settings.deploy-after-cycle",
        "project.unknown-key",
        "project.missing-key",
        "project.invalid",
        "project.name",
        "project.duplicate-name",
        "project.derived-domain",
        "project.reserved-name",
        "file.missing",
        "file.encoding",
        "file.symlink",
        "file.not-regular",
        "project.nested-folder",
        "env.missing-file",
        "env.syntax",
        "env.duplicate-key",
        "env.literal-secret",
        "env.host-variable",
        "compose.schema",
        "compose.container-name",
        "compose.limit-above-maximum",
        "compose.limit-unreadable",
        "compose.limit-conflict",
        "compose.build",
        "compose.mutable-image",
        "compose.missing-image",
        "compose.invalid-image",
        "compose.built-image-pinned",
        "compose.port-collision",
        "compose.routed-service-publishes-port",
        "compose.unresolved-variable",
        "compose.interpolation-syntax",
        "project.unknown-service",
        "project.unknown-volume",
        "project.unknown-env",
        "project.unknown-host",
        "project.route-without-domains",
        "project.secret-in-env-file",
        "project.rollout-not-routed",
        "project.rollout-empty",
        "project.rollout-weights",
        "project.rollout-bake",
        "project.rollout-too-long",
        "tenant.domain-conflict",
        "host.port-conflict",
        "host.proxy-port",
        "network.alias-conflict",
    }
)


def case_names() -> list[str]:
    return sorted(
        p.name for p in HERE.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))
    )


def problem_line(problem: Problem) -> str:
    loc = problem.location
    line = "-" if loc.line is None else str(loc.line)
    column = "-" if loc.column is None else str(loc.column)
    return f"{loc.file}:{line}:{column} {problem.rule}"


def build_root(case: Path, root: Path) -> Path:
    """A platform root holding the valid configs with the case's deletions and overlay."""
    shutil.copytree(BASE_CONFIGS, root / "configs")
    delete = case / "delete.txt"
    if delete.exists():
        for rel in delete.read_text(encoding="utf-8").split():
            target = root / rel
            assert rel.startswith("configs/") and target.is_file(), (
                f"{case.name}/delete.txt: {rel} is not a file of the base configs/ tree"
            )
            target.unlink()
    files = case / "files"
    overlaid = sorted(p for p in files.rglob("*") if p.is_file()) if files.is_dir() else []
    special = case / "special.txt"
    assert overlaid or delete.exists() or special.exists(), (
        f"{case.name}: neither a files/ overlay, delete.txt nor special.txt"
    )
    for source in overlaid:
        rel = source.relative_to(files).as_posix()
        assert rel.startswith("configs/"), f"{case.name}: overlay {rel} is outside configs/"
        base = BASE_CONFIGS.parent / rel
        assert not (base.is_file() and base.read_bytes() == source.read_bytes()), (
            f"{case.name}: overlay {rel} is identical to the base file; drop it"
        )
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    if special.exists():
        for line in special.read_text(encoding="utf-8").splitlines():
            kind, rel, *target_of = line.split()
            path = root / rel
            assert rel.startswith("configs/"), f"{case.name}/special.txt: {rel} is outside configs/"
            if path.exists() or path.is_symlink():
                path.unlink()
            if kind == "link":
                path.symlink_to(*target_of)
            else:
                assert kind == "fifo", f"{case.name}/special.txt: unknown kind {kind!r}"
                os.mkfifo(path)
    return root


def actual_lines(case: Path, tmp_path: Path) -> tuple[list[str], list[Problem]]:
    root = build_root(case, tmp_path / "root")
    _, problems = validate_sources(read_sources(root))
    return [problem_line(p) for p in problems], problems


def expected_lines(case: Path) -> list[str]:
    path = case / "expected.txt"
    assert path.is_file(), f"{case.name}: no expected.txt (UPDATE_GOLDEN=1 writes one)"
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        assert LINE.match(line), f"{case.name}/expected.txt:{number}: malformed line {line!r}"
        assert line.rsplit(" ", 1)[1] in RULES, f"{case.name}/expected.txt:{number}: unknown rule"
    return lines


@pytest.mark.parametrize("name", case_names())
def test_case(name: str, tmp_path: Path) -> None:
    case = HERE / name
    actual, problems = actual_lines(case, tmp_path)
    if UPDATE:
        (case / "expected.txt").write_text("".join(f"{line}\n" for line in actual), "utf-8")
    expected = expected_lines(case)
    if actual != expected:
        diff = "\n".join(
            difflib.unified_diff(
                expected, actual, f"{name}/expected.txt", "validate_sources", lineterm=""
            )
        )
        details = "\n".join(
            f"  {problem_line(p)}  ({p.location.pointer}) {p.message}" for p in problems
        )
        pytest.fail(f"{name}: problems differ from the golden\n{diff}\nreported:\n{details}")
    assert actual, f"{name}: a broken case must produce at least one problem"


def test_base_tree_is_valid() -> None:
    config, problems = validate_sources(read_sources(REPO))
    assert problems == []
    assert config is not None
    assert sorted(config.tenants) == ["filter-ical", "gabs-massage", "paiss"]
    assert list(config.settings.environments) == ["staging", "production"]


def test_the_corpus_has_cases() -> None:
    names = case_names()
    assert len(names) >= len(RULES), names
    for name in names:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name), f"case folder name {name!r}"


def test_every_rule_has_a_case() -> None:
    covered: dict[str, list[str]] = {}
    for name in case_names():
        for line in expected_lines(HERE / name):
            covered.setdefault(line.rsplit(" ", 1)[1], []).append(name)
    missing = sorted(RULES - covered.keys())
    assert missing == [], f"rules without a broken case: {missing}"


def _rule_ids_in_source() -> set[str]:
    """Rule ids the validator can emit, read from platform_lib/config: string literals that look
    like `area.rule`, plus the `{rule}.suffix` ids model_errors builds for each model prefix."""
    found: set[str] = set()
    texts = {
        p.name: p.read_text(encoding="utf-8") for p in (REPO / "platform_lib/config").glob("*.py")
    }
    for text in texts.values():
        for literal in re.findall(r"\"([a-z]+\.[a-z]+(?:-[a-z]+)*)\"", text):
            if not re.search(r"\.(ya?ml|json|md|txt|py|io)$", literal):  # files, hosts
                found.add(literal)
    suffixes = set(re.findall(r"f\"\{rule\}\.([a-z-]+)\"", texts["model_errors.py"]))
    prefixes = set(re.findall(r"validate_model\([^()]*\"([a-z]+)\"\)", texts["loader.py"]))
    assert suffixes and prefixes, "model_errors/loader no longer look as this test expects"
    found |= {f"{prefix}.{suffix}" for prefix in prefixes for suffix in suffixes}
    return found


def test_rule_ids_in_the_source_match_this_list() -> None:
    assert _rule_ids_in_source() == RULES
