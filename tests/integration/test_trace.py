"""custos trace: human lines (or --json) for an operator, with filters; and
the command-line interface of every subcommand."""

import datetime
import json
import os
import re
import subprocess

from itlib import (CUSTOS, PY, agent_events, check_summaries, expect, expect_eq, expect_field, file_events,
                   get, run, the_open)

LINE = re.compile(r"^(\d\d:\d\d:\d\d\.\d{3}) (\S+)(→|->)(\S+) (\d+) (\S+) (\S+) (\S+) (.+)$")
UTF8 = dict(os.environ, LANG="C.UTF-8", LC_ALL="C.UTF-8")
ASCII = dict(os.environ, LANG="C", LC_ALL="C")


def parse(lines):
    """{"agent": [...], "file": [dict(time, login, arrow, user, pid, comm, action, bytes, path)]}"""
    out = {"agent": [], "file": [], "other": []}
    for ln in lines:
        if ln.startswith("# "):
            out["agent"].append(ln[2:])
            continue
        m = LINE.match(ln)
        if not m:
            out["other"].append(ln)
            continue
        keys = ("time", "login", "arrow", "user", "pid", "comm", "action", "bytes", "path")
        d = dict(zip(keys, m.groups()))
        d["pid"] = int(d["pid"])
        out["file"].append(d)
    return out


def utc_seconds(hms):
    h, m, s = hms.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def test_trace_human_lines(t):
    """trace --path DIR: "# agent-start", then for each access TIME
    LOGIN→USER PID COMM ACTION BYTES PATH (BYTES "-" at open, the bytes at
    close, EACCES for a refused open), "# agent-stop" last."""
    auid, aname = t.login_user()
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", "0123456789abcdef")
    secret = t.write("crm/secret.csv", "s", mode=0o600)
    a = t.start_agent(None, mode="trace", args=["--path", d], env=UTF8)
    r1 = run(["cat", f], loginuid=auid)
    r2 = run(["cat", f], loginuid=4294967295)
    r3 = run(["runuser", "-u", "nobody", "--", "cat", secret], check=False, loginuid=auid)
    lines = a.stop()
    p = parse(lines)
    expect_eq(p["other"], [], "lines in no known form")
    expect_eq(p["agent"][0], "agent-start", "first line", "\n".join(lines))
    expect_eq(lines[-1], "# agent-stop", "last line", "\n".join(lines))
    now = datetime.datetime.now(datetime.timezone.utc)
    now_s = now.hour * 3600 + now.minute * 60 + now.second
    for e in p["file"]:
        dt = abs(utc_seconds(e["time"]) - now_s)
        expect(min(dt, 86400 - dt) < 10, "TIME %s is not the UTC time now (%s)" % (e["time"], now.time()),
               "\n".join(lines))
        expect_eq(e["arrow"], "→", "arrow in a UTF-8 locale")
    mine = [(e["login"], e["user"], e["comm"], e["action"], e["bytes"], e["path"])
            for e in p["file"] if e["pid"] == r1.pid]
    expect_eq(mine, [(aname, "root", "cat", "open", "-", f), (aname, "root", "cat", "close", "16", f)],
              "lines of cat with a login user (login, user, comm, action, bytes, path)", "\n".join(lines))
    mine = [(e["login"], e["user"], e["action"], e["bytes"]) for e in p["file"] if e["pid"] == r2.pid]
    expect_eq(mine, [("-", "root", "open", "-"), ("-", "root", "close", "16")],
              "lines of cat without a login user", "\n".join(lines))
    denied = [e for e in p["file"] if e["path"] == secret]
    expect_eq([(e["login"], e["user"], e["comm"], e["action"], e["bytes"]) for e in denied],
              [(aname, "nobody", "cat", "open", "EACCES")], "line of the refused open", "\n".join(lines))
    del r3


def test_trace_ascii_arrow(t):
    """Outside a UTF-8 locale the arrow is "->"."""
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", "abc")
    a = t.start_agent(None, mode="trace", args=["--path", d], env=ASCII)
    r = run(["cat", f])
    p = parse(a.stop())
    mine = [(e["arrow"], e["action"], e["bytes"]) for e in p["file"] if e["pid"] == r.pid]
    expect_eq(mine, [("->", "open", "-"), ("->", "close", "3")], "lines of cat (arrow, action, bytes)")


