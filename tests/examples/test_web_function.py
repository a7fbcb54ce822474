"""The Lambda Web Functions example (Express, examples/web-function/) run
directly and through each path of web_support.PATHS (portside-local web,
started in the app's folder with no command: Web Functions' `node
index.js`): the shared cases and the Web Functions ones."""

from cases import *  # noqa: F401,F403  the shared cases
from web_cases import *  # noqa: F401,F403  the Web Functions cases and the `through` paths

EXAMPLE = "web-function"
