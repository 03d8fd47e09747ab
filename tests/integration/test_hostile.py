"""Hostile names: whatever bytes a file name, a process name or an argument
holds, every event is exactly one line of valid JSON (UTF-8), invalid UTF-8
is written as \\xNN (and a backslash as \\\\ in such a string) with the field
listed in custos.escaped, and decoding gives back the real bytes."""

import os
import re
import shutil

from itlib import (PY, check_seq, check_summaries, expect, expect_eq, expect_field, fail, field_bytes,
                   file_events, get, one, opens, py, run, unescape)

# name -> whether it is valid UTF-8
NAMES = [
    b"new\nline.csv",
    b'quo"te.csv',
    b"back\\slash.csv",
    b"bad\xffbyte.csv",
    b"\xff\xfe",
    b"both\\and\xff.csv",
    b"ctl\x01\x1b[31m\t\x7f.csv",
    "café-日本-😀.csv".encode(),
    b"c1\xc2\x85.csv",
    b"overlong\xc0\xaf.csv",
    b"surrogate\xed\xa0\x80.csv",
    b"cut\xe6\x97",
    b"a\\x41.csv",
    b"a\\x41\xff.csv",
    "bidi\u202etxt.exe".encode(),
]


def valid_utf8(b):
    try:
        b.decode("utf-8", errors="strict")
        return True
    except UnicodeDecodeError:
        return False


def cfg(d):
    return {"watch": [{"name": "crm", "paths": [d]}]}


def args_bytes(ev):
    args = get(ev, "process.args")
    esc = "process.args" in get(ev, "custos.escaped", [])
    return [unescape(a) if esc else a.encode() for a in args]


def check_raw(raw, evs):
    """The raw output is strict UTF-8, one event per line, seq consecutive."""
    expect_eq(raw.count(b"\n"), len(evs), "lines in the raw output")
    check_seq(evs)


def make_hostile_files(t, d, mode=0o644):
    paths = []
    for n in NAMES:
        p = os.path.join(os.fsencode(d), n)
        with open(p, "wb") as f:
            f.write(b"h" * (len(n) + 1))
        os.chmod(p, mode)
        paths.append(p)
    return paths


READ_ALL = r"""
import os, sys
for h in sys.argv[1:]:
    fd = os.open(bytes.fromhex(h), os.O_RDONLY)
    os.read(fd, 1000)
    os.close(fd)
"""


def check_file_names(evs, d, paths, pid, what="open"):
    bd = os.fsencode(d)
    got = {}
    for e in file_events(evs, pid=pid):
        got.setdefault(field_bytes(e, "file.path"), []).append(e)
    for p in paths:
        name = os.path.basename(p)
        es = got.get(p)
        if not es:
            fail("no event for the file named %r; events of the workload:" % name, file_events(evs, pid=pid))
        for e in es:
            esc = get(e, "custos.escaped", [])
            if valid_utf8(name):
                expect_field(e, "file.path", p.decode(), "name %r" % name)
                expect_field(e, "file.name", name.decode(), "name %r" % name)
                expect("file.path" not in esc and "file.name" not in esc,
                       "name %r is valid UTF-8 but listed in custos.escaped" % name, e)
            else:
                expect("file.path" in esc and "file.name" in esc,
                       "name %r is not valid UTF-8: file.path and file.name must be in custos.escaped" % name, e)
                expect_eq(field_bytes(e, "file.name"), name, "file.name decoded", e)
            expect_eq(field_bytes(e, "file.directory"), bd, "file.directory decoded", e)
            expect("file.directory" not in esc, "file.directory is valid UTF-8 but listed in custos.escaped", e)
        if what == "open":
            acts = sorted(get(e, "event.action") for e in es)
            expect_eq(acts, ["close", "open"], "events of the file named %r" % name, es)
            o = [e for e in es if get(e, "event.action") == "open"][0]
            check_summaries(evs, get(o, "custos.open_id"), len(name) + 1, 1)