def test_trace_json(t):
    """trace --json writes the same JSON events as run: agent-start (mode
    trace, config "<command line>"), then the file events with rule "trace".
    Without a state_dir it writes no agent-id: its agent.id is the one custos
    run keeps in /var/lib/custos if there is one, else its agent.ephemeral_id."""
    kept_path = "/var/lib/custos/agent-id"
    kept = open(kept_path).read().strip() if os.path.exists(kept_path) else None
    d = t.mkdir("crm")
    e2 = t.mkdir("exports")
    f = t.write("crm/a.csv", "abcd")
    g = t.write("exports/x.csv", "xyz")
    a = t.start_agent(None, mode="trace", args=["--path", d, "--path", os.path.join(e2, "*.csv"), "--json"],
                      json_out=True)
    r1 = run(["cat", f])
    r2 = run(["cat", g])
    evs = a.stop()
    start = evs[0]
    expect_field(start, "event.action", "agent-start")
    expect_field(start, "custos.agent.mode", "trace")
    expect_field(start, "custos.agent.config", "<command line>")
    expect_field(start, "agent.id", kept or get(start, "agent.ephemeral_id"))
    expect(kept is not None or not os.path.exists(kept_path), "trace wrote %s" % kept_path)
    expect_field(evs[-1], "event.action", "agent-stop")
    for r, p, n in ((r1, f, 4), (r2, g, 3)):
        o = the_open(evs, p, pid=r.pid)
        expect_field(o, "custos.rule", "trace")
        expect_field(o, "process.name", "cat")
        check_summaries(evs, get(o, "custos.open_id"), n, 1)


def _trace_json(t, args, **kw):
    return t.start_agent(None, mode="trace", args=args + ["--json"], json_out=True, **kw)


def test_trace_filter_comm(t):
    """--comm cat keeps only cat's file events (agent events still pass)."""
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", "abc")
    a = _trace_json(t, ["--path", d, "--comm", "cat"])
    r = run(["cat", f])
    run(["head", f])
    run(["dd", "if=" + f, "of=/dev/null"])
    evs = a.stop()
    expect_eq(sorted({get(e, "process.name") for e in file_events(evs)}), ["cat"], "process names", file_events(evs))
    expect_eq(len(file_events(evs, pid=r.pid)), 2, "events of cat", evs)
    expect_eq([get(e, "event.action") for e in agent_events(evs)], ["agent-start", "agent-stop"], "agent events")


def test_trace_filter_pid(t):
    """--pid P keeps only the file events of process P."""
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", "abcdef")
    p = subprocess.Popen([PY, "-c", "import sys; sys.stdin.readline(); open(sys.argv[1]).read()", f],
                         stdin=subprocess.PIPE)
    t.on_cleanup(lambda: (p.poll() is None and p.kill(), p.wait()))
    a = _trace_json(t, ["--path", d, "--pid", str(p.pid)])
    run(["cat", f])
    p.communicate(b"go\n", timeout=30)
    run(["cat", f])
    evs = a.stop()
    expect_eq(sorted({get(e, "process.pid") for e in file_events(evs)}), [p.pid], "pids", file_events(evs))
    o = the_open(evs, f, pid=p.pid)
    check_summaries(evs, get(o, "custos.open_id"), 6)


def test_trace_filter_user(t):
    """--user nobody keeps only nobody's accesses; --user with the login
    name keeps the accesses of that human, whoever they run as."""
    auid, aname = t.login_user()
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", "abc", mode=0o644)
    a = _trace_json(t, ["--path", d, "--user", "nobody"])
    b = t.start_agent(None, mode="trace", args=["--path", d, "--user", aname, "--json"], json_out=True)
    run(["cat", f], loginuid=4294967295)
    rn = run(["runuser", "-u", "nobody", "--", "cat", f], loginuid=4294967295)
    rl = run(["cat", f], loginuid=auid)
    evs_a = a.stop()
    evs_b = b.stop()
    expect(file_events(evs_a), "no events for --user nobody", evs_a)
    expect_eq(sorted({get(e, "user.name") for e in file_events(evs_a)}), ["nobody"], "users with --user nobody",
              file_events(evs_a))
    expect_eq(sorted({get(e, "process.pid") for e in file_events(evs_b)}), [rl.pid],
              "pids with --user %s (the login user)" % aname, file_events(evs_b))
    del rn


