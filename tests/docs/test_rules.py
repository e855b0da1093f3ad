"""docs/rules.md stands alone and every citation of it holds: no file in the repository points
at a rules file outside it, and every `docs/rules.md §N` names a section the page has."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from tests.conftest import ROOT

RULES = ROOT / "docs" / "rules.md"
# Spelled in pieces so this file does not mention what it looks for.
OUTSIDE = (b"DOMAIN" + b".md", b".." + b"/shared")
CITATION = re.compile(r"docs/rules\.md §(\d+(?:\.\d+)*)")
HEADING = re.compile(r"^#{2,4} (\d+(?:\.\d+)*)\. ", re.MULTILINE)
SKIPPED_FOLDERS = {".git", ".venv", "build", "dist", "node_modules", "__pycache__"}


def _repository_files() -> list[Path]:
    """Every file of the repository: tracked and new ones (git), else a walk without caches."""
    if shutil.which("git") and (ROOT / ".git").exists():
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout
        paths = [ROOT / name.decode() for name in listed.split(b"\0") if name]
    else:
        paths = [
            path
            for path in ROOT.rglob("*")
            if not any(
                part in SKIPPED_FOLDERS or part.endswith("_cache") or part.endswith(".egg-info")
                for part in path.relative_to(ROOT).parts
            )
        ]
    return [path for path in paths if path.is_file()]


def _sections() -> set[str]:
    return set(HEADING.findall(RULES.read_text(encoding="utf-8")))


def test_no_file_points_at_rules_outside_the_repository() -> None:
    files = _repository_files()
    assert ROOT / "src" / "balint_cme" / "credit.py" in files  # the listing sees the sources
    offending = sorted(
        f"{path.relative_to(ROOT)}: {needle.decode()}"
        for path in files
        for needle in OUTSIDE
        if needle in path.read_bytes()
    )
    assert offending == []


def test_every_citation_names_a_section_of_the_rules() -> None:
    sections = _sections()
    assert {"1", "2", "3", "4", "5"} <= sections
    cited: dict[str, set[str]] = {}
    for path in _repository_files():
        if path.suffix not in {".py", ".md", ".toml", ".txt", ".cfg", ".sh", ""}:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for number in CITATION.findall(text):
            cited.setdefault(number, set()).add(str(path.relative_to(ROOT)))
    assert sum(len(paths) for paths in cited.values()) >= 5, cited  # the code cites the page
    missing = {number: sorted(paths) for number, paths in cited.items() if number not in sections}
    assert missing == {}


def test_the_rules_refer_within_themselves_to_sections_they_have() -> None:
    text = RULES.read_text(encoding="utf-8")
    referred = set(re.findall(r"§(\d+(?:\.\d+)*)", text))
    assert referred  # the page refers to its own sections (e.g. "§2")
    assert referred - _sections() == set()


def test_the_rules_name_their_public_sources_and_the_readme_links_them() -> None:
    text = RULES.read_text(encoding="utf-8")
    sources = text.split("\n## Sources\n", 1)[1]
    assert "AMA PRA booklet" in sources
    assert "ACCME" in sources
    assert "](docs/rules.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
