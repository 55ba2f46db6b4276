#!/usr/bin/env python3
"""Compare two benchmark results of `make bench` (build/bench/crypto.json or
build/bench/lifecycle.json, from two builds or two machines):

    python3 bench/compare.py BEFORE.json AFTER.json

For every number both files have, prints before, after and after/before;
keys only one file has are listed. Nested objects are flattened to
dotted keys. Asserts nothing (the numbers depend on the machine)."""
import json
import sys


def flatten(obj, prefix=""):
    out = {}
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.update(flatten(v, "%s%s." % (prefix, k)))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out.update(flatten(v, "%s%d." % (prefix, i)))
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        out[prefix[:-1]] = obj
    return out


def load(path):
    try:
        with open(path) as f:
            return flatten(json.load(f))
    except (OSError, ValueError) as e:
        raise SystemExit("compare: %s: %s" % (path, e))


def main(argv):
    if len(argv) != 3:
        raise SystemExit("usage: bench/compare.py BEFORE.json AFTER.json")
    a, b = load(argv[1]), load(argv[2])
    width = max([len(k) for k in a.keys() | b.keys()] + [3])
    print("%-*s %14s %14s %8s" % (width, "key", "before", "after", "ratio"))
    for k in sorted(a.keys() & b.keys()):
        ratio = "%.3f" % (b[k] / a[k]) if a[k] else "-"
        print("%-*s %14g %14g %8s" % (width, k, a[k], b[k], ratio))
    for name, only in (("before", a.keys() - b.keys()), ("after", b.keys() - a.keys())):
        if only:
            print("only %s: %s" % (name, ", ".join(sorted(only))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
