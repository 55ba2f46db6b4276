"""Reproducible reference values (host only, no emulator;
docs/reproducible.md): the tree's sources, copied into another directory,
built again by another user (as root: `nobody`, through setpriv; otherwise
the same user with another HOME, USER, LOGNAME, umask, TZ and locale) give
byte-identical measured artifacts: build/custos.elf, the TPGVM image, the
envelope's plaintext payload (its ciphertext differs: a fresh ephemeral key
and IV each time, so both envelopes are opened with the development TCB
key, by the TCB's own code in `custos-station open`) and reference.json.

Inputs that are not sources are the same by construction: the fetched
mbedTLS source tree and the development PKI (random keys: its CA root is
compiled into custos.elf and its tenant CA into the policy) are copied, and
the commit and SOURCE_DATE_EPOCH are given on the make command line, as a
builder without .git would. The second build makes only what reference.json
needs (about 2 minutes on 2 cores)."""
import filecmp
import os
import pwd
import shutil
import subprocess
import tempfile

import harness as h

# What the second tree builds, and compares with the first's.
TARGETS = ["build/custos.elf", "build/guests/tpgvm.elf", "build/tpgvm.policy",
           "build/reference.json", "build/tpgvm.env"]
COMPARED = ["build/custos.elf", "build/guests/tpgvm.elf", "build/tpgvm.policy",
            "build/reference.json"]
MBEDTLS = ["build/mbedtls-2.28.3", "build/mbedtls-2.28.3.fetched"]
OTHER_USER = "nobody"


