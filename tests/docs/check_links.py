#!/usr/bin/env python3
"""Checks the internal links of the user guide and of the repository's top
Markdown files: every relative link reaches a file, and every #anchor an
element with that id (in the built book) or a heading with that slug (in
Markdown, as GitHub makes them).

    python3 tests/docs/check_links.py [BOOK_DIR]      (default docs/book)

Run by tests/docs/check.sh after `mdbook build docs`. Exits 1 listing each
broken link; external links (http:, https:, mailto:) are not fetched.
"""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

REPO = Path(__file__).resolve().parents[2]
TOP_MARKDOWN = ["README.md", "CHANGELOG.md", "CONTRIBUTING.md", "SECURITY.md", "ARCHITECTURE.md"]


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        if tag == "a" and attrs.get("href"):
            self.hrefs.append(attrs["href"])


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _external(href: str) -> bool:
    return bool(urlsplit(href).scheme) or href.startswith("//")


def check_book(book: Path) -> list[str]:
    """Broken relative links in the built book's pages."""
    pages = {p.resolve(): _parse(p) for p in book.rglob("*.html")}
    problems = []
    for path, page in pages.items():
        # mdBook's own pages (print, 404, toc) link by script; the chapters matter.
        if path.name in ("print.html", "404.html", "toc.html"):
            continue
        for href in page.hrefs:
            if _external(href):
                continue
            parts = urlsplit(href)
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if target.is_dir():
                target = target / "index.html"
            where = f"{path.relative_to(book.resolve())}: {href}"
            if not target.exists():
                problems.append(f"{where}: no such file")
            elif parts.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else _parse(target).ids
                if unquote(parts.fragment) not in ids:
                    problems.append(f"{where}: no element with id {parts.fragment!r}")
    return problems


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", lambda m: m.group(1) or "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(markdown: str) -> set[str]:
    text = re.sub(r"^```.*?^```", "", markdown, flags=re.S | re.M)
    return {github_slug(h) for h in re.findall(r"^#{1,6} (.+)$", text, flags=re.M)}


def check_markdown(path: Path) -> list[str]:
    """Broken relative links in a Markdown file outside the book."""
    text = path.read_text(encoding="utf-8")
    prose = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    problems = []
    for href in re.findall(r"\]\(([^)\s]+)\)", prose):
        if _external(href):
            continue
        parts = urlsplit(href)
        target = (path.parent / unquote(parts.path)) if parts.path else path
        where = f"{path.relative_to(REPO)}: {href}"
        if not target.exists():
            problems.append(f"{where}: no such file")
        elif parts.fragment and target.suffix == ".md" and parts.fragment not in _anchors(target.read_text(encoding="utf-8")):
            problems.append(f"{where}: no heading with anchor {parts.fragment!r}")
    return problems


def main(argv: list[str]) -> int:
    book = Path(argv[0]) if argv else REPO / "docs" / "book"
    if not (book / "index.html").is_file():
        print(f"check_links.py: {book} has no index.html: run `mdbook build docs` first", file=sys.stderr)
        return 2
    problems = check_book(book)
    for name in TOP_MARKDOWN:
        problems += check_markdown(REPO / name)
    for problem in problems:
        print(f"broken link: {problem}", file=sys.stderr)
    pages = len(list(book.rglob("*.html")))
    print(f"check_links.py: {pages} book pages and {len(TOP_MARKDOWN)} Markdown files, {len(problems)} broken links")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