def test_trace_sql_lines(t):
    """trace shows each SQL statement (database probes are on in trace) as
    TIME LOGIN→USER PID COMM query ROWS SYSTEM: TEXT, literals redacted, a
    newline in the statement made a space so it stays one line; a failed
    statement shows "failed" (or its error code) for ROWS; --comm filters
    statements too."""
    auid, aname = t.login_user()
    d = t.mkdir("crm")
    db = t.path("shop.db")
    run(["sqlite3", db], stdin=b"create table c (id integer, email text);"
        b"insert into c values (1, 'a@example.com'), (2, 'b@example.com'), (3, 'c');\n")
    a = t.start_agent(None, mode="trace", args=["--path", d, "--comm", "sqlite3"], env=UTF8)
    r = run(["sqlite3", db], stdin=b"select id from c where email like '%example.com';\n"
            b"select\nid from c where id = 3;\nselect * from nope;\n", check=False, loginuid=auid)
    run([PY, "-c", "import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute('select 1').fetchall()", db])
    lines = a.stop()
    p = parse(lines)
    expect_eq(p["other"], [], "lines in no known form", "\n".join(lines))
    mine = [e for e in p["file"] if e["pid"] == r.pid]
    expect_eq([(e["action"], e["bytes"], e["path"]) for e in mine],
              [("query", "2", "sqlite: select id from c where email like ?;"),
               ("query", "1", "sqlite: select id from c where id = ?;"),
               ("query", "failed", "sqlite: select * from nope;")],
              "statement lines of sqlite3", "\n".join(lines))
    for e in mine:
        expect_eq((e["login"], e["user"], e["comm"]), (aname, "root", "sqlite3"), "who", e)
    expect_eq([e for e in p["file"] if e["comm"] != "sqlite3"], [], "lines of other processes with --comm")
    expect(not any("example.com" in ln for ln in lines), "a literal in the trace", "\n".join(lines))


def test_trace_with_config(t):
    """trace --config FILE watches what the file configures, with its rule
    names."""
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", "abc")
    path = t.config_file({"watch": [{"name": "crm", "paths": [d]}]})
    a = t.start_agent(path, mode="trace", args=["--json"], json_out=True)
    r = run(["cat", f])
    evs = a.stop()
    expect_field(the_open(evs, f, pid=r.pid), "custos.rule", "crm")


def _cli(argv, env=None):
    return subprocess.run([CUSTOS] + argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30, env=env)


def test_help_and_usage_errors(t):
    """--help of every subcommand (and custos --help, custos help CMD) prints
    USAGE and EXAMPLES on stdout and exits 0; an unknown option or command,
    or a bad argument, exits 2 with a message on stderr."""
    problems = []
    for argv in (["--help"], ["-h"], ["help"], ["run", "--help"], ["trace", "--help"], ["check", "--help"],
                 ["help", "run"], ["help", "trace"], ["help", "check"], ["run", "-h"], ["trace", "-h"]):
        r = _cli(argv)
        out = r.stdout.decode()
        if r.returncode != 0 or "USAGE" not in out or "EXAMPLES" not in out:
            problems.append("custos %s: status %d, stdout without USAGE and EXAMPLES:\n%s" % (
                " ".join(argv), r.returncode, out[:300]))
    for argv in (["run", "--bogus"], ["trace", "--bogus"], ["check", "--bogus"], ["bogus"], [],
                 ["trace", "--path", "relative/dir"], ["trace", "--pid", "abc"], ["trace", "--pid", "0"],
                 ["trace", "--path", "/tmp", "--config", "/tmp/x.json"], ["run", "extra"], ["trace", "extra"],
                 ["run", "--config"]):
        r = _cli(argv)
        if r.returncode != 2 or not r.stderr.strip():
            problems.append("custos %s: expected status 2 and a message on stderr, got %d, stderr %r" % (
                " ".join(argv), r.returncode, r.stderr[:300]))
        if r.stdout:
            problems.append("custos %s: a usage error writes to stdout: %r" % (" ".join(argv), r.stdout[:300]))
    r = _cli(["--version"])
    if r.returncode != 0 or not r.stdout.startswith(b"custos "):
        problems.append("custos --version: %d %r" % (r.returncode, r.stdout))
    expect(not problems, "\n".join(problems))


