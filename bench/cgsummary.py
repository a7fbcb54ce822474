#!/usr/bin/env python3
"""Where a callgrind profile's instructions go, by function and by component
(the crate a function belongs to, portside's own code by module, musl's
string functions, the allocator), from `callgrind_annotate`'s exclusive
counts: an inlined function counts where it was inlined into, by the name of
the function that holds it.

    python3 bench/profile.py shape-logs -n 20 --binary SYMBOLS -- \\
        valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out
    python3 bench/cgsummary.py /tmp/cg.out [--per N] [--top 25]

`--per N` divides by N (invocations) to give instructions per invocation;
the start and warm-up are inside the totals, so profile enough invocations
that they do not matter (bench/instructions.sh gives the exact per-invocation
total). Needs valgrind's callgrind_annotate.
"""

from __future__ import annotations

import argparse
import re
import subprocess
from collections import Counter

LINE = re.compile(r"^\s*([\d,]+)\s+\([\s\d.]+%\)\s+(.*)$")


def split(where: str) -> tuple[str, str]:
    """(file, function) of a `file:function [object]` line; the function is
    empty where callgrind knew only an address."""
    where = re.sub(r"\s+\[[^\]]*\]$", "", where)
    path, _, func = where.partition(":")
    return (where, "") if func.startswith("0x") else (path, func)


def component(where: str) -> str:
    """The component of a `file:function [object]` line of callgrind_annotate."""
    path, func = split(where)
    if "musl" in path or "src_musl" in where:
        name = re.search(r"/src/(?:string|malloc)/(?:x86_64/)?(\w+)", where)
        return f"musl {name.group(1)}" if name else "musl"
    if not func:
        func = path
    func = func.lstrip("<&")
    first = re.split(r"::|<| as ", func, maxsplit=1)[0].strip()
    if first == "portside":
        module = func.split("::")[1] if func.count("::") >= 1 else "?"
        if module == "alloc":
            return "allocation (portside::alloc + dlmalloc)"
        return f"portside::{module}"
    if first == "dlmalloc":
        return "allocation (portside::alloc + dlmalloc)"
    if first in ("core", "alloc", "std"):
        return f"Rust std ({first})"
    return first or "?"


def rows(path: str) -> list[tuple[int, str]]:
    out = subprocess.run(["callgrind_annotate", "--threshold=100", "--auto=no", path], capture_output=True,
                         text=True, check=True).stdout
    found, seen_totals = [], False
    for line in out.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        count, where = int(m.group(1).replace(",", "")), m.group(2)
        if "PROGRAM TOTALS" in where:
            seen_totals = True
            continue
        if seen_totals:
            found.append((count, where))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("profile")
    parser.add_argument("--per", type=int, default=1, help="divide by this many invocations")
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args()
    found = rows(args.profile)
    total = sum(c for c, _ in found)
    by_component: Counter[str] = Counter()
    by_function: Counter[str] = Counter()
    for count, where in found:
        by_component[component(where)] += count
        by_function[split(where)[1] or component(where)] += count
    per = args.per
    print(f"{total / per:,.0f} instructions{' per invocation' if per > 1 else ''} in all")
    print("\n| component | instructions | share |\n| --- | ---: | ---: |")
    for name, count in by_component.most_common(args.top):
        print(f"| {name} | {count / per:,.0f} | {100 * count / total:.1f} % |")
    print("\n| function (exclusive, inlined code counted in its holder) | instructions | share |\n| --- | ---: | ---: |")
    for name, count in by_function.most_common(args.top):
        print(f"| `{name[:110]}` | {count / per:,.0f} | {100 * count / total:.1f} % |")


if __name__ == "__main__":
    main()
