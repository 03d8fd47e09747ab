"""custos report on what a real agent wrote: real processes read watched
files of known sizes (as the login user, as nobody, one refused), sqlite3
runs statements on a customer table, a client exchanges known bytes with a
watched endpoint; then the report of the stream, plain, gzip, split in two
files and on stdin, must equal, field by field, the sums computed here from
the same events, and the known sizes where they are known; --since/--until,
--by, the text table, skipped lines and a cut gzip file are checked too."""

import gzip
import json
import os
import shutil
import socket
import subprocess
import threading
import time

from itlib import CUSTOS, dd_path, expect, expect_eq, fail, get, one, py, run, which

SIZES = {"a.csv": 100000, "b.csv": 5000, "c.csv": 777, "evil.csv": 321}

CLIENT = r"""
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"q" * 1000)
got = 0
while got < 3000:
    got += len(s.recv(4096))
s.close()
"""


class Server:
    """A TCP server in this process: reads 1000 bytes, answers 3000."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        conn, _ = self.sock.accept()
        got = 0
        while got < 1000:
            got += len(conn.recv(4096))
        conn.sendall(b"r" * 3000)
        conn.close()

    def close(self):
        self.thread.join(10)
        self.sock.close()


# ------------------------------------------------------- the sums, in Python


def first_set(*values):
    for v in values:
        if isinstance(v, str) and v:
            return v
    return None


def facts(e):
    """What an event adds to its group, by the definitions of README, "Reports"."""
    cat, act = get(e, "event.category"), get(e, "event.action", None)
    failed = get(e, "event.outcome", None) == "failure"
    summary = act in ("close", "flush")
    rule = get(e, "custos.rule", None)
    f = {"bytes_read": 0, "bytes_sent": 0, "rows": 0, "statement": 0, "denied": 0, "path": None,
         "endpoint": None, "tables": [], "time": get(e, "@timestamp"),
         "human": first_set(get(e, "user.audit.name", None), get(e, "user.name", None),
                            get(e, "user.id", None)),
         "program": first_set(get(e, "process.executable", None), get(e, "process.name", None)),
         "rule": rule if isinstance(rule, str) else None}
    if cat == "file":
        f["denied"] = int(act == "open" and failed)
        if summary or act == "mmap" or (act == "open" and not failed):
            f["path"] = get(e, "file.path", None)
        if summary:
            f["bytes_read"] = get(e, "custos.io.bytes_read", 0)
    elif cat == "network":
        if summary:
            f["bytes_read"] = get(e, "custos.io.bytes_received", 0)
            f["bytes_sent"] = get(e, "custos.io.bytes_sent", 0)
        if not failed:
            f["endpoint"] = f["rule"]
    else:
        f["statement"] = int(act == "query")
        f["rows"] = get(e, "db.response.returned_rows", 0)
        f["tables"] = get(e, "custos.db.tables", [])
    return f


def data_events(evs, since=None, until=None):
    return [e for e in evs if get(e, "event.kind", None) == "event"
            and get(e, "event.category", None) in ("file", "database", "network")
            and (since is None or get(e, "@timestamp") >= since)
            and (until is None or get(e, "@timestamp") < until)]


def new_group():
    return {"events": 0, "bytes_read": 0, "bytes_sent": 0, "rows": 0, "statements": 0, "files": set(),
            "tables": set(), "endpoints": set(), "denied": 0, "alerts": 0, "first": None, "last": None,
            "users": set(), "programs": set()}


def add(g, f):
    g["events"] += 1
    for k in ("bytes_read", "bytes_sent", "rows", "denied"):
        g[k] += f[k]
    g["statements"] += f["statement"]
    for k, v in (("files", f["path"]), ("endpoints", f["endpoint"]), ("users", f["human"]),
                 ("programs", f["program"])):
        if v is not None:
            g[k].add(v)
    g["tables"].update(f["tables"])
    g["first"] = min(g["first"] or f["time"], f["time"])
    g["last"] = max(g["last"] or f["time"], f["time"])


def as_report(g):
    out = dict(g)
    for k in ("files", "tables", "endpoints"):
        out[k] = len(g[k])
    out["users"], out["programs"] = sorted(g["users"]), sorted(g["programs"])
    return out


def expected(evs, by="user", since=None, until=None):
    """(totals, {key: group}) as custos report --json must have them."""
    total, groups = new_group(), {}
    for e in data_events(evs, since, until):
        f = facts(e)
        add(total, f)
        keys = {"user": [f["human"]], "process": [f["program"]], "rule": [f["rule"]],
                "table": list(dict.fromkeys(f["tables"])) or [None]}[by]
        for k in keys:
            add(groups.setdefault(k, new_group()), f)
    return as_report(total), {k: as_report(g) for k, g in groups.items()}


def order_key(g):
    return (-(g["bytes_read"] + g["bytes_sent"]), -g["rows"], -g["statements"], -g["events"], -g["alerts"],
            g["key"] is None, g["key"] or "")


def check_report(doc, evs, by="user", since=None, until=None, what="report"):
    """The report's totals and groups are the sums computed here, field by field, in its order."""
    totals, groups = expected(evs, by, since, until)
    expect_eq(doc["by"], by, "%s: by" % what)
    for k, v in totals.items():
        expect_eq(doc["totals"][k], v, "%s: totals.%s" % (what, k), doc["totals"])
    got = {g["key"]: g for g in doc["groups"]}
    expect_eq(sorted(got, key=lambda k: (k is None, k or "")), sorted(groups, key=lambda k: (k is None, k or "")),
              "%s: the groups" % what, doc["groups"])
    for key, g in groups.items():
        for k, v in g.items():
            expect_eq(got[key][k], v, "%s: group %r: %s" % (what, key, k), got[key])
    expect_eq([g["key"] for g in doc["groups"]], [g["key"] for g in sorted(doc["groups"], key=order_key)],
              "%s: most data first" % what)
    expect_eq(doc["input"]["events"], totals["events"], "%s: input.events" % what)
    expect_eq((doc["alerts"]["count"], doc["gaps"]["count"]), (0, 0), "%s: no alerts, no gaps" % what)
    return totals, groups