# ------------------------------------------------------- filters, --file, colour, change lines

HOSTILE = b"a\nb\x1b[31m\xff.csv"  # a newline, ESC, and a byte that is not UTF-8
HOSTILE_SHOWN = "a\\x0ab\\x1b[31m\\xff.csv"  # as custos-trace(8) says it escapes them
COLORS = re.compile(r"\x1b\[[0-9;]*m")


def _safe(b):
    """custos trace's escaping of names (output_safe_text), for bytes."""
    out, i = [], 0
    while i < len(b):
        for n in (1, 2, 3, 4):
            try:
                ch = b[i:i + n].decode("utf-8")
                break
            except UnicodeDecodeError:
                ch = None
        if ch is None:
            out.append("\\x%02x" % b[i])
            i += 1
            continue
        cp = ord(ch)
        if cp < 0x20 or cp == 0x7f:
            out.append("\\x%02x" % cp)
        elif 0x80 <= cp < 0xa0 or 0x202a <= cp <= 0x202e or 0x2066 <= cp <= 0x2069:
            out.append("\\u%04x" % cp)
        else:
            out.append(ch)
        i += len(ch.encode())
    return "".join(out)


def _field_bytes(ev, dotted):
    """A string field's bytes, decoded when custos.escaped lists it."""
    v = get(ev, dotted, None)
    if v is None:
        return None
    if dotted in (get(ev, "custos.escaped", None) or []):
        return re.sub(rb"\\(\\|x([0-9a-fA-F]{2}))",
                      lambda m: bytes([int(m.group(2), 16)]) if m.group(2) else b"\\", v.encode())
    return v.encode()


def _expected_line(ev, arrow="→"):
    """The trace line of a stored file or agent event, as custos-trace(8)
    describes it (written independently of the C code)."""
    if get(ev, "event.dataset", None) == "custos.agent":
        return "# " + get(ev, "event.action")
    act = get(ev, "event.action")
    login = get(ev, "user.audit.name", None) or get(ev, "user.audit.id", None) or "-"
    user = get(ev, "user.name", None) or get(ev, "user.id", None) or "-"
    io = get(ev, "custos.io", {})
    n = "-"
    if act in ("close", "flush"):
        n = str(io.get("bytes_read", 0))
        if io.get("bytes_written"):
            n += "/%d" % io["bytes_written"]
    elif act == "truncate":
        n = str(get(ev, "custos.change.length"))
    elif act == "chmod":
        n = get(ev, "custos.change.mode")
    elif act == "chown":
        uid, gid = get(ev, "custos.change.uid", None), get(ev, "custos.change.gid", None)
        n = "%s:%s" % (uid, gid) if uid is not None and gid is not None else \
            str(uid) if uid is not None else ":%s" % gid
    if get(ev, "event.outcome") == "failure":
        n = get(ev, "error.code", "failed")
    path = _safe(_field_bytes(ev, "file.path"))
    if act == "rename":
        path = "%s %s %s" % (_safe(_field_bytes(ev, "custos.rename.from")), arrow, path)
    return "%s %s%s%s %d %s %s %s %s" % (get(ev, "@timestamp")[11:23], login, arrow, user, get(ev, "process.pid"),
                                         _safe(_field_bytes(ev, "process.name")), act, n, path)


def _changes_workload(t, d, auid):
    """Reads, a write, chmod, chown, truncate, rename, unlink in d and a read
    of a hostile name; returns {name: (run, [(action, bytes, path)] expected)}."""
    f = t.write(os.path.join(d, "a.csv"), "0123456789abcdef")
    g = os.path.join(d, "b.csv")
    h = t.write(os.path.join(os.fsencode(d), HOSTILE), "xyz")
    w = {}
    w["cat"] = (run(["cat", f], loginuid=auid), [("open", "-", f), ("close", "16", f)])
    w["write"] = (run([PY, "-c", "import sys; f = open(sys.argv[1], 'r+b', buffering=0); f.read(4); f.write(b'hello'); f.close()",
                       f], loginuid=auid), [("open", "-", f), ("close", "4/5", f)])
    w["chmod"] = (run(["chmod", "640", f], loginuid=auid), [("chmod", "0640", f)])
    w["chown"] = (run(["chown", "65534:65534", f], loginuid=auid), [("chown", "65534:65534", f)])
    w["chown_group"] = (run(["chgrp", "0", f], loginuid=auid), [("chown", ":0", f)])
    w["truncate"] = (run(["truncate", "-s", "3", f], loginuid=auid),
                     [("open", "-", f), ("truncate", "3", f), ("close", "0", f)])
    w["mv"] = (run(["mv", f, g], loginuid=auid), [("rename", "-", "%s → %s" % (f, g))])
    w["rm"] = (run(["rm", g], loginuid=auid), [("unlink", "-", g)])
    w["hostile"] = (run(["cat", h], loginuid=auid),
                    [("open", "-", os.path.join(d, HOSTILE_SHOWN)), ("close", "3", os.path.join(d, HOSTILE_SHOWN))])
    return w


