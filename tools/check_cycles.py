#!/usr/bin/env python3
"""No call cycles among the files of one program (make lint;
docs/architecture.md, "Who calls whom").

    check_cycles.py [--root DIR] OBJECT.o ...

File A uses file B when A's object refers to a symbol (a function or a
variable) that B's object defines: a call or a read by name, as the linker
sees it (nm), whichever header declared it -- also one a file has no header
of its own for (tpgvm/main.c's transport once was), and one a static
inline function of a header calls. A call through a pointer handed down
(a struct of functions, like tpgvm/transport.h's) is no such use: that is
how a lower file reaches a higher one without naming it.

A cycle -- A uses B, and B, directly or through others, uses A -- is a
layering broken: the files can be neither understood nor tested apart.
Each cycle is printed with the symbols that make it, and the exit status is
1; 0 if there is none. Files are named by their objects' paths below
--root (build/kernel/hv/guest.c.o is hv/guest.c).
"""
import argparse
import os
import subprocess
import sys


def symbols(path):
    """(defined, undefined): the global symbols an object defines and those
    it refers to but does not define."""
    p = subprocess.run(["nm", "-P", path], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("check_cycles: nm %s: %s" % (path, p.stderr.strip()))
    defined, undefined = set(), set()
    for line in p.stdout.splitlines():
        f = line.split()
        if len(f) < 2:
            continue
        name, kind = f[0], f[1]
        if kind == "U":
            undefined.add(name)
        elif kind.isupper() or kind in "vw" and len(f) > 2:
            defined.add(name)
    return defined, undefined


def graph(objects, root):
    """{file: {file it uses: [the symbols]}}."""
    name = {o: os.path.relpath(o, root)[:-2] if o.endswith(".o") else o for o in objects}
    owner, refs = {}, {}
    for o in objects:
        defined, undefined = symbols(o)
        for s in defined:
            owner.setdefault(s, name[o])
        refs[name[o]] = undefined
    g = {n: {} for n in refs}
    for n, undefined in refs.items():
        for s in sorted(undefined):
            other = owner.get(s)
            if other and other != n:
                g[n].setdefault(other, []).append(s)
    return g


def cycles(g):
    """The strongly connected components of more than one file (Tarjan)."""
    index, low, stack, on, comps, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(g[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    sys.setrecursionlimit(max(1000, 4 * len(g) + 100))
    for v in sorted(g):
        if v not in index:
            visit(v)
    return sorted(comps)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=".", help="object paths are named below this")
    ap.add_argument("objects", nargs="+")
    args = ap.parse_args()
    g = graph(args.objects, args.root)
    found = cycles(g)
    for comp in found:
        print("check_cycles: a call cycle among %s:" % ", ".join(comp), file=sys.stderr)
        for a in comp:
            for b in sorted(set(g[a]) & set(comp)):
                print("  %s uses %s: %s" % (a, b, ", ".join(g[a][b])), file=sys.stderr)
    if found:
        print("check_cycles: break it with an interface that points one way: a "
              "struct of functions handed down, or the shared piece moved below "
              "both (docs/architecture.md, \"Who calls whom\")", file=sys.stderr)
        return 1
    print("check_cycles: no call cycle among %d files (%s)"
          % (len(g), ", ".join(sorted({os.path.dirname(n) or "." for n in g}))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
