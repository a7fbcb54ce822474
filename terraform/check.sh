#!/usr/bin/env bash
# Offline checks of the Terraform modules and the sample stack, runnable from
# anywhere:
#
#   terraform fmt -check -recursive
#   examples/express/package.sh   (the real app node_app.tftest.hcl deploys)
#   then in modules/layer, modules/function and the sample stack (.):
#     terraform init -backend=false -plugin-dir=<AWS provider mirror under /opt>
#     terraform validate
#     terraform test          (tests/*.tftest.hcl, mocked AWS provider)
#   checkov                   (pinned, in <repo>/.venv-checkov), over all of it
#
# The apply / plan / destroy against a moto server is a separate, slower
# check: tests/terraform/test_moto_apply.py (test.sh runs it after this).
#
# Nothing is downloaded but checkov from PyPI (once) and, for the Express
# package, the npm packages its lock file names when npm's cache lacks them
# (examples/install.sh fills it). The Terraform steps run
# on a throw-away copy of this folder, so no .terraform/, lock file or state
# is left behind. Where terraform is not installed, it says so in one line and
# exits 0.
#
# Environment:
#   TF_PLUGIN_DIR      provider mirror to init from (default: found under /opt)
#   CHECKOV_VERSION    checkov to install (default below; bump it here)
set -euo pipefail

CHECKOV_VERSION="${CHECKOV_VERSION:-3.3.30}"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"

if ! command -v terraform >/dev/null 2>&1; then
    echo "terraform not installed: skipping the Terraform checks"
    exit 0
fi

# --- the provider mirror ------------------------------------------------------
# A plugin dir holds registry.terraform.io/hashicorp/aws/<version>/<os_arch>/.
if [ -z "${TF_PLUGIN_DIR:-}" ]; then
    if [ -d /opt/tf-plugins/registry.terraform.io/hashicorp/aws ]; then
        TF_PLUGIN_DIR=/opt/tf-plugins
    else
        found="$(find /opt -maxdepth 5 -type d -path '*/registry.terraform.io/hashicorp/aws' 2>/dev/null | head -n 1 || true)"
        if [ -n "$found" ]; then
            TF_PLUGIN_DIR="$(dirname "$(dirname "$(dirname "$found")")")"
        fi
    fi
fi
if [ -z "${TF_PLUGIN_DIR:-}" ]; then
    echo "check.sh: no offline mirror of the hashicorp/aws provider under /opt (looked for */registry.terraform.io/hashicorp/aws, e.g. /opt/tf-plugins); set TF_PLUGIN_DIR to the folder holding registry.terraform.io/" >&2
    exit 1
fi
if [ ! -d "$TF_PLUGIN_DIR/registry.terraform.io/hashicorp/aws" ]; then
    echo "check.sh: TF_PLUGIN_DIR=$TF_PLUGIN_DIR holds no registry.terraform.io/hashicorp/aws/<version>/<os_arch>/ provider mirror" >&2
    exit 1
fi

# --- a quiet, offline terraform ----------------------------------------------
export TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1
# A CLI config file that is named but missing only makes terraform warn.
if [ -n "${TF_CLI_CONFIG_FILE:-}" ] && [ ! -f "$TF_CLI_CONFIG_FILE" ]; then
    unset TF_CLI_CONFIG_FILE
fi
unset TF_DATA_DIR TF_WORKSPACE
color=()
[ -t 1 ] || color=(-no-color)

work="$(mktemp -d "${TMPDIR:-/tmp}/portside-tf-check.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# The copy leaves out whatever a real deploy left here (state, plugins, lock
# file, the user's tfvars), so the checks see only the committed stack.
tar -C "$here" \
    --exclude='.terraform' --exclude='.terraform.lock.hcl' \
    --exclude='terraform.tfstate*' --exclude='*.tfplan' \
    --exclude='*.tfvars' --exclude='*.tfvars.json' \
    -cf - . | tar -C "$work" -xf -

step() { printf '\n== %s\n' "$*"; }

