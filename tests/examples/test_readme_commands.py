"""Each example README's "Run it through portside-local" commands work as
written, from the repository root.

Every ```sh block of that section is read line by line: `cargo build ...`
and `examples/install.sh NAME` are what the session's fixtures already did;
the portside-local line runs through bash exactly as written (its relative
`-- examples/NAME/run.sh` and `PATH=$PWD/...` prefix included), with two
changes only, so that tests can run side by side: `--port 3000` becomes
`--port 0` and the app gets a free port (`--env PORT=...`, not for
`portside-local web`, which gives each environment its own); each `curl` line
is then sent to it (curl's -i, -I, -N, -s, -S, -d and -F, read here) and
must be answered without an error status. Any other line fails the test, so
a README that grows a new step gets checked or noticed.

The short form runs the command in the folder portside-local is started
from; a relative command that resolved anywhere else would not start.
"""

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest
import requests

from example_defs import EXAMPLE_DEFS
from examples_support import EXAMPLES, REPO, free_port, stop_process_tree, wait_until

READY = re.compile(r"is up at (http://127\.0\.0\.1:\d+)/")
README_BASE = "http://127.0.0.1:3000"


def run_blocks(name: str) -> list[list[str]]:
    """The section's ```sh blocks, as lists of commands (continuations joined)."""
    text = (EXAMPLES / name / "README.md").read_text()
    match = re.search(r"^## Run it through portside-local\n(.*?)(?=^## )", text, re.S | re.M)
    assert match, f"examples/{name}/README.md has no '## Run it through portside-local' section"
    blocks = re.findall(r"^```sh\n(.*?)^```", match.group(1), re.S | re.M)
    assert blocks, f"examples/{name}/README.md: no ```sh block under 'Run it through portside-local'"
    return [[line for line in b.replace("\\\n", " ").splitlines() if line.strip()] for b in blocks]


CASES = [(name, i) for name in EXAMPLE_DEFS for i in range(len(run_blocks(name)))]


def curl_request(line: str, base: str) -> dict:
    """The request a README curl line makes, for requests.request."""
    args = shlex.split(line, comments=True)
    assert args[0] == "curl", line
    method, data, files, url = "GET", None, None, None
    rest = iter(args[1:])
    for arg in rest:
        if arg in ("-i", "-N", "-s", "-S", "-sS"):
            continue
        if arg == "-I":
            method = "HEAD"
        elif arg == "-d":
            method, data = "POST", next(rest).encode()
        elif arg == "-F":
            field, _, value = next(rest).partition("=")
            assert value.startswith("@"), f"-F {field}={value}: only file fields are read here"
            path = REPO / value[1:]
            assert path.is_file(), f"{line}: {path} does not exist (the command runs from the repository root)"
            method, files = "POST", {field: (path.name, path.read_bytes())}
        elif arg.startswith(README_BASE):
            url = base + arg[len(README_BASE):]
        else:
            pytest.fail(f"curl argument {arg!r} is not read by this test: {line}")
    assert url, f"no {README_BASE} URL in: {line}"
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if data is not None else {}
    return dict(method=method, url=url, data=data, files=files, headers=headers, allow_redirects=False, timeout=60)


@pytest.mark.parametrize("name, block", CASES, ids=[f"{n}-{i}" for n, i in CASES])
def test_readme_run_commands(name, block, artifacts, tmp_path):
    example = EXAMPLE_DEFS[name]
    example.check_installed()
    portside_local, _ = artifacts
    server, curls = None, []
    for line in run_blocks(name)[block]:
        command = line.split("#")[0].strip()
        if command in ("cargo build -p portside -p portside-local", f"examples/install.sh {name}"):
            continue  # done by the fixtures (artifacts, check_installed)
        if "target/debug/portside-local" in command:
            assert server is None, "two portside-local commands in one block"
            assert "--port 3000" in command, f"expected --port 3000 in: {line}"
            assert f"examples/{name}/" in command and "$PWD/examples" not in command.split(" -- ")[-1], (
                f"the short form's command should be relative to the repository root: {line}"
            )
            # A Web Function endpoint (`portside-local web`) gives each
            # environment its own AWS_LAMBDA_HTTP_ENDPOINT: no PORT to pick.
            web = command.split()[1:2] == ["web"]
            port = "" if web else f" --env PORT={free_port()}"
            server = command.replace("--port 3000", "--port 0").replace(
                "target/debug/portside-local", f"{portside_local}{port}", 1
            )
        elif command.startswith("curl "):
            curls.append(line)
        else:
            pytest.fail(f"examples/{name}/README.md: a line this test does not know: {line}")
    assert server and curls, f"block {block} needs one portside-local command and at least one curl"

    # The caller's PATH, without the example's venv: the README's own
    # PATH=... prefix must bring it.
    env = example.env()
    env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
    out = tmp_path / "stdout"
    with out.open("w") as stdout, (tmp_path / "stderr").open("w") as stderr:
        proc = subprocess.Popen(
            ["bash", "-c", server], cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
            start_new_session=True,
        )
    try:
        def up():
            found = READY.search(out.read_text())
            if not found and proc.poll() is not None:
                pytest.fail(f"`{server}` exited with {proc.returncode}:\n{(tmp_path / 'stderr').read_text()[-3000:]}")
            return found and found.group(1)

        base = wait_until(up, 90, f"examples/{name}: the README's portside-local to be up")
        for line in curls:
            response = requests.request(**curl_request(line, base))
            assert response.status_code < 400, f"{line}\n-> {response.status_code} {response.text[:500]}"
            if "-I" not in shlex.split(line, comments=True) and response.status_code == 200:
                assert response.content, f"{line}: an empty 200"
    finally:
        stop_process_tree(proc)
