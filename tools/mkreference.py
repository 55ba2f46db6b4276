#!/usr/bin/env python3
"""mkreference.py: the reference values of one Custos build (build/reference.json).

What a tenant's `custos attest` compares a platform's measurement log with
(docs/tenant-cli.md, "reference.json"): the platform id and the events the
TCB logs at boot, in order, each with its PCR, event type, description and
SHA-384 digest, computed here from the build's own files exactly as the
hypervisor measures them (hv/main.c measure_hypervisor, hv/tpgvm.c):

  hypervisor image     SHA-384 of memory [__image_start, __rodata_end) as
                       GRUB's Multiboot2 ELF loader leaves it: each PT_LOAD
                       segment's file bytes at its physical address, zeros
                       from p_filesz to p_memsz. Bytes of the range that no
                       segment covers are left unwritten by GRUB (they hold
                       its leftovers, which differ from boot to boot): such
                       a gap makes the measurement irreproducible, and is
                       reported with a warning (boot/linker.ld must pad
                       .text and .rodata to the page inside their sections).
  kernel command line  SHA-384 of the multiboot2 line's arguments in the
                       grub.cfg (GRUB joins them with single spaces)
  CA root              SHA-384 of the compiled-in root certificate (DER)
  TPGVM image          SHA-384 of the image file packaged in the envelope
  TPGVM policy         SHA-384 of the policy bytes the station packaged
                       (custos-station package --policy-out)

and the boot-module VMs the reference allows beside the TPGVM ("boot_vms":
none unless --allow-boot-vm IMAGE CMDLINE names one; CMDLINE is the whole
module command line, "vm.NAME mem=SIZE ARGS"), each with the digest the
hypervisor logs for it (tcb/measure.c, measure_boot_vm_digest):

  boot VM              SHA-384("CUSTOS-BOOT-VM-1" || SHA-384(CMDLINE) ||
                       u64le len(CMDLINE) || SHA-384(IMAGE) || u64le len(IMAGE))

Each measurement and boot VM has one "sha384" value, and the launch one
"kernel_sha384", or a list of them when --accept-also OLD.json merges the
values of another reference of the same platform id (a roll-out: a platform may still run the old build); a
measurement matches if it equals any value listed.

"provenance" records what the values were built from, so that whoever
rebuilds the commit can tell whether they built the same thing
(docs/reproducible.md): the commit, SOURCE_DATE_EPOCH, the compiler's and
linker's versions, the mbedTLS version and a digest of its sources, and
the compiler and linker flags of the measured images with their digest.

usage: mkreference.py --elf custos.elf --grub-cfg grub.cfg --ca-root root.der
           --tpgvm-image IMAGE --tpgvm-policy POLICY --platform-id ID --out FILE
           [--allow-boot-vm IMAGE CMDLINE ...] [--accept-also OLD.json ...]
           [--commit C --source-date-epoch T --cc CC --ld LD
            --mbedtls-dir DIR --flag NAME=VALUE ...]
"""
import argparse
import hashlib
import json
import os
import re
import shlex
import struct
import subprocess
import sys

EV_IPL = "EV_IPL"
# Accepted values of one measurement at most (tools/reference.h).
MAX_VALUES = 8

# (measure type, PCR, description) in the order the hypervisor logs them;
# mirrors tcb/tcg_log.c and the descriptions in hv/main.c and hv/tpgvm.c.
EVENTS = [
    ("hv-image", 12, "custos.elf text+rodata"),
    ("hv-cmdline", 12, "kernel command line"),
    ("ca-root", 13, "compiled-in CA root"),
    ("tpgvm-image", 14, "tpgvm image"),
    ("tpgvm-policy", 14, "tpgvm policy"),
]


BOOT_VM_TAG = b"CUSTOS-BOOT-VM-1"
BOOT_VM_NAME = re.compile(r"vm\.([a-z0-9_-]{1,31})(?:[ \t]|$)")


class RefError(Exception):
    pass


def boot_vm_digest(cmdline, image):
    """The digest the hypervisor logs for a boot-module VM (bytes, bytes)."""
    h = hashlib.sha384
    return h(BOOT_VM_TAG + h(cmdline).digest() + struct.pack("<Q", len(cmdline)) +
             h(image).digest() + struct.pack("<Q", len(image))).hexdigest()


def boot_vm(image_path, cmdline):
    """One allowed boot VM: its name (from "vm.NAME ...") and digest."""
    m = BOOT_VM_NAME.match(cmdline)
    if not m:
        raise RefError("boot VM command line %r does not start with vm.NAME "
                       "(NAME: 1..31 of a-z 0-9 _ -)" % cmdline)
    return {"name": m.group(1), "sha384": boot_vm_digest(cmdline.encode(), read(image_path))}