def test_hostile_file_names(t):
    """Files named with a newline, quote, backslash, control characters,
    invalid UTF-8 (0xff, overlong, surrogate, cut sequence), valid UTF-8 and
    a literal "\\x41": one valid JSON line per event, names exact."""
    d = t.mkdir("crm")
    paths = make_hostile_files(t, d)
    a = t.start_agent(cfg(d))
    r = py(READ_ALL, *[p.hex() for p in paths])
    evs = a.stop()
    check_raw(a.raw(), evs)
    check_file_names(evs, d, paths, r.pid)
    expect_eq(len(file_events(evs)), 2 * len(paths), "file events (an open and a close per file)")


def test_hostile_program_name(t):
    """A program run through a symlink named "evil\\nname\\xff": process.name
    and process.args[0] escaped and exact, process.executable the real file."""
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", "abc\n")
    bindir = os.fsencode(t.mkdir("bin"))
    link = os.path.join(bindir, b"evil\nname\xff")
    os.symlink(shutil.which("cat"), link)
    a = t.start_agent(cfg(d))
    r = run([link, f])
    evs = a.stop()
    check_raw(a.raw(), evs)
    for e in file_events(evs, f, pid=r.pid):
        esc = get(e, "custos.escaped", [])
        expect("process.name" in esc and "process.args" in esc,
               "process.name and process.args must be in custos.escaped", e)
        expect_eq(field_bytes(e, "process.name"), b"evil\nname\xff", "process.name decoded", e)
        expect_eq(args_bytes(e), [link, f.encode()], "process.args decoded", e)
        expect_field(e, "process.executable", os.path.realpath(shutil.which("cat")))
        expect("file.path" not in esc, "file.path listed in custos.escaped", e)
    o = one(opens(evs, f, pid=r.pid), "open by the renamed cat", evs)
    check_summaries(evs, get(o, "custos.open_id"), 4, 1)


PRCTL = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
name = bytes.fromhex(sys.argv[2])
if libc.prctl(15, ctypes.c_char_p(name), 0, 0, 0) != 0:   # PR_SET_NAME
    raise OSError(ctypes.get_errno(), "prctl")
