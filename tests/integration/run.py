#!/usr/bin/python3
"""Runs the custos integration tests (as root, on the real kernel).

    tests/integration/run.py [-t NAME]... [-v] [--list]

Tests are the functions test_* of tests/integration/test_*.py, in file and
definition order; -t keeps those whose name contains NAME, or with
"file.name" exactly that test (given several times, any of them).
Each runs in its own process group with a private directory under /tmp and a
time limit, so a hang or a crash fails that test only. One line per test,
"ok   name" or "FAIL name" with the reason indented below; the last line is
"N passed, N failed"; the exit status is 1 if any failed.
"""

import importlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

DEFAULT_TIMEOUT = 90  # seconds; a test function may set .timeout


def discover():
    """[(module name, function name, function or None, import error or None)]"""
    tests = []
    for fname in sorted(os.listdir(HERE)):
        if not (fname.startswith("test_") and fname.endswith(".py")):
            continue
        modname = fname[:-3]
        try:
            mod = importlib.import_module(modname)
        except Exception:  # noqa: BLE001
            tests.append((modname, "import", None, traceback.format_exc()))
            continue
        for name, obj in vars(mod).items():
            if name.startswith("test_") and callable(obj) and getattr(obj, "__module__", None) == modname:
                tests.append((modname, name, obj, None))
    return tests


def child(modname, funcname, workdir):
    """Runs one test in this process; exit 0 if it passed, 1 if not."""
    import itlib

    t = itlib.Context(workdir, funcname)
    status = 0
    try:
        fn = getattr(importlib.import_module(modname), funcname)
        fn(t)
    except itlib.Failure as e:
        print(str(e))
        status = 1
    except Exception:  # noqa: BLE001
        print(traceback.format_exc().rstrip())
        status = 1
    finally:
        errors = t.cleanup()
        if errors:
            print("clean-up problems:\n" + "\n".join(errors))
    sys.stdout.flush()
    os._exit(status)


def mounts_below(path):
    found = []
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                mnt = line.split()[4].encode().decode("unicode_escape")
                if mnt == path or mnt.startswith(path + "/"):
                    found.append(mnt)
    except OSError:
        pass
    return sorted(found, key=len, reverse=True)


def rescue(workdir):
    """After a test was killed: what its clean-ups could not undo."""
    try:
        with open(os.path.join(workdir, ".rescue")) as f:
            cmds = [line.strip() for line in f if line.strip()]
    except OSError:
        cmds = []
    for cmd in reversed(cmds):
        subprocess.run(cmd, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
    for m in mounts_below(workdir):
        subprocess.run(["umount", "-l", m], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)


def remove_tree(path):
    if mounts_below(path):
        return  # never delete through a mount that would not go away
    subprocess.run(["rm", "-rf", "--one-file-system", path], timeout=120)


def run_one(modname, funcname, fn, verbose):
    timeout = getattr(fn, "timeout", DEFAULT_TIMEOUT) * float(os.environ.get("CUSTOS_IT_TIME_SCALE") or 1)
    workdir = tempfile.mkdtemp(prefix="custos-it-")
    start = time.time()
    proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--child", modname, funcname, workdir],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
        ok = proc.returncode == 0
        reason = out.decode("utf-8", "replace").strip("\n")
        if not ok and proc.returncode < 0:
            reason = (reason + "\n" if reason else "") + "test process killed by signal %d" % -proc.returncode
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, _ = proc.communicate()
        ok = False
        reason = "timed out after %d s\n%s" % (timeout, out.decode("utf-8", "replace").rstrip())
    # Whatever the test left in its process group (agents, workloads) goes
    # too, and is gone before the next test starts.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
        deadline = time.time() + 15
        while time.time() < deadline:
            os.killpg(proc.pid, 0)
            time.sleep(0.05)
    except (ProcessLookupError, PermissionError):
        pass
    rescue(workdir)
    remove_tree(workdir)
    elapsed = time.time() - start
    if ok:
        print("ok   %s  (%.1f s)" % (funcname, elapsed))
        if verbose and reason:
            print("\n".join("     " + line for line in reason.splitlines()))
    else:
        print("FAIL %s  (%.1f s)" % (funcname, elapsed))
        print("\n".join("     " + line for line in (reason or "(no reason given)").splitlines()))
    sys.stdout.flush()
    return ok


def selects(pattern, funcname, qualified):
    """"file.function" names exactly that test; anything else, the tests whose
    name contains it."""
    if "." in pattern:
        return pattern == qualified
    return pattern in funcname


def main(argv):
    if len(argv) == 5 and argv[1] == "--child":
        child(argv[2], argv[3], argv[4])
    patterns = []
    verbose = False
    list_only = False
    i = 1
    while i < len(argv):
        if argv[i] == "-t" and i + 1 < len(argv):
            patterns.append(argv[i + 1])
            i += 2
        elif argv[i] == "-v":
            verbose = True
            i += 1
        elif argv[i] == "--list":
            list_only = True
            i += 1
        else:
            print("usage: run.py [-t NAME]... [-v] [--list]", file=sys.stderr)
            print("0 passed, 1 failed")
            return 1
    passed = failed = 0
    start = time.time()
    for modname, funcname, fn, import_error in discover():
        qualified = "%s.%s" % (modname, funcname)
        if patterns and not any(selects(p, funcname, qualified) for p in patterns):
            continue
        if list_only:
            print("%s.%s" % (modname, funcname))
            continue
        if import_error:
            print("FAIL %s.import" % modname)
            print("\n".join("     " + line for line in import_error.rstrip().splitlines()))
            failed += 1
            continue
        if run_one(modname, funcname, fn, verbose):
            passed += 1
        else:
            failed += 1
    print("# %.1f s" % (time.time() - start))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
