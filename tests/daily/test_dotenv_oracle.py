"""`--env-file` against python-dotenv, the independent oracle.

Each case is a set of dotenv files. python-dotenv loads them as
`load_dotenv(FILE, override=True)` one after the other, on an environment
that holds exactly what portside-local's own environment holds; portside-
local runs a real function (a provided.al2023 `bootstrap` speaking the
Runtime API) with `--env-file` for each file, and the function answers with
its environment. Every variable the files set must reach the function with
python-dotenv's value, and `--env` must win over them.

A file python-dotenv cannot parse must be refused by portside-local, naming
the file and the line python-dotenv's parser gave up on.
"""

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import dotenv
import pytest
from dotenv.parser import parse_stream

# The function: answers each event with its own environment.
BOOTSTRAP = """#!{python}
import json, os, urllib.request
base = "http://%s/2018-06-01/runtime/invocation" % os.environ["AWS_LAMBDA_RUNTIME_API"]
while True:
    with urllib.request.urlopen(base + "/next") as r:
        rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
    body = json.dumps(dict(os.environ)).encode()
    urllib.request.urlopen(urllib.request.Request(base + "/%s/response" % rid, data=body, method="POST")).read()
"""

# portside-local's own environment (and so python-dotenv's os.environ).
BASE_ENV = {
    "PATH": os.environ["PATH"],
    "HOME": os.environ.get("HOME", "/tmp"),
    "FROM_SHELL": "shell value",
    "SHADOWED": "from the shell",
}

CASES = {
    "plain": ["A=1\nB = two words  \nexport C=3\nexport\tD=tab\nE=a=b\n"],
    "comments": ["# a comment\n  # indented\nA=1 # note\nB=a#b\nC= # empty with a comment\nD=#kept\nE=x\t# tab note\n"],
    "single quotes": ["S1='a # not a comment'\nS2='it\\'s'\nS3='back\\\\slash'\nS4='no \\n escape'\nS5='$HOME ${FROM_SHELL}'\n"],
    "double quotes": ['D1="line\\nbreak"\nD2="tab\\there"\nD3="quote \\" inside"\nD4="back\\\\slash"\nD5="bell\\a"\nD6="v" # c\n'],
    "multi-line": ['M="one\ntwo\nthree"\nN=after\nO=\'x\ny\'\n'],
    "empty and bare": ["EMPTY=\nBARE\nQ=''\nR=\"\"\n"],
    "quoted key": ["'my key'=v1\n'x'=\"y\"\n"],
    "expansion": [
        "A=a\nB=${A}/${FROM_SHELL}\nC=${MISSING:-fallback}\nD=${MISSING}\nE=$A\nF=${SHADOWED}\nSHADOWED=from the file\nG=${SHADOWED}\nH=${A:-x}${A}\n"
    ],
    "bare shadows": ["BARE\nX=${BARE:-default}\nY=${UNSET:-}\n"],
    "redefined": ["K=first\nK=second\nL=${K}\n"],
    "windows line ends": ["A=1\r\nB='two'\r\nC=\"3\"\r\n"],
    "unicode": ["GREETING=grüße 👋\nSEP=a\u00a0# nbsp comment\nINFO=b\u001c# separator\n"],
    "several files": ["A=one\nB=${A}\nSHADOWED=first file\n", "A=two\nC=${A}-${B}-${SHADOWED}\n"],
}

MALFORMED = {
    "unclosed double quote": 'A=1\n\n\nB="never closed\nC=3\n',
    "text after a quoted value": "A=1\nB='x' y\n",
    "no key": "A=1\n=value\n",
    "a key with a space": "A=1\nB C\n",
    "unclosed single quote at the end": "A='open",
}


def oracle(paths):
    """What python-dotenv sets: {key: value} for every key the files set."""
    with mock.patch.dict(os.environ, BASE_ENV, clear=True):
        keys = []
        for p in paths:
            for k, v in dotenv.dotenv_values(p).items():
                if v is not None and k not in keys:
                    keys.append(k)
            dotenv.load_dotenv(p, override=True)
        return {k: os.environ[k] for k in keys}


def run(portside_local, function_dir, tmp_path, env_files, extra=()):
    event = tmp_path / "event.json"
    event.write_text("{}")
    args = [str(portside_local), "invoke", "--event-file", str(event), "--function", str(function_dir), "--quiet"]
    for f in env_files:
        args += ["--env-file", str(f)]
    args += list(extra)
    return subprocess.run(args, env=BASE_ENV, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def function_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("env-echo")
    boot = d / "bootstrap"
    boot.write_text(BOOTSTRAP.format(python=sys.executable))
    boot.chmod(0o755)
    return d


def write_files(tmp_path, texts):
    paths = []
    for i, text in enumerate(texts):
        p = tmp_path / f"env{i}"
        # newline="" keeps \r\n as written: python-dotenv reads it in text mode.
        with open(p, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        paths.append(p)
    return paths


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_function_gets_what_python_dotenv_reads(case, portside_local, function_dir, tmp_path):
    paths = write_files(tmp_path, CASES[case])
    expected = oracle(paths)
    assert expected, "each case sets something"
    done = run(portside_local, function_dir, tmp_path, paths)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    for key, value in expected.items():
        assert got.get(key) == value, f"{case}: {key!r}: python-dotenv {value!r}, the function {got.get(key)!r}"
    # A bare KEY sets nothing.
    if "BARE" in "".join(CASES[case]):
        assert "BARE" not in got


def test_env_wins_over_the_files(portside_local, function_dir, tmp_path):
    paths = write_files(tmp_path, ["A=from the file\nB=kept\n"])
    done = run(portside_local, function_dir, tmp_path, paths, ["--env", "A=from --env"])
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert (got["A"], got["B"]) == ("from --env", "kept")


def python_dotenv_error_line(text):
    """The line python-dotenv's parser gave up on: its statement's first
    line that is not blank."""
    for binding in parse_stream(io.StringIO(text.replace("\r\n", "\n"))):
        if binding.error:
            original = binding.original
            before = original.string[: len(original.string) - len(original.string.lstrip())]
            return original.line + before.count("\n")
    return None


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_line_python_dotenv_cannot_parse_is_refused_with_its_file_and_line(case, portside_local, function_dir, tmp_path):
    text = MALFORMED[case]
    line = python_dotenv_error_line(text)
    assert line is not None, f"python-dotenv parses {case!r}: not a malformed case"
    (path,) = write_files(tmp_path, [text])
    done = run(portside_local, function_dir, tmp_path, [path])
    assert done.returncode != 0, done.stdout
    assert f"--env-file {path}, line {line}:" in done.stderr, done.stderr
    # The value never reaches the output (it may be a secret).
    assert "never closed" not in done.stderr and "open" not in done.stderr.split("line")[-1]
