"""Every example's README Terraform snippet holds against the function module
as it is today, so a README can never drift from the module again.

Each app of examples/ (a folder with a run.sh) has one ```hcl block in its
README: a whole root module (the provider, its variables, module "app" with
source ../../terraform/modules/function, its outputs), meant for a folder two
levels below the repository root. This test

1. extracts each block verbatim and checks it is `terraform fmt` clean;
2. checks what the README's own shell lines need of it: a Function URL the
   README curls unsigned must be public (function_url_auth_type = "NONE"),
   one it signs (curl --aws-sigv4) must keep AWS_IAM; every
   `terraform output -raw NAME` it uses must be an output of the snippet;
3. lays the snippets out as the README says (deploy/<example>/main.tf beside
   a copy of terraform/modules and a dist/ holding a stand-in zip at each
   package_zip path) and runs `terraform test` once over all of them, with
   the AWS provider mocked (offline, no account): init, validate (every
   argument is one the module has, every reference resolves), then an apply
   that evaluates the module's variable validations (PORTSIDE_INVOKE_MODE in
   environment is refused) and preconditions (a streaming Function URL beside
   a buffered REST API is refused, and the reverse; the package must exist),
   and asserts that every output the snippet declares has a value (an output
   naming a front door the snippet does not create would be null).

For step 3 each snippet is a child module of one test root (one init and one
provider start instead of five); the only change made to it is that its
provider "aws" block is left out, because terraform test mocks the root's
provider only (the block itself is checked in step 2: one, with a region).
Variables without a default get the values in VARIABLE_VALUES.

Needs terraform with the hashicorp/aws mirror under /opt (or TF_PLUGIN_DIR);
skipped, saying so, where terraform is not installed.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
MODULES = REPO / "terraform" / "modules"
MODULE_SOURCE = "../../terraform/modules/function"

# Test values of the variables the snippets declare without a default.
VARIABLE_VALUES = {
    "portside_layer_arn": "arn:aws:lambda:us-east-1:123456789012:layer:portside-x86_64:1",
    "django_secret_key": "snippet-test-not-a-secret",
}

APPS = sorted(d.name for d in EXAMPLES.iterdir() if (d / "run.sh").is_file() and (d / "README.md").is_file())


# --- reading a README -------------------------------------------------------------


def fenced(text: str, lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", text, re.S | re.M)


def snippet_of(readme: str) -> str:
    blocks = [b for b in fenced(readme, "hcl") if 'module "app"' in b]
    assert len(blocks) == 1, f"expected one ```hcl block with module \"app\", found {len(blocks)}"
    return blocks[0]


def top_level_blocks(hcl: str) -> list[tuple[str, str, str]]:
    """[(type, first label, whole block text)] for each top-level block, by
    brace depth (strings in these snippets hold no braces but ${...}, which
    balance)."""
    blocks, depth, start, head = [], 0, None, None
    for match in re.finditer(r"[{}]|^(\w+)((?:\s+\"[^\"]*\")*)\s*(?=\{)", hcl, re.M):
        token = match.group(0)
        if match.group(1) and depth == 0:
            labels = re.findall(r'"([^"]*)"', match.group(2) or "")
            head = (match.group(1), labels[0] if labels else "", match.start())
        elif token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
            if depth == 0 and head:
                blocks.append((head[0], head[1], hcl[head[2] : match.end()]))
                head = None
    return blocks


def outputs_of(hcl: str) -> dict[str, str]:
    """{output name: its value expression}."""
    out = {}
    for kind, name, text in top_level_blocks(hcl):
        if kind == "output":
            match = re.search(r"^\s*value\s*=\s*(.+)$", text, re.M)
            assert match, f"output {name} has no value"
            out[name] = match.group(1).strip()
    return out


def module_argument(hcl: str, name: str):
    app = [t for kind, label, t in top_level_blocks(hcl) if kind == "module" and label == "app"]
    assert len(app) == 1, 'one module "app" block'
    match = re.search(rf"^\s*{name}\s*=\s*(.+?)\s*(#.*)?$", app[0], re.M)
    return match.group(1) if match else None


def required_variables(hcl: str) -> list[str]:
    return [
        name for kind, name, text in top_level_blocks(hcl) if kind == "variable" and not re.search(r"^\s*default\s*=", text, re.M)
    ]


def shell_lines(readme: str) -> list[str]:
    """The README's shell commands, continuation lines joined."""
    lines = []
    for block in fenced(readme, "sh"):
        lines += block.replace("\\\n", " ").splitlines()
    return lines