# ------------------------------------------------------------------ running


def report(*args, stdin=None, rc=0):
    """(parsed JSON or text, stderr) of custos report args, which must exit rc."""
    r = subprocess.run([CUSTOS, "report"] + list(args), stdin=stdin or subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    out, err = r.stdout, r.stderr.decode("utf-8", "replace")
    if r.returncode != rc:
        fail("custos report %s: exit status %d, expected %d\nstderr: %s\nstdout: %s" % (
            " ".join(args), r.returncode, rc, err, out[:3000].decode("utf-8", "replace")))
    if "--json" in args:
        try:
            return json.loads(out), err
        except ValueError:
            fail("custos report %s: not one JSON document: %r" % (" ".join(args), out[:2000]))
    return out, err


def record(t):
    """An agent run with every kind of access; (events, raw lines, facts about the run)."""
    uid, login = t.login_user()
    d = t.mkdir("crm")
    paths = {n: t.write("crm/" + n, os.urandom(size)) for n, size in SIZES.items()}
    secret = t.write("crm/secret.csv", "no", mode=0o600)
    evil = t.mkdir("bin") + "/c\x1b[2Jat"
    shutil.copy(which("cat"), evil)
    os.chmod(evil, 0o755)
    table = "rpt_customers_%d" % os.getpid()
    db = t.path("app.db")
    srv = Server()
    a = t.start_agent({"watch": [{"name": "crm", "paths": [d]}],
                       "endpoints": [{"name": "svc", "address": "127.0.0.1", "port": srv.port}],
                       "databases": {"postgresql": False, "mysql": False, "tables": ["rpt_customers_*"],
                                     "only_tables": True},
                       "heartbeat_interval": 0})
    run(["cat", paths["a.csv"]], loginuid=uid)
    time.sleep(0.05)
    dd = run([dd_path(), "if=" + paths["b.csv"], "of=/dev/null", "bs=1000"], loginuid=uid)
    run(["cat", paths["c.csv"]], user="nobody")
    refused = run(["cat", secret], user="nobody", check=False)
    expect(refused.rc != 0, "nobody read a 0600 file of root", repr(refused))
    run([evil, paths["evil.csv"]], loginuid=uid)
    py(CLIENT, str(srv.port), loginuid=uid)
    srv.close()
    time.sleep(0.05)
    run(["sqlite3", db, "create table %s (id integer, email text); "
         "insert into %s values (1, 'a'), (2, 'b'), (3, 'c'); select * from %s; "
         "select count(*) from %s;" % (table, table, table, table)], loginuid=uid)
    evs = a.stop()
    raw = a.raw()
    dd_open = one([e for e in evs if get(e, "process.pid", None) == dd.pid and get(e, "event.action") == "open"],
                  "open event of dd", evs)
    queries = [e for e in evs if get(e, "event.category") == "database"]
    expect_eq(len(queries), 4, "statements of sqlite3", evs)
    return evs, raw, {"login": login, "evil": evil, "table": table, "dd_open": dd_open, "queries": queries,
                      "paths": paths, "secret": secret}


def save(t, name, data, compress=False):
    p = t.path(name)
    with (gzip.open(p, "wb") if compress else open(p, "wb")) as f:
        f.write(data)
    return p


def test_report_totals(t):
    """The report of a real run equals the sums computed here, per human and
    in total, read plain, gzip, as two files and from stdin (no FILE and
    "-"); the known sizes add up: 100000 + 5000 + 321 bytes read by the
    login user from watched files, 777 by nobody, 1000 bytes sent and 3000
    received through the endpoint, 4 rows of the customer table."""
    evs, raw, run_ = record(t)
    plain = save(t, "events.ndjson", raw)
    doc, err = report("--json", plain)
    expect_eq(err, "", "stderr of a clean report")
    totals, groups = check_report(doc, evs)
    expect_eq(doc["input"]["lines"], len(evs), "input.lines")
    expect_eq((doc["input"]["skipped"], doc["input"]["files"], doc["input"]["unreadable"], doc["input"]["runs"]),
              (0, 1, [], 1), "input", doc["input"])
    expect_eq(doc["input"]["bytes"], len(raw), "input.bytes")

    # What is known without the events.
    rules = report("--json", "--by", "rule", plain)[0]
    check_report(rules, evs, by="rule")
    by_rule = {g["key"]: g for g in rules["groups"]}
    crm, svc = by_rule["crm"], by_rule["svc"]
    expect_eq((crm["bytes_read"], crm["files"], crm["denied"]), (sum(SIZES.values()), len(SIZES), 1),
              "files read (rule crm)", crm)
    expect_eq((svc["bytes_read"], svc["bytes_sent"], svc["endpoints"]), (4000, 4000, 1),
              "the endpoint: 1000 + 3000 each way (client and server)", svc)
    tables = report("--json", "--by", "table", plain)[0]
    check_report(tables, evs, by="table")
    tbl = one([g for g in tables["groups"] if g["key"] == run_["table"]], "group of the table", tables["groups"])
    expect_eq((tbl["rows"], tbl["statements"], tbl["users"]), (4, 4, [run_["login"]]), "the table", tbl)
    mine = groups[run_["login"]]
    expect(mine["bytes_read"] >= 100000 + 5000 + 321 + 3000 and mine["rows"] == 4 and mine["denied"] == 0,
           "the login user's group", mine)

    # The same stream, gzip; in two files, the second gzip; on stdin.
    zipped = save(t, "events.ndjson.gz", raw, compress=True)
    zdoc = report("--json", zipped)[0]
    expect_eq(zdoc, doc, "the report of the gzip copy")
    cut = raw.index(b"\n", len(raw) // 2) + 1
    first, second = save(t, "part1.ndjson", raw[:cut]), save(t, "part2.ndjson.gz", raw[cut:], compress=True)
    two = report("--json", first, second)[0]
    expect_eq((two["totals"], two["groups"], two["input"]["files"], two["input"]["lines"]),
              (doc["totals"], doc["groups"], 2, len(evs)), "the report of two files")
    with open(plain, "rb") as f:
        expect_eq(report("--json", stdin=f)[0], doc, "the report of stdin, no FILE")
    with open(zipped, "rb") as f:
        expect_eq(report("--json", "-", stdin=f)[0], doc, "the report of stdin, -, gzip")


def test_report_period_and_grouping(t):
    """--since (included) and --until (excluded) as RFC 3339 times taken from
    the events, as dates and as times ago; --by process, with the programs'
    own names, a copy of cat named with an escape sequence among them."""
    evs, raw, run_ = record(t)
    plain = save(t, "events.ndjson", raw)
    since, until = get(run_["dd_open"], "@timestamp"), get(run_["queries"][0], "@timestamp")
    doc = report("--json", "--since", since, "--until", until, plain)[0]
    totals, _ = check_report(doc, evs, since=since, until=until, what="--since/--until")
    expect(0 < totals["events"] < len(data_events(evs)) and totals["rows"] == 0 and totals["bytes_read"] >= 5000,
           "the period holds dd's read and not the statements", totals)
    expect_eq((doc["since"], doc["until"]), (since, until), "the period in the report")
    expect_eq(doc["input"]["filtered"], len([e for e in evs if not since <= get(e, "@timestamp") < until]),
              "input.filtered")

    day = 86400
    yesterday = time.strftime("%Y-%m-%d", time.gmtime(time.time() - day))
    tomorrow = time.strftime("%Y-%m-%d", time.gmtime(time.time() + day))
    whole = report("--json", plain)[0]
    for args in (["--since", yesterday, "--until", tomorrow], ["--since", "1h"], ["--since", "2d"]):
        d = report("--json", *args, plain)[0]
        expect_eq((d["totals"], d["input"]["filtered"]), (whole["totals"], 0), "report %s" % " ".join(args))
    d = report("--json", "--until", "1h", plain)[0]
    expect_eq((d["totals"]["events"], d["input"]["filtered"], d["groups"]), (0, len(evs), []),
              "report --until 1h: everything is later")

    byp = report("--json", "--by", "process", plain)[0]
    check_report(byp, evs, by="process")
    groups = {g["key"]: g for g in byp["groups"]}
    expect_eq(groups[dd_path()]["bytes_read"], 5000, "dd's bytes", groups[dd_path()])
    expect_eq(groups[os.path.realpath(which("cat"))]["bytes_read"], 100000 + 777, "cat's bytes")
    expect_eq(groups[run_["evil"]]["bytes_read"], 321, "the copy of cat's bytes", groups[run_["evil"]])

    text, err = report("--by", "process", plain)
    expect(b"\x1b" not in text, "an escape byte in the text report", text.decode("utf-8", "replace"))
    expect(b"/c\\x1b[2Jat\n" in text, "the program's name escaped in the text report",
           text.decode("utf-8", "replace"))
    check_text(text.decode(), byp, "PROGRAM")


# -------------------------------------------------------------------- text


def fmt_bytes(v):
    if v < 1024:
        return "%d B" % v
    d, u = float(v), 0
    while d >= 1024 and u < 6:
        d, u = d / 1024, u + 1
    return ("%.1f %s" if d < 99.95 else "%.0f %s") % (d, ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"][u])


def fmt_count(v, width):
    s = "%d" % v
    if len(s) <= width:
        return s
    d, u = float(v), -1
    while d >= 999.95 and u < 5:
        d, u = d / 1000, u + 1
    return ("%.1f%s" if d < 99.95 else "%.0f%s") % (d, "kMGTPE"[u])


def row(g, label=None):
    key = label or (g["key"] if g["key"] is not None else "-").replace("\x1b", "\\x1b")
    head = ("%-16s" % key) if len(key) <= 16 else key + "\n" + " " * 16
    return head + " %8s %8s %8s %6s %5s %6s %6s %6s" % (
        fmt_bytes(g["bytes_read"]), fmt_bytes(g["bytes_sent"]), fmt_count(g["rows"], 8),
        fmt_count(g["statements"], 6), fmt_count(g["files"], 5), fmt_count(g["tables"], 6),
        fmt_count(g["endpoints"], 6), fmt_count(g["alerts"], 6))


def check_text(text, doc, title):
    """The table of the text report: a row per group of the JSON one, in its order, and the totals."""
    lines = [title.ljust(16) + "     READ     SENT     ROWS  STMTS FILES TABLES ENDPTS ALERTS"]
    lines += [row(g) for g in doc["groups"]]
    if len(doc["groups"]) > 1:
        lines += ["-" * 77, row(doc["totals"], "all")]
    table = "\n".join(lines) + "\n"
    expect(table in text, "the text report's table is not:\n%s\nin:\n%s" % (table, text))
    for line in table.split("\n"):
        expect(len(line) <= 80 or "\n" + line + "\n" + " " * 16 in text,
               "a line of the table is longer than 80 columns: %r" % line)
    expect("\nALERTS  none\n" in text and "\nLOSSES  none\n" in text, "no alerts, no losses", text)


def test_report_text_and_bad_input(t):
    """The text report's table by user is the JSON one's, formatted; a line
    that is not JSON, a field of the wrong type and a last line cut short
    are skipped (exit status 1, each reason on stderr with its first line),
    the rest reported as before; a gzip file cut short is reported as far as
    it goes, with exit status 1; usage errors exit 2."""
    evs, raw, run_ = record(t)
    plain = save(t, "events.ndjson", raw)
    doc = report("--json", plain)[0]
    text, err = report(plain)
    check_text(text.decode(), doc, "USER")
    expect(text.decode().startswith("custos report by user (times in UTC)\n  events   %d, " % doc["totals"]["events"]),
           "the text report's first lines", text.decode())

    lines = raw.split(b"\n")[:-1]
    close = next(i for i, ln in enumerate(lines) if b'"action":"close"' in ln and b'"bytes_read":' in ln)
    expect(close >= 1, "the first file summary is line %d" % (close + 1))
    wrong = lines[close].replace(b'"bytes_read":', b'"bytes_read":"', 1).replace(b',"read_calls"', b'","read_calls"', 1)
    expect(isinstance(json.loads(wrong)["custos"]["io"]["bytes_read"], str), "no string bytes_read made", wrong)
    # Added to the stream: a line not JSON (line 2), a summary again with its bytes as a string
    # (after the summary), the beginning of a summary without its end (last, no newline).
    bad = lines[:1] + [b"this is not JSON"] + lines[1:close + 1] + [wrong] + lines[close + 1:] + [lines[close][:200]]
    p = save(t, "corrupt.ndjson", b"\n".join(bad))
    got, err = report("--json", p, rc=1)
    expect_eq((got["totals"], got["groups"]), (doc["totals"], doc["groups"]),
              "the report of the stream with bad lines added")
    expect_eq((got["input"]["skipped"], got["input"]["skipped_by"]),
              (3, {"not_json": 1, "bad_field": 1, "no_time": 0, "truncated": 1, "too_long": 0}),
              "skipped lines", got["input"])
    n = len(bad)
    for want in ("custos report: skipped 3 of %d lines:\n" % n,
                 "custos report:   1 not JSON, the first at %s:2: " % p,
                 "custos report:   1 with a field of the wrong type, the first at %s:%d: custos.io.bytes_read is "
                 "not an integer\n" % (p, close + 3),
                 "custos report:   1 cut short, the first at %s:%d: the line ends inside its JSON\n" % (p, n)):
        expect(want in err, "stderr lacks %r" % want, err)
    text, err = report(p, rc=1)
    expect("skipped  3 lines" in text.decode(), "the text report says lines were skipped", text.decode())

    zipped = t.path("events.ndjson.gz")
    with gzip.open(zipped, "wb") as f:
        f.write(raw)
    with open(zipped, "rb") as f:
        data = f.read()
    cut_gz = save(t, "cut.ndjson.gz", data[:len(data) * 2 // 3])
    got, err = report("--json", cut_gz, rc=1)
    expect("cut.ndjson.gz: the compressed data ends early, in line " in err, "stderr of a cut gzip file", err)
    expect(len(got["input"]["unreadable"]) == 1 and 0 < got["input"]["lines"] <= len(evs)
           and got["totals"]["events"] <= doc["totals"]["events"], "the report of a cut gzip file", got["input"])
    _, err = report("--json", t.path("missing.ndjson"), plain, rc=1)
    expect("missing.ndjson: cannot open: No such file or directory" in err, "a missing file", err)

    for args in (["--since", "yesterday"], ["--until", "2026-02-30"], ["--by", "host"],
                 ["--since", "1h", "--until", "2h"], ["--bogus"]):
        _, err = report(*(args + [plain]), rc=2)
        expect(err, "custos report %s: no message" % " ".join(args))
    got, _ = report("--json", "--by", "host", plain, rc=2)
    expect_eq(got, {"error": "--by host: user, process, rule or table"}, "a usage error in JSON")