step "terraform fmt -check -recursive"
if ! terraform -chdir="$work" fmt -check -recursive -diff; then
    echo "check.sh: the files above are not formatted: run 'terraform -chdir=terraform fmt -recursive'" >&2
    exit 1
fi
echo "formatted"

# --- the Express example's package -------------------------------------------
# modules/function/tests/node_app.tftest.hcl deploys the real Express example:
# its zip, built by the script the example's README deploys with, goes into
# the copy's fixtures with its SHA-256 (base64, as Lambda reports it) beside
# it, computed here by Python's hashlib, not by Terraform.
step "the Express example's package for node_app.tftest.hcl"
express_zip="$work/modules/function/tests/fixtures/express-example.zip"
"$root/examples/express/package.sh" "$express_zip" || {
    echo "check.sh: examples/express/package.sh failed; modules/function/tests/node_app.tftest.hcl deploys its zip (it needs npm, Node.js 20+)" >&2
    exit 1
}
python3 -c 'import base64, hashlib, sys; print(base64.b64encode(hashlib.sha256(open(sys.argv[1], "rb").read()).digest()).decode())' \
    "$express_zip" >"$express_zip.base64sha256"

# Each module is a root of its own for `terraform test`, with its own tests/.
modules=(modules/layer modules/function .)
passed=0
failed=0
for module in "${modules[@]}"; do
    dir="$work/$module"
    name="${module#./}"
    [ "$name" = "." ] && name="the sample stack"

    step "$name: terraform init -backend=false -plugin-dir=$TF_PLUGIN_DIR"
    terraform -chdir="$dir" init -backend=false -plugin-dir="$TF_PLUGIN_DIR" "${color[@]}" >"$work/init.log" 2>&1 || {
        cat "$work/init.log" >&2
        echo "check.sh: terraform init failed in $name with the provider mirror at $TF_PLUGIN_DIR" >&2
        exit 1
    }
    grep -E 'Installing|Installed' "$work/init.log" || true

    step "$name: terraform validate"
    terraform -chdir="$dir" validate "${color[@]}"

    step "$name: terraform test"
    set +e
    terraform -chdir="$dir" test "${color[@]}" 2>&1 | tee "$work/test.log"
    test_rc=${PIPESTATUS[0]}
    set -e
    counts="$(grep -oE '[0-9]+ passed, [0-9]+ failed' "$work/test.log" | tail -n 1 || true)"
    if [ "$test_rc" -ne 0 ]; then
        echo "check.sh: terraform test failed in $name${counts:+ ($counts)}" >&2
        exit 1
    fi
    if [ -n "$counts" ]; then
        passed=$((passed + $(echo "$counts" | cut -d' ' -f1)))
        failed=$((failed + $(echo "$counts" | cut -d' ' -f3)))
    fi
    rm -rf "$dir/.terraform" "$dir/.terraform.lock.hcl"
done
tf_counts="$passed passed, $failed failed"

# --- checkov ------------------------------------------------------------------
step "checkov $CHECKOV_VERSION"
venv="$root/.venv-checkov"
stamp="$venv/.checkov-version"
if [ ! -x "$venv/bin/checkov" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$CHECKOV_VERSION" ]; then
    command -v python3 >/dev/null 2>&1 || {
        echo "check.sh: python3 is needed to install checkov into $venv" >&2
        exit 1
    }
    echo "installing checkov==$CHECKOV_VERSION into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "checkov==$CHECKOV_VERSION" || {
        echo "check.sh: pip could not install checkov==$CHECKOV_VERSION from PyPI" >&2
        exit 1
    }
    echo "$CHECKOV_VERSION" >"$stamp"
fi
# Scan the same clean copy (no .terraform/), with no calls home.
rm -f "$work/init.log" "$work/test.log"
CKV_SKIP_PACKAGE_UPDATE_CHECK=true BC_SKIP_MAPPING=TRUE \
    "$venv/bin/checkov" --directory "$work" --framework terraform \
    --skip-download --compact --quiet

echo
echo "terraform: $tf_counts"