def _check_workload(w, p, lines):
    for name, (r, want) in sorted(w.items()):
        got = [(e["action"], e["bytes"], e["path"]) for e in p["file"] if e["pid"] == r.pid]
        expect_eq(got, want, "lines of %s (action, bytes, path)" % name, "\n".join(lines))


def _stored_run(t, d):
    """custos run on d (egress off), the workload; (agent, events, workload)."""
    auid, aname = t.login_user()
    a = t.start_agent({"watch": [{"name": "crm", "paths": [d]}], "egress": False})
    w = _changes_workload(t, d, auid)
    evs = a.stop()
    return a, evs, w


def _trace_file(args, stdin=None, env=UTF8, user=None, binary=CUSTOS):
    argv = [binary, "trace"] + args
    if user:
        argv = ["runuser", "-u", user, "--"] + argv
    return subprocess.run(argv, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, env=env)


def test_trace_file_replay(t):
    """custos run to a file, then custos trace --file (as nobody: no root, no
    BPF) from stdin, plain and gzip: every line exactly the line
    custos-trace(8) describes for its stored event, in the file's order;
    writes READ/WRITTEN, chmod the mode, chown the owner, truncate the
    length, rename FROM → TO, the hostile name escaped on one line; exit 0."""
    d = t.mkdir("crm")
    a, evs, w = _stored_run(t, d)
    stored = a.raw()
    want = [_expected_line(e) for e in evs]
    r = _trace_file(["--file", "-"], stdin=stored, user="nobody", binary=t.custos_for_anyone())
    expect_eq((r.returncode, r.stderr), (0, b""), "status and stderr of trace --file - as nobody")
    lines = r.stdout.decode("utf-8").split("\n")
    expect_eq(lines[-1], "", "output ends with a newline")
    expect_eq(lines[:-1], want, "trace --file lines, one per stored event in the file's order")
    p = parse(lines[:-1])
    expect_eq(p["other"], [], "lines in no known form", lines)
    _check_workload(w, p, lines)
    for ln in lines:
        expect(not re.search("[\x00-\x1f\x7f]", ln), "a control character in a line: %r" % ln)
    gz = t.path("events.ndjson.gz")
    subprocess.run(["gzip", "-c", a.out_path], stdout=open(gz, "wb"), check=True)
    r = _trace_file(["--file", gz])
    expect_eq((r.returncode, r.stdout.decode("utf-8").split("\n")[:-1]), (0, want), "trace --file FILE.gz")
    r = _trace_file(["--file", a.out_path], env=ASCII)
    expect_eq(r.stdout.decode().split("\n")[:-1], [_expected_line(e, "->") for e in evs],
              "trace --file in the C locale (ASCII arrows)")


