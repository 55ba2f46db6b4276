#!/usr/bin/env python3
"""Write the Linux guests' initramfs: a gzip'd newc cpio, byte for byte
reproducible (fixed inode numbers, mtimes 0, uid/gid 0, sorted entries,
gzip header mtime 0 and no file name).

    mkinitramfs.py --busybox PATH --init PATH --out FILE.cpio.gz

Contents: the directories below, /bin/busybox and a symlink to it for each
applet in APPLETS (checked against `busybox --list` when the binary runs
here), /init (mode 0755) and the /dev/console node (char 5:1), which the
kernel opens for init's stdin/stdout/stderr before anything is mounted.
"""
import argparse
import gzip
import io
import stat
import os
import subprocess
import sys

DIRS = ["bin", "dev", "etc", "proc", "root", "sbin", "sys", "tmp", "usr",
        "usr/bin", "usr/sbin"]

# The common applets; everything else stays reachable as `busybox NAME`.
APPLETS = """
    [ ash awk basename cat chmod chown clear cmp cp cttyhack cut date dd df
    diff dirname dmesg du echo egrep env expr false fgrep find free grep
    halt head hexdump hostname id kill killall less ln ls md5sum mdev mkdir
    mknod mktemp more mount mv nproc od pidof poweroff printf ps pwd readlink
    reboot reset rm rmdir sed seq setsid sh sha256sum sleep sort stat stty
    sync tail tee test time timeout top touch tr true tty umount uname uniq
    uptime vi watch wc which xargs xxd yes
""".split()


class Cpio:
    """newc ("070701") writer: 110-byte ASCII header, name, data, each
    padded to 4 bytes."""

    def __init__(self):
        self.buf = io.BytesIO()
        self.ino = 1

    def entry(self, name, mode, data=b"", rdev=(0, 0), nlink=1):
        name_b = name.encode() + b"\0"
        fields = [self.ino, mode, 0, 0, nlink, 0, len(data), 0, 0,
                  rdev[0], rdev[1], len(name_b), 0]
        self.ino += 1
        hdr = b"070701" + b"".join(b"%08X" % f for f in fields)
        self.buf.write(hdr + name_b)
        self.buf.write(b"\0" * (-(len(hdr) + len(name_b)) % 4))
        self.buf.write(data)
        self.buf.write(b"\0" * (-len(data) % 4))

    def trailer(self):
        self.ino = 0
        self.entry("TRAILER!!!", 0)
        return self.buf.getvalue()


def check_applets(busybox):
    try:
        out = subprocess.run([busybox, "--list"], check=True,
                             capture_output=True, text=True).stdout
    except OSError:
        return  # cannot run it here (another architecture): trust the list
    missing = sorted(set(APPLETS) - set(out.split()))
    if missing:
        sys.exit("mkinitramfs: busybox lacks applets: " + " ".join(missing))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--busybox", required=True)
    ap.add_argument("--init", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    check_applets(args.busybox)
    with open(args.busybox, "rb") as f:
        busybox = f.read()
    with open(args.init, "rb") as f:
        init = f.read()

    c = Cpio()
    c.entry(".", stat.S_IFDIR | 0o755, nlink=2)
    for d in DIRS:
        c.entry(d, stat.S_IFDIR | (0o1777 if d == "tmp" else
                                   0o700 if d == "root" else 0o755), nlink=2)
    c.entry("bin/busybox", stat.S_IFREG | 0o755, busybox)
    for a in sorted(APPLETS):
        c.entry("bin/" + a, stat.S_IFLNK | 0o777, b"busybox")
    c.entry("dev/console", stat.S_IFCHR | 0o600, rdev=(5, 1))
    c.entry("init", stat.S_IFREG | 0o755, init)
    raw = c.trailer()

    gz = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=gz, mtime=0,
                       compresslevel=9) as g:
        g.write(raw)
    tmp = args.out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(gz.getvalue())
    os.replace(tmp, args.out)
    print("  INITRAMFS %s: %d bytes (cpio %d)" % (args.out, len(gz.getvalue()),
                                                  len(raw)))


if __name__ == "__main__":
    main()
