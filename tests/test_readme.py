"""The README gets a newcomer started and sends everyone else into docs/: it stays short, names
the quick start's two commands, and every link in it leads to a file of the repository."""

import re
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
# [text](target) outside code; a target with a scheme (https:, mailto:) or only an anchor is
# not a file of the repository.
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def readme_links() -> list[str]:
    text = re.sub(r"```.*?```", "", README.read_text(encoding="utf-8"), flags=re.DOTALL)
    return [
        target
        for target in LINK.findall(text)
        if not re.match(r"^[a-z][a-z0-9+.-]*:", target) and not target.startswith("#")
    ]


def test_the_readme_stays_short():
    assert len(README.read_text(encoding="utf-8").splitlines()) < 150


def test_the_readme_names_both_quick_start_commands():
    text = README.read_text(encoding="utf-8")
    assert "python3 -m auditportal.quickstart serve" in text
    assert "python3 -m auditportal.quickstart test" in text


def test_every_link_of_the_readme_leads_to_a_file_of_the_repository():
    links = readme_links()
    assert any(link.startswith("docs/") for link in links)
    for link in links:
        path = (ROOT / unquote(link.split("#", 1)[0])).resolve()
        assert path.is_relative_to(ROOT), link
        assert path.exists(), link


def test_every_docs_page_is_in_the_navigation():
    navigation = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = sorted(p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md"))
    assert pages
    missing = [page for page in pages if f": {page}" not in navigation]
    assert missing == []