def test_trace_file_filters(t):
    """--file with --only, repeated --comm and --user, --path (a glob; a
    directory keeps what is below it), --pid and --since keep exactly the
    lines of the events they match (agent notes always); --json the stored
    lines unchanged."""
    auid, aname = t.login_user()
    d = t.mkdir("crm")
    a, evs, w = _stored_run(t, d)
    path = a.out_path
    agent_lines = [e for e in evs if get(e, "event.dataset", None) == "custos.agent"]

    def check(args, pred, what, agent=lambda e: True):
        r = _trace_file(["--file", path] + args)
        want = [_expected_line(e) for e in evs
                if (agent(e) if get(e, "event.dataset", None) == "custos.agent" else pred(e))]
        expect_eq((r.returncode, r.stderr), (0, b""), "status and stderr of %s" % what)
        expect_eq(r.stdout.decode().split("\n")[:-1], want, "lines of trace --file " + " ".join(args))
        expect(any(pred(e) for e in evs if e not in agent_lines) or "nothing" in what,
               "%s: the filter keeps no event" % what)

    comm = lambda e: get(e, "process.name", None)  # noqa: E731
    check(["--comm", "chmod", "--comm", "mv"], lambda e: comm(e) in ("chmod", "mv"), "--comm chmod --comm mv")
    check(["--user", aname], lambda e: get(e, "user.audit.id", None) == str(auid), "--user LOGIN")
    check(["--user", "nobody", "--user", str(auid)], lambda e: get(e, "user.audit.id", None) == str(auid),
          "--user nobody --user AUID")
    check(["--user", "nobody"], lambda e: False, "--user nobody (nothing)")
    check(["--only", "db,net"], lambda e: False, "--only db,net (nothing)")
    check(["--only", "file"], lambda e: True, "--only file")
    check(["--path", os.path.join(d, "b.*")], lambda e: get(e, "file.path", "").endswith("/b.csv"), "--path GLOB")
    check(["--path", d + "/"], lambda e: True, "--path DIR/")
    check(["--path", "/srv", "--path", os.path.join(d, "a.csv")],
          lambda e: get(e, "file.path", "").endswith("/a.csv"), "--path /srv --path FILE")
    check(["--pid", str(w["chmod"][0].pid)], lambda e: get(e, "process.pid", 0) == w["chmod"][0].pid, "--pid")
    cut = [e for e in evs if get(e, "process.pid", 0) == w["mv"][0].pid][0]
    since = lambda e: get(e, "@timestamp") >= get(cut, "@timestamp")  # noqa: E731
    check(["--since", get(cut, "@timestamp"), "--only", "file"], since, "--since the rename's time", agent=since)
    check(["--since", "1d", "--comm", "rm"], lambda e: comm(e) == "rm", "--since 1d --comm rm")
    check(["--since", "2200-01-01", "--comm", "rm"], lambda e: False, "--since a date to come (nothing)",
          agent=lambda e: False)
    r = _trace_file(["--file", path, "--json", "--comm", "chmod"])
    stored = [ln for ln in a.raw().decode().split("\n") if ln and
              (json.loads(ln)["event"].get("dataset") == "custos.agent" or
               get(json.loads(ln), "process.name", None) == "chmod")]
    expect_eq(r.stdout.decode().split("\n")[:-1], stored, "--json --comm chmod: the stored lines")


def test_trace_file_malformed(t):
    """Lines that are not events (not JSON, not an object, no @timestamp, a
    field of the wrong type, NUL bytes, a line cut short at the end) are
    skipped and named on stderr with their line number; the good lines are
    all shown; the exit status is 1; a time that goes back is told on
    stderr, the lines kept in the file's order."""
    d = t.mkdir("crm")
    a, evs, w = _stored_run(t, d)
    good = a.raw().split(b"\n")[:-1]
    bad = [b"garbage", b"[1,2]", b'{"event": {"action": "open", "kind": "event"}}',
           good[1].replace(b'"pid":', b'"pid":"x","was":', 1), b"\x00\x01\x1b]0;pwned\x07",
           good[1][:40]]
    # good[1] again after the last good line: its time goes back.
    data = b"\n".join(good[:2] + bad[:5] + good[2:] + [good[1], bad[5]])
    f = t.write("mixed.ndjson", data)
    r = _trace_file(["--file", f])
    err = r.stderr.decode()
    expect_eq(r.returncode, 1, "status with skipped lines", err)
    want = [_expected_line(e) for e in evs]
    want = want[:2] + want[2:] + [want[1]]
    expect_eq(r.stdout.decode().split("\n")[:-1], want, "the good lines, in the file's order")
    for n in range(3, 8):
        expect(re.search(r"^custos trace: %s:%d: skipped: " % (re.escape(f), n), err, re.M),
               "no message for bad line %d" % n, err)
    last = len(good) + 6 + 1
    expect(re.search(r"^custos trace: %s:%d: skipped: " % (re.escape(f), last), err, re.M),
           "no message for the line cut short (%d)" % last, err)
    expect(re.search(r"^custos trace: %s:%d: time goes back" % (re.escape(f), last - 1), err, re.M),
           "no message for the time going back at line %d" % (last - 1), err)
    expect("6 of %d lines skipped" % (len(good) + 7) in err, "the count of skipped lines", err)
    expect(not re.search("[\x00-\x08\x0b-\x1f\x7f]", err), "a control character on stderr: %r" % err)
    r = _trace_file(["--file", t.path("missing.ndjson")])
    expect(r.returncode == 1 and b"missing.ndjson" in r.stderr and not r.stdout, "a missing file: %r" % (r,))


