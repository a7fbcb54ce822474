"""The Go example (net/http, provided.al2023) through every door, against itself run directly."""

from cases import *  # noqa: F401,F403  the shared cases, run for this example

EXAMPLE = "go"
