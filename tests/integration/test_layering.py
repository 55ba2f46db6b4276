"""Who calls whom (docs/architecture.md, "Who calls whom"; host only, no
emulator): no file of hv/, and none of the TPGVM's (tpgvm/ and the wire
codecs of wire/ it links), calls back into a file that calls it, as
tools/check_cycles.py reads the built objects' symbols (make lint runs the
same check); and the check fails, naming the files and the symbols, when
two files do call each other."""
import os
import subprocess

import harness as h

TOOL = os.path.join(h.ROOT, "tools", "check_cycles.py")


def make_var(name):
    p = subprocess.run(["make", "-s", "--no-print-directory", "-C", h.ROOT, "print-" + name],
                       capture_output=True, text=True, timeout=120, check=True)
    return p.stdout.split()


def check(root, objects):
    return subprocess.run(["python3", TOOL, "--root", root] + objects,
                          capture_output=True, text=True, timeout=120, cwd=h.ROOT)


def test_no_call_cycles_in_hv_or_the_tpgvm(d):
    for var, root, folders in (("CYCLE_OBJS_HV", "build/kernel", "hv, hv/svm, hv/vmx"),
                               ("CYCLE_OBJS_TPGVM", "build/guests/obj", "tpgvm, wire")):
        objects = make_var(var)
        assert len(objects) > 5, (var, objects)  # a check of nothing passes anything
        p = check(root, objects)
        assert p.returncode == 0, p.stdout + p.stderr
        assert "no call cycle among %d files (%s)" % (len(objects), folders) in p.stdout, p.stdout


def test_call_cycle_check_fails_on_a_cycle(d):
    # main.c hands a table down to low.c (one way); loop.c and back.c call
    # each other by name, and so does low.c with back.c through loop.c.
    src = {
        "main.c": "struct t { void (*f)(void); };\n"
                  "void low_run(const struct t *t);\n"
                  "static void up(void) {}\n"
                  "static const struct t t = { up };\n"
                  "int main(void) { low_run(&t); return 0; }\n",
        "low.c": "struct t { void (*f)(void); };\n"
                 "void loop_step(void);\n"
                 "void low_run(const struct t *t) { t->f(); loop_step(); }\n",
        "loop.c": "void back_call(void);\nvoid loop_step(void) { back_call(); }\n",
        "back.c": "void loop_step(void);\nint back_state;\n"
                  "void back_call(void) { if (!back_state++) loop_step(); }\n",
    }
    objects = []
    for name, text in src.items():
        with open(os.path.join(d, name), "w") as fh:
            fh.write(text)
        obj = os.path.join(d, name + ".o")
        subprocess.run(["gcc", "-c", "-O2", "-o", obj, os.path.join(d, name)],
                       check=True, timeout=60)
        objects.append(obj)
    p = check(d, objects)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "a call cycle among back.c, loop.c:" in p.stderr, p.stderr
    assert "back.c uses loop.c: loop_step" in p.stderr, p.stderr
    assert "loop.c uses back.c: back_call" in p.stderr, p.stderr
    # The table handed down is no use of main.c by low.c.
    assert "main.c" not in p.stderr and "low.c" not in p.stderr, p.stderr

    # Without the call back, no cycle.
    with open(os.path.join(d, "back.c"), "w") as fh:
        fh.write("int back_state;\nvoid back_call(void) { back_state++; }\n")
    subprocess.run(["gcc", "-c", "-O2", "-o", os.path.join(d, "back.c.o"),
                    os.path.join(d, "back.c")], check=True, timeout=60)
    p = check(d, objects)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "no call cycle among 4 files" in p.stdout, p.stdout
