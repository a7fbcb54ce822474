"""Fixtures for the end-to-end tests of the sample app through portside-local.

Session-wide: the binaries and the layer (built here when needed), the
Python environment check, and one moto server playing DynamoDB and S3.
Per module (or per parameter of a module): portside-local instances, each
started once and always stopped, with the whole process tree, at the end.
"""

import os
import platform
import shutil
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import pytest
import requests

from e2e_support import REGION, REPO, LocalLambda, free_port, stop_process_tree, wait_until

# Instances still running, so a failing test's report can show their logs.
RUNNING = []


def _layer_arch() -> str:
    machine = platform.machine().lower()
    return {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)


def _dist_layer() -> Path:
    return REPO / "dist" / f"portside-layer-{_layer_arch()}.zip"


def pytest_report_header(config):
    if os.environ.get("PORTSIDE_E2E_ARCH") == "arm64":
        return "portside e2e: the arm64 release files in dist/ under qemu-user"
    zip_path = _dist_layer()
    layer = zip_path if zip_path.is_file() else "a folder assembled from target/debug/portside and shim/bootstrap"
    return f"portside e2e: layer {layer}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for fn in RUNNING:
            try:
                report.sections.append((f"portside-local ({fn.event}) log", fn.logs()))
            except OSError:
                pass


# --- what the tests run ------------------------------------------------------------


AARCH64 = 183  # ELF e_machine of an AArch64 binary


def _elf_machine(path: Path) -> int:
    head = path.read_bytes()[:20]
    assert head[:4] == b"\x7fELF", f"{path} is not an ELF binary"
    return int.from_bytes(head[18:20], "little")


def _wrap(target: Path, qemu: str, binary: Path):
    """An executable script at ``target`` that runs ``binary`` under qemu-user."""
    target.write_text(f"#!/bin/sh\nexec {qemu} {binary} \"$@\"\n")
    target.chmod(0o755)


def _arm64_release_files(tmp_path_factory):
    """(portside-local, layer) for PORTSIDE_E2E_ARCH=arm64 (tests/e2e/arm64.sh):
    dist/portside-local-arm64 and the layer unpacked from
    dist/portside-layer-arm64.zip, each binary behind a wrapper that runs it
    under qemu-user. Without binfmt_misc a process the emulated
    portside-local starts must be a host executable, hence a wrapper in
    extensions/ as well; the shim and the app run natively."""
    qemu = shutil.which("qemu-aarch64-static") or shutil.which("qemu-aarch64")
    if not qemu:
        pytest.fail("qemu-user is not installed: run scripts/qemu.sh (Debian's qemu-user-static)")
    local, layer_zip = REPO / "dist" / "portside-local-arm64", REPO / "dist" / "portside-layer-arm64.zip"
    for path in (local, layer_zip):
        if not path.is_file():
            pytest.fail(f"{path} is missing: run ./build.sh --dist first")
    work = tmp_path_factory.mktemp("arm64")
    layer = work / "layer"
    with zipfile.ZipFile(layer_zip) as z:
        z.extractall(layer)
    adapter = work / "portside-arm64"
    (layer / "extensions" / "portside").rename(adapter)
    adapter.chmod(0o755)  # zipfile does not restore modes; qemu-user runs only executables
    for binary in (local, adapter):
        assert _elf_machine(binary) == AARCH64, f"{binary} is not an aarch64 binary"
    _wrap(layer / "extensions" / "portside", qemu, adapter)
    (layer / "bootstrap").chmod(0o755)
    _wrap(work / "portside-local", qemu, local)
    return work / "portside-local", layer


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory):
    """(portside-local, layer): the binaries cargo built (built here if
    missing), and the layer zip from dist/ when build.sh made one, else a
    layer folder laid out like it. With PORTSIDE_E2E_ARCH=arm64, the arm64
    release files under qemu-user instead."""
    if os.environ.get("PORTSIDE_E2E_ARCH") == "arm64":
        return _arm64_release_files(tmp_path_factory)
    target = Path(os.environ.get("CARGO_TARGET_DIR") or "target")
    target = target if target.is_absolute() else REPO / target
    portside_local = target / "debug" / "portside-local"
    adapter = target / "debug" / "portside"
    if not (portside_local.is_file() and adapter.is_file()):
        # test.sh builds everything first; build here when run on its own.
        if not shutil.which("cargo"):
            pytest.fail(
                f"{portside_local} or {adapter} is missing and cargo is not installed: "
                "install Rust (https://rustup.rs), then run ./build.sh or "
                "cargo build --locked -p portside -p portside-local"
            )
        build = subprocess.run(
            ["cargo", "build", "--locked", "-p", "portside", "-p", "portside-local"],
            cwd=REPO,
            capture_output=True,
            text=True,
        )
        if build.returncode != 0:
            pytest.fail(f"cargo build of portside and portside-local failed:\n{build.stderr[-4000:]}")
    for binary in (portside_local, adapter):
        if not binary.is_file():
            pytest.fail(f"{binary} does not exist after the build (is CARGO_TARGET_DIR right?)")

    layer = _dist_layer()
    if not layer.is_file():
        shim = REPO / "shim" / "bootstrap"
        if not shim.is_file():
            pytest.fail(f"{shim} is missing: the layer needs the exec wrapper")
        layer = tmp_path_factory.mktemp("layer")
        (layer / "extensions").mkdir()
        shutil.copy(adapter, layer / "extensions" / "portside")
        shutil.copy(shim, layer / "bootstrap")
        for path in (layer / "extensions" / "portside", layer / "bootstrap"):
            path.chmod(0o755)
    return portside_local, layer


