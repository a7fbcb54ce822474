"""The Express example (Node.js) through every door, against itself run
directly; and its deploy package, as examples/express/package.sh builds it."""

import subprocess
import zipfile

from cases import *  # noqa: F401,F403  the shared cases, run for this example
from examples_support import EXAMPLES, LocalLambda, assert_same, fetch

EXAMPLE = "express"

# Lambda's deployment package quotas: 50 MB zipped (direct upload), 250 MB
# unzipped (Lambda quotas, "Deployment package (.zip file archive) size").
ZIPPED_LIMIT, UNZIPPED_LIMIT = 50 * 1000 * 1000, 250 * 1000 * 1000


def test_deploy_package_runs(example, direct, artifacts, tmp_path):
    """The zip the README deploys (and terraform/check.sh plans in
    node_app.tftest.hcl) is a working function: the files Lambda needs at
    its root, run.sh executable, within Lambda's size quotas; unpacked as
    Lambda unpacks it into /var/task, it starts through portside-local with
    the layer and answers as the app does directly, with the node_modules
    inside the zip (nothing from examples/express/ is on its paths)."""
    package = tmp_path / "express-example.zip"
    build = subprocess.run(
        [str(EXAMPLES / "express" / "package.sh"), str(package)], capture_output=True, text=True, timeout=600
    )
    assert build.returncode == 0, build.stderr
    task = tmp_path / "task"
    with zipfile.ZipFile(package) as z:
        infos = {i.filename: i for i in z.infolist()}
        for name in ("run.sh", "app.js", "package.json", "package-lock.json", "node_modules/express/package.json"):
            assert name in infos, f"{name} is not in the package"
        assert (infos["run.sh"].external_attr >> 16) & 0o111, "run.sh is not executable in the zip"
        assert not [n for n in infos if n.startswith("node_modules/.bin/")], "bin links in the package"
        assert package.stat().st_size < ZIPPED_LIMIT
        assert sum(i.file_size for i in infos.values()) < UNZIPPED_LIMIT
        z.extractall(task)
        for info in infos.values():  # extractall drops the modes; Lambda keeps them
            (task / info.filename).chmod((info.external_attr >> 16) & 0o777)
    portside_local, layer = artifacts
    fn = LocalLambda(
        portside_local,
        layer,
        "http-api",
        {},
        example.env(),
        tmp_path,
        name="express-package",
        function=task,
        handler="run.sh",
    )
    try:
        fn.wait_ready()
        for target in ("/cookies/set", "/items/caf%C3%A9"):
            assert_same("http-api", fetch(direct.url, "GET", target), fetch(fn.url, "GET", target))
    finally:
        fn.stop()
