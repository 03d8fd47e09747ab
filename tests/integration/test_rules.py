"""Detection rules: the real agent, real processes run by real login users,
and the alerts that come out in the same stream, checked field by field."""

import os
import pwd
import shutil
import stat

from itlib import (CUSTOS, check_seq, expect, expect_eq, expect_field, fail, get, run, sh)


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
    expect_field(b, "custos.alert.group", {"user.audit.name": alice}, "bulk-read")
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
    expect_field(got[0], "custos.alert.group", {"process.executable": mycat, "custos.rule": "crm"}, "new-reader")
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
    expect_field(got[0], "custos.alert.group", {"process.pid": str(r.pid)}, "tac-reads")
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
