#!/usr/bin/env python3
"""Print the fields of a Linux bzImage's setup header (the x86 boot protocol,
Documentation/x86/boot.rst) that a loader needs, and what the payload is.

    bzimage_info.py FILE...

Standard library only. When the payload's compression is one Python reads
(gzip, xz, lzma, bzip2), it is decompressed too: its size, whether it is
an ELF file (vmlinux, as the x86 decompressor expects) and whether that
has the PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY, the direct-boot entry).
"""
import bz2
import gzip
import lzma
import struct
import sys

# (offset in the file, struct format, name)
FIELDS = [
    (0x1f1, "B", "setup_sects"),
    (0x1f4, "<I", "syssize"),
    (0x1fe, "<H", "boot_flag"),
    (0x202, "4s", "header"),
    (0x206, "<H", "version"),
    (0x20e, "<H", "kernel_version"),
    (0x211, "B", "loadflags"),
    (0x214, "<I", "code32_start"),
    (0x22c, "<I", "initrd_addr_max"),
    (0x230, "<I", "kernel_alignment"),
    (0x234, "B", "relocatable_kernel"),
    (0x235, "B", "min_alignment"),
    (0x236, "<H", "xloadflags"),
    (0x238, "<I", "cmdline_size"),
    (0x248, "<I", "payload_offset"),
    (0x24c, "<I", "payload_length"),
    (0x258, "<Q", "pref_address"),
    (0x260, "<I", "init_size"),
    (0x264, "<I", "handover_offset"),
    (0x268, "<I", "kernel_info_offset"),
]

XLOADFLAGS = ["XLF_KERNEL_64 (64-bit entry at +0x200)", "XLF_CAN_BE_LOADED_ABOVE_4G",
              "XLF_EFI_HANDOVER_32", "XLF_EFI_HANDOVER_64", "XLF_EFI_KEXEC",
              "XLF_5LEVEL", "XLF_5LEVEL_ENABLED"]
LOADFLAGS = {0: "LOADED_HIGH", 1: "KASLR_FLAG", 5: "QUIET_FLAG",
             6: "KEEP_SEGMENTS", 7: "CAN_USE_HEAP"}

MAGICS = [
    (b"\x1f\x8b", "gzip", gzip.decompress),
    (b"\xfd7zXZ\x00", "xz", lzma.decompress),
    (b"\x5d\x00\x00", "lzma", lzma.decompress),
    (b"BZh", "bzip2", bz2.decompress),
    (b"\x89LZO", "lzo", None),
    (b"\x02\x21\x4c\x18", "lz4", None),
    (b"\x28\xb5\x2f\xfd", "zstd", None),
    (b"\x7fELF", "none (uncompressed ELF)", lambda d: d),
]


def flags(value, names):
    on = [names[b] if isinstance(names, dict) else names[b]
          for b in range(16) if value >> b & 1 and
          (b in names if isinstance(names, dict) else b < len(names))]
    unknown = value & ~sum(1 << b for b in (names if isinstance(names, dict)
                                            else range(len(names))))
    if unknown:
        on.append("unknown 0x%x" % unknown)
    return ", ".join(on) or "none"


def pvh_note(elf):
    """The PVH entry address from the ELF's PT_NOTE segments, or None."""
    if elf[4] != 2:  # ELFCLASS64 only
        return None
    phoff, = struct.unpack_from("<Q", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    for i in range(phnum):
        p_type, _, p_offset, _, _, p_filesz = struct.unpack_from(
            "<IIQQQQ", elf, phoff + i * phentsize)
        if p_type != 4:  # PT_NOTE
            continue
        pos, end = p_offset, p_offset + p_filesz
        while pos + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", elf, pos)
            name = elf[pos + 12:pos + 12 + namesz].rstrip(b"\0")
            desc_at = pos + 12 + (namesz + 3) // 4 * 4
            if name == b"Xen" and ntype == 18:  # XEN_ELFNOTE_PHYS32_ENTRY
                return struct.unpack_from("<I", elf, desc_at)[0]
            pos = desc_at + (descsz + 3) // 4 * 4
    return None


def info(path):
    with open(path, "rb") as f:
        data = f.read()
    v = {name: struct.unpack_from(fmt, data, off)[0] for off, fmt, name in FIELDS}
    print("%s (%d bytes)" % (path, len(data)))
    if v["header"] != b"HdrS" or v["boot_flag"] != 0xAA55:
        print("  not a bzImage (no HdrS / 0xAA55 boot flag)")
        return 1
    ver = v["version"]
    kv = data[0x200 + v["kernel_version"]:].split(b"\0", 1)[0].decode("ascii", "replace")
    sects = v["setup_sects"] or 4
    pm_start = (sects + 1) * 512
    out = [
        ("kernel_version", kv),
        ("boot protocol", "%d.%02d" % (ver >> 8, ver & 0xff)),
        ("setup_sects", "%d (real-mode setup %d bytes; protected-mode code at file offset 0x%x)"
         % (v["setup_sects"], pm_start, pm_start)),
        ("syssize", "0x%x paragraphs (%d bytes)" % (v["syssize"], v["syssize"] * 16)),
        ("loadflags", "0x%02x: %s" % (v["loadflags"], flags(v["loadflags"], LOADFLAGS))),
        ("code32_start", "0x%x" % v["code32_start"]),
        ("initrd_addr_max", "0x%x" % v["initrd_addr_max"]),
        ("kernel_alignment", "0x%x (%d MiB)" % (v["kernel_alignment"],
                                               v["kernel_alignment"] >> 20)),
        ("relocatable_kernel", "%d" % v["relocatable_kernel"]),
        ("min_alignment", "%d (0x%x)" % (v["min_alignment"], 1 << v["min_alignment"])),
        ("xloadflags", "0x%x: %s" % (v["xloadflags"], flags(v["xloadflags"], XLOADFLAGS))),
        ("64-bit entry (xloadflags bit 0)", "yes" if v["xloadflags"] & 1 else "no"),
        ("cmdline_size", "%d" % v["cmdline_size"]),
        ("pref_address", "0x%x (%d MiB)" % (v["pref_address"], v["pref_address"] >> 20)),
        ("init_size", "0x%x (%.1f MiB)" % (v["init_size"], v["init_size"] / 2**20)),
        ("handover_offset", "0x%x" % v["handover_offset"]),
        ("kernel_info_offset", "0x%x" % v["kernel_info_offset"]),
        ("payload_offset/length", "0x%x / %d bytes" % (v["payload_offset"],
                                                        v["payload_length"])),
    ]
    payload = data[pm_start + v["payload_offset"]:
                   pm_start + v["payload_offset"] + v["payload_length"]]
    kind, unpack = "unknown (magic %s)" % payload[:6].hex(), None
    for magic, name, fn in MAGICS:
        if payload.startswith(magic):
            kind, unpack = name, fn
            break
    out.append(("payload compression", kind))
    if unpack:
        try:
            raw = unpack(payload)
        except (OSError, EOFError, lzma.LZMAError, ValueError) as e:
            out.append(("payload", "cannot decompress: %s" % e))
        else:
            is_elf = raw[:4] == b"\x7fELF"
            out.append(("payload decompressed", "%d bytes, %s" % (
                len(raw), "ELF (vmlinux)" if is_elf else "not ELF")))
            if is_elf:
                entry = pvh_note(raw)
                out.append(("PVH entry note", "0x%x" % entry if entry is not None
                            else "absent"))
    w = max(len(k) for k, _ in out)
    for k, val in out:
        print("  %-*s  %s" % (w, k, val))
    return 0


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__.strip().splitlines()[2].strip())
    return max(info(p) for p in sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
