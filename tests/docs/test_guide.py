"""The user guide holds to the code: the link checker finds what is broken
(on made-up pages), every command block of the getting-started pages is one
a test runs, and the migration page names every LWA variable portside reads.
(The configuration table is held to the settings by
layer/src/config/settings.rs; the commands by tests/dist/test_wheel.py and
tests/examples/test_readme_commands.py.)"""

import re
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
GUIDE = REPO / "docs" / "src"
sys.path.insert(0, str(HERE))
import check_links  # noqa: E402

# The pages whose ```sh blocks tests/dist/test_wheel.py reads and runs.
RUN_BY_THE_WHEEL_TEST = {"python.md", "terraform.md"}


def test_the_link_checker_finds_missing_files_and_anchors(tmp_path):
    (tmp_path / "index.html").write_text('<h1 id="top">x</h1><a href="b.html#there">ok</a>'
                                         '<a href="b.html#nowhere">bad anchor</a><a href="gone.html">bad file</a>'
                                         '<a href="https://example.com/x#y">external</a><a href="#top">self</a>')
    (tmp_path / "b.html").write_text('<h2 id="there">b</h2>')
    problems = check_links.check_book(tmp_path)
    assert sorted(problems) == ["index.html: b.html#nowhere: no element with id 'nowhere'",
                                "index.html: gone.html: no such file"]


def test_markdown_anchors_follow_githubs_slugs():
    assert check_links.github_slug("What the app receives") == "what-the-app-receives"
    assert check_links.github_slug("`portside-local` up & running") == "portside-local-up--running"
    assert check_links.github_slug("Errors and the [retry rule](x.md)") == "errors-and-the-retry-rule"


def _blocks(page: Path):
    text = page.read_text()
    return re.findall(r"^```sh\n(.*?)^```", text, re.S | re.M), re.findall(r"\{\{#include ([^}]+)\}\}", text)


@pytest.mark.parametrize("page", sorted((GUIDE / "getting-started").glob("*.md")), ids=lambda p: p.name)
def test_every_getting_started_command_is_one_a_test_runs(page):
    literal, includes = _blocks(page)
    if literal:
        assert page.name in RUN_BY_THE_WHEEL_TEST, (
            f"{page.name} shows commands no test runs: show them in a page tests/dist/test_wheel.py runs, "
            "or include a tested example README's block"
        )
    for include in includes:
        path, _, anchor = include.strip().partition(":")
        target = (page.parent / path).resolve()
        assert re.fullmatch(r"examples/[a-z]+/README\.md", target.relative_to(REPO).as_posix()) and anchor == "run", include
        section = re.search(r"^## Run it through portside-local\n(.*?)(?=^## )", target.read_text(), re.S | re.M)
        # tests/examples/test_readme_commands.py runs every ```sh block of that section.
        assert section and "ANCHOR: run" in section.group(1) and "ANCHOR_END: run" in section.group(1), include


def test_the_migration_page_names_every_lwa_variable_portside_reads():
    settings = (REPO / "layer" / "src" / "config" / "settings.rs").read_text()
    names = set(re.findall(r'"(AWS_LWA_[A-Z_]+)"', settings))
    assert len(names) >= 15, names
    page = (GUIDE / "migrating-from-lwa.md").read_text()
    missing = sorted(n for n in names if f"`{n}`" not in page)
    assert not missing, f"docs/src/migrating-from-lwa.md does not name {missing}"


def test_every_page_is_in_the_summary():
    summary = (GUIDE / "SUMMARY.md").read_text()
    listed = set(re.findall(r"\]\(([^)]+\.md)\)", summary))
    pages = {p.relative_to(GUIDE).as_posix() for p in GUIDE.rglob("*.md")} - {"SUMMARY.md"}
    assert pages == listed, f"not listed: {sorted(pages - listed)}; listed but missing: {sorted(listed - pages)}"
