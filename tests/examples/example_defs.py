"""The examples under test and what each needs on PATH (made by examples/install.sh)."""

from examples_support import Example

EXAMPLE_DEFS = {
    ex.name: ex
    for ex in [
        Example("fastapi", path_dirs=[".venv/bin"], needs=[".venv/bin/python3"]),
        Example("django", path_dirs=[".venv/bin"], needs=[".venv/bin/python3"]),
        Example("express", needs=["node_modules"]),
        Example("go", runtime="provided.al2023", needs=["server"]),
        Example("nextjs", needs=[".next/standalone/server.js"], groups_query=True),
    ]
}
