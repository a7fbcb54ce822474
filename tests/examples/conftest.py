"""Fixtures for the examples' end-to-end tests.

Per test module (one module per example, naming it in ``EXAMPLE``): the app
started directly once (``direct``), and the app inside portside-local once per
event source (``through``, parametrized over the doors; pytest finishes one
door's instance before it starts the next). Every process is stopped with its
whole tree at the end; a failing test's report carries the logs.
"""

import os
import platform
import shutil
import subprocess
from pathlib import Path

import pytest

from examples_support import DOORS, REPO, DirectApp, LocalLambda
from example_defs import EXAMPLE_DEFS

RUNNING = []


def _dist_layer() -> Path:
    machine = platform.machine().lower()
    arch = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)
    return REPO / "dist" / f"portside-layer-{arch}.zip"


def pytest_report_header(config):
    layer = _dist_layer()
    return f"portside examples: layer {layer if layer.is_file() else 'assembled from target/debug/portside'}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for name, logs in RUNNING:
            try:
                report.sections.append((name, logs()))
            except OSError:
                pass


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory):
    """(portside-local, layer): built here when missing; the layer zip from
    dist/ when build.sh made one, else a folder laid out like it."""
    target = Path(os.environ.get("CARGO_TARGET_DIR") or "target")
    target = target if target.is_absolute() else REPO / target
    portside_local, adapter = target / "debug" / "portside-local", target / "debug" / "portside"
    if not (portside_local.is_file() and adapter.is_file()):
        if not shutil.which("cargo"):
            pytest.fail(f"{portside_local} is missing and cargo is not installed: install Rust, then run ./build.sh")
        build = subprocess.run(
            ["cargo", "build", "--locked", "-p", "portside", "-p", "portside-local"],
            cwd=REPO,
            capture_output=True,
            text=True,
        )
        if build.returncode != 0:
            pytest.fail(f"cargo build failed:\n{build.stderr[-4000:]}")
    layer = _dist_layer()
    if not layer.is_file():
        layer = tmp_path_factory.mktemp("layer")
        (layer / "extensions").mkdir()
        shutil.copy(adapter, layer / "extensions" / "portside")
        shutil.copy(REPO / "shim" / "bootstrap", layer / "bootstrap")
        for path in (layer / "extensions" / "portside", layer / "bootstrap"):
            path.chmod(0o755)
    return portside_local, layer


@pytest.fixture(scope="module")
def example(request):
    ex = EXAMPLE_DEFS[request.module.EXAMPLE]
    ex.check_installed()
    return ex


@pytest.fixture(scope="module")
def direct(example, tmp_path_factory):
    app = DirectApp(example, tmp_path_factory.mktemp(f"{example.name}-direct"))
    entry = (f"{example.name} direct log", app.log)
    RUNNING.append(entry)
    yield app
    RUNNING.remove(entry)
    app.stop()


@pytest.fixture(scope="module", params=list(DOORS))
def through(request, example, artifacts, tmp_path_factory):
    """The example inside portside-local behind one door; ``.door`` names it."""
    door = request.param
    event, extra_args, env = DOORS[door]
    portside_local, layer = artifacts
    if example.runtime:
        extra_args = [*extra_args, "--runtime", example.runtime]
    logdir = tmp_path_factory.mktemp(f"{example.name}-{door}")
    fn = LocalLambda(
        portside_local,
        layer,
        event,
        env,
        example.env(),
        logdir,
        name=f"{example.name}-example",
        function=example.dir,
        handler="run.sh",
        extra_args=extra_args,
    )
    fn.door = door
    entry = (f"portside-local ({example.name}, {door}) log", fn.logs)
    RUNNING.append(entry)
    try:
        fn.wait_ready()
        yield fn
    finally:
        RUNNING.remove(entry)
        fn.stop()
