#!/usr/bin/env python3
"""Publishes the portside layer zips as Lambda layer versions in a list of
regions, grants their use (every account, an AWS Organization, or listed
accounts), and prints the ARNs as a Markdown table for the README and the
release notes.

    python3 scripts/publish_layer.py --regions us-east-1,eu-west-1 --public
    python3 scripts/publish_layer.py --regions us-east-1 --organization o-a1b2c3d4e5
    python3 scripts/publish_layer.py --regions us-east-1 --account 111122223333 --account 444455556666

For each region and architecture (x86_64, arm64): PublishLayerVersion of
dist/portside-layer-ARCH.zip as layer NAME-ARCH (default portside-x86_64,
portside-arm64), then one AddLayerVersionPermission per grant. Credentials
and endpoints are boto3's own (AWS_PROFILE, AWS_ENDPOINT_URL, ...); the
release workflow runs it with the role it assumes. Tested against moto in
two regions (tests/dist/test_publish_layer.py).

Needs boto3 (requirements-dev.txt; `pip install boto3` elsewhere).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import zipfile
from pathlib import Path

ARCHES = ("x86_64", "arm64")
ACCOUNT_RE = re.compile(r"^[0-9]{12}$")
ORGANIZATION_RE = re.compile(r"^o-[a-z0-9]{10,32}$")
LAYER_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,130}$")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--regions", required=True, help="comma-separated AWS regions, e.g. us-east-1,eu-west-1")
    parser.add_argument("--dist", default="dist", help="folder with portside-layer-ARCH.zip (default dist)")
    parser.add_argument("--name", default="portside", help="layer name prefix; -ARCH is added (default portside)")
    parser.add_argument("--arch", action="append", choices=ARCHES, help="architectures (default both)")
    who = parser.add_mutually_exclusive_group()
    who.add_argument("--public", action="store_true", help="every AWS account may use the layer versions")
    who.add_argument("--organization", help="an AWS Organizations ID (o-...) whose accounts may use them")
    who.add_argument("--account", action="append", default=[], help="a 12-digit account ID that may use them (repeatable)")
    args = parser.parse_args(argv)
    args.regions = [r.strip() for r in args.regions.split(",") if r.strip()]
    if not args.regions:
        parser.error("--regions names no region")
    if not LAYER_NAME_RE.match(args.name):
        parser.error(f"--name {args.name!r}: use 1-130 letters, digits, hyphens or underscores")
    if args.organization and not ORGANIZATION_RE.match(args.organization):
        parser.error(f"--organization {args.organization!r} is not an AWS Organizations ID such as o-a1b2c3d4e5")
    for account in args.account:
        if not ACCOUNT_RE.match(account):
            parser.error(f"--account {account!r} is not a 12-digit AWS account ID")
    args.arch = args.arch or list(ARCHES)
    return args


def grants(args: argparse.Namespace) -> list[dict]:
    """The AddLayerVersionPermission arguments (besides the layer and version)."""
    if args.public:
        return [{"StatementId": "portside-public", "Principal": "*"}]
    if args.organization:
        return [{"StatementId": "portside-organization", "Principal": "*", "OrganizationId": args.organization}]
    return [{"StatementId": f"portside-account-{a}", "Principal": a} for a in args.account]


def layer_version(zip_path: Path) -> str:
    """The portside version the zip says it holds (portside-version.json)."""
    with zipfile.ZipFile(zip_path) as z:
        names = set(z.namelist())
        missing = {"extensions/portside", "bootstrap", "portside-version.json"} - names
        if missing:
            raise SystemExit(f"publish_layer: {zip_path} lacks {', '.join(sorted(missing))}: build it with ./build.sh --dist")
        return json.loads(z.read("portside-version.json"))["version"]


def publish(args: argparse.Namespace) -> list[tuple[str, str, str]]:
    import boto3  # imported here so --help works without it

    zips = {}
    for arch in args.arch:
        path = Path(args.dist) / f"portside-layer-{arch}.zip"
        if not path.is_file():
            raise SystemExit(f"publish_layer: {path} is missing: run ./build.sh --dist first")
        zips[arch] = (path.read_bytes(), layer_version(path))
    rows = []
    for region in args.regions:
        client = boto3.client("lambda", region_name=region)
        for arch, (content, version) in zips.items():
            published = client.publish_layer_version(
                LayerName=f"{args.name}-{arch}",
                Description=f"portside {version} for {arch}: the adapter (extensions/portside) and the exec wrapper (/opt/bootstrap)",
                Content={"ZipFile": content},
                CompatibleArchitectures=[arch],
                LicenseInfo="MIT OR Apache-2.0",
            )
            for grant in grants(args):
                client.add_layer_version_permission(
                    LayerName=f"{args.name}-{arch}",
                    VersionNumber=published["Version"],
                    Action="lambda:GetLayerVersion",
                    **grant,
                )
            print(f"publish_layer: {published['LayerVersionArn']}", file=sys.stderr)
            rows.append((region, arch, published["LayerVersionArn"]))
    return rows


def table(rows: list[tuple[str, str, str]]) -> str:
    lines = ["| Region | Architecture | Layer version ARN |", "| --- | --- | --- |"]
    lines += [f"| {region} | {arch} | `{arn}` |" for region, arch, arn in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    sys.stdout.write(table(publish(args)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
