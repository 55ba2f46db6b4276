#!/usr/bin/env python3
"""What the hypervisor image holds, and nothing it must not (make tcb-size;
docs/tcb-size.md).

    tcb_size.py --elf build/custos.elf --map build/custos.map
                [--forbid-symbol GLOB ...]
                [--forbid-object GLOB ...] [--check-only]

Prints, for the image the linker wrote:
  * the code lines (cloc, comments and blank lines excluded) of our own
    files compiled into it, per folder: every source linked in and every
    header those sources include (the compiler's .d file beside each object
    the linker kept a byte of says which), and, apart, those of the mbedTLS modules linked
    in (whole files, disabled #if branches included: an upper bound);
  * the bytes of .text and .rodata per origin (boot, hv, hv/vmx, hv/svm,
    tcb, vdev, lib, the crypto wrapper, each mbedTLS module), summed over
    the input sections the linker kept (the link map), and the padding;
then checks that no symbol of the image matches a --forbid-symbol glob and
no object the linker loaded matches a --forbid-object glob (both kept in the
Makefile: TCB_FORBIDDEN_SYMBOLS, TCB_FORBIDDEN_OBJECTS). Exit status 1 if
one does, 2 on bad input. --check-only skips the tables (and cloc).
"""
import argparse
import collections
import csv
import fnmatch
import io
import os
import re
import shutil
import subprocess
import sys

# The output sections counted: what the TCB runs and reads (the measured
# range, docs/report.md).
COUNTED = (".text", ".rodata")
# An object is in the image if it keeps a byte in one of these.
IMAGE = (".text", ".rodata", ".data", ".bss")
OWN_FOLDERS = ("boot", "hv/vmx", "hv/svm", "hv", "tcb", "vdev", "lib", "crypto",
               "include", "tpgvm", "wire")


def origin_of(obj):
    """The origin of one linked object: a folder of ours, 'crypto wrapper'
    or 'mbedtls/MODULE'."""
    path = obj.replace("\\", "/")
    m = re.search(r"(?:^|/)mbedtls-[a-z]+/([A-Za-z0-9_]+)\.o$", path)
    if m:
        return "mbedtls/" + m.group(1)
    m = re.search(r"(?:^|/)crypto/kernel/(.*)\.[cS]\.o$", path)
    if m:
        return "crypto wrapper"
    m = re.search(r"(?:^|/)kernel/(.*)\.[cS]\.o$", path)
    if m:
        return folder_of(m.group(1))
    return "other: " + path


def folder_of(src):
    for f in OWN_FOLDERS:
        if src.startswith(f + "/"):
            return f
    return os.path.dirname(src) or "."


def parse_map(path):
    """({object: {section: bytes}}, {section: padding bytes}, [loaded objects])
    from a GNU ld map file (the part after "Linker script and memory map")."""
    sizes = collections.defaultdict(collections.Counter)
    fill = collections.Counter()
    loaded = []
    out = None
    pending = None  # an input section name alone on its line
    in_memory_map = False
    entry = re.compile(r"^ (\S+)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)(?:\s+(\S.*))?$")
    with open(path) as fh:
        for line in fh:
            line = line.rstrip()
            if line.startswith("Linker script and memory map"):
                in_memory_map = True
                continue
            if not in_memory_map:
                continue
            if line.startswith("LOAD "):
                loaded.append(line[5:].strip())
                continue
            if line and not line[0].isspace():
                out = line.split()[0]
                pending = None
                continue
            if out not in IMAGE:
                continue
            m = re.match(r"^ (\S+)$", line)
            if m and not line.startswith(" *"):
                pending = m.group(1)
                continue
            m = entry.match(line)
            if not m:
                pending = None
                continue
            name = m.group(1) or pending
            pending = None
            size = int(m.group(3), 16)
            if name == "*fill*":
                fill[out] += size
            elif name is not None and m.group(4):
                sizes[m.group(4).strip()][out] += size
    return sizes, fill, loaded


def section_sizes(elf):
    """{section: size} of the ELF's section headers (readelf -SW)."""
    p = subprocess.run(["readelf", "-SW", elf], capture_output=True, text=True, check=True)
    out = {}
    for line in p.stdout.splitlines():
        m = re.match(r"\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)", line)
        if m:
            out[m.group(1)] = int(m.group(2), 16)
    return out


def symbols(elf):
    p = subprocess.run(["nm", elf], capture_output=True, text=True, check=True)
    return [line.split()[-1] for line in p.stdout.splitlines() if line.split()]


def sources_compiled(objects):
    """Every file the objects were compiled from (the compiler's .d file
    beside each): [path], ours relative to the tree, and mbedTLS's."""
    files = set()
    for obj in objects:
        dep = obj[:-2] + ".d"
        if not os.path.exists(dep):
            print("tcb_size: %s: no %s (objects built without -MMD?)" % (obj, dep),
                  file=sys.stderr)
            sys.exit(2)
        with open(dep) as fh:
            text = fh.read().replace("\\\n", " ")
        for line in text.splitlines():
            if ":" not in line:
                continue
            target, _, prereqs = line.partition(":")
            if not target.strip().endswith(".o"):
                continue  # the -MP phony targets
            for p in prereqs.split():
                if p.endswith((".c", ".h", ".S")):
                    files.add(os.path.normpath(p))
    return sorted(files)


