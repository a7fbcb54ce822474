"""The Express example (Node.js) through every door, against itself run directly."""

from cases import *  # noqa: F401,F403  the shared cases, run for this example

EXAMPLE = "express"
