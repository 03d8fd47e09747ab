"""custos trace: human lines (or --json) for an operator, with filters; and
the command-line interface of every subcommand."""

import datetime
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
