"""terraform apply, a second plan, and destroy, against a real AWS API: moto.

Two stacks, each applied against a moto server of its own that this module
starts on loopback (an ephemeral port), through the real AWS provider from
the offline mirror:

- the sample stack (terraform/), which publishes its layer and calls both
  modules, with the committed stand-in zips (so ./build.sh is not needed);
- a module-only stack (module_stack/main.tf), as a user would write it: the
  layer module, the function module with for_each (a Node.js and a Python
  app) and with count (a container image), then switched to streaming.

For each: every resource Terraform was asked for exists afterwards (the
expected addresses are listed here, by hand); what the AWS APIs return
(read back with boto3, not from Terraform's state) is what the stack asked
for: the exec wrapper, the layer, the port variable, the invoke mode, the
REST integrations' URIs, the permissions scoped to each API's execution ARN,
the role's merged policy; a second plan is empty; destroy leaves nothing.

moto's known gaps are set aside only by moto_gaps_override.tf, copied into
the copy of terraform/modules/function the test applies (see its comments);
the modules themselves carry nothing for moto. The provider is pointed at
moto by a generated *_override.tf, with fake credentials.

Needs terraform with the hashicorp/aws provider mirror under /opt (or
TF_PLUGIN_DIR), and moto[server] (requirements-dev.txt). Skipped, saying so,
where terraform is not installed, as terraform/check.sh does.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
TERRAFORM_DIR = REPO / "terraform"
REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account, which its STS reports

LAYER_ZIP = TERRAFORM_DIR / "tests" / "fixtures" / "portside-layer.zip"
SAMPLE_APP_ZIP = TERRAFORM_DIR / "tests" / "fixtures" / "sample-app.zip"
NODE_APP_ZIP = TERRAFORM_DIR / "modules" / "function" / "tests" / "fixtures" / "node-app.zip"

MODULE_PREFIX = "ps-mod"
SAMPLE_PREFIX = "portside-sample"

# Every managed resource each stack must create, written out from what the
# stacks declare (not read from them), by module.
SAMPLE_STACK_RESOURCES = {
    "aws_dynamodb_table.users",
    "aws_lambda_permission.s3",
    "aws_s3_bucket.imports",
    "aws_s3_bucket_lifecycle_configuration.imports",
    "aws_s3_bucket_notification.imports",
    "aws_s3_bucket_ownership_controls.imports",
    "aws_s3_bucket_policy.imports",
    "aws_s3_bucket_public_access_block.imports",
    "aws_s3_bucket_server_side_encryption_configuration.imports",
    "aws_s3_bucket_versioning.imports",
    "module.layer[0].aws_lambda_layer_version.this",
    "module.app.aws_cloudwatch_log_group.this",
    "module.app.aws_iam_role.this",
    "module.app.aws_iam_role_policy.this",
    "module.app.aws_lambda_function.this",
    "module.app.aws_apigatewayv2_api.this[0]",
    "module.app.aws_apigatewayv2_integration.this[0]",
    "module.app.aws_apigatewayv2_route.default[0]",
    "module.app.aws_apigatewayv2_stage.default[0]",
    "module.app.aws_cloudwatch_log_group.http_api_access[0]",
    "module.app.aws_lambda_permission.http_api[0]",
    "module.app.aws_api_gateway_rest_api.this[0]",
    "module.app.aws_api_gateway_deployment.this[0]",
    "module.app.aws_api_gateway_stage.this[0]",
    "module.app.aws_api_gateway_method_settings.this[0]",
    "module.app.aws_lambda_permission.rest_api[0]",
    "module.app.aws_lambda_function_url.this[0]",
    "module.app.aws_lambda_permission.function_url[0]",
    "module.app.aws_lambda_permission.function_url_invoke[0]",
}

_CORE = [
    "aws_cloudwatch_log_group.this",
    "aws_iam_role.this",
    "aws_iam_role_policy.this",
    "aws_lambda_function.this",
]
_HTTP = [
    "aws_apigatewayv2_api.this[0]",
    "aws_apigatewayv2_integration.this[0]",
    "aws_apigatewayv2_route.default[0]",
    "aws_apigatewayv2_stage.default[0]",
    "aws_cloudwatch_log_group.http_api_access[0]",
    "aws_lambda_permission.http_api[0]",
]
_REST = [
    "aws_api_gateway_rest_api.this[0]",
    "aws_api_gateway_deployment.this[0]",
    "aws_api_gateway_stage.this[0]",
    "aws_api_gateway_method_settings.this[0]",
    "aws_lambda_permission.rest_api[0]",
]
_URL = [
    "aws_lambda_function_url.this[0]",
    "aws_lambda_permission.function_url[0]",
    "aws_lambda_permission.function_url_invoke[0]",
]
MODULE_STACK_RESOURCES = {
    "module.layer.aws_lambda_layer_version.this",
    "module.layer.aws_lambda_layer_version_permission.this[0]",
    *(f'module.apps["node"].{r}' for r in _CORE + _REST + _URL),
    *(f'module.apps["python"].{r}' for r in _CORE + _HTTP),
    *(f"module.images[0].{r}" for r in _CORE + _HTTP),
    *(f"module.web.{r}" for r in _CORE + _URL),
}


def invoke_uri(function_arn: str) -> str:
    """API Gateway's URI for the classic (buffered) Invoke of a function."""
    return f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{function_arn}/invocations"


