#!/usr/bin/env bash
# Prints CHANGELOG.md's section for VERSION (its body, without the heading):
# the notes of that version's GitHub release. "Unreleased" prints what is
# waiting for the next one. Fails, saying so, when there is no such section
# or it is empty.
#
# Usage: scripts/release-notes.sh VERSION [CHANGELOG]
set -euo pipefail
version=${1:?usage: scripts/release-notes.sh VERSION [CHANGELOG]}
changelog=${2:-$(dirname "$0")/../CHANGELOG.md}
notes=$(awk -v v="$version" '
    /^## \[/ { if (found) exit; if (index($0, "## [" v "]") == 1) { found = 1; next } }
    found { print }
' "$changelog")
if [ -z "$(printf '%s' "$notes" | tr -d '[:space:]')" ]; then
    echo "release-notes.sh: $changelog has no section '## [$version]' (or it is empty): move the Unreleased entries under it" >&2
    exit 1
fi
# Without the blank lines around the section.
printf '%s\n' "$notes" | sed -e '/./,$!d' | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'
