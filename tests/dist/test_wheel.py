"""The Python wheel as a user gets it: installed with pip into a fresh venv
whose PATH has no Rust toolchain, it runs a Flask app through the installed
portside-local (the quick start's commands, read from the user guide's
Python page, which the README repeats), and the zip `portside-local
layer-path` prints feeds terraform/modules/layer (the guide's Terraform
page, applied against moto). The wheel for the other architecture is
checked for its contents, since it cannot run here.

Needs ./build.sh --dist (the wheels in dist/), terraform with the AWS
provider mirror (as tests/terraform), and pip access to PyPI for Flask.
"""

import base64
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import boto3
import pytest
import requests

from conftest import DIST, REPO, free_port, release_file, wait_until

GUIDE = REPO / "docs" / "src" / "getting-started"
sys.path.insert(0, str(REPO / "tests" / "terraform"))
from test_moto_apply import PROVIDER_OVERRIDE, _plugin_dir, _terraform_env  # noqa: E402

ARCH = {"x86_64": "x86_64", "aarch64": "aarch64"}[platform.machine()]
OTHER = "aarch64" if ARCH == "x86_64" else "x86_64"
LAYER_ARCH = {"x86_64": "x86_64", "aarch64": "arm64"}
ELF_MACHINE = {"x86_64": 62, "aarch64": 183}
READY = re.compile(r"is up at (http://127\.0\.0\.1:\d+)/")


def wheel(arch: str) -> Path:
    found = sorted(DIST.glob(f"portside-*-py3-none-*manylinux2014_{arch}*musllinux_1_2_{arch}.whl"))
    if len(found) != 1:
        pytest.fail(f"expected one {arch} wheel in {DIST}, found {found}: run ./build.sh --dist")
    return found[0]


