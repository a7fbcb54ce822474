#!/usr/bin/env bash
# Installs what the examples need to run on this machine, each in its own
# folder, and builds the compiled ones:
#
#   fastapi, django  a venv in examples/<name>/.venv with requirements.txt (pip)
#   express, web-function
#                    node_modules from package-lock.json (npm ci)
#   nextjs           node_modules (npm ci), then `next build` (standalone server)
#   go               examples/go/server (go build); installs Debian's golang-go
#                    with apt-get when go is missing and we are root
#
# Usage: examples/install.sh [NAME...]   (default: every example)
# Each step is skipped when its inputs (requirements, lock file, sources)
# have not changed since it last ran; several examples install at once. Needs python3 (3.11+), Node.js 20+ with
# npm, and access to PyPI, npm and (for Go, when missing) Debian.
set -euo pipefail
examples=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
all=(fastapi django express nextjs go web-function)

say() { printf 'examples/install.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# Hash of the files (and folders) given, relative to an example's folder.
inputs_hash() {
    local dir=$1 path present=(); shift
    for path in "$@"; do [ -e "$dir/$path" ] && present+=("$path"); done
    (cd "$dir" && find "${present[@]}" -type f ! -name '*.pyc' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
}

# up_to_date DIR STAMP HASH: whether STAMP holds HASH.
up_to_date() { [ "$(cat "$1/$2" 2>/dev/null)" = "$3" ]; }

python_example() {
    local name=$1 dir="$examples/$1" want
    command -v python3 >/dev/null 2>&1 || die "python3 is not installed; install Python 3.11+"
    want=$(inputs_hash "$dir" requirements.txt)
    if up_to_date "$dir" .venv/.installed "$want" && [ -x "$dir/.venv/bin/python3" ]; then
        say "$name: .venv is up to date"
        return
    fi
    say "$name: pip install -r requirements.txt into $dir/.venv"
    python3 -m venv "$dir/.venv" || die "$name: could not create $dir/.venv (is python3-venv installed?)"
    "$dir/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$dir/requirements.txt" \
        || die "$name: pip install failed; see the messages above"
    echo "$want" > "$dir/.venv/.installed"
}

npm_ci() {
    local name=$1 dir="$examples/$1" want
    command -v npm >/dev/null 2>&1 || die "npm is not installed; install Node.js 20 or later"
    want=$(inputs_hash "$dir" package.json package-lock.json)
    if up_to_date "$dir" node_modules/.installed "$want"; then
        say "$name: node_modules is up to date"
        return
    fi
    say "$name: npm ci"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) || die "$name: npm ci failed; see the messages above"
    echo "$want" > "$dir/node_modules/.installed"
}

nextjs_build() {
    local dir="$examples/nextjs" want
    want=$(inputs_hash "$dir" app lib public next.config.mjs package-lock.json)
    if up_to_date "$dir" .next/.built "$want" && [ -f "$dir/.next/standalone/server.js" ]; then
        say "nextjs: the standalone build is up to date"
        return
    fi
    say "nextjs: next build (standalone output)"
    (cd "$dir" && NEXT_TELEMETRY_DISABLED=1 npx --no-install next build) || die "nextjs: next build failed; see the messages above"
    # The standalone server serves .next/static and public/ only when they
    # sit next to it (Next.js leaves them out of .next/standalone on purpose).
    cp -R "$dir/.next/static" "$dir/.next/standalone/.next/static"
    if [ -d "$dir/public" ]; then cp -R "$dir/public" "$dir/.next/standalone/public"; fi
    echo "$want" > "$dir/.next/.built"
}

go_build() {
    local dir="$examples/go" want
    if ! command -v go >/dev/null 2>&1; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            say "go: installing Debian's golang-go"
            apt-get update -qq || die "go: apt-get update failed"
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go >/dev/null \
                || die "go: apt-get install golang-go failed"
        else
            die "go is not installed: install Go 1.19 or later (Debian: apt-get install golang-go)"
        fi
    fi
    want=$(inputs_hash "$dir" go.mod main.go)
    if up_to_date "$dir" .server.built "$want" && [ -x "$dir/server" ]; then
        say "go: server is up to date"
        return
    fi
    say "go: go build -o server ($(go version))"
    # A static binary, as it would be built for provided.al2023.
    (cd "$dir" && CGO_ENABLED=0 go build -trimpath -o server .) || die "go: go build failed; see the messages above"
    echo "$want" > "$dir/.server.built"
}

install_one() {
    local name=$1 start=$SECONDS
    case "$name" in
        fastapi | django) python_example "$name" ;;
        express | web-function) npm_ci "$name" ;;
        nextjs) npm_ci nextjs && nextjs_build ;;
        go) go_build ;;
    esac
    say "$name: ready ($((SECONDS - start)) s)"
}

names=("$@")
[ ${#names[@]} -gt 0 ] || names=("${all[@]}")
for name in "${names[@]}"; do
    case " ${all[*]} " in
        *" $name "*) ;;
        *) die "unknown example '$name'; the examples are: ${all[*]}" ;;
    esac
done

if [ ${#names[@]} -eq 1 ]; then
    install_one "${names[0]}"
    exit 0
fi

# Several at once: downloads (pip, npm, apt) overlap with the CPU-bound
# builds (next build, go build). Each writes to its own log, shown when it
# is done; any failure fails the whole run.
logs=$(mktemp -d "${TMPDIR:-/tmp}/examples-install.XXXXXX")
trap 'rm -rf "$logs"' EXIT
pids=()
for name in "${names[@]}"; do
    install_one "$name" > "$logs/$name.log" 2>&1 &
    pids+=("$!")
done
failed=()
for i in "${!names[@]}"; do
    if ! wait "${pids[$i]}"; then failed+=("${names[$i]}"); fi
    cat "$logs/${names[$i]}.log" >&2
done
[ ${#failed[@]} -eq 0 ] || die "failed: ${failed[*]} (see above)"