def test_trace_color(t):
    """--color always: the time dim, the action coloured, the agent notes
    dim; --color never and auto on a pipe: no escape sequence; the lines
    are the same once the sequences are removed."""
    d = t.mkdir("crm")
    a, evs, w = _stored_run(t, d)
    plain = [_expected_line(e) for e in evs]
    r = _trace_file(["--file", a.out_path, "--color", "always"])
    lines = r.stdout.decode().split("\n")[:-1]
    expect_eq([COLORS.sub("", ln) for ln in lines], plain, "--color always without its sequences")
    cat = [ln for ln in lines if " %d " % w["cat"][0].pid in ln]
    expect(cat and cat[0].startswith("\x1b[2m") and "\x1b[36mopen -\x1b[0m" in cat[0],
           "the open line of cat: dim time, cyan action", cat)
    ch = [ln for ln in lines if " %d " % w["chmod"][0].pid in ln]
    expect(ch and "\x1b[33mchmod 0640\x1b[0m" in ch[0], "the chmod line: yellow", ch)
    expect(lines[0] == "\x1b[2m# agent-start\x1b[0m", "the agent-start note: dim", lines[:1])
    for args in (["--color", "never"], ["--color", "auto"], []):
        r = _trace_file(["--file", a.out_path] + args)
        expect_eq(r.stdout.decode().split("\n")[:-1], plain, "trace --file %s on a pipe" % " ".join(args))


def test_trace_live_filters_and_changes(t):
    """Live: write, chmod, chown, truncate, rename and unlink lines say what
    changed; repeated --comm keeps those processes only; --only file hides
    statements; --color always colours; lines are in time order."""
    auid, aname = t.login_user()
    d = t.mkdir("crm")
    db = t.path("shop.db")
    run(["sqlite3", db], stdin=b"create table c (id integer);\n")
    a = t.start_agent(None, mode="trace", args=["--path", d], env=UTF8)
    b = t.start_agent(None, mode="trace", args=["--path", d, "--comm", "chmod", "--comm", "mv", "--only", "file"],
                      env=UTF8)
    c = t.start_agent(None, mode="trace", args=["--path", d, "--only", "db", "--color", "always"], env=UTF8)
    w = _changes_workload(t, d, auid)
    q = run(["sqlite3", db], stdin=b"select id from c;\n", loginuid=auid)
    la, lb, lc = a.stop(), b.stop(), c.stop()
    p = parse(la)
    expect_eq(p["other"], [], "lines in no known form", "\n".join(la))
    _check_workload(w, p, la)
    times = [utc_seconds(e["time"]) for e in p["file"]]
    expect_eq(times, sorted(times), "times of the lines in order", "\n".join(la))
    expect([e for e in p["file"] if e["pid"] == q.pid and e["action"] == "query"], "no query line without --only",
           "\n".join(la))
    pb = parse(lb)
    expect_eq(sorted({e["comm"] for e in pb["file"]}), ["chmod", "mv"], "processes with --comm chmod --comm mv",
              "\n".join(lb))
    expect_eq([(e["action"], e["bytes"]) for e in pb["file"]], [("chmod", "0640"), ("rename", "-")],
              "lines with --comm chmod --comm mv --only file", "\n".join(lb))
    body = [COLORS.sub("", ln) for ln in lc if "# agent" not in ln]
    expect_eq(len(body), 1, "lines with --only db", "\n".join(lc))
    expect(re.match(r"^\d\d:\d\d:\d\d\.\d{3} %s→root %d sqlite3 query 0 sqlite: select id from c;$" % (aname, q.pid),
                    body[0]), "the statement line", body)
    expect(any("\x1b[35mquery 0\x1b[0m" in ln for ln in lc), "the query coloured magenta", lc)