def cloc_lines(files):
    """{file: code lines} by cloc (comments and blank lines excluded)."""
    if not files:
        return {}
    if shutil.which("cloc") is None:
        print("tcb_size: cloc is not installed (make deps installs it)", file=sys.stderr)
        sys.exit(2)
    listing = os.path.join(os.environ.get("TMPDIR", "/tmp"), "tcb-size-files.%d" % os.getpid())
    with open(listing, "w") as fh:
        fh.write("\n".join(files) + "\n")
    try:
        p = subprocess.run(["cloc", "--quiet", "--by-file", "--csv", "--list-file=" + listing],
                           capture_output=True, text=True, check=True)
    finally:
        os.unlink(listing)
    lines = {}
    for row in csv.reader(io.StringIO(p.stdout)):
        if len(row) >= 5 and row[1] and row[4].isdigit() and row[0] != "SUM":
            lines[os.path.normpath(row[1])] = int(row[4])
    return lines


def print_lines(files):
    ours = [f for f in files if not f.startswith(("build/", "/"))]
    mbed = [f for f in files if "/mbedtls-" in f and "/library/" in f and f.endswith(".c")]
    lines = cloc_lines(ours + mbed)
    per = collections.Counter()
    nfiles = collections.Counter()
    for f in ours:
        per[folder_of(f)] += lines.get(f, 0)
        nfiles[folder_of(f)] += 1
    print("Code lines compiled into the image (cloc: no comments, no blank lines;")
    print("sources linked in and the headers they include)")
    print("  %-22s %6s %6s" % ("folder", "files", "lines"))
    for f in sorted(per, key=lambda k: (OWN_FOLDERS.index(k) if k in OWN_FOLDERS else 99, k)):
        print("  %-22s %6d %6d" % (f + "/", nfiles[f], per[f]))
    core = sum(per[f] for f in ("boot", "hv", "hv/vmx", "hv/svm", "tcb"))
    print("  %-22s %6s %6d" % ("boot/ + hv/ + tcb/", "", core))
    print("  %-22s %6s %6d" % ("all of ours", "", sum(per.values())))
    print("  %-22s %6d %6d" % ("mbedTLS modules (.c)", len(mbed), sum(lines.get(f, 0) for f in mbed)))
    print()


def print_bytes(sizes, fill, secs):
    def key(o):
        if o.startswith("mbedtls/"):
            return (2, o)
        if o == "crypto wrapper":
            return (1, o)
        return (0, OWN_FOLDERS.index(o) if o in OWN_FOLDERS else 99, o)

    print("Bytes of .text and .rodata per origin (input sections the linker kept)")
    print("  %-26s %9s %9s %9s" % ("origin", ".text", ".rodata", "sum"))
    tot = collections.Counter()
    mbed = collections.Counter()
    for o in sorted(sizes, key=key):
        t, r = sizes[o][".text"], sizes[o][".rodata"]
        if t + r == 0:
            continue
        tot[".text"] += t
        tot[".rodata"] += r
        if o.startswith("mbedtls/"):
            mbed[".text"] += t
            mbed[".rodata"] += r
        print("  %-26s %9d %9d %9d" % (o, t, r, t + r))
    print("  %-26s %9d %9d %9d" % ("(mbedTLS, all modules)", mbed[".text"], mbed[".rodata"],
                                   mbed[".text"] + mbed[".rodata"]))
    print("  %-26s %9d %9d %9d" % ("(alignment fill)", fill[".text"], fill[".rodata"],
                                   fill[".text"] + fill[".rodata"]))
    print("  %-26s %9d %9d %9d" % ("sum of the above", tot[".text"] + fill[".text"],
                                   tot[".rodata"] + fill[".rodata"],
                                   sum(tot.values()) + sum(fill.values())))
    t, r = secs.get(".text", 0), secs.get(".rodata", 0)
    print("  %-26s %9d %9d %9d" % ("ELF sections (page-padded)", t, r, t + r))
    print("  (.rodata: the linker merges equal strings across objects, so its")
    print("  input sections can add up to more than the section)")
    print()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--elf", required=True)
    ap.add_argument("--map", required=True)
    ap.add_argument("--forbid-symbol", action="append", default=[])
    ap.add_argument("--forbid-object", action="append", default=[])
    ap.add_argument("--check-only", action="store_true")
    a = ap.parse_args()
    for f in (a.elf, a.map):
        if not os.path.exists(f):
            print("tcb_size: %s: no such file (make builds it)" % f, file=sys.stderr)
            return 2
    sizes, fill, loaded = parse_map(a.map)
    if not loaded or not sizes:
        print("tcb_size: %s: not a GNU ld map file" % a.map, file=sys.stderr)
        return 2
    if not a.check_only:
        print("%s\n" % a.elf)
        print_lines(sources_compiled(o for o in sizes if sum(sizes[o].values())))
        per_origin = collections.defaultdict(collections.Counter)
        for o, c in sizes.items():
            per_origin[origin_of(o)].update(c)
        print_bytes(per_origin, fill, section_sizes(a.elf))

    hits = collections.OrderedDict()  # (kind, glob) -> [names]
    for s in sorted(set(symbols(a.elf))):
        for g in a.forbid_symbol:
            if fnmatch.fnmatchcase(s, g):
                hits.setdefault(("symbol", g), []).append(s)
    for o in loaded:
        for g in a.forbid_object:
            if fnmatch.fnmatchcase(o, g):
                hits.setdefault(("object", g), []).append(o)
    if hits:
        print("%s links what only the tools or the TPGVM use:" % a.elf, file=sys.stderr)
        for (kind, g), names in hits.items():
            more = " and %d more" % (len(names) - 3) if len(names) > 3 else ""
            print("  %d %s%s matching %s: %s%s" % (len(names), kind, "s" if len(names) > 1 else "",
                                               g, ", ".join(names[:3]), more), file=sys.stderr)
        return 1
    print("No forbidden symbol (%d globs) or object (%d globs) in %s"
          % (len(a.forbid_symbol), len(a.forbid_object), a.elf))
    return 0


if __name__ == "__main__":
    sys.exit(main())
