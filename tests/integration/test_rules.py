"""Detection rules: the real agent, real processes run by real login users,
and the alerts that come out in the same stream, checked field by field."""

import json
import os
import pwd
import shutil
import stat
import subprocess

from itlib import (CUSTOS, alert_group, check_seq, expect, expect_eq, expect_field, fail, get, run, sh)
from test_ocsf import check_ocsf_line


def human(t, name):
    """(uid, name) of a user created for this test, to log in as."""
    sh(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name], check=False)
    t.on_cleanup(lambda: sh(["userdel", name], check=False), rescue="userdel %s" % name)
    return pwd.getpwnam(name).pw_uid, name


def alerts(evs, rule=None):
    return [e for e in evs if get(e, "event.kind", None) == "alert" and get(e, "event.action", None) == "alert"
            and (rule is None or get(e, "rule.name", None) == rule)]


def by_seq(evs):
    return {get(e, "custos.seq"): e for e in evs}


def crm_files(t, n, size):
    d = t.mkdir("crm")
    return d, [t.write("crm/c%03d.csv" % i, b"x" * size) for i in range(n)]


def check_alert_common(a, rule, technique, what):
    expect_field(a, "event.kind", "alert", what)
    expect_field(a, "event.type", ["info"], what)
    expect_field(a, "rule.name", rule, what)
    expect_field(a, "rule.id", "custos." + rule, what)
    expect_field(a, "rule.ruleset", "custos", what)
    expect(get(a, "rule.description", "") != "", "%s: a description" % what, a)
    if technique:
        expect_field(a, "threat.framework", "MITRE ATT&CK", what)
        expect_field(a, "threat.technique.id", [technique], what)
    expect(get(a, "event.start") <= get(a, "event.end") == get(a, "@timestamp"),
           "%s: event.start <= event.end = @timestamp" % what, a)