@pytest.fixture(scope="session")
def venv_path():
    """PATH for the function: this interpreter's bin folder first, so run.sh's
    python3 is the one with Flask, gunicorn, boto3 and awslambdaric."""
    bin_dir = str(Path(sys.executable).parent)
    path = bin_dir + os.pathsep + os.environ.get("PATH", "")
    check = subprocess.run(
        ["python3", "-c", "import flask, gunicorn, boto3, awslambdaric"],
        env={"PATH": path},
        capture_output=True,
        text=True,
    )
    if check.returncode != 0:
        pytest.fail(
            "python3 on the function's PATH lacks the sample app's packages; run the tests with the "
            f"project's .venv (. scripts/python-env.sh):\n{check.stderr[-2000:]}"
        )
    return path


# --- moto: DynamoDB and S3 -------------------------------------------------------


@pytest.fixture(scope="session")
def moto_url(tmp_path_factory):
    port = free_port()
    script = Path(sys.executable).with_name("moto_server")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "moto.server"]
    log_path = tmp_path_factory.mktemp("moto") / "moto.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            command + ["-H", "127.0.0.1", "-p", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"

    def ready():
        if proc.poll() is not None:
            pytest.fail(f"moto_server exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
        return requests.get(f"{url}/moto-api/", timeout=1).ok

    try:
        wait_until(ready, 60, "moto_server to answer")
        yield url
    finally:
        stop_process_tree(proc)


@pytest.fixture(scope="session")
def aws(moto_url):
    import boto3

    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    return {
        "dynamodb": session.client("dynamodb", endpoint_url=moto_url),
        "s3": session.client("s3", endpoint_url=moto_url),
    }


@pytest.fixture(scope="session")
def new_table(aws):
    """Makes a fresh users table as Terraform does: on-demand, hash key id (S)."""

    def make(prefix="users"):
        name = f"{prefix}-{uuid.uuid4().hex[:8]}"
        aws["dynamodb"].create_table(
            TableName=name,
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        aws["dynamodb"].get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1})
        return name

    return make


@pytest.fixture(scope="session")
def new_bucket(aws):
    def make(prefix="imports"):
        name = f"{prefix}-{uuid.uuid4().hex[:8]}"
        aws["s3"].create_bucket(Bucket=name)
        return name

    return make


# --- portside-local ---------------------------------------------------------------


@pytest.fixture(scope="session")
def function_env(moto_url, venv_path):
    """The environment portside-local runs in. It hands the function only
    PATH, the AWS credentials and the AWS_ENDPOINT_URL* variables from it,
    so no real AWS account or profile can leak in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        PATH=venv_path,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_ENDPOINT_URL=moto_url,
    )
    return env


@pytest.fixture(scope="session")
def launch(artifacts, function_env, tmp_path_factory):
    """Starts portside-local serving the sample app; returns it once it is up.
    Whatever a module leaves running is stopped at the end of the session."""
    portside_local, layer = artifacts
    started = []

    def start(event, env, label=None, **function):
        logdir = tmp_path_factory.mktemp(f"portside-local-{label or event}")
        fn = LocalLambda(portside_local, layer, event, env, function_env, logdir, **function)
        started.append(fn)
        RUNNING.append(fn)
        try:
            return fn.wait_ready()
        except BaseException:
            stop(fn)
            raise

    yield start
    for fn in started:
        stop(fn)


def stop(fn: LocalLambda):
    if fn.stopped_cleanly is None:
        fn.stop()
    if fn in RUNNING:
        RUNNING.remove(fn)


@pytest.fixture(scope="session")
def stop_function():
    return stop