def stream_uri(function_arn: str) -> str:
    """API Gateway's URI for InvokeWithResponseStream (REST API streaming)."""
    return (
        f"arn:aws:apigateway:{REGION}:lambda:path/2021-11-15/functions/{function_arn}"
        "/response-streaming-invocations"
    )


# --- terraform and its provider mirror ----------------------------------------------


def _plugin_dir() -> Path:
    """The hashicorp/aws mirror, found as terraform/check.sh finds it."""
    given = os.environ.get("TF_PLUGIN_DIR")
    candidates = [Path(given)] if given else [Path("/opt/tf-plugins")]
    if not given and Path("/opt").is_dir():
        for depth in range(1, 4):
            for found in Path("/opt").glob("/".join(["*"] * depth) + "/registry.terraform.io/hashicorp/aws"):
                candidates.append(found.parents[2])
    for candidate in candidates:
        if (candidate / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
            return candidate
    pytest.fail(
        "no offline mirror of the hashicorp/aws provider (looked for */registry.terraform.io/hashicorp/aws "
        "under /opt); set TF_PLUGIN_DIR to the folder holding registry.terraform.io/"
    )


def _terraform_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "TF_")) or k in ("TF_PLUGIN_DIR",)
    }
    env.update(TF_IN_AUTOMATION="1", TF_INPUT="0", CHECKPOINT_DISABLE="1")
    # A CLI config file that is named but missing only makes terraform warn.
    cli_config = os.environ.get("TF_CLI_CONFIG_FILE")
    if cli_config and Path(cli_config).is_file():
        env["TF_CLI_CONFIG_FILE"] = cli_config
    return env


PROVIDER_OVERRIDE = """\
# Generated by tests/terraform/test_moto_apply.py: the AWS provider talks to
# the moto server the test started, with fake credentials. The account ID is
# asked of moto's STS (123456789012), so ARNs the provider builds, such as
# the APIs' execution ARNs, are whole.
provider "aws" {{
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  s3_use_path_style           = true

  endpoints {{
    apigateway   = "{url}"
    apigatewayv2 = "{url}"
    dynamodb     = "{url}"
    iam          = "{url}"
    lambda       = "{url}"
    logs         = "{url}"
    s3           = "{url}"
    sts          = "{url}"
  }}
}}
"""


