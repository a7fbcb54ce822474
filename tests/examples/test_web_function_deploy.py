"""The SAM template the guide shows for deploying the web-function example
as a Lambda Web Function (docs/src/web-functions.md, between its
`web-function-sam` markers): AWS SAM's own translator turns it into the
three Web Function resources with the settings asked for, and cfn-lint,
whose specification knows those resources, finds nothing wrong."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "docs" / "src" / "web-functions.md"
WEB_TYPES = {"AWS::Lambda::WebFunction", "AWS::Lambda::WebFunctionRevision", "AWS::Lambda::WebFunctionEndpoint"}


def template_text() -> str:
    text = GUIDE.read_text()
    match = re.search(r"<!-- web-function-sam: begin -->\n```yaml\n(.*?)```\n<!-- web-function-sam: end -->", text, re.S)
    assert match, f"no web-function-sam block in {GUIDE}"
    return match.group(1)


def translate(text: str) -> dict:
    """The CloudFormation template AWS SAM makes of `text`."""
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator
    from samtranslator.yaml_helper import yaml_parse

    # The template names no managed policy: nothing to look up in IAM.
    translator = Translator({}, Parser(), boto_session=boto3.session.Session(region_name="us-east-1"))
    return translator.translate(yaml_parse(text), parameter_values={})


def test_sam_transforms_the_guides_template_into_a_web_function():
    resources = translate(template_text())["Resources"]
    types = {r["Type"] for r in resources.values()}
    assert WEB_TYPES <= types, types
    [revision] = [r for r in resources.values() if r["Type"] == "AWS::Lambda::WebFunctionRevision"]
    props = revision["Properties"]
    assert props["BuildConfig"]["RuntimeConfig"] == {"Runtime": "nodejs24.x"}, props
    s3 = props["BuildConfig"]["CodeConfig"]["S3Object"]
    assert (s3.get("Bucket"), s3.get("Key")) == ({"Ref": "CodeBucket"}, {"Ref": "CodeKey"}), s3
    service = props["ServiceConfig"]
    assert service["TimeoutSeconds"] == 30 and service["MaxConcurrencyPerEnvironment"] == 64, service
    assert service["EnvironmentVariables"] == {"APP_NAME": "web-function"}, service
    [endpoint] = [r for r in resources.values() if r["Type"] == "AWS::Lambda::WebFunctionEndpoint"]
    assert endpoint["Properties"]["AuthType"] == "ApplicationManaged", endpoint


def cfn_lint(tmp_path, template: dict) -> list:
    path = tmp_path / "template.json"
    path.write_text(json.dumps(template, indent=1))
    run = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--format", "json", "--regions", "us-east-1", "--", str(path)],
        capture_output=True,
        text=True,
    )
    if run.returncode != 0 and not run.stdout.strip():
        pytest.fail(f"cfn-lint did not run: {run.stderr[-2000:]}")
    return json.loads(run.stdout or "[]")


def test_cfn_lint_checks_the_web_function_resources_sam_makes_and_finds_nothing(tmp_path):
    # cfn-lint is given SAM's output: its own transform passes
    # AWS::Serverless::WebFunction through unexpanded. SAM's endpoint both
    # names the revision in DependsOn and reads it with GetAtt, which cfn-lint
    # notes (W3005) about SAM's own output; nothing else may be found.
    findings = cfn_lint(tmp_path, translate(template_text()))
    others = [f for f in findings if f["Rule"]["Id"] != "W3005"]
    assert others == [], json.dumps(others, indent=1)
    assert all(f["Location"]["Path"][:3] == ["Resources", "AppEndpoint", "DependsOn"] for f in findings), findings
    # It does check them: a concurrency over Web Functions' 128 is refused.
    over = template_text().replace("MaxConcurrencyPerEnvironment: 64", "MaxConcurrencyPerEnvironment: 129")
    findings = cfn_lint(tmp_path, translate(over))
    assert any("129 is greater than the maximum of 128" in f["Message"] for f in findings), json.dumps(findings, indent=1)
