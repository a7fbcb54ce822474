"""`cargo install --path local` and `--path layer` from a checkout give a
portside-local that works outside the checkout: installed into a fresh root,
it finds the adapter beside it and serves an app through the short form.
(--debug and the workspace's target folder only so the test reuses what
`cargo test` built; what it installs is the same code.)"""

import os
import re
import shutil
import subprocess

import pytest
import requests

from conftest import REPO, free_port, wait_until

READY = re.compile(r"is up at (http://127\.0\.0\.1:\d+)/")


def test_cargo_install_gives_a_portside_local_that_finds_its_adapter(tmp_path):
    if not shutil.which("cargo"):
        pytest.fail("cargo is not installed: install Rust from https://rustup.rs")
    root = tmp_path / "root"
    env = {**os.environ, "CARGO_TARGET_DIR": str(REPO / "target")}
    for crate in ("local", "layer"):
        done = subprocess.run(["cargo", "install", "--debug", "--locked", "--quiet", "--path", crate,
                               "--root", str(root)], cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stderr[-3000:]
    assert sorted(p.name for p in (root / "bin").iterdir()) == ["portside", "portside-local"]
    app = tmp_path / "app"
    app.mkdir()
    (app / "hello.txt").write_text("hello through a cargo-installed portside-local")
    out = tmp_path / "out"
    command = [str(root / "bin" / "portside-local"), "--port", "0", "--env", f"PORT={free_port()}", "--",
               "sh", "-c", "exec python3 -m http.server --bind 127.0.0.1 $PORT"]
    with out.open("w") as stdout, (tmp_path / "err").open("w") as stderr:
        proc = subprocess.Popen(command, cwd=app, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
                                start_new_session=True)
    try:
        def up():
            if proc.poll() is not None:
                pytest.fail(f"portside-local exited with {proc.returncode}:\n{(tmp_path / 'err').read_text()}")
            found = READY.search(out.read_text())
            return found and found.group(1)

        base = wait_until(up, 90, "the cargo-installed portside-local to be up")
        response = requests.get(f"{base}/hello.txt", timeout=30)
        assert (response.status_code, response.text) == (200, "hello through a cargo-installed portside-local")
    finally:
        proc.terminate()
        proc.wait(timeout=20)