def test_rules_bulk_read_and_many_files(t):
    """A human (login uid set, then runuser to nobody) reads 60 watched files
    of 2 KB and runs a 120,000-row SELECT: the bulk-read, bulk-rows and
    many-files alerts name that human, with the value, the threshold, the
    window and the events behind them. A second human doing a fraction of
    that gets none; builtin_rules false keeps the pack out."""
    alice_uid, alice = human(t, "custos-alice")
    bob_uid, bob = human(t, "custos-bob")
    d, files = crm_files(t, 60, 2048)
    db = t.path("crm.db")
    run(["sqlite3", db], stdin=b"create table customers(id integer, email text);"
        b"with recursive n(i) as (select 1 union all select i + 1 from n where i < 120000)"
        b" insert into customers select i, 'c' || i || '@example.com' from n;\n")
    os.chmod(db, 0o644)
    os.chmod(t.workdir, 0o755)
    cfg = {
        "watch": [{"name": "crm", "tags": ["customer-data"], "paths": [d]}],
        "databases": {"sqlite": True, "postgresql": False, "mysql": False,
                      "tables": ["customers"], "tags": ["customer-data"]},
        "heartbeat_interval": 0,
        "builtin_rules": False,
        "outputs": [{"type": "stdout"}, {"type": "file", "path": t.path("ocsf.ndjson"), "format": "ocsf"}],
        "rules": [
            {"name": "bulk-read", "kind": "threshold", "where": {"tags": ["customer-data"], "category": "file"},
             "group_by": ["user.audit.name"], "sum": "custos.io.bytes_read", "over": "10m",
             "at_least": 100000, "technique": "T1005"},
            {"name": "bulk-rows", "kind": "threshold", "where": {"tags": ["customer-data"]},
             "group_by": ["user.audit.name"], "sum": "db.response.returned_rows", "over": "10m",
             "at_least": 100000, "technique": "T1213"},
            {"name": "many-files", "kind": "threshold", "where": {"rule": "crm"},
             "group_by": ["user.audit.name"], "distinct": "file.path", "over": "5m", "at_least": 50},
        ],
    }
    a = t.start_agent(cfg)
    # bob: 10 files and 1,000 rows, far below.
    run(["runuser", "-u", "nobody", "--", "cat"] + files[:10], loginuid=bob_uid)
    run(["runuser", "-u", "nobody", "--", "sqlite3", db, "select email from customers where id <= 1000;"],
        loginuid=bob_uid)
    # alice: every file, one at a time, and the whole table.
    for f in files:
        run(["runuser", "-u", "nobody", "--", "cat", f], loginuid=alice_uid)
    run(["runuser", "-u", "nobody", "--", "sqlite3", db, "select email from customers;"], loginuid=alice_uid)
    evs = a.stop()
    check_seq(evs)
    seqs = by_seq(evs)
    expect_eq([get(e, "user.audit.name") for e in alerts(evs)], [alice] * 3, "alerts, all alice's", alerts(evs))

    bulk = alerts(evs, "bulk-read")
    expect_eq(len(bulk), 1, "bulk-read alerts", alerts(evs))
    b = bulk[0]
    check_alert_common(b, "bulk-read", "T1005", "bulk-read")
    expect_field(b, "event.category", "file", "bulk-read")
    expect_field(b, "custos.alert.kind", "threshold", "bulk-read")
    expect_field(b, "custos.alert.threshold", 100000, "bulk-read")
    expect_field(b, "custos.alert.window", "10m", "bulk-read")
    expect_eq(alert_group(b), {"user.audit.name": alice}, "bulk-read: custos.alert.group", b)
    expect_field(b, "user.audit.name", alice, "bulk-read")
    # The value is alice's bytes up to the event that crossed: 49 files of 2048 = 100,352.
    expect_field(b, "custos.alert.value", 49 * 2048, "bulk-read")
    ev_seqs = get(b, "custos.alert.evidence.seq")
    expect_eq(get(b, "custos.alert.evidence.count"), 49, "bulk-read: events behind it", b)
    expect_eq(len(ev_seqs), 32, "bulk-read: the latest 32 listed", b)
    for s in ev_seqs:
        e = seqs.get(s)
        expect(e is not None and get(e, "user.audit.name") == alice and get(e, "custos.io.bytes_read", 0) == 2048,
               "bulk-read evidence seq %s is one of alice's reads" % s, e)
    expect(max(ev_seqs) < get(b, "custos.seq"), "evidence comes before the alert", b)
    expect_eq(get(b, "custos.alert.suppressed"), 0, "bulk-read: nothing suppressed yet", b)

    many = alerts(evs, "many-files")
    expect_eq(len(many), 1, "many-files alerts", alerts(evs))
    expect_field(many[0], "custos.alert.value", 50, "many-files")
    expect_field(many[0], "custos.alert.threshold", 50, "many-files")
    expect_field(many[0], "custos.alert.window", "5m", "many-files")

    rows = alerts(evs, "bulk-rows")
    expect_eq(len(rows), 1, "bulk-rows alerts", alerts(evs))
    expect_field(rows[0], "event.category", "database", "bulk-rows")
    expect_field(rows[0], "custos.alert.value", 120000, "bulk-rows")
    stmt = seqs[get(rows[0], "custos.alert.evidence.seq")[-1]]
    expect_field(stmt, "db.response.returned_rows", 120000, "the statement behind bulk-rows")

    stop = [e for e in evs if get(e, "event.action") == "agent-stop"][0]
    expect_field(stop, "custos.stats.rules.alerts", 3, "agent-stop")
    expect_field(stop, "custos.stats.rules.rules", 3, "agent-stop: builtin_rules false")

    # The OCSF twin of each alert: a Detection Finding that validates, same seq, same rule.
    with open(t.path("ocsf.ndjson")) as f:
        ocsf = {get(o, "metadata.sequence"): o for o in map(json.loads, f)}
    for a_ in alerts(evs):
        o = ocsf.get(get(a_, "custos.seq"))
        expect(o is not None and o["class_uid"] == 2004, "the OCSF line of alert %s is a Detection Finding"
               % get(a_, "custos.seq"), o)
        expect_eq(check_ocsf_line(o), [], "OCSF problems of the alert", o)
        expect_eq(get(o, "finding_info.analytic.name"), get(a_, "rule.name"), "OCSF analytic name", o)

    # custos report over the stream: alice's alerts, none of bob's.
    stream = t.write("events.ndjson", b"".join(json.dumps(e).encode() + b"\n" for e in evs))
    r = subprocess.run([CUSTOS, "report", "--json", stream], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    expect_eq(r.returncode, 0, "custos report: exit status", r.stderr)
    rep = json.loads(r.stdout)
    expect_eq(get(rep, "alerts.count"), 3, "custos report: alerts", rep)
    groups = {g["key"]: g for g in rep["groups"]}
    expect_eq((groups[alice]["alerts"], groups[bob]["alerts"]), (3, 0), "custos report: alerts per human", rep)
    expect_eq(groups[alice]["bytes_read"], 60 * 2048, "custos report: alice's bytes", groups[alice])
    expect_eq(groups[alice]["rows"], 120000, "custos report: alice's rows", groups[alice])


def test_rules_new_reader_once_and_after_restart(t):
    """A renamed copy of cat reading customer data gives new-reader once; not
    again when it reads more, nor after the agent restarts (the state file,
    root-only, remembers it); another program is still new."""
    d, files = crm_files(t, 2, 100)
    mycat = t.path("mycat")
    shutil.copy("/bin/cat", mycat)
    state = t.path("state")
    cfg = {"watch": [{"name": "crm", "tags": ["customer-data"], "paths": [d]}], "heartbeat_interval": 0,
           "builtin_rules": False, "state_dir": state,
           "rules": [{"name": "new-reader", "kind": "first_seen", "where": {"tags": ["customer-data"], "action": "read"},
                      "key": ["process.executable", "custos.rule"], "learn": "0s", "technique": "T1005"}]}
    a = t.start_agent(cfg)
    r1 = run([mycat, files[0]])
    run([mycat, files[1]])
    evs = a.stop()
    got = alerts(evs, "new-reader")
    expect_eq(len(got), 1, "new-reader alerts in the first run", got)
    check_alert_common(got[0], "new-reader", "T1005", "new-reader")
    expect_field(got[0], "process.executable", mycat, "new-reader")
    expect_field(got[0], "process.pid", r1.pid, "new-reader")
    expect_field(got[0], "file.path", files[0], "new-reader")
    expect_eq(alert_group(got[0]), {"process.executable": mycat, "custos.rule": "crm"},
              "new-reader: custos.alert.group", got[0])
    expect_field(got[0], "custos.alert.kind", "first_seen", "new-reader")
    st = os.stat(os.path.join(state, "first_seen.json"))
    expect_eq(stat.S_IMODE(st.st_mode), 0o600, "state file mode", oct(st.st_mode))
    a = t.start_agent(cfg)
    run([mycat, files[0]])
    r3 = run(["tac", files[0]])
    evs = a.stop()
    got = alerts(evs, "new-reader")
    expect_eq([get(e, "process.pid") for e in got], [r3.pid], "after the restart: only tac is new", got)


def test_rules_match_and_suppression(t):
    """A match rule alerts on the first matching event of each process, and
    suppresses the rest for its window; trace shows alerts as ALERT lines."""
    d, files = crm_files(t, 3, 10)
    cfg = {"watch": [{"name": "crm", "tags": ["customer-data"], "paths": [d]}], "heartbeat_interval": 0,
           "builtin_rules": False,
           "rules": [{"name": "tac-reads", "kind": "match", "where": {"comm": "tac", "action": "open"},
                      "description": "tac opened customer data", "severity": "high"}]}
    a = t.start_agent(cfg)
    r = run(["tac"] + files)
    run(["cat"] + files)
    evs = a.stop()
    got = alerts(evs, "tac-reads")
    expect_eq(len(got), 1, "one alert for three opens by one tac", got)
    expect_field(got[0], "process.pid", r.pid, "tac-reads")
    expect_field(got[0], "rule.description", "tac opened customer data", "tac-reads")
    expect_field(got[0], "event.severity", 73, "tac-reads: high")
    expect_eq(alert_group(got[0]), {"process.pid": str(r.pid)}, "tac-reads: custos.alert.group", got[0])
    stop = [e for e in evs if get(e, "event.action") == "agent-stop"][0]
    expect_field(stop, "custos.stats.rules.suppressed", 2, "agent-stop")
    # trace: the alert as one line.
    tr = t.agent(cfg, mode="trace")
    tr.start()
    r = run(["tac", files[0]])
    lines = tr.stop()
    al = [ln for ln in lines if " ALERT " in ln]
    expect_eq(len(al), 1, "ALERT lines in trace", lines)
    expect("tac-reads process.pid=%d" % r.pid in al[0] and "pid %d tac" % r.pid in al[0],
           "the ALERT line names the rule and the process", al)
    expect("\x1b[" not in al[0], "no colour when stdout is not a terminal", al)


BROKEN_RULES = [
    # (text of the rule, needle marking where the error is, words the message must have)
    ('{"name": "x", "kind": "threshold", "where": {"category": "file"}, "group_by": ["user.name"],'
     ' "sum": "db.response.returned_rows", "over": "10m", "at_least": 5}', '"db.response.returned_rows"',
     ["rows"]),
    ('{"name": "x", "kind": "threshold", "where": {"category": "file"}, "group_by": ["user.name"],'
     ' "over": "10 minutes", "at_least": 5}', '"10 minutes"', ["over"]),
    ('{"name": "x", "kind": "sequence", "by": ["process.pid"], "within": "2m",'
     ' "steps": [{"where": {"category": ["file", "printer"]}}, {"where": {"category": "network"}}]}',
     '"printer"', ["printer"]),
    ('{"name": "x", "kind": "match", "where": {"comm": "tac", "outside_hours": "08:00-19:00 Mon-Fri",'
     ' "tz": "Mars/Olympus"}}', '"Mars/Olympus"', ["Mars/Olympus"]),
]


def test_rules_broken_rule_refused_with_position(t):
    """A config with a broken detection rule is refused by custos check and
    custos run, with the line and column of the broken value; SIGHUP with
    one keeps the running rules, and a good one replaces them."""
    from test_config import pos
    d, files = crm_files(t, 1, 10)
    for rule, needle, words in BROKEN_RULES:
        text = ('{\n  "watch": [{"name": "crm", "tags": ["customer-data"], "paths": ["%s"]}],\n'
                '  "rules": [\n    %s\n  ]\n}\n' % (d, rule))
        path = t.config_file(text)
        line, col = pos(text, needle)
        for argv in ([CUSTOS, "check", "--config", path], [CUSTOS, "run", "--config", path]):
            r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
            err = r.stderr.decode()
            expect(r.returncode != 0, "%s accepted a broken rule" % argv[1], text)
            expect("%s:%d:%d:" % (path, line, col) in err, "%s: the error is at %d:%d" % (argv[1], line, col),
                   err, text)
            for w in words:
                expect(w in err, "%s: the message names %r" % (argv[1], w), err)
    # SIGHUP: a broken rule is refused and the running rule stays; a new one takes over.
    cfg = {"watch": [{"name": "crm", "tags": ["customer-data"], "paths": [d]}], "heartbeat_interval": 0,
           "builtin_rules": False,
           "rules": [{"name": "tac-reads", "kind": "match", "where": {"comm": "tac", "action": "open"}}]}
    a = t.agent(cfg)
    a.start()
    with open(a.config_path) as f:
        good = f.read()
    with open(a.config_path, "w") as f:
        f.write(good.replace('"tac"', '"tac", "a-name-longer-than-fifteen"'))
    a.hup(expect_outcome="failure")
    r1 = run(["tac", files[0]])
    a.wait_for(lambda e: get(e, "rule.name", None) == "tac-reads", "the alert of the running rule")
    with open(a.config_path, "w") as f:
        f.write(good.replace('"tac-reads"', '"head-reads"').replace('"tac"', '"head"'))
    a.hup()
    run(["tac", files[0]])
    r2 = run(["head", files[0]])
    evs = a.stop()
    expect_eq([(get(e, "rule.name"), get(e, "process.pid")) for e in alerts(evs)],
              [("tac-reads", r1.pid), ("head-reads", r2.pid)], "alerts before and after the reload", alerts(evs))


def test_rules_builtin_read_then_send_and_copy_out(t):
    """The built-in pack, on by default: a login session runs `cat W | curl
    -T - http://127.0.0.1:PORT/`: read-then-send names the session, curl
    and both steps; another session runs `cp W NEW` outside the watched
    tree: copy-out. A session that sends without reading first, and one
    that copies an unwatched file, give none."""
    from test_egress import UploadServer, curl_pipeline, in_session
    d, files = crm_files(t, 1, 5000)
    plain = t.write("plain.csv", b"y" * 5000)
    out = t.mkdir("out")
    cfg = {"watch": [{"name": "crm", "tags": ["customer-data"], "paths": [d]}], "heartbeat_interval": 0}
    up, up2 = UploadServer().start(), UploadServer().start()
    a = t.start_agent(cfg)
    sa, _ = in_session(t, curl_pipeline(files[0], up.port))
    sb, _ = in_session(t, curl_pipeline(plain, up2.port))
    sc, _ = in_session(t, "cp '%s' '%s/copy.csv'" % (files[0], out))
    sd, _ = in_session(t, "cp '%s' '%s/plain-copy.csv'" % (plain, out))
    evs = a.stop()
    seqs = by_seq(evs)
    got = alerts(evs)
    expect_eq(sorted(get(e, "rule.name") for e in got), ["copy-out", "read-then-send"],
              "alerts of the built-in pack", got)
    rs = alerts(evs, "read-then-send")[0]
    check_alert_common(rs, "read-then-send", "T1048", "read-then-send")
    expect_field(rs, "event.category", "network", "read-then-send")
    expect_field(rs, "event.severity", 73, "read-then-send")
    expect_eq(alert_group(rs), {"process.session_id": str(sa)}, "read-then-send: custos.alert.group", rs)
    expect_field(rs, "process.name", "curl", "read-then-send")
    expect_field(rs, "destination.port", up.port, "read-then-send")
    expect_field(rs, "custos.alert.window", "2m", "read-then-send")
    first, second = [seqs[s] for s in get(rs, "custos.alert.evidence.seq")]
    expect((get(first, "process.name"), get(first, "file.path")) == ("cat", files[0]),
           "the first step: cat reads the watched file", first)
    expect((get(second, "process.name"), get(second, "event.action"), get(second, "custos.egress")) ==
           ("curl", "connect", True), "the second: curl connects, egress", second)
    co = alerts(evs, "copy-out")[0]
    check_alert_common(co, "copy-out", "T1074", "copy-out")
    expect_eq(alert_group(co), {"process.session_id": str(sc)}, "copy-out: custos.alert.group", co)
    expect_field(co, "file.path", os.path.join(out, "copy.csv"), "copy-out")
    expect_field(co, "process.name", "cp", "copy-out")
    for s in (sb, sd):
        expect(not [e for e in got if get(e, "process.session_id", None) == s],
               "no alert for session %d, which read nothing watched" % s, got)
