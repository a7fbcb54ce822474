"""The GitHub workflows, offline: actionlint passes on both, every script
they call exists and is run here (or by ./test.sh, named below), and the
release scripts do what release.yml needs of them: the tag check, the notes
from the changelog, the checksum check."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import DIST, REPO, release_file

WORKFLOWS = REPO / ".github" / "workflows"
# Every repository script a workflow runs, and where this project runs it.
RUN_HERE = {
    ".ci/run": "CI itself: .ci/run is what runs ./test.sh",
    "./build.sh": "./test.sh (./build.sh --all)",
    "scripts/release-check.sh": "test_release_check_*",
    "scripts/release-notes.sh": "test_release_notes_*",
    "scripts/publish_layer.py": "tests/dist/test_publish_layer.py, against moto in two regions",
}


def run_lines():
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for job in yaml.safe_load(path.read_text())["jobs"].values():
            for step in job["steps"]:
                if "run" in step:
                    yield path.name, step["run"]


def test_actionlint_passes():
    actionlint = shutil.which("actionlint")
    assert actionlint, "actionlint is not installed: . scripts/python-env.sh installs it (requirements-dist.txt)"
    done = subprocess.run([actionlint, "-no-color", *sorted(map(str, WORKFLOWS.glob("*.yml")))],
                          capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_can_fail(tmp_path):
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ github.nope }}\n")
    done = subprocess.run([shutil.which("actionlint"), "-no-color", str(bad)], capture_output=True, text=True)
    assert done.returncode == 1 and "nope" in done.stdout


def test_every_script_a_workflow_calls_exists_and_is_run_here():
    called = set()
    for name, script in run_lines():
        for token in re.findall(r"(?:^|[\s($])((?:\./|scripts/|\.ci/)[\w./-]+)", script):
            called.add(token)
    assert called == set(RUN_HERE), f"scripts the workflows call: {sorted(called)}; known here: {sorted(RUN_HERE)}"
    for script in called:
        path = REPO / script
        assert path.is_file() and (path.stat().st_mode & 0o111 or path.suffix == ".py"), script


def release_tree(tmp_path, version, changelog):
    """A copy of what release-check.sh reads: Cargo.toml, CHANGELOG.md and the scripts."""
    (tmp_path / "scripts").mkdir()
    for name in ("release-check.sh", "release-notes.sh"):
        shutil.copy2(REPO / "scripts" / name, tmp_path / "scripts" / name)
    (tmp_path / "Cargo.toml").write_text(f'[workspace.package]\nversion = "{version}"\n')
    (tmp_path / "CHANGELOG.md").write_text(changelog)
    return tmp_path / "scripts" / "release-check.sh"


CHANGELOG = """# Changelog

## [Unreleased]

## [1.2.0] - 2027-03-01

### Added

- Something new.

## [1.1.0] - 2027-01-01

### Fixed

- Something old.
"""


def test_release_check_accepts_a_tag_with_its_dated_section(tmp_path):
    check = release_tree(tmp_path, "1.2.0", CHANGELOG)
    done = subprocess.run([check, "refs/tags/v1.2.0"], capture_output=True, text=True)
    assert (done.returncode, done.stdout) == (0, "1.2.0\n"), done.stderr


@pytest.mark.parametrize("tag, version, changelog, message", [
    ("v1.2.1", "1.2.0", CHANGELOG, "does not match Cargo.toml's version 1.2.0"),
    ("v1.3.0", "1.3.0", CHANGELOG, "no section '## [1.3.0] - YYYY-MM-DD'"),
    ("v1.3.0", "1.3.0", CHANGELOG.replace("## [Unreleased]", "## [1.3.0]"), "no section '## [1.3.0] - YYYY-MM-DD'"),
])
def test_release_check_refuses(tmp_path, tag, version, changelog, message):
    check = release_tree(tmp_path, version, changelog)
    done = subprocess.run([check, tag], capture_output=True, text=True)
    assert done.returncode == 1 and message in done.stderr, done.stderr


def test_release_notes_are_the_versions_section_only(tmp_path):
    (tmp_path / "CHANGELOG.md").write_text(CHANGELOG)
    notes = subprocess.run([REPO / "scripts" / "release-notes.sh", "1.2.0", tmp_path / "CHANGELOG.md"],
                           capture_output=True, text=True, check=True).stdout
    assert notes == "### Added\n\n- Something new.\n"
    empty = subprocess.run([REPO / "scripts" / "release-notes.sh", "Unreleased", tmp_path / "CHANGELOG.md"],
                           capture_output=True, text=True)
    assert empty.returncode == 1 and "is empty" in empty.stderr


def test_release_notes_of_the_projects_changelog_exist():
    notes = subprocess.run([REPO / "scripts" / "release-notes.sh", "Unreleased"], capture_output=True, text=True)
    assert notes.returncode == 0 and "### Added" in notes.stdout, notes.stderr


def test_the_checksums_release_yml_checks_hold():
    release_file("SHA256SUMS")
    listed = sorted(line.split()[1] for line in (DIST / "SHA256SUMS").read_text().splitlines())
    wheels = [name for name in listed if name.endswith(".whl")]
    assert [re.search(r"musllinux_1_2_(\w+)\.whl", w).group(1) for w in wheels] == ["aarch64", "x86_64"], wheels
    assert sorted(set(listed) - set(wheels)) == sorted(
        [f"portside-layer-{a}.zip" for a in ("x86_64", "arm64")] + [f"portside-{a}" for a in ("x86_64", "arm64")]
        + [f"portside-local-{a}" for a in ("x86_64", "arm64")] + ["portside.cdx.json", "portside-local.cdx.json"]
    )
    done = subprocess.run(["sha256sum", "--check", "--strict", "SHA256SUMS"], cwd=DIST, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