def test_trace_usage_errors(t):
    """Bad values of the new options: exit 2, one clear message on stderr
    naming the option, nothing on stdout."""
    cases = [
        (["--only", "file,bogus"], "--only file,bogus: unknown kind \"bogus\""),
        (["--only", ""], "--only : unknown kind"),
        (["--comm", "a-very-long-name"], "--comm a-very-long-name: a process name is 1 to 15 bytes"),
        (["--user", "no-such-user-here"], "--user no-such-user-here: no such user"),
        (["--color", "sometimes"], "--color sometimes: expected auto, always or never"),
        (["--since", "yesterday"], "--since yesterday: expected"),
        (["--file", "/dev/null", "--config", "/etc/custos/custos.json"], "--config has no use"),
        (["--file", "/dev/null", "--path", "relative"], "--path relative: expected an absolute path"),
    ]
    problems = []
    for args, msg in cases:
        r = _cli(["trace"] + args)
        err = r.stderr.decode()
        if r.returncode != 2 or msg not in err or r.stdout or len(err.strip().split("\n")) != 1:
            problems.append("custos trace %s: status %d, stdout %r, stderr %r (expected 2 and %r)" % (
                " ".join(args), r.returncode, r.stdout[:200], err[:300], msg))
    r = _cli(["trace", "--file", "/dev/null", "--comm", "exactly15bytes!", "--user", "0", "--only", "alert"])
    if r.returncode != 0 or r.stdout or r.stderr:
        problems.append("custos trace with valid filters on an empty file: %d %r %r" % (
            r.returncode, r.stdout, r.stderr))
    expect(not problems, "\n".join(problems))


def test_trace_live_users(t):
    """Live: repeated --user keeps the accesses of either (as user or login
    user), and no one else's."""
    auid, aname = t.login_user()
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", "abc", mode=0o644)
    a = t.start_agent(None, mode="trace", args=["--path", d, "--user", "nobody", "--user", aname], env=UTF8)
    rn = run(["runuser", "-u", "nobody", "--", "cat", f], loginuid=4294967295)
    rl = run(["cat", f], loginuid=auid)
    rr = run(["cat", f], loginuid=4294967295)
    lines = a.stop()
    p = parse(lines)
    expect_eq(p["other"], [], "lines in no known form", "\n".join(lines))
    got = sorted({(e["login"], e["user"], e["action"], e["bytes"]) for e in p["file"]})
    expect_eq(got, [("-", "nobody", "close", "3"), ("-", "nobody", "open", "-"),
                    (aname, "root", "close", "3"), (aname, "root", "open", "-")],
              "lines with --user nobody --user LOGIN (login, user, action, bytes)", "\n".join(lines))
    expect(not [e for e in p["file"] if e["pid"] == rr.pid], "root's own cat with --user nobody --user LOGIN")
    expect([e for e in p["file"] if e["pid"] == rl.pid], "the login user's cat", "\n".join(lines))
    del rn


def test_trace_under_tmux(t):
    """custos trace --path DIR in an 80x24 tmux pane, a terminal: a login
    user's cat of a watched file shows as its open and close lines as they
    happen, in colour (--color auto on a terminal), the long line wrapped by
    the terminal, not cut; Ctrl-C ends it with status 0."""
    from test_top import Tmux

    uid, login = t.login_user()
    d = t.mkdir("crm")
    f = t.write("crm/a-rather-long-name-for-a-customer-export.csv", "0123456789")
    tm = Tmux(t, [CUSTOS, "trace", "--path", d, "--socket", t.control_socket()])
    tm.wait(lambda s: "# agent-start" in s, "trace's first line")
    r = run(["cat", f], loginuid=uid)
    screen = tm.wait(lambda s: any(" close " in ln and ln.endswith(f) for ln in s.split("\n")), "cat's close line")
    p = parse(ln for ln in screen.split("\n") if ln)
    mine = [(e["login"], e["user"], e["comm"], e["action"], e["bytes"], e["path"]) for e in p["file"] if e["pid"] == r.pid]
    expect_eq(mine, [(login, "root", "cat", "open", "-", f), (login, "root", "cat", "close", "10", f)],
              "cat's lines on the terminal", screen)
    coloured = [ln for ln in tm.screen(escapes=True).split("\n") if "close" in ln and ln.endswith(f)]
    expect(coloured and "\x1b[" in coloured[-1], "colour on a terminal (--color auto)", coloured)
    tm.tmux("send-keys", "-t", "view", "C-c")
    expect_eq(tm.exit_status(), 0, "trace's exit status after Ctrl-C")