def curled_outputs(readme: str) -> list[tuple[str, bool]]:
    """[(output name, signed)] for each `curl ... $(terraform output -raw NAME)`."""
    found = []
    for line in shell_lines(readme):
        if not re.match(r"\s*curl\b", line):
            continue
        for name in re.findall(r"\$\(terraform output -raw (\w+)\)", line):
            found.append((name, "--aws-sigv4" in line))
    return found


def snippet_problems(readme: str) -> list[str]:
    """What the README's own lines need of its snippet and do not get."""
    hcl = snippet_of(readme)
    problems = []
    providers = [t for kind, label, t in top_level_blocks(hcl) if kind == "provider"]
    if len(providers) != 1 or not re.search(r'^\s*region\s*=\s*"[a-z0-9-]+"', providers[0], re.M):
        problems.append('the snippet must be a whole root module: one provider "aws" block with a region')
    source = module_argument(hcl, "source")
    if source != f'"{MODULE_SOURCE}"':
        problems.append(f'module "app" must use source = "{MODULE_SOURCE}", got {source}')
    outputs = outputs_of(hcl)
    auth = module_argument(hcl, "function_url_auth_type")
    public = auth == '"NONE"'
    for name, signed in curled_outputs(readme):
        if name not in outputs:
            problems.append(f"the README runs `terraform output -raw {name}`, which the snippet does not declare")
            continue
        if "function_url" not in outputs[name]:
            continue
        if not signed and not public:
            problems.append(
                f"the README curls output {name} (a Function URL) unsigned, but the URL's auth type is "
                f"{auth or 'AWS_IAM (the default)'}: set function_url_auth_type = \"NONE\" or sign with --aws-sigv4"
            )
        if signed and public:
            problems.append(f"the README signs its request to output {name}, but the URL is public (NONE)")
    return problems


# --- the rules above, on made-up READMEs (they must be able to fail) ------------------


def readme_with(module_body: str, shell: str, outputs: str = 'output "url" {\n  value = module.app.function_url\n}\n') -> str:
    return (
        '```hcl\nprovider "aws" {\n  region = "us-east-1"\n}\n\n'
        f'module "app" {{\n  source = "{MODULE_SOURCE}"\n{module_body}}}\n\n{outputs}```\n\n```sh\n{shell}\n```\n'
    )


def test_rules_catch_an_unsigned_curl_of_an_iam_url():
    readme = readme_with("  function_url = true\n", 'curl -N "$(terraform output -raw url)sse"')
    assert any("unsigned" in p for p in snippet_problems(readme)), snippet_problems(readme)
    public = readme_with('  function_url = true\n  function_url_auth_type = "NONE" # public\n', 'curl "$(terraform output -raw url)"')
    assert snippet_problems(public) == []


def test_rules_catch_a_signed_curl_of_a_public_url_and_a_missing_output():
    readme = readme_with(
        '  function_url_auth_type = "NONE"\n',
        'curl --aws-sigv4 "aws:amz:us-east-1:lambda" \\\n  "$(terraform output -raw url)"\ncurl "$(terraform output -raw nope)"',
    )
    problems = snippet_problems(readme)
    assert any("signs" in p for p in problems) and any("nope" in p for p in problems), problems


def test_rules_ignore_curls_of_api_urls():
    readme = readme_with(
        "  http_api = true\n", 'curl "$(terraform output -raw api)"', 'output "api" {\n  value = module.app.http_api_url\n}\n'
    )
    assert snippet_problems(readme) == []


