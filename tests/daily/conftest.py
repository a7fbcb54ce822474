"""Fixtures for the daily-loop tests of portside-local (--env-file and the
rest of local/AUTHORIZERS.md and docs/src/portside-local-daily.md).

`portside_local`: the binary cargo built (built here when missing, so the
file also runs on its own).
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def portside_local() -> Path:
    target = Path(os.environ.get("CARGO_TARGET_DIR") or "target")
    target = target if target.is_absolute() else REPO / target
    binary = target / "debug" / "portside-local"
    if not binary.is_file():
        if not shutil.which("cargo"):
            pytest.fail(f"{binary} is missing and cargo is not installed: install Rust, then cargo build -p portside-local")
        build = subprocess.run(
            ["cargo", "build", "--locked", "-p", "portside-local"], cwd=REPO, capture_output=True, text=True
        )
        if build.returncode != 0:
            pytest.fail(f"cargo build -p portside-local failed:\n{build.stderr[-4000:]}")
    return binary