print(open("/proc/self/comm", "rb").read()[:-1].hex())
fd = os.open(sys.argv[1], os.O_RDONLY); os.read(fd, 100); os.close(fd)
"""


def test_hostile_comm_prctl(t):
    """A process renames itself with prctl(PR_SET_NAME): control characters
    (valid UTF-8) are kept as they are, invalid UTF-8 is escaped, and a
    multi-byte character cut by the 15-byte limit is escaped, not mangled."""
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", "abcdef")
    names = [
        (b"x\x01y\x1b[2J\x7f\n", b"x\x01y\x1b[2J\x7f\n"),
        (b"\xff\xfeevil", b"\xff\xfeevil"),
        (b"0123456789abcdefXYZ", b"0123456789abcde"),
        (b"a" * 14 + "é".encode(), b"a" * 14 + b"\xc3"),
        (b'q"\\', b'q"\\'),
    ]
    a = t.start_agent(cfg(d))
    runs = []
    for name, comm in names:
        r = py(PRCTL, f, name.hex())
        expect_eq(bytes.fromhex(r.out.decode().strip()), comm, "comm after prctl (test set-up)")
        runs.append((r, comm))
    evs = a.stop()
    check_raw(a.raw(), evs)
    for r, comm in runs:
        es = file_events(evs, f, pid=r.pid)
        expect_eq(len(es), 2, "events of the process named %r" % comm, es)
        for e in es:
            esc = get(e, "custos.escaped", [])
            expect_eq(field_bytes(e, "process.name"), comm, "process.name decoded", e)
            if valid_utf8(comm):
                expect_field(e, "process.name", comm.decode())
                expect("process.name" not in esc, "valid UTF-8 process.name listed in custos.escaped", e)
            else:
                expect("process.name" in esc, "process.name %r must be in custos.escaped" % comm, e)


def test_hostile_args(t):
    """Arguments with invalid UTF-8, a newline, a quote and a backslash:
    process.args exact after decoding, listed in custos.escaped."""
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", "12345")
    argv = [b"cat", f.encode(), b"\xff\xfe-nope", b'new\nline"q', b"\\\xff"]
    a = t.start_agent(cfg(d))
    r = run(argv, check=False)
    expect(r.out == b"12345", "cat did not read the file (test set-up): %r" % r)
    evs = a.stop()
    check_raw(a.raw(), evs)
    o = one(opens(evs, f, pid=r.pid), "open by cat", evs)
    expect("process.args" in get(o, "custos.escaped", []), "process.args must be in custos.escaped", o)
    expect_eq(args_bytes(o), argv, "process.args decoded", o)
    expect_field(o, "process.args_count", len(argv))
    check_summaries(evs, get(o, "custos.open_id"), 5, 1)


def test_hostile_args_literal_backslash(t):
    """process.args listed in custos.escaped (one argument is invalid UTF-8)
    while another, valid, argument is the literal text \\x41: decoding the
    array must give back \\x41, not "A" (custos.escaped names the whole
    array, so every element must follow the escaped convention)."""
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", "12345")
    argv = [b"cat", f.encode(), b"\xff", b"\\x41"]
    a = t.start_agent(cfg(d))
    r = run(argv, check=False)
    evs = a.stop()
    o = one(opens(evs, f, pid=r.pid), "open by cat", evs)
    expect("process.args" in get(o, "custos.escaped", []), "process.args must be in custos.escaped", o)
    expect_eq(args_bytes(o), argv, "process.args decoded", o)


def test_hostile_executable_path(t):
    """A program whose own file name is invalid UTF-8 with a newline:
    process.executable escaped and exact."""
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", "123")
    exe = os.path.join(os.fsencode(t.mkdir("bin")), b"exe\xff\ncat")
    shutil.copy(shutil.which("cat"), exe)
    os.chmod(exe, 0o755)
    a = t.start_agent(cfg(d))
    r = run([exe, f])
    evs = a.stop()
    check_raw(a.raw(), evs)
    o = one(opens(evs, f, pid=r.pid), "open by the copy of cat", evs)
    expect("process.executable" in get(o, "custos.escaped", []), "process.executable must be in custos.escaped", o)
    expect_eq(field_bytes(o, "process.executable"), exe, "process.executable decoded", o)


def test_agent_survives_hostile(t):
    """One agent through every hostile workload (names, refused opens of
    hostile names, renamed processes, odd arguments, very deep paths): it is
    still running afterwards, exits 0 on SIGINT, its last event is agent-stop,
    and the whole output is strict UTF-8 with one JSON object per line."""
    d = t.mkdir("crm")
    paths = make_hostile_files(t, d)
    secret_dir = os.fsencode(t.mkdir("crm", "secret"))
    secrets = []
    for n in NAMES:
        p = os.path.join(secret_dir, n)
        with open(p, "wb") as fh:
            fh.write(b"s")
        os.chmod(p, 0o600)
        secrets.append(p)
    # a path longer than PATH_MAX (made and opened step by step, by relative names)
    deep_names = ["x" * 200 + str(i) for i in range(25)]
    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    for n in deep_names:
        os.mkdir(n, dir_fd=fd)
        nfd = os.open(n, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = nfd
    with open(os.open("deep.csv", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "wb") as fh:
        fh.write(b"d")
    os.close(fd)
    bindir = os.fsencode(t.mkdir("bin"))
    link = os.path.join(bindir, b"\xff\n\x1b")
    os.symlink(shutil.which("cat"), link)
    a = t.start_agent(cfg(d))
    r1 = py(READ_ALL, *[p.hex() for p in paths])
    run(["runuser", "-u", "nobody", "--", PY, "-c",
         "import os, sys\n"
         "for h in sys.argv[1:]:\n"
         "    try:\n        os.open(bytes.fromhex(h), os.O_RDONLY)\n"
         "    except PermissionError:\n        pass\n"] + [p.hex() for p in secrets])
    run([link, paths[0], b"\xff", b"\n"], check=False)
    for name in (b"\xff\x01\n", b"\\\\\xfe"):
        py(PRCTL, paths[1].decode("utf-8", "surrogateescape"), name.hex())
    deep_read = py("import os, sys\n"
                   "os.chdir(sys.argv[1])\n"
                   "for n in sys.argv[2:]:\n    os.chdir(n)\n"
                   "fd = os.open('deep.csv', os.O_RDONLY); os.read(fd, 10); os.close(fd)\n", d, *deep_names)
    expect(a.alive(), "the agent died during the hostile workloads\nstderr:\n%s" % a.stderr())
    evs = a.stop()
    check_raw(a.raw(), evs)
    expect_eq(get(evs[-1], "event.action"), "agent-stop", "last event", evs[-1])
    o = one(opens(evs, pid=deep_read.pid), "open of the file deeper than PATH_MAX", evs)
    expect_field(o, "file.name", "deep.csv")
    expect_field(o, "custos.file.path_truncated", True)
    fp = get(o, "file.path")
    expect(fp.startswith("...") and fp.endswith("/" + deep_names[-1] + "/deep.csv")
           and ("/".join(deep_names) + "/deep.csv").endswith(fp[3:].lstrip("/")),
           "file.path is not \"...\" and the leaf end of the real path", o)
    check_summaries(evs, get(o, "custos.open_id"), 1, 1)
    expect_field(evs[-1], "custos.stats.ringbuf_drops", 0)
    check_file_names(evs, d, paths, r1.pid)
    # the refused opens, hostile names and all
    refused = {field_bytes(e, "file.path") for e in file_events(evs, pid=None)
               if get(e, "event.outcome") == "failure"}
    missing = [p for p in secrets if p not in refused]
    expect(not missing, "refused opens not reported (or with a wrong path): %r" % missing,
           [e for e in file_events(evs) if get(e, "event.outcome") == "failure"])
    for e in file_events(evs):
        if get(e, "event.outcome") == "failure":
            p = field_bytes(e, "file.path")
            if not valid_utf8(p):
                expect("file.path" in get(e, "custos.escaped", []),
                       "refused open of an invalid UTF-8 name: file.path not in custos.escaped", e)


def test_trace_hostile_names(t):
    """custos trace (human lines) with hostile names: one line per event, no
    raw control characters (C0, DEL, C1) or bidi overrides reach the terminal."""
    d = t.mkdir("crm")
    paths = make_hostile_files(t, d)
    env = dict(os.environ, LANG="C.UTF-8", LC_ALL="C.UTF-8")
    a = t.start_agent(None, mode="trace", args=["--path", d], env=env)
    py(READ_ALL, *[p.hex() for p in paths])
    py(PRCTL, paths[0].decode("utf-8", "surrogateescape"), b"\x1b]0;pwned\x07\n".hex())
    lines = a.stop()
    raw = a.raw()
    try:
        text = raw.decode("utf-8", errors="strict")
    except UnicodeDecodeError as e:
        fail("trace output is not valid UTF-8: %s" % e)
    body = [ln for ln in text.split("\n")[:-1] if not ln.startswith("#")]
    expect_eq(len(body), 2 * len(paths) + 2, "trace lines for file events (open and close per file)", lines)
    bad = [ln for ln in body if re.search("[\x00-\x1f\x7f\u0080-\u009f\u202a-\u202e\u2066-\u2069]", ln)]
    expect(not bad, "trace lines with raw control or bidi characters:\n" + "\n".join(repr(b) for b in bad))
    line_re = re.compile(r"^\d\d:\d\d:\d\d\.\d{3} \S+→\S+ \d+ \S+ (open|close) \S+ /")
    odd = [ln for ln in body if not line_re.match(ln)]
    expect(not odd, "trace lines not in the form TIME LOGIN→USER PID COMM ACTION BYTES PATH:\n" +
           "\n".join(repr(b) for b in odd))


def test_long_args_truncated(t):
    """Arguments longer than the agent keeps: custos.process.args_truncated
    true, the arguments that fit exact, still one valid JSON line."""
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", "abc")
    long_arg = "L" * 3000
    a = t.start_agent(cfg(d))
    r = run(["cat", f, long_arg, "after"], check=False)
    evs = a.stop()
    check_raw(a.raw(), evs)
    o = one(opens(evs, f, pid=r.pid), "open by cat", evs)
    expect_field(o, "custos.process.args_truncated", True)
    args = get(o, "process.args")
    expect_eq(args[:2], ["cat", f], "the first arguments", o)
    expect(all(long_arg.startswith(x) for x in args[2:3]), "the cut argument is not a prefix of the real one", o)