def blocks(page: Path, lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", page.read_text(), re.S | re.M)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh venv with Flask, and the environment the guide's commands run
    in: its bin first, then the system's folders, no cargo or rustc, and pip
    pointed at dist/ only, so `pip install portside` takes the wheel built
    here (PyPI has none yet) and nothing else."""
    root = tmp_path_factory.mktemp("wheel-venv")
    venv.EnvBuilder(with_pip=True).create(root / "venv")
    bin_dir = root / "venv" / "bin"
    flask = subprocess.run([bin_dir / "pip", "install", "--quiet", "--disable-pip-version-check", "flask"],
                           capture_output=True, text=True, timeout=600)
    assert flask.returncode == 0, flask.stderr
    path = os.pathsep.join([str(bin_dir), "/usr/local/bin", "/usr/bin", "/bin"])
    for tool in ("cargo", "rustc", "rustup"):
        assert shutil.which(tool, path=path) is None, f"{tool} is on the test's PATH: the wheel must work without Rust"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CARGO", "RUSTUP", "VIRTUAL_ENV", "PIP_"))}
    env.update(PATH=path, VIRTUAL_ENV=str(root / "venv"), PIP_NO_INDEX="1", PIP_FIND_LINKS=str(DIST),
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    return bin_dir, env


def test_the_readme_quick_start_is_the_guides():
    [guide] = blocks(GUIDE / "python.md", "sh")
    readme = (REPO / "README.md").read_text()
    assert f"```sh\n{guide}```" in readme.split("## How it works")[0], "README's quick start differs from python.md's"


def test_the_quick_start_runs_a_flask_app_through_the_installed_portside_local(installed, tmp_path):
    bin_dir, env = installed
    [app] = blocks(GUIDE / "python.md", "python")
    [commands] = blocks(GUIDE / "python.md", "sh")
    pip, serve, curl = commands.strip().splitlines()
    (tmp_path / "app.py").write_text(app)
    done = subprocess.run(["bash", "-c", pip], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert (bin_dir / "portside-local").is_file()
    assert shutil.which("portside-local", path=env["PATH"]) == str(bin_dir / "portside-local")
    # The front door and the app on free ports (3000 and 8080 may be taken here).
    serve = serve.replace("portside-local", f"portside-local --port 0 --env PORT={free_port()}", 1)
    out = tmp_path / "portside-local.out"
    with out.open("w") as stdout, (tmp_path / "portside-local.err").open("w") as stderr:
        proc = subprocess.Popen(["bash", "-c", f"exec {serve}"], cwd=tmp_path, env=env,
                                stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, start_new_session=True)
    try:
        def up():
            if proc.poll() is not None:
                pytest.fail(f"`{serve}` exited with {proc.returncode}:\n{(tmp_path / 'portside-local.err').read_text()}")
            found = READY.search(out.read_text())
            return found and found.group(1)

        base = wait_until(up, 90, "the installed portside-local to be up")
        url = curl.split()[-1].replace("http://127.0.0.1:3000", base)
        response = requests.get(url, timeout=30)
        assert response.status_code == 200, response.text
        assert response.json() == {"message": "hello from Flask behind portside"}
        # It came through Lambda's path: portside-local printed the
        # invocation's platform lines.
        assert "START RequestId:" in (tmp_path / "portside-local.err").read_text()
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_version_and_layer_path_of_the_installed_tool(installed):
    bin_dir, env = installed
    subprocess.run(["bash", "-c", "pip install --quiet portside"], env=env, check=True, timeout=300)
    version = subprocess.run([bin_dir / "portside-local", "--version"], env=env, capture_output=True, text=True)
    built = zipfile.ZipFile(DIST / "portside-layer-x86_64.zip").read("portside-version.json").decode()
    assert version.stdout.startswith("portside-local 0.1.0 (commit "), version.stdout
    # The commit the release files were built from (build.sh embeds it).
    assert re.search(r'"commit": "([0-9a-f]{12})', built).group(1) in version.stdout, (version.stdout, built)
    for arch in ("x86_64", "arm64"):
        printed = subprocess.run([bin_dir / "portside-local", "layer-path", "--arch", arch], env=env,
                                 capture_output=True, text=True, check=True).stdout.strip()
        assert Path(printed).read_bytes() == release_file(f"portside-layer-{arch}.zip").read_bytes()


def test_the_other_architectures_wheel_holds_its_binary_and_both_zips():
    with zipfile.ZipFile(wheel(OTHER)) as z:
        names = set(z.namelist())
        [script] = [n for n in names if n.endswith(".data/scripts/portside-local")]
        binary = z.read(script)
        assert binary[:4] == b"\x7fELF" and int.from_bytes(binary[18:20], "little") == ELF_MACHINE[OTHER]
        assert binary == release_file(f"portside-local-{LAYER_ARCH[OTHER]}").read_bytes()
        for arch in ("x86_64", "arm64"):
            [member] = [n for n in names if n.endswith(f".data/data/share/portside/portside-layer-{arch}.zip")]
            assert z.read(member) == release_file(f"portside-layer-{arch}.zip").read_bytes()
    with zipfile.ZipFile(wheel(ARCH)) as z:
        [script] = [n for n in z.namelist() if n.endswith(".data/scripts/portside-local")]
        assert z.read(script) == release_file(f"portside-local-{LAYER_ARCH[ARCH]}").read_bytes()


def test_the_printed_zip_feeds_the_layer_module_on_moto(installed, moto_url, tmp_path):
    """The guide's Terraform page: its main.tf beside a copy of portside's
    modules, then its commands, with the provider pointed at moto."""
    if not shutil.which("terraform"):
        pytest.skip("terraform is not installed (tests/terraform skips too)")
    bin_dir, env = installed
    [main_tf] = blocks(GUIDE / "terraform.md", "hcl")
    [commands] = blocks(GUIDE / "terraform.md", "sh")
    project = tmp_path / "project"
    (project / "portside" / "terraform").mkdir(parents=True)
    shutil.copytree(REPO / "terraform" / "modules", project / "portside" / "terraform" / "modules",
                    ignore=shutil.ignore_patterns(".terraform*", "terraform.tfstate*", "tests"))
    (project / "main.tf").write_text(main_tf)
    (project / "moto_provider_override.tf").write_text(PROVIDER_OVERRIDE.format(url=moto_url))
    tf_env = {**_terraform_env(), **{k: env[k] for k in ("PATH", "VIRTUAL_ENV", "PIP_NO_INDEX", "PIP_FIND_LINKS")}}
    tf_env["PATH"] = env["PATH"] + os.pathsep + str(Path(shutil.which("terraform")).parent)
    for line in commands.strip().splitlines():
        if line.startswith("terraform init"):
            line += f" -backend=false -plugin-dir={_plugin_dir()}"
        elif line.startswith("terraform apply"):
            line += " -auto-approve -no-color"
        done = subprocess.run(["bash", "-c", line], cwd=project, env=tf_env, capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, f"{line}\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
    aws = boto3.client("lambda", region_name="us-east-1", endpoint_url=moto_url,
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    [version] = aws.list_layer_versions(LayerName="portside-x86_64")["LayerVersions"]
    got = aws.get_layer_version(LayerName="portside-x86_64", VersionNumber=version["Version"])
    installed_zip = subprocess.run([bin_dir / "portside-local", "layer-path"], env=env, capture_output=True,
                                   text=True, check=True).stdout.strip()
    want = base64.b64encode(hashlib.sha256(Path(installed_zip).read_bytes()).digest()).decode()
    assert got["Content"]["CodeSha256"] == want
    assert got["CompatibleArchitectures"] == ["x86_64"]

    # Shared as the page says: every account, then one account (an override
    # file sets the module's principals; the organization grant is applied
    # in tests/terraform's module stack).
    apply = commands.strip().splitlines()[-1] + " -auto-approve -no-color"
    for principals in (["*"], ["111122223333"]):
        quoted = ", ".join(f'"{p}"' for p in principals)
        (project / "share_override.tf").write_text(f'module "portside_layer" {{\n  principals = [{quoted}]\n}}\n')
        done = subprocess.run(["bash", "-c", apply], cwd=project, env=tf_env, capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, f"{done.stdout[-3000:]}{done.stderr[-3000:]}"
        policy = json.loads(aws.get_layer_version_policy(LayerName="portside-x86_64",
                                                         VersionNumber=version["Version"])["Policy"])
        [grant] = policy["Statement"]
        assert (grant["Action"], grant["Principal"]) == ("lambda:GetLayerVersion", principals[0]), grant


def test_the_shipped_adapter_names_its_version_and_commit(tmp_path):
    """`portside --version` of the adapter inside the layer zip (the file
    Lambda runs) and of the static binary for container images: the crate's
    version from Cargo.toml and the commit the layer's version file names."""
    import tomllib
    version = tomllib.loads((REPO / "Cargo.toml").read_text())["workspace"]["package"]["version"]
    with zipfile.ZipFile(release_file("portside-layer-x86_64.zip")) as layer:
        built = json.loads(layer.read("portside-version.json"))
        adapter = tmp_path / "portside"
        adapter.write_bytes(layer.read("extensions/portside"))
    adapter.chmod(0o755)
    commit = re.search(r"[0-9a-f]{12}", built["commit"]).group(0)
    want = f"portside {version} (commit {commit}"
    for binary in (adapter, release_file("portside-x86_64")):
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10)
        assert (out.returncode, out.stdout.startswith(want)) == (0, True), (binary, out.stdout, want)
