"""scripts/publish_layer.py against moto in two regions: each zip becomes a
layer version in each region, with its architecture, its content and the
grants asked for, and the table it prints names exactly those versions.
What AWS holds is read back with boto3, not taken from the script."""

import base64
import hashlib
import json
import subprocess
import sys
import zipfile

import boto3
import pytest

from conftest import REPO, aws_env

SCRIPT = REPO / "scripts" / "publish_layer.py"
REGIONS = ["us-east-1", "eu-west-1"]
ACCOUNTS = ["111122223333", "444455556666"]


def layer_zip(path, arch):
    """A zip laid out as build.sh lays out the layer (the script checks it)."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("extensions/portside", f"adapter for {arch}")
        z.writestr("bootstrap", "#!/bin/sh\n")
        z.writestr("portside-version.json", json.dumps({"name": "portside", "version": "9.8.7", "architecture": arch}))
    return path


def run(moto_url, tmp_path, *args):
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--dist", str(tmp_path), *args],
        env=aws_env(moto_url), capture_output=True, text=True, timeout=120,
    )


def client(moto_url, region):
    return boto3.client("lambda", region_name=region, endpoint_url=moto_url,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def test_publishes_each_architecture_in_each_region_with_listed_accounts(moto_url, tmp_path):
    zips = {arch: layer_zip(tmp_path / f"portside-layer-{arch}.zip", arch) for arch in ("x86_64", "arm64")}
    done = run(moto_url, tmp_path, "--regions", ",".join(REGIONS), "--name", "ps-listed",
               "--account", ACCOUNTS[0], "--account", ACCOUNTS[1])
    assert done.returncode == 0, done.stderr
    rows = [line.split("|")[1:4] for line in done.stdout.splitlines()[2:]]
    printed = {(r.strip(), a.strip()): arn.strip().strip("`") for r, a, arn in rows}
    assert set(printed) == {(region, arch) for region in REGIONS for arch in zips}
    for region in REGIONS:
        aws = client(moto_url, region)
        for arch, path in zips.items():
            versions = aws.list_layer_versions(LayerName=f"ps-listed-{arch}")["LayerVersions"]
            assert [v["LayerVersionArn"] for v in versions] == [printed[(region, arch)]]
            assert f":{region}:" in printed[(region, arch)]
            got = aws.get_layer_version(LayerName=f"ps-listed-{arch}", VersionNumber=versions[0]["Version"])
            assert got["CompatibleArchitectures"] == [arch]
            assert got["Content"]["CodeSha256"] == base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()
            assert "portside 9.8.7" in got["Description"]
            policy = json.loads(aws.get_layer_version_policy(
                LayerName=f"ps-listed-{arch}", VersionNumber=versions[0]["Version"])["Policy"])
            principals = sorted(s["Principal"]["AWS"] if isinstance(s["Principal"], dict) else s["Principal"]
                                for s in policy["Statement"])
            assert [p.split(":")[-2] if p.startswith("arn:") else p for p in principals] == ACCOUNTS
            assert {s["Action"] for s in policy["Statement"]} == {"lambda:GetLayerVersion"}


def test_an_organization_grant_names_the_organization(moto_url, tmp_path):
    layer_zip(tmp_path / "portside-layer-arm64.zip", "arm64")
    done = run(moto_url, tmp_path, "--regions", "eu-west-1", "--name", "ps-org", "--arch", "arm64",
               "--organization", "o-a1b2c3d4e5")
    assert done.returncode == 0, done.stderr
    policy = json.loads(client(moto_url, "eu-west-1").get_layer_version_policy(
        LayerName="ps-org-arm64", VersionNumber=1)["Policy"])
    [statement] = policy["Statement"]
    # AWS writes the grant as a condition on aws:PrincipalOrgID; moto keeps
    # the request's OrganizationId field (as tests/terraform reads it too).
    organization = statement.get("Condition", {}).get("StringEquals", {}).get("aws:PrincipalOrgID")
    assert (statement["Principal"], organization or statement.get("OrganizationId")) == ("*", "o-a1b2c3d4e5")


@pytest.mark.parametrize("args, message", [
    (["--regions", "us-east-1", "--account", "12345"], "12-digit"),
    (["--regions", "us-east-1", "--organization", "org-1"], "Organizations ID"),
    (["--regions", " , "], "names no region"),
    (["--regions", "us-east-1", "--public", "--account", "111122223333"], "not allowed with"),
])
def test_bad_arguments_are_refused_before_any_call(moto_url, tmp_path, args, message):
    done = run(moto_url, tmp_path, *args)
    assert done.returncode == 2 and message in done.stderr, done.stderr


def test_a_missing_zip_is_named(moto_url, tmp_path):
    done = run(moto_url, tmp_path, "--regions", "us-east-1", "--name", "ps-missing")
    assert done.returncode == 1 and "portside-layer-x86_64.zip is missing" in done.stderr, done.stderr
    names = [layer["LayerName"] for layer in client(moto_url, "us-east-1").list_layers()["Layers"]]
    assert not [n for n in names if n.startswith("ps-missing")], names
