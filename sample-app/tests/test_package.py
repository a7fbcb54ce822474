"""package.sh: the function zip's layout, and the zip actually running.

These download wheels from PyPI (pip's cache makes reruns quick).
"""

import hashlib
import os
import platform
import shutil
import stat
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
import requests

from sample_app_testing import SAMPLE_APP, free_port

PACKAGE_SH = SAMPLE_APP / "package.sh"
HOST_ARCH = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine().lower())
HOST_PYVER = "%d.%d" % sys.version_info[:2]
BASH = shutil.which("bash")


def package(arch, pyver, out, env=None, check=True):
    if env is None:
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        [BASH, str(PACKAGE_SH), arch, pyver, str(out)],
        env=env, capture_output=True, text=True, timeout=600,
    )
    if check:
        assert result.returncode == 0, f"package.sh failed\n{result.stdout}\n{result.stderr}"
    return result


def mode(info: zipfile.ZipInfo) -> int:
    return info.external_attr >> 16


@pytest.fixture(scope="module")
def bare_python_path(tmp_path_factory):
    """A PATH whose python3 is bare, like Lambda's: the stdlib and nothing
    installed (not even pip). The venv's own bin folder goes on PATH: a
    symlink to its python3 elsewhere would find the base interpreter's
    site-packages instead."""
    folder = tmp_path_factory.mktemp("bare-python")
    venv.EnvBuilder(with_pip=False, symlinks=True).create(folder)
    path = f"{folder / 'bin'}:/usr/bin:/bin"
    for module in ("flask", "gunicorn", "pip"):
        probe = subprocess.run(["python3", "-c", f"import {module}"], env={"PATH": path}, capture_output=True)
        assert probe.returncode != 0, f"the bare interpreter should not see {module}"
    return path


@pytest.mark.parametrize("arch, machine", [("x86_64", "x86_64"), ("arm64", "aarch64")])
def test_zip_layout(tmp_path, arch, machine):
    out = tmp_path / "dist" / f"sample-app-{arch}.zip"  # dist/ does not exist yet
    result = package(arch, "3.12", out)
    assert f"wrote {out}" in result.stderr

    with zipfile.ZipFile(out) as zf:
        infos = {info.filename: info for info in zf.infolist()}
        assert zf.testzip() is None
    names = set(infos)
    tops = {name.split("/")[0] for name in names}

    # The handler at the root, executable; config and app beside it.
    run_sh = infos["run.sh"]
    assert stat.S_ISREG(mode(run_sh)) and stat.S_IMODE(mode(run_sh)) == 0o755
    assert infos["run.sh"].create_system == 3
    assert stat.S_IMODE(mode(infos["gunicorn.conf.py"])) == 0o644
    assert {"users_api/app.py", "users_api/store.py", "users_api/importer.py"} <= names
    # Dependencies vendored at the root, where PYTHONPATH=/var/task finds them.
    assert {"flask", "werkzeug", "jinja2", "markupsafe", "itsdangerous", "click", "blinker", "gunicorn"} <= tops
    # Binary wheels for Lambda's platform and Python, not this machine's.
    compiled = [name for name in names if name.endswith(".so")]
    assert compiled, "markupsafe's speedups should be vendored"
    assert all(f"cpython-312-{machine}-linux-gnu.so" in name for name in compiled), compiled
    # Not shipped: boto3 (the runtime has it), tests, tooling, stray bytecode.
    assert not tops & {"boto3", "botocore", "s3transfer", "tests", "bin", "package.sh", "README.md"}
    assert not [n for n in names if n.endswith(".pyc") and ".cpython-312." not in n]
    # Lambda wants 644 files and 755 folders.
    for name, info in infos.items():
        expected = 0o755 if name.endswith("/") or name == "run.sh" else 0o644
        if name.endswith(".so") and stat.S_IMODE(mode(info)) == 0o755:
            continue  # some wheels mark their extensions executable; harmless
        assert stat.S_IMODE(mode(info)) == expected, name


def test_zip_is_reproducible(tmp_path):
    first, second = tmp_path / "a.zip", tmp_path / "b.zip"
    package("x86_64", "3.12", first)
    package("x86_64", "3.12", second)
    assert hashlib.sha256(first.read_bytes()).digest() == hashlib.sha256(second.read_bytes()).digest()


def extract_like_lambda(zip_path, task_root):
    """Unzips keeping the mode bits (zipfile's extractall drops them; Lambda keeps them)."""
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            target = task_root / info.filename
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(zf.read(info))
            os.chmod(target, stat.S_IMODE(mode(info)))


@pytest.mark.skipif(HOST_ARCH is None, reason=f"no Lambda architecture for {platform.machine()}")
def test_zip_runs_with_a_bare_python_like_lambdas(tmp_path, bare_python_path, start_server):
    # Built for this machine's architecture and Python so it can run here.
    out = tmp_path / "app.zip"
    result = package(HOST_ARCH, HOST_PYVER, out)
    # python3 on package.sh's PATH is of the target version here, so the zip
    # holds bytecode for it.
    with zipfile.ZipFile(out) as zf:
        tag = f".cpython-{HOST_PYVER.replace('.', '')}.pyc"
        assert "users_api/__pycache__/app" + tag in zf.namelist(), result.stderr
        assert any(n.startswith("flask/__pycache__/") and n.endswith(tag) for n in zf.namelist())

    task = tmp_path / "var" / "task"
    extract_like_lambda(out, task)
    port = free_port()
    env = {
        # A Lambda-like environment: sparse, the runtime's python3 on PATH,
        # the task root as working folder and only /tmp writable.
        "PATH": bare_python_path,
        "LAMBDA_TASK_ROOT": str(task),
        "PORT": str(port),
        "SQLITE_PATH": str(tmp_path / "tmp" / "users.sqlite3"),
        "HOME": str(tmp_path / "home-not-created"),
    }
    server = start_server([str(task / "run.sh")], env, task, port).wait_ready()

    created = requests.post(f"{server.url}/users", json={"name": "Ada", "email": "ada@example.com"}, timeout=5)
    assert created.status_code == 201
    assert requests.get(f"{server.url}/users/{created.json()['id']}", timeout=5).json() == created.json()
    assert server.stop() == 0
    assert server.stdout() == ""
    # Nothing written under $HOME (read-only on Lambda): no gunicorn control socket.
    assert not (tmp_path / "home-not-created").exists()


def test_bad_arguments_are_refused(tmp_path):
    for args in (["x86_64", "3.12"], ["sparc", "3.12", "out.zip"], ["arm64", "python3.12", "out.zip"]):
        result = subprocess.run([BASH, str(PACKAGE_SH), *args], capture_output=True, text=True, cwd=tmp_path)
        assert result.returncode != 0
        assert ("usage:" in result.stderr) or ("must be" in result.stderr), result.stderr
    assert list(tmp_path.iterdir()) == []


def test_missing_tools_fail_loudly(tmp_path, bare_python_path):
    out = tmp_path / "out.zip"
    # No python3 at all.
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    result = package("x86_64", "3.12", out, env={"PATH": str(empty)}, check=False)
    assert result.returncode != 0 and "python3 is not installed" in result.stderr
    # A python3 without pip.
    result = package("x86_64", "3.12", out, env={"PATH": bare_python_path}, check=False)
    assert result.returncode != 0 and "pip is not available" in result.stderr
    assert not out.exists()