def git(*args):
    p = subprocess.run(["git", "-C", h.ROOT] + list(args), capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, "git %s: %s" % (" ".join(args), p.stderr)
    return p.stdout


def make_value(name):
    """A variable of the first tree's Makefile, as make computes it there."""
    p = subprocess.run(["make", "-s", "--no-print-directory", "-C", h.ROOT,
                        "print-" + name], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, "make print-%s: %s" % (name, p.stderr)
    return p.stdout.strip()


def copy_sources(dest):
    """The files git knows (tracked, and new ones not ignored), as they are
    in the working tree: what the first build was built from."""
    names = git("ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for name in sorted(set(filter(None, names.split("\0")))):
        src = os.path.join(h.ROOT, name)
        if not os.path.lexists(src):  # deleted in the working tree
            continue
        os.makedirs(os.path.join(dest, os.path.dirname(name)), exist_ok=True)
        shutil.copy2(src, os.path.join(dest, name), follow_symlinks=False)


def copy_inputs(dest):
    """The fetched mbedTLS source and the development PKI, as the first
    tree has them (the PKI last and touched, so make never remakes it)."""
    for name in MBEDTLS:
        src, dst = os.path.join(h.ROOT, name), os.path.join(dest, name)
        if os.path.isdir(src):
            shutil.copytree(src, dst, symlinks=True)
        else:
            shutil.copy2(src, dst)
    shutil.copytree(os.path.join(h.BUILD, "pki"), os.path.join(dest, "build", "pki"))
    for root, _, files in os.walk(os.path.join(dest, "build", "pki")):
        for f in files:
            os.utime(os.path.join(root, f))


def other_builder(home):
    """(command prefix, environment, preexec) of the second build: another
    user where we can become one, another HOME, USER, umask, TZ and locale
    in any case."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home,
           "TZ": "Pacific/Kiritimati", "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    prefix = []
    if os.geteuid() == 0:
        user = pwd.getpwnam(OTHER_USER)
        prefix = ["setpriv", "--reuid=%d" % user.pw_uid, "--regid=%d" % user.pw_gid,
                  "--clear-groups", "--"]
        env.update(USER=OTHER_USER, LOGNAME=OTHER_USER)
    else:
        env.update(USER="custos-rebuilder", LOGNAME="custos-rebuilder")
    return prefix, env, lambda: os.umask(0o077)


def chown_tree(top, user):
    pw = pwd.getpwnam(user)
    for root, dirs, files in os.walk(top):
        for n in [root] + [os.path.join(root, f) for f in dirs + files]:
            os.lchown(n, pw.pw_uid, pw.pw_gid)


def open_envelope(tree, out_dir):
    """The envelope's plaintext payload items, opened as the TCB does."""
    os.makedirs(out_dir)
    image, policy = os.path.join(out_dir, "image"), os.path.join(out_dir, "policy")
    pki = os.path.join(tree, "build", "pki")
    p = subprocess.run([os.path.join(h.BUILD, "bin", "custos-station"), "open",
                        os.path.join(tree, "build", "tpgvm.env"),
                        "--ca", os.path.join(pki, "root.pem"),
                        "--tcb-keys", os.path.join(pki, "tcb-keys.bin"),
                        "--tcb-certs", os.path.join(pki, "tcb-certs.bin"),
                        "--image-out", image, "--policy-out", policy],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, "custos-station open %s: %s%s" % (tree, p.stdout, p.stderr)
    return image, policy


def differences(a, b, names):
    return [n for n in names if not filecmp.cmp(os.path.join(a, n), os.path.join(b, n),
                                                shallow=False)]


def test_two_builds_in_other_places_by_other_users_are_identical(d):
    for name in COMPARED + ["build/tpgvm.env"]:
        assert os.path.exists(os.path.join(h.ROOT, name)), \
            "%s missing: run make all first" % name
    commit, epoch = make_value("CUSTOS_COMMIT"), make_value("SOURCE_DATE_EPOCH")
    with tempfile.TemporaryDirectory(prefix="custos-rebuild-") as tmp:
        os.chmod(tmp, 0o755)
        tree, home = os.path.join(tmp, "elsewhere", "custos"), os.path.join(tmp, "home")
        os.makedirs(os.path.join(tree, "build"))
        os.makedirs(home)
        copy_sources(tree)
        copy_inputs(tree)
        prefix, env, preexec = other_builder(home)
        if prefix:
            chown_tree(tmp, OTHER_USER)
        p = subprocess.run(prefix + ["nice", "-n", "10", "make", "-j2", "--no-print-directory",
                                     "CUSTOS_COMMIT=" + commit, "SOURCE_DATE_EPOCH=" + epoch]
                           + TARGETS, cwd=tree, env=env, preexec_fn=preexec,
                           capture_output=True, text=True, timeout=1800)
        with open(os.path.join(d, "rebuild.log"), "w") as f:
            f.write(p.stdout + p.stderr)
        assert p.returncode == 0, "the second build failed (%d):\n%s" % (
            p.returncode, (p.stdout + p.stderr)[-3000:])
        # The second build really was another builder's.
        st = os.stat(os.path.join(tree, "build", "custos.elf"))
        assert st.st_mode & 0o077 == 0, "umask 077 not applied: %o" % st.st_mode
        if prefix:
            assert st.st_uid == pwd.getpwnam(OTHER_USER).pw_uid, st
        differ = differences(h.ROOT, tree, COMPARED)
        a = open_envelope(h.ROOT, os.path.join(d, "first"))
        b = open_envelope(tree, os.path.join(d, "second"))
        for x, y, what in zip(a, b, ["envelope payload: image", "envelope payload: policy"]):
            if not filecmp.cmp(x, y, shallow=False):
                differ.append(what)
        assert not differ, ("built in %s by %s, these differ from the first build's: %s "
                            "(build/test-runs/%s/rebuild.log has the second build)"
                            % (tree, env["USER"], ", ".join(differ), os.path.basename(d)))
        # The payload items are the measured files themselves.
        assert filecmp.cmp(a[0], os.path.join(h.BUILD, "guests", "tpgvm.elf"), shallow=False)
        assert filecmp.cmp(a[1], os.path.join(h.BUILD, "tpgvm.policy"), shallow=False)