# --- the snippets themselves ---------------------------------------------------------


def readme(name: str) -> str:
    return (EXAMPLES / name / "README.md").read_text()


@pytest.mark.parametrize("name", APPS)
def test_readme_lines_match_the_snippet(name):
    """Step 2: the README's curls and outputs against its snippet."""
    assert snippet_problems(readme(name)) == []


def terraform() -> str:
    exe = shutil.which("terraform")
    if not exe:
        pytest.skip("terraform not installed: skipping the README snippet checks (terraform/check.sh skips too)")
    return exe


def plugin_dir() -> Path:
    configured = os.environ.get("TF_PLUGIN_DIR")
    candidates = [Path(configured)] if configured else [Path("/opt/tf-plugins"), *Path("/opt").glob("*")]
    for candidate in candidates:
        if (candidate / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
            return candidate
    pytest.fail("no offline mirror of hashicorp/aws under /opt (or TF_PLUGIN_DIR): see terraform/check.sh")


def tf_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_"))}
    env.update(TF_IN_AUTOMATION="1", TF_INPUT="0", CHECKPOINT_DISABLE="1")
    return env


def run_tf(args, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [terraform(), *args], cwd=cwd, env=tf_env(), capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.parametrize("name", APPS)
def test_snippet_is_terraform_fmt_clean(name, tmp_path):
    (tmp_path / "main.tf").write_text(snippet_of(readme(name)))
    done = run_tf(["fmt", "-check", "-diff", "-no-color", "."], tmp_path)
    assert done.returncode == 0, f"examples/{name}/README.md's snippet is not `terraform fmt` clean:\n{done.stdout}{done.stderr}"


def without_provider_blocks(hcl: str) -> str:
    for kind, _, text in top_level_blocks(hcl):
        if kind == "provider":
            hcl = hcl.replace(text, "")
    return hcl


def stand_in_zip(path: Path):
    """A tiny zip in the package's shape (run.sh at the root): the module only
    needs the file to exist and hashes it; the real packages are built by
    each README's recipe."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as z:
        info = zipfile.ZipInfo("run.sh", date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = 0o100755 << 16
        z.writestr(info, "#!/bin/sh\nexec true\n")


MOCKS = """
mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\\"Version\\":\\"2012-10-17\\",\\"Statement\\":[]}"
    }
  }

  mock_resource "aws_lambda_function" {
    defaults = {
      arn        = "arn:aws:lambda:us-east-1:123456789012:function:example"
      invoke_arn = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:example/invocations"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/example"
    }
  }

  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/example"
    }
  }

  mock_resource "aws_apigatewayv2_api" {
    defaults = {
      execution_arn = "arn:aws:execute-api:us-east-1:123456789012:h77p4pi"
    }
  }

  mock_resource "aws_apigatewayv2_stage" {
    defaults = {
      invoke_url = "https://h77p4pi.execute-api.us-east-1.amazonaws.com/"
    }
  }

  mock_resource "aws_api_gateway_rest_api" {
    defaults = {
      execution_arn = "arn:aws:execute-api:us-east-1:123456789012:r3st4pi"
    }
  }

  mock_resource "aws_api_gateway_stage" {
    defaults = {
      invoke_url = "https://r3st4pi.execute-api.us-east-1.amazonaws.com/prod"
    }
  }

  mock_resource "aws_lambda_function_url" {
    defaults = {
      function_url = "https://f2nurl.lambda-url.us-east-1.on.aws/"
    }
  }
}
"""


def hcl_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("${", "$${") + '"'


def lay_out(root: Path, snippets: dict[str, str]) -> Path:
    """The README's layout under ``root``; returns the test root's folder."""
    shutil.copytree(MODULES, root / "terraform" / "modules", ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*", "tests"))
    calls, outputs, asserts = [], [], []
    for name, hcl in snippets.items():
        folder = root / "deploy" / name
        folder.mkdir(parents=True)
        (folder / "main.tf").write_text(without_provider_blocks(hcl))
        # package_zip = "${path.module}/../../dist/x.zip" (or a path relative
        # to the folder terraform runs in, the same one here).
        package = module_argument(hcl, "package_zip")
        assert package, f"examples/{name}: the snippet has no package_zip"
        relative = re.sub(r"^\"(\$\{path\.(module|root)\}/)?|\"$", "", package)
        stand_in_zip((folder / relative).resolve())
        missing = [v for v in required_variables(hcl) if v not in VARIABLE_VALUES]
        assert not missing, f"examples/{name}: give {missing} a test value in VARIABLE_VALUES"
        args = "".join(f"  {v} = {hcl_string(VARIABLE_VALUES[v])}\n" for v in required_variables(hcl))
        calls.append(f'module "{name}" {{\n  source = "../{name}"\n{args}}}\n')
        for output in outputs_of(hcl):
            outputs.append(f'output "{name}__{output}" {{\n  value = module.{name}.{output}\n}}\n')
            asserts.append(
                f"  assert {{\n    condition     = output.{name}__{output} != null\n"
                f'    error_message = "examples/{name}/README.md: output {output} is null: it names a front door the snippet does not create."\n  }}\n'
            )
    test_root = root / "deploy" / "all"
    (test_root / "tests").mkdir(parents=True)
    # The root's own provider requirement is what mock_provider replaces;
    # the snippets' modules inherit it.
    requirement = 'terraform {\n  required_providers {\n    aws = {\n      source = "hashicorp/aws"\n    }\n  }\n}\n'
    (test_root / "main.tf").write_text("\n".join([requirement, *calls, *outputs]))
    (test_root / "tests" / "snippets.tftest.hcl").write_text(
        MOCKS + '\nrun "every_readme_snippet" {\n  command = apply\n\n' + "\n".join(asserts) + "}\n"
    )
    return test_root


def check_snippets(tmp_path: Path, snippets: dict[str, str]) -> subprocess.CompletedProcess:
    test_root = lay_out(tmp_path, snippets)
    init = run_tf(["init", "-backend=false", f"-plugin-dir={plugin_dir()}", "-no-color"], test_root)
    assert init.returncode == 0, f"terraform init failed:\n{init.stdout}{init.stderr}"
    return run_tf(["test", "-no-color"], test_root)


def test_every_readme_snippet_applies_against_the_module(tmp_path):
    """Step 3: every snippet, with the mocked provider."""
    done = check_snippets(tmp_path, {name: snippet_of(readme(name)) for name in APPS})
    assert done.returncode == 0 and "1 passed, 0 failed" in done.stdout, f"{done.stdout}\n{done.stderr}"


# The FastAPI README's snippet as it was before the module owned the invoke
# mode: PORTSIDE_INVOKE_MODE in environment, a streaming Function URL beside a
# buffered REST API.
OLD_FASTAPI_SNIPPET = """module "app" {
  source                   = "../../terraform/modules/function"
  name                     = "fastapi-example"
  layer_arn                = "arn:aws:lambda:us-east-1:123456789012:layer:portside-x86_64:1"
  package_zip              = "../../dist/fastapi-example.zip"
  runtime                  = "python3.12"
  environment              = { PORTSIDE_INVOKE_MODE = "response_stream" }
  rest_api                 = true
  function_url             = true
  function_url_invoke_mode = "RESPONSE_STREAM"
}

output "sse_url" {
  value = "${module.app.function_url}sse"
}
"""


def test_a_drifted_snippet_fails(tmp_path):
    """The check can fail: the old FastAPI snippet is refused, for the
    module's reasons."""
    done = check_snippets(tmp_path, {"fastapi": OLD_FASTAPI_SNIPPET})
    text = done.stdout + done.stderr
    assert done.returncode != 0, text
    assert "environment must not set PORTSIDE_INVOKE_MODE" in text, text
