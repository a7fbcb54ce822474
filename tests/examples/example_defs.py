"""The examples under test and what each needs on PATH (made by examples/install.sh)."""

import sys

from examples_support import Example

EXAMPLE_DEFS = {
    ex.name: ex
    for ex in [
        Example("fastapi", path_dirs=[".venv/bin"], needs=[".venv/bin/python3"]),
        Example("django", path_dirs=[".venv/bin"], needs=[".venv/bin/python3"]),
        Example("express", needs=["node_modules"]),
        Example("go", runtime="provided.al2023", needs=["server"]),
        Example("nextjs", needs=[".next/standalone/server.js"], groups_query=True),
        # Lambda Web Functions apps (AWS_LAMBDA_HTTP_ENDPOINT): Express with
        # Web Functions' default command (node index.js), and the same
        # contract from Python's standard library.
        Example("web-function", needs=["node_modules"], web=True),
        Example("web-function-python", web=True, command=[sys.executable, "app.py"]),
    ]
}