class Stack:
    """A copy of a Terraform root module, pointed at its moto server, and the commands run on it."""

    def __init__(self, name: str, root: Path, moto_url: str, variables: dict[str, str]):
        self.name = name
        self.root = root
        self.variables = variables
        self.log = root / "terraform.log"
        self.lock = threading.Lock()
        (root / "moto_provider_override.tf").write_text(PROVIDER_OVERRIDE.format(url=moto_url))
        session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
        self.aws = {
            service: session.client(service, endpoint_url=moto_url)
            for service in ("lambda", "apigateway", "apigatewayv2", "iam", "s3", "dynamodb", "logs")
        }
        self.second_plan: str | None = None

    def run(
        self, *args: str, ok_codes: tuple[int, ...] = (0,), extra_vars: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess:
        var_args = [f"-var={k}={v}" for k, v in {**self.variables, **(extra_vars or {})}.items()]
        uses_vars = args[0] in ("apply", "plan", "destroy")
        command = ["terraform", f"-chdir={self.root}", *args, "-no-color", *(var_args if uses_vars else [])]
        started = time.monotonic()
        result = subprocess.run(command, env=_terraform_env(), capture_output=True, text=True, timeout=900)
        with self.lock, self.log.open("a") as log:
            log.write(f"\n$ {' '.join(command)}  ({time.monotonic() - started:.1f} s, exit {result.returncode})\n")
            log.write(result.stdout + result.stderr)
        if result.returncode not in ok_codes:
            tail = (result.stdout + result.stderr)[-6000:]
            pytest.fail(f"{self.name}: terraform {args[0]} exited with {result.returncode}:\n{tail}")
        return result

    def init(self, plugin_dir: Path) -> None:
        self.run("init", "-backend=false", f"-plugin-dir={plugin_dir}")

    def apply(self, **extra_vars: str) -> None:
        self.run("apply", "-auto-approve", extra_vars=extra_vars)

    def plan_changes(self, **extra_vars: str) -> str:
        """The plan's change lines, or '' when the plan is empty (-detailed-exitcode 0)."""
        result = self.run("plan", "-detailed-exitcode", ok_codes=(0, 2), extra_vars=extra_vars)
        if result.returncode == 0:
            return ""
        return "\n".join(line for line in result.stdout.splitlines() if line.startswith(("  #", "Plan:")))

    def destroy(self, **extra_vars: str) -> None:
        # The plan before it refreshed the state; a second refresh would only
        # add a minute of reads.
        self.run("destroy", "-auto-approve", "-refresh=false", extra_vars=extra_vars)

    def apply_and_plan(self) -> None:
        self.apply()
        self.second_plan = self.plan_changes()

    def managed_resources(self) -> set[str]:
        listed = self.run("state", "list").stdout.split()
        return {address for address in listed if ".data." not in f".{address}"}

    def outputs(self) -> dict:
        return {k: v["value"] for k, v in json.loads(self.run("output", "-json").stdout).items()}


def _copy_tree(source: Path, target: Path) -> None:
    """Copies a folder without what a local run may have left (state, plugins, lock files)."""
    shutil.copytree(
        source,
        target,
        ignore=shutil.ignore_patterns(
            ".terraform", ".terraform.lock.hcl", "terraform.tfstate*", "*.tfplan", "*.tfvars"
        ),
    )


# --- fixtures -----------------------------------------------------------------------

# A moto server in a process of its own (one per stack, so the two stacks do
# not queue behind one Python interpreter): it binds an ephemeral port on
# loopback, prints it, and runs until its stdin closes.
MOTO_SERVER = """
import sys
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()
server.stop()
"""


class MotoServer:
    def __init__(self, log_path: Path):
        self.log = log_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", MOTO_SERVER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        line = self.proc.stdout.readline().strip()
        if not line.isdigit():
            self.stop()
            pytest.fail(
                "moto server did not start (needs moto[server], see requirements-dev.txt):\n"
                + log_path.read_text()[-3000:]
            )
        self.url = f"http://127.0.0.1:{line}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@pytest.fixture(scope="module")
def stacks(tmp_path_factory):
    """Both stacks copied, pointed at their moto servers, applied and planned again (side by side)."""
    if shutil.which("terraform") is None:
        pytest.skip("terraform not installed: skipping the apply against moto")
    plugin_dir = _plugin_dir()
    work = tmp_path_factory.mktemp("tf-moto")
    gaps = HERE / "moto_gaps_override.tf"
    servers = []
    try:
        servers = [MotoServer(work / "moto-sample.log"), MotoServer(work / "moto-module.log")]

        # The sample stack, with its modules, as the repository has them.
        _copy_tree(TERRAFORM_DIR, work / "sample")
        shutil.copy(gaps, work / "sample" / "modules" / "function" / gaps.name)
        sample = Stack(
            "sample stack",
            work / "sample",
            servers[0].url,
            {"layer_zip_path": str(LAYER_ZIP), "function_zip_path": str(SAMPLE_APP_ZIP)},
        )

        # The module-only stack, next to its own copy of the modules.
        _copy_tree(TERRAFORM_DIR / "modules", work / "modules")
        _copy_tree(HERE / "module_stack", work / "stack")
        shutil.copy(gaps, work / "modules" / "function" / gaps.name)
        module_stack = Stack(
            "module stack",
            work / "stack",
            servers[1].url,
            {"name_prefix": MODULE_PREFIX, "layer_zip": str(LAYER_ZIP), "app_zip": str(NODE_APP_ZIP)},
        )

        both = (sample, module_stack)
        for stack in both:
            stack.init(plugin_dir)
        # The sample's S3 lifecycle configuration alone takes about a minute
        # (the provider waits for it to settle), so the two run side by side.
        with ThreadPoolExecutor(max_workers=2) as pool:
            for future in [pool.submit(stack.apply_and_plan) for stack in both]:
                future.result()
        yield {"sample": sample, "module": module_stack}
    finally:
        for server in servers:
            server.stop()


def _policy_statements(aws, function_name: str) -> dict[str, dict]:
    policy = json.loads(aws["lambda"].get_policy(FunctionName=function_name)["Policy"])
    return {s["Sid"]: s for s in policy["Statement"]}


def _rest_integrations(aws, api_id: str) -> dict[str, dict]:
    """path -> the integration of its one (ANY) method."""
    found = {}
    for resource in aws["apigateway"].get_resources(restApiId=api_id)["items"]:
        methods = list(resource.get("resourceMethods", {}))
        # moto keeps the OpenAPI key of ANY as the method's name.
        assert methods in (["ANY"], ["X-AMAZON-APIGATEWAY-ANY-METHOD"]), (
            f"{resource['path']} must have one method, ANY, has {methods}"
        )
        found[resource["path"]] = aws["apigateway"].get_integration(
            restApiId=api_id, resourceId=resource["id"], httpMethod=methods[0]
        )
    return found


def _environment(aws, function_name: str) -> dict[str, str]:
    return aws["lambda"].get_function(FunctionName=function_name)["Configuration"]["Environment"]["Variables"]


def _scoped_to(statement: dict, execution_arn: str) -> bool:
    condition = statement.get("Condition", {}).get("ArnLike", {})
    return condition.get("AWS:SourceArn") == f"{execution_arn}/*"


# --- the sample stack ---------------------------------------------------------------


def test_sample_stack_creates_every_resource(stacks):
    assert stacks["sample"].managed_resources() == SAMPLE_STACK_RESOURCES


def test_sample_stack_deployed_as_configured(stacks):
    aws = stacks["sample"].aws
    out = stacks["sample"].outputs()
    name = f"{SAMPLE_PREFIX}-app"
    assert out["function_name"] == name
    function = aws["lambda"].get_function(FunctionName=name)["Configuration"]
    function_arn = function["FunctionArn"]

    # The layer the stack published is the one attached, and the only one.
    layers = aws["lambda"].list_layer_versions(LayerName=f"{SAMPLE_PREFIX}-portside-x86_64")["LayerVersions"]
    assert [layer["LayerVersionArn"] for layer in layers] == [out["layer_version_arn"]]
    assert [layer["Arn"] for layer in function["Layers"]] == [out["layer_version_arn"]]

    # Python runtime, run.sh through the wrapper, port 8000, the table; no
    # PORTSIDE_INVOKE_MODE while nothing streams.
    assert (function["Runtime"], function["Handler"], function["PackageType"]) == ("python3.12", "run.sh", "Zip")
    assert function["Environment"]["Variables"] == {
        "AWS_LAMBDA_EXEC_WRAPPER": "/opt/bootstrap",
        "PORT": "8000",
        "USERS_TABLE": f"{SAMPLE_PREFIX}-users",
    }
    assert (function["MemorySize"], function["Timeout"]) == (512, 30)
    assert aws["lambda"].get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 5
    assert function["Role"] == f"arn:aws:iam::{ACCOUNT}:role/{SAMPLE_PREFIX}-function"

    # The role's one inline policy: the app's two statements merged with the
    # module's own (its log group).
    role = f"{SAMPLE_PREFIX}-function"
    [policy_name] = aws["iam"].list_role_policies(RoleName=role)["PolicyNames"]
    document = aws["iam"].get_role_policy(RoleName=role, PolicyName=policy_name)["PolicyDocument"]
    statements = {s["Sid"]: s for s in document["Statement"]}
    assert set(statements) == {"UsersTable", "ReadImports", "PortsideOwnLogs"}
    table_arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{SAMPLE_PREFIX}-users"
    log_group_arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{name}"
    assert statements["UsersTable"]["Resource"] == table_arn
    assert statements["PortsideOwnLogs"]["Resource"] == f"{log_group_arn}:*"

    # HTTP API: $default route to the function, payload 2.0, throttled.
    [http_api] = [api for api in aws["apigatewayv2"].get_apis()["Items"] if api["Name"] == f"{name}-http"]
    [integration] = aws["apigatewayv2"].get_integrations(ApiId=http_api["ApiId"])["Items"]
    assert (integration["IntegrationType"], integration["PayloadFormatVersion"]) == ("AWS_PROXY", "2.0")
    assert integration["IntegrationUri"] == invoke_uri(function_arn)
    [route] = aws["apigatewayv2"].get_routes(ApiId=http_api["ApiId"])["Items"]
    assert (route["RouteKey"], route["Target"]) == ("$default", f"integrations/{integration['IntegrationId']}")
    stage = aws["apigatewayv2"].get_stage(ApiId=http_api["ApiId"], StageName="$default")
    throttling = stage["DefaultRouteSettings"]
    assert (throttling["ThrottlingRateLimit"], throttling["ThrottlingBurstLimit"]) == (10, 20)

    # REST API: ANY / and ANY /{proxy+}, buffered Lambda proxy, throttled stage.
    [rest_api] = [api for api in aws["apigateway"].get_rest_apis()["items"] if api["name"] == f"{name}-rest"]
    integrations = _rest_integrations(aws, rest_api["id"])
    assert set(integrations) == {"/", "/{proxy+}"}
    for path, integ in integrations.items():
        # (moto echoes the type as the body spells it; AWS answers in capitals)
        assert (integ["type"].upper(), integ["uri"]) == ("AWS_PROXY", invoke_uri(function_arn)), path
    [stage] = aws["apigateway"].get_stages(restApiId=rest_api["id"])["item"]
    settings = stage["methodSettings"]["*/*"]
    throttling = (settings["throttlingRateLimit"], settings["throttlingBurstLimit"])
    assert (stage["stageName"], *throttling) == ("prod", 10, 20)
    assert out["rest_api_url"].startswith(f"https://{rest_api['id']}.execute-api.{REGION}.amazonaws.com/prod")

    # Function URL: public and buffered by default.
    url = aws["lambda"].get_function_url_config(FunctionName=name)
    assert (url["AuthType"], url["InvokeMode"]) == ("NONE", "BUFFERED")

    # Who may invoke: each API from its own execution ARN only, S3 from the
    # bucket in this account, anyone through the public URL.
    execution_arn = f"arn:aws:execute-api:{REGION}:{ACCOUNT}"
    permissions = _policy_statements(aws, name)
    assert _scoped_to(permissions["AllowHttpApi"], f"{execution_arn}:{http_api['ApiId']}")
    assert _scoped_to(permissions["AllowRestApi"], f"{execution_arn}:{rest_api['id']}")
    bucket = out["bucket_name"]
    assert permissions["AllowS3Imports"]["Condition"]["ArnLike"]["AWS:SourceArn"] == f"arn:aws:s3:::{bucket}"
    assert permissions["AllowS3Imports"]["Condition"]["StringEquals"]["AWS:SourceAccount"] == ACCOUNT
    assert permissions["AllowPublicFunctionUrl"]["Action"] == "lambda:InvokeFunctionUrl"
    assert permissions["AllowPublicFunctionUrlInvoke"]["Action"] == "lambda:InvokeFunction"

    # The bucket sends each new .csv to the function.
    [notification] = aws["s3"].get_bucket_notification_configuration(Bucket=bucket)["LambdaFunctionConfigurations"]
    assert notification["LambdaFunctionArn"] == function_arn
    assert notification["Events"] == ["s3:ObjectCreated:*"]
    # (S3 takes the rule name in either case; the provider sends "suffix")
    rules = [(r["Name"].lower(), r["Value"]) for r in notification["Filter"]["Key"]["FilterRules"]]
    assert rules == [("suffix", ".csv")]


def test_sample_stack_second_plan_is_empty(stacks):
    assert stacks["sample"].second_plan == ""


# --- the module-only stack ----------------------------------------------------------


def test_module_stack_creates_every_resource(stacks):
    assert stacks["module"].managed_resources() == MODULE_STACK_RESOURCES


def test_module_stack_deployed_as_configured(stacks):
    aws = stacks["module"].aws
    out = stacks["module"].outputs()
    layer_arn = out["layer_arn"]
    assert layer_arn == f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:{MODULE_PREFIX}-portside:1"

    # The layer version is shared with the organization, and only with it.
    policy = aws["lambda"].get_layer_version_policy(LayerName=f"{MODULE_PREFIX}-portside", VersionNumber=1)
    policy = json.loads(policy["Policy"])
    [grant] = policy["Statement"]
    assert (grant["Action"], grant["Principal"], grant["OrganizationId"]) == (
        "lambda:GetLayerVersion",
        "*",
        "o-a1b2c3d4e5",
    )

    # for_each: one function per app, each on its runtime with its port.
    for app, runtime, port in (("node", "nodejs22.x", "3000"), ("python", "python3.12", "8000")):
        name = f"{MODULE_PREFIX}-{app}"
        assert out["apps"][app]["function_name"] == name
        function = aws["lambda"].get_function(FunctionName=name)["Configuration"]
        assert (function["Runtime"], function["Handler"]) == (runtime, "run.sh")
        assert [layer["Arn"] for layer in function["Layers"]] == [layer_arn]
        assert function["Environment"]["Variables"] == {
            "AWS_LAMBDA_EXEC_WRAPPER": "/opt/bootstrap",
            "PORT": port,
            "APP_NAME": app,
        }
        assert aws["lambda"].get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 2
        assert out["apps"][app]["invoke_mode"] is None

    # The Node.js app: a buffered REST API and a public buffered URL.
    node_arn = out["apps"]["node"]["function_arn"]
    rest_id = out["apps"]["node"]["rest_api_id"]
    integrations = _rest_integrations(aws, rest_id)
    assert {path: i["uri"] for path, i in integrations.items()} == {
        "/": invoke_uri(node_arn),
        "/{proxy+}": invoke_uri(node_arn),
    }
    [stage] = aws["apigateway"].get_stages(restApiId=rest_id)["item"]
    settings = stage["methodSettings"]["*/*"]
    assert (settings["throttlingRateLimit"], settings["throttlingBurstLimit"]) == (4, 8)
    url = aws["lambda"].get_function_url_config(FunctionName=f"{MODULE_PREFIX}-node")
    assert (url["AuthType"], url["InvokeMode"]) == ("NONE", "BUFFERED")
    node_permissions = _policy_statements(aws, f"{MODULE_PREFIX}-node")
    assert _scoped_to(node_permissions["AllowRestApi"], f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{rest_id}")
    assert "AllowHttpApi" not in node_permissions and out["apps"]["node"]["http_api_id"] is None

    # The Python app: the HTTP API only, its permission scoped to it.
    http_id = out["apps"]["python"]["http_api_id"]
    python_permissions = _policy_statements(aws, f"{MODULE_PREFIX}-python")
    assert _scoped_to(python_permissions["AllowHttpApi"], f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{http_id}")
    assert set(python_permissions) == {"AllowHttpApi"}
    assert out["apps"]["python"]["rest_api_id"] is None and out["apps"]["python"]["function_url"] is None

    # A Web Functions app: started from its index.js, with Web Functions'
    # request semantics, behind a streaming URL.
    web = aws["lambda"].get_function(FunctionName=f"{MODULE_PREFIX}-web")["Configuration"]
    assert (web["Runtime"], web["Handler"]) == ("nodejs22.x", "index.js")
    assert web["Environment"]["Variables"] == {
        "AWS_LAMBDA_EXEC_WRAPPER": "/opt/bootstrap",
        "PORT": "3000",
        "PORTSIDE_INVOKE_MODE": "response_stream",
        "PORTSIDE_WEB_FUNCTION": "true",
    }
    web_url = aws["lambda"].get_function_url_config(FunctionName=f"{MODULE_PREFIX}-web")
    assert (web_url["AuthType"], web_url["InvokeMode"]) == ("NONE", "RESPONSE_STREAM")
    assert out["web"]["invoke_mode"] == "response_stream"

    # count: the container image, with no layer, runtime or wrapper.
    [image_name] = out["image_function_names"]
    image = aws["lambda"].get_function(FunctionName=image_name)
    config = image["Configuration"]
    assert config["PackageType"] == "Image"
    assert image["Code"]["ImageUri"] == f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/portside-app:1.0"
    assert not config.get("Layers") and "Runtime" not in config
    assert config["Environment"]["Variables"] == {"PORT": "8080"}


def test_module_stack_second_plan_is_empty(stacks):
    assert stacks["module"].second_plan == ""


def test_module_stack_switches_to_streaming(stacks):
    stack = stacks["module"]
    aws = stack.aws
    rest_id = stack.outputs()["apps"]["node"]["rest_api_id"]
    [before] = aws["apigateway"].get_stages(restApiId=rest_id)["item"]

    stack.apply(streaming="true")

    out = stack.outputs()
    node_arn = out["apps"]["node"]["function_arn"]
    assert out["apps"]["node"]["rest_api_id"] == rest_id, "the REST API must be updated in place"
    # Both routes now invoke with InvokeWithResponseStream, for as long as the function may run.
    integrations = _rest_integrations(aws, rest_id)
    assert {path: (i["uri"], i["timeoutInMillis"]) for path, i in integrations.items()} == {
        "/": (stream_uri(node_arn), 30000),
        "/{proxy+}": (stream_uri(node_arn), 30000),
    }
    # ... served by a new deployment of the stage.
    [after] = aws["apigateway"].get_stages(restApiId=rest_id)["item"]
    assert after["deploymentId"] != before["deploymentId"]
    # The adapter streams: one variable for the REST API and the Function URL.
    env = _environment(aws, f"{MODULE_PREFIX}-node")
    assert env == {
        "AWS_LAMBDA_EXEC_WRAPPER": "/opt/bootstrap",
        "PORT": "3000",
        "APP_NAME": "node",
        "PORTSIDE_INVOKE_MODE": "response_stream",
    }
    assert out["apps"]["node"]["invoke_mode"] == "response_stream"
    # The Python app is not streamed by anything: untouched.
    python_env = _environment(aws, f"{MODULE_PREFIX}-python")
    assert "PORTSIDE_INVOKE_MODE" not in python_env

    assert stack.plan_changes(streaming="true") == ""


# --- destroy ------------------------------------------------------------------------


def test_destroy_removes_everything(stacks):
    sample, module_stack = stacks["sample"], stacks["module"]
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(sample.destroy), pool.submit(module_stack.destroy, streaming="true")]
        for future in futures:
            future.result()

    for stack in (sample, module_stack):
        assert stack.managed_resources() == set(), stack.name
        # What moto holds, not what Terraform thinks: nothing of the stack.
        aws = stack.aws
        assert aws["lambda"].list_functions()["Functions"] == [], stack.name
        versions = [
            version
            for layer in aws["lambda"].list_layers()["Layers"]
            for version in aws["lambda"].list_layer_versions(LayerName=layer["LayerName"])["LayerVersions"]
        ]
        assert versions == [], stack.name
        assert aws["apigateway"].get_rest_apis()["items"] == [], stack.name
        assert aws["apigatewayv2"].get_apis()["Items"] == [], stack.name
        assert aws["iam"].list_roles()["Roles"] == [], stack.name
        assert aws["dynamodb"].list_tables()["TableNames"] == [], stack.name
        assert aws["s3"].list_buckets()["Buckets"] == [], stack.name
        assert aws["logs"].describe_log_groups()["logGroups"] == [], stack.name
