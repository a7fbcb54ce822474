"""The SBOMs ./build.sh --dist writes (cargo-cyclonedx), read against what
cargo itself resolved: every component is a package of Cargo.lock at the
version the lock holds, every dependency the crate's Cargo.toml declares
for the shipped binary is listed, and nothing only the tests or benchmarks
use is. The oracle is Cargo.lock and Cargo.toml, read with tomllib, not the
tool that wrote the SBOM."""

import json
import tomllib

import pytest

from conftest import REPO, release_file

CRATES = {"portside": REPO / "layer", "portside-local": REPO / "local"}


def locked_packages():
    lock = tomllib.loads((REPO / "Cargo.lock").read_text())
    return {(p["name"], p["version"]) for p in lock["package"]}


def declared(crate_dir, table):
    manifest = tomllib.loads((crate_dir / "Cargo.toml").read_text())
    names = set(manifest.get(table, {}))
    for target in manifest.get("target", {}).values():
        names |= set(target.get(table, {}))
    return names


@pytest.mark.parametrize("crate", sorted(CRATES))
def test_the_sbom_lists_what_cargo_locked_for_the_shipped_binary(crate):
    bom = json.loads(release_file(f"{crate}.cdx.json").read_text())
    assert (bom["bomFormat"], bom["specVersion"]) == ("CycloneDX", "1.5")
    workspace = tomllib.loads((REPO / "Cargo.toml").read_text())
    subject = bom["metadata"]["component"]
    assert (subject["name"], subject["version"]) == (crate, workspace["workspace"]["package"]["version"])

    listed = {(c["name"], c["version"]) for c in bom["components"]}
    assert listed, "no components"
    unlocked = listed - locked_packages()
    assert not unlocked, f"components not in Cargo.lock at those versions: {sorted(unlocked)}"
    for c in bom["components"]:
        assert c["purl"] == f"pkg:cargo/{c['name']}@{c['version']}", c

    names = {name for name, _ in listed}
    normal = declared(CRATES[crate], "dependencies")
    assert normal <= names, f"declared dependencies missing: {sorted(normal - names)}"
    # What only the tests and benchmarks use never ships: a crate declared
    # for development only, and that no shipped dependency reaches through
    # Cargo.lock, is not in the SBOM.
    dev_only = declared(CRATES[crate], "dev-dependencies") - normal
    unreachable = dev_only - needed_by_shipped(normal, crate)
    assert unreachable, "the check needs a dev-only crate to look for"
    assert not (unreachable & names), f"dev-only crates in the SBOM: {sorted(unreachable & names)}"


def needed_by_shipped(roots, crate):
    """Every package name reachable from ROOTS through Cargo.lock's
    dependency lists (all features and targets: a superset, so the check
    above only flags a crate nothing that ships can reach)."""
    lock = tomllib.loads((REPO / "Cargo.lock").read_text())
    deps = {}
    for p in lock["package"]:
        deps.setdefault(p["name"], set()).update(d.split(" ")[0] for d in p.get("dependencies", []))
    seen, todo = set(), list(roots)
    while todo:
        name = todo.pop()
        if name in seen or name == crate:
            continue
        seen.add(name)
        todo.extend(deps.get(name, ()))
    return seen