def elf_symbols(d, shoff, shentsize, shnum):
    syms = {}
    for i in range(shnum):
        (_, typ, _, _, off, size, link, _, _, entsize) = struct.unpack_from(
            "<IIQQQQIIQQ", d, shoff + i * shentsize)
        if typ != 2:  # SHT_SYMTAB
            continue
        stroff = struct.unpack_from("<IIQQQQIIQQ", d, shoff + link * shentsize)[4]
        for j in range(size // entsize):
            st_name, _, _, _, value, _ = struct.unpack_from("<IBBHQQ", d, off + j * entsize)
            end = d.index(b"\0", stroff + st_name)
            syms[d[stroff + st_name:end].decode()] = value
    return syms


def hypervisor_image(path):
    """The bytes [__image_start, __rodata_end) as GRUB loads custos.elf."""
    with open(path, "rb") as f:
        d = f.read()
    if d[:4] != b"\x7fELF" or d[4] != 2 or d[5] != 1:
        raise RefError("%s: not a little-endian ELF64 file" % path)
    phoff, shoff = struct.unpack_from("<QQ", d, 0x20)
    phentsize, phnum, shentsize, shnum = struct.unpack_from("<HHHH", d, 0x36)
    syms = elf_symbols(d, shoff, shentsize, shnum)
    try:
        start, end = syms["__image_start"], syms["__rodata_end"]
    except KeyError as e:
        raise RefError("%s: no symbol %s (stripped?)" % (path, e))
    if not start < end:
        raise RefError("%s: empty measured range" % path)
    mem = bytearray(end - start)
    covered = bytearray(end - start)
    for i in range(phnum):
        (p_type, _, p_offset, _, p_paddr, p_filesz, p_memsz, _) = struct.unpack_from(
            "<IIQQQQQQ", d, phoff + i * phentsize)
        if p_type != 1:  # PT_LOAD
            continue
        lo, hi = max(p_paddr, start), min(p_paddr + p_memsz, end)
        if lo >= hi:
            continue
        covered[lo - start:hi - start] = b"\1" * (hi - lo)
        fhi = min(p_paddr + p_filesz, end)
        if lo < fhi:  # file bytes; the rest up to p_memsz stays zero
            mem[lo - start:fhi - start] = d[p_offset + lo - p_paddr:p_offset + fhi - p_paddr]
    gaps = [(m.start() + start, m.end() + start)
            for m in re.finditer(b"\0+", bytes(covered))]
    if gaps:
        # Not fatal (yet): the build must go on while boot/linker.ld is
        # fixed, but the value cannot match a real boot, so say so loudly.
        print("mkreference: WARNING: %s: %d byte(s) of the measured range "
              "[0x%x, 0x%x) lie in no PT_LOAD segment (first gap 0x%x-0x%x): "
              "GRUB leaves them unwritten, so the hypervisor measures its "
              "leftovers there and the reference (which takes zeros) will not "
              "match a real boot; pad .text and .rodata to the page inside "
              "their output sections (boot/linker.ld)"
              % (path, sum(b - a for a, b in gaps), start, end, gaps[0][0],
                 gaps[0][1]), file=sys.stderr)
    return bytes(mem)


def multiboot2_line(path):
    """The multiboot2 line's words: the command, the kernel path, its arguments."""
    with open(path) as f:
        lines = [l.strip() for l in f if l.strip().startswith("multiboot2")]
    if len(lines) != 1:
        raise RefError("%s: expected exactly one multiboot2 line, found %d"
                       % (path, len(lines)))
    return shlex.split(lines[0])


def grub_cmdline(path):
    """The arguments of the multiboot2 line (after the kernel path)."""
    return " ".join(multiboot2_line(path)[2:]).encode()


def launch(args):
    """What GRUB measures of the launch under UEFI (docs/tpm.md): the kernel
    file it loads, by path and SHA-384 of the whole file, and the kernel
    command line, as "kernel_cmdline: ARGS" in PCR 8."""
    return {"kernel": multiboot2_line(args.grub_cfg)[1],
            "kernel_sha384": hashlib.sha384(read(args.elf)).hexdigest(),
            "kernel_cmdline": grub_cmdline(args.grub_cfg).decode()}


def tool_version(cmd):
    """The first line of `cmd --version` (the compiler, the linker)."""
    try:
        out = subprocess.run([cmd, "--version"], capture_output=True, text=True,
                             check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        raise RefError("cannot run %s --version: %s" % (cmd, e))
    return out.splitlines()[0] if out else ""


def tree_sha256(top):
    """SHA-256 over the files under top, sorted by relative path: each
    path, a NUL, its length and its bytes (so no two trees collide)."""
    h = hashlib.sha256()
    files = []
    for root, dirs, names in os.walk(top):
        dirs.sort()
        files += [os.path.join(root, n) for n in names]
    for path in sorted(files, key=lambda p: os.path.relpath(p, top)):
        data = read(path)
        h.update(os.path.relpath(path, top).encode() + b"\0" +
                 struct.pack("<Q", len(data)) + data)
    return h.hexdigest()


MBEDTLS_DIR_NAME = re.compile(r"mbedtls-(\d+\.\d+\.\d+)$")


def provenance(args):
    """What the values were built from (None without --commit)."""
    if args.commit is None:
        return None
    flags = {}
    for item in args.flag:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise RefError("--flag wants NAME=VALUE, not %r" % item)
        flags[name] = " ".join(value.split())
    m = MBEDTLS_DIR_NAME.search(os.path.normpath(args.mbedtls_dir or ""))
    if not m:
        raise RefError("--mbedtls-dir %r is not a directory named mbedtls-X.Y.Z"
                       % args.mbedtls_dir)
    flag_text = "".join("%s=%s\n" % kv for kv in sorted(flags.items()))
    return {
        "commit": args.commit,
        "source_date_epoch": int(args.source_date_epoch),
        "compiler": tool_version(args.cc),
        "linker": tool_version(args.ld),
        "mbedtls": m.group(1),
        "mbedtls_source_sha256": tree_sha256(args.mbedtls_dir),
        "flags": flags,
        "flags_sha256": hashlib.sha256(flag_text.encode()).hexdigest(),
    }


def values(v):
    """A "sha384" member as a list of values (one string, or a list)."""
    return [x.lower() for x in (v if isinstance(v, list) else [v])]


def merge(ref, old_path):
    """Accept old_path's values too: each measurement (by position, which
    must have the same description and PCR) and each boot VM of its (by
    name) gets the old values it lacks."""
    with open(old_path) as f:
        old = json.load(f)
    if old.get("platform_id") != ref["platform_id"]:
        raise RefError("%s: platform id %r, not %r" % (
            old_path, old.get("platform_id"), ref["platform_id"]))
    mine = ref["measurements"]
    theirs = old.get("measurements", [])
    if [(m["pcr"], m["description"]) for m in theirs] != \
            [(m["pcr"], m["description"]) for m in mine]:
        raise RefError("%s: its measurements are not this build's events "
                       "(PCR and description, in order)" % old_path)
    pairs = [(a, b, "sha384") for a, b in zip(mine, theirs)]
    if "launch" in old and "launch" in ref:
        if (old["launch"]["kernel"], old["launch"]["kernel_cmdline"]) != \
                (ref["launch"]["kernel"], ref["launch"]["kernel_cmdline"]):
            raise RefError("%s: its launch has another kernel path or command "
                           "line" % old_path)
        pairs.append((ref["launch"], old["launch"], "kernel_sha384"))
    vms = dict((v["name"], v) for v in ref["boot_vms"])
    for v in old.get("boot_vms", []):
        if v["name"] in vms:
            pairs.append((vms[v["name"]], v, "sha384"))
        else:
            vms[v["name"]] = dict(v)
            ref["boot_vms"].append(vms[v["name"]])
    for a, b, key in pairs:
        have = values(a[key])
        have += [x for x in values(b[key]) if x not in have]
        if len(have) > MAX_VALUES:
            raise RefError("%s: more than %d accepted values"
                           % (a.get("description", a.get("name", "launch")), MAX_VALUES))
        a[key] = have[0] if len(have) == 1 else have


def read(path):
    with open(path, "rb") as f:
        return f.read()


def build(args):
    data = {
        "hv-image": hypervisor_image(args.elf),
        "hv-cmdline": grub_cmdline(args.grub_cfg),
        "ca-root": read(args.ca_root),
        "tpgvm-image": read(args.tpgvm_image),
        "tpgvm-policy": read(args.tpgvm_policy),
    }
    pid = args.platform_id
    if not 1 <= len(pid) <= 64 or any(not 0x21 <= ord(c) <= 0x7e for c in pid):
        raise RefError("platform id %r: 1..64 printable ASCII characters, no space" % pid)
    ref = {
        "format": "custos-reference-1",
        "platform_id": pid,
        "measurements": [
            {"pcr": pcr, "type": EV_IPL, "description": desc,
             "sha384": hashlib.sha384(data[key]).hexdigest()}
            for key, pcr, desc in EVENTS
        ],
        "boot_vms": [boot_vm(image, cmdline) for image, cmdline in args.allow_boot_vm],
        "launch": launch(args),
    }
    prov = provenance(args)
    if prov:
        ref["provenance"] = prov
    for old in args.accept_also:
        merge(ref, old)
    return ref


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for opt in ("elf", "grub-cfg", "ca-root", "tpgvm-image", "tpgvm-policy",
                "platform-id", "out"):
        p.add_argument("--" + opt, required=True)
    p.add_argument("--allow-boot-vm", nargs=2, action="append", default=[],
                   metavar=("IMAGE", "CMDLINE"),
                   help="allow this boot-module VM beside the TPGVM")
    p.add_argument("--accept-also", action="append", default=[], metavar="OLD.json",
                   help="accept that reference's values too (a roll-out)")
    p.add_argument("--commit", help="the commit built (provenance)")
    p.add_argument("--source-date-epoch", default="0")
    p.add_argument("--cc", default="gcc")
    p.add_argument("--ld", default="ld")
    p.add_argument("--mbedtls-dir")
    p.add_argument("--flag", action="append", default=[], metavar="NAME=VALUE",
                   help="a flag set of the measured images (provenance)")
    args = p.parse_args()
    try:
        ref = build(args)
    except (RefError, OSError, ValueError, KeyError, TypeError) as e:
        sys.exit("mkreference: %s" % e)
    tmp = args.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(ref, f, indent=2)
        f.write("\n")
    os.replace(tmp, args.out)


if __name__ == "__main__":
    main()
