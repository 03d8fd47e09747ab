"""The configuration: exclusions, globs, rescans, SIGHUP reloads, errors
with file:line:column, and the built-in default."""

import json
import os
import shutil
import subprocess
import time

from itlib import (CUSTOS, agent_events, check_summaries, expect, expect_eq, expect_field, file_events, get,
                   opens, run, the_open)


def rule(name, paths, exclude=None):
    r = {"name": name, "tags": [name], "paths": list(paths)}
    if exclude:
        r["exclude"] = exclude
    return r


# ---------------------------------------------------------------- exclusions


def test_exclude_comm(t):
    """A globally excluded process name (cat) is silent; dd reading the same
    file is reported."""
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", "x" * 4096)
    a = t.start_agent({"watch": [rule("crm", [d])], "exclude": {"comm": ["cat"]}})
    run(["cat", f])
    r = run(["dd", "if=" + f, "of=/dev/null", "bs=1024"])
    evs = a.stop()
    expect_eq([e for e in file_events(evs) if get(e, "process.name") == "cat"], [], "events of cat (excluded)")
    o = the_open(evs, f, pid=r.pid)
    check_summaries(evs, get(o, "custos.open_id"), 4096, 4)


def test_exclude_exe(t):
    """A copy of cat excluded by its path is silent; the original cat is
    reported."""
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", "abc")
    mycat = os.path.join(t.mkdir("bin"), "mycat")
    shutil.copy(shutil.which("cat"), mycat)
    os.chmod(mycat, 0o755)
    a = t.start_agent({"watch": [rule("crm", [d])], "exclude": {"exe": [mycat]}})
    r1 = run([mycat, f])
    r2 = run(["cat", f])
    evs = a.stop()
    expect_eq(file_events(evs, pid=r1.pid), [], "events of %s (excluded)" % mycat)
    o = the_open(evs, f, pid=r2.pid)
    expect_field(o, "process.executable", os.path.realpath(shutil.which("cat")))
    check_summaries(evs, get(o, "custos.open_id"), 3, 1)


def test_exclude_uid(t):
    """An excluded uid (nobody) is silent, its refused opens too; root
    reading the same file is reported."""
    d = t.mkdir("crm")
    f = t.write("crm/world.csv", "abc", mode=0o644)
    secret = t.write("crm/secret.csv", "abc", mode=0o600)
    a = t.start_agent({"watch": [rule("crm", [d])], "exclude": {"uid": [65534]}})
    run(["runuser", "-u", "nobody", "--", "cat", f])
    run(["runuser", "-u", "nobody", "--", "cat", secret], check=False)
    r = run(["cat", f])
    evs = a.stop()
    expect_eq([e for e in file_events(evs) if get(e, "user.id") == "65534"], [], "events of nobody (excluded)")
    o = the_open(evs, f, pid=r.pid)
    check_summaries(evs, get(o, "custos.open_id"), 3, 1)


def test_exclude_per_rule(t):
    """Exclusions of a rule apply to that rule only: head, nobody and a
    copy of cat excluded from rule "a" are silent on a's files and reported
    on b's."""
    da = t.mkdir("a")
    db = t.mkdir("b")
    fa = t.write("a/f.csv", "aaaa\n", mode=0o644)
    fb = t.write("b/f.csv", "bbbb\n", mode=0o644)
    mycat = os.path.join(t.mkdir("bin"), "mycat")
    shutil.copy(shutil.which("cat"), mycat)
    os.chmod(mycat, 0o755)
    a = t.start_agent({"watch": [rule("a", [da], {"comm": ["head"], "uid": [65534], "exe": [mycat]}),
                                 rule("b", [db])]})
    run(["head", fa])
    run(["runuser", "-u", "nobody", "--", "cat", fa])
    run([mycat, fa])
    root_cat = run(["cat", fa])
    for argv in (["head", fb], ["runuser", "-u", "nobody", "--", "cat", fb], [mycat, fb]):
        run(argv)
    evs = a.stop()
    aopens = opens(evs, fa)
    expect_eq([get(e, "process.pid") for e in aopens], [root_cat.pid],
              "pids opening %s (only root's /usr/bin/cat is not excluded from rule a)" % fa, aopens)
    bopens = opens(evs, fb)
    who = sorted((get(e, "process.name"), get(e, "user.name")) for e in bopens)
    expect_eq(who, sorted([("head", "root"), ("cat", "nobody"), ("mycat", "root")]),
              "who opened %s (rule b excludes no one)" % fb, bopens)
    for e in bopens:
        expect_field(e, "custos.rule", "b")


# --------------------------------------------------------- globs and rescans


def test_glob_and_sighup(t):
    """/dir/*.csv watches a.csv but not a.txt; b.csv created after the start
    is watched after SIGHUP."""
    d = t.mkdir("exports")
    a_csv = t.write("exports/a.csv", "a\n")
    a_txt = t.write("exports/a.txt", "t\n")
    a = t.start_agent({"watch": [rule("exports", [os.path.join(d, "*.csv")])]})
    r1 = run(["cat", a_csv])
    run(["cat", a_txt])
    b_csv = t.write("exports/b.csv", "bb\n")
    ev = a.hup()
    expect(get(ev, "custos.agent.watched_inodes", 0) >= 2, "agent-reload does not count both csv files", ev)
    r2 = run(["cat", b_csv])
    run(["cat", a_txt])
    evs = a.stop()
    o = the_open(evs, a_csv, pid=r1.pid)
    expect_field(o, "custos.rule", "exports")
    check_summaries(evs, get(o, "custos.open_id"), 2, 1)
    o = the_open(evs, b_csv, pid=r2.pid)
    check_summaries(evs, get(o, "custos.open_id"), 3, 1)
    expect_eq(file_events(evs, a_txt), [], "events of %s (not matched by *.csv)" % a_txt)


def test_rescan_picks_up_new_paths(t):
    """Without SIGHUP, within the 10 s rescan: a new file matching a glob and
    a configured path that was missing at start (a warning then) become
    watched."""
    d = t.mkdir("exports")
    missing = os.path.join(t.workdir, "later")
    a = t.start_agent({"watch": [rule("exports", [os.path.join(d, "*.csv")]), rule("later", [missing])]})
    start = agent_events(a.events_now(), "agent-start")[0]
    expect(any(missing in w for w in get(start, "custos.agent.warnings")),
           "agent-start custos.agent.warnings does not name the missing path %s" % missing, start)
    expect(missing in a.stderr(), "stderr does not warn about the missing path %s:\n%s" % (missing, a.stderr()))
    new_csv = t.write("exports/new.csv", "n\n")
    later_f = t.write("later/f.csv", "l\n")
    deadline = time.time() + 16
    seen = set()
    while time.time() < deadline and len(seen) < 2:
        for p in (new_csv, later_f):
            if p not in seen:
                run(["cat", p])
        evs = a.events_now()
        seen = {p for p in (new_csv, later_f) if opens(evs, p)}
        time.sleep(0.5)
    evs = a.stop()
    for p, r in ((new_csv, "exports"), (later_f, "later")):
        os_ = opens(evs, p)
        expect(os_, "%s not watched within 16 s of its creation (rescan every 10 s)" % p, agent_events(evs))
        expect_field(os_[0], "custos.rule", r)


test_rescan_picks_up_new_paths.timeout = 120


# ------------------------------------------------------------------- reloads


def test_sighup_reload(t):
    """SIGHUP reloads the config file: a rule added is reported from then on
    (with its name and tags), a rule removed is silent."""
    da, db = t.mkdir("a"), t.mkdir("b")
    fa, fb = t.write("a/f.csv", "a\n"), t.write("b/f.csv", "bb\n")
    path = t.config_file({"watch": [rule("a", [da])]})
    a = t.start_agent(path)
    r0 = run(["cat", fb])
    t.config_file({"watch": [rule("a", [da]), rule("b", [db])]}, name=os.path.basename(path))
    ev = a.hup()
    expect_field(ev, "event.outcome", "success")
    r1 = run(["cat", fb])
    t.config_file({"watch": [rule("b", [db])]}, name=os.path.basename(path))
    a.hup()
    r2 = run(["cat", fa])
    r3 = run(["cat", fb])
    evs = a.stop()
    expect_eq(file_events(evs, pid=r0.pid), [], "events of %s before the reload that watches it" % fb)
    o = the_open(evs, fb, pid=r1.pid)
    expect_field(o, "custos.rule", "b")
    expect_field(o, "custos.tags", ["b"])
    check_summaries(evs, get(o, "custos.open_id"), 3, 1)
    expect_eq(file_events(evs, pid=r2.pid), [], "events of %s after its rule was removed" % fa)
    the_open(evs, fb, pid=r3.pid)


def test_sighup_broken_config(t):
    """A broken config on SIGHUP is refused: agent-reload with outcome
    failure, stderr names file:line:column, and the agent keeps running on
    the old config; a fixed file is then accepted."""
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", "abc")
    path = t.config_file({"watch": [rule("crm", [d])]})
    a = t.start_agent(path)
    broken = '{\n  "watch": [\n    {"name": "crm", "paths": ["%s"]}\n  ],\n  "flush_interval": "soon"\n}\n' % d
    with open(path, "w") as fh:
        fh.write(broken)
    a.hup(expect_outcome="failure")
    expect(a.alive(), "the agent exited after a broken config\nstderr:\n%s" % a.stderr())
    expect("%s:5:21:" % path in a.stderr(),
           "stderr does not name %s:5:21 (the value of flush_interval):\n%s" % (path, a.stderr()))
    r1 = run(["cat", f])
    with open(path, "w") as fh:
        fh.write('{"watch": [{"name": "crm", "paths": ["%s"]}], "bogus": 1}' % d)
    a.hup(expect_outcome="failure")
    r2 = run(["cat", f])
    with open(path, "w") as fh:
        fh.write(json.dumps({"watch": [rule("renamed", [d])]}))
    a.hup(expect_outcome="success")
    r3 = run(["cat", f])
    evs = a.stop()
    for r in (r1, r2):
        o = the_open(evs, f, pid=r.pid)
        expect_field(o, "custos.rule", "crm")
        check_summaries(evs, get(o, "custos.open_id"), 3, 1)
    expect_field(the_open(evs, f, pid=r3.pid), "custos.rule", "renamed")
    reloads = agent_events(evs, "agent-reload")
    expect_eq([get(e, "event.outcome") for e in reloads], ["failure", "failure", "success"],
              "outcomes of the reloads", reloads)


# ------------------------------------------------------------ config errors


def pos(text, needle, nth=0):
    """1-based (line, column) of the nth occurrence of needle in text."""
    off = -1
    for _ in range(nth + 1):
        off = text.index(needle, off + 1)
    return text.count("\n", 0, off) + 1, off - (text.rfind("\n", 0, off) + 1) + 1


BAD_CONFIGS = [
    # (name, text, needle marking where the error is, words the message must have)
    ("trailing-comma", '{\n  "watch": [{"name": "a", "paths": ["/tmp"]}],\n}\n', "}\n", ["invalid JSON"]),
    ("unknown-key", '{\n  "watch": [{"name": "a", "paths": ["/tmp"]}],\n    "bogus": 1\n}\n', '"bogus"',
     ["unknown key", "bogus", "expected"]),
    ("wrong-type", '{\n  "watch": [{"name": "a",\n     "paths": "/tmp"}]\n}\n', '"/tmp"',
     ["paths", "array", "expected"]),
    ("wrong-type-number", '{\n  "watch": [{"name": "a", "paths": ["/tmp"]}],\n  "flush_interval": "3"\n}\n',
     '"3"', ["flush_interval", "integer", "expected"]),
    ("relative-path", '{\n  "watch": [{"name": "a",\n     "paths": ["/tmp", "rel/x"]}]\n}\n', '"rel/x"',
     ["rel/x", "absolute", "expected"]),
    ("uid-type", '{"watch": [{"name": "a", "paths": ["/tmp"],\n  "exclude": {"uid": [0, "root"]}}]}\n', '"root"',
     ["uid", "integer", "expected"]),
    ("unknown-rule-key", '{"watch": [\n  {"name": "a", "paths": ["/tmp"], "path": ["/x"]}]}\n', '"path"',
     ["unknown key", "path", "expected"]),
]


def _config_errors(t, mode):
    for name, text, needle, words in BAD_CONFIGS:
        path = t.write("%s.json" % name, text)
        line, col = pos(text, needle)
        argv = [CUSTOS, mode, "--config", path]
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        err = r.stderr.decode("utf-8", "replace")
        expect(r.returncode not in (0, None), "%s: exit status 0 for a bad config (%s)" % (" ".join(argv), name))
        if mode == "check":
            expect_eq(r.returncode, 1, "%s: exit status" % " ".join(argv))
        where = "%s:%d:%d: " % (path, line, col)
        expect(where in err, "%s: stderr does not contain %r:\n%s\nconfig:\n%s" % (" ".join(argv), where, err, text))
        for w in words:
            expect(w in err, "%s: stderr does not say %r:\n%s" % (" ".join(argv), w, err))
        expect_eq(r.stdout, b"" if mode == "run" else r.stdout, "stdout of a refused run")
    missing = os.path.join(t.workdir, "missing.json")
    for argv in ([CUSTOS, mode, "--config", missing],):
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        err = r.stderr.decode("utf-8", "replace")
        expect(r.returncode != 0, "%s: exit status 0 for a missing file" % " ".join(argv))
        expect(missing in err and ("No such file" in err or "cannot read" in err),
               "%s: stderr does not say the file cannot be read:\n%s" % (" ".join(argv), err))
    empty = t.write("empty.json", "\n")
    r = subprocess.run([CUSTOS, mode, "--config", empty], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    expect(r.returncode != 0 and empty in r.stderr.decode(), "an empty config is not refused: %r" % r.stderr)


def test_config_errors_run(t):
    """custos run refuses bad configs (syntax, unknown keys, wrong types, a
    relative path, a missing file) with FILE:LINE:COLUMN and what was
    expected, and writes no event."""
    _config_errors(t, "run")


def test_config_errors_check(t):
    """custos check gives the same errors, exit status 1."""
    _config_errors(t, "check")


def test_config_syntax_error_position(t):
    """A syntax error points at the first character of the offending token
    (as every other error does: unknown keys point at their opening quote),
    not at its last character."""
    cases = [
        ("missing-comma", '{\n  "watch": [{"name": "a", "paths": ["/tmp"]}]\n  "flush_interval": 1\n}\n',
         '"flush_interval"'),
        ("bad-literal", '{\n  "watch": [{"name": "a", "paths": ["/tmp"]}],\n  "flush_interval": tru\n}\n', "tru"),
    ]
    problems = []
    for name, text, needle in cases:
        path = t.write("%s.json" % name, text)
        line, col = pos(text, needle)
        r = subprocess.run([CUSTOS, "check", "--config", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=30)
        err = r.stderr.decode()
        if "%s:%d:%d: " % (path, line, col) not in err:
            problems.append("%s: expected %s:%d:%d, got: %s" % (name, path, line, col, err.strip()))
    expect(not problems, "\n".join(problems))


def test_check_and_run_without_root(t):
    """custos check validates as an ordinary user (exit 0, or 1 with the
    position); custos run and trace as an ordinary user exit 1 saying root is
    needed."""
    good = t.write("good.json", json.dumps({"watch": [rule("a", [t.workdir])]}), mode=0o644)
    bad = t.write("bad.json", '{"watch": [{"name": "a", "paths": ["/tmp"], "tags": "x"}]}', mode=0o644)
    custos = t.custos_for_anyone()
    r = run(["runuser", "-u", "nobody", "--", custos, "check", "--config", good], check=False)
    expect(r.rc == 0 and b"valid" in r.out, "custos check of a valid config as nobody: %r" % r)
    r = run(["runuser", "-u", "nobody", "--", custos, "check", "--config", bad], check=False)
    expect(r.rc == 1 and ("%s:1:" % bad).encode() in r.err, "custos check of a bad config as nobody: %r" % r)
    for mode in ("run", "trace"):
        r = run(["runuser", "-u", "nobody", "--", custos, mode, "--config", good], check=False)
        expect(r.rc == 1 and b"root" in r.err, "custos %s as nobody: expected status 1 saying root: %r" % (mode, r))
        expect_eq(r.out, b"", "stdout of custos %s as nobody" % mode)


# ------------------------------------------------------------ built-in config


def test_default_config(t):
    """custos run without --config uses the built-in config
    (custos.agent.config "<built-in>"): a file under /srv/customer-data is
    reported with rule "customer-data" and its tags."""
    top = "/srv/customer-data"
    created = None
    if not os.path.isdir(top):
        created = "/srv" if not os.path.exists("/srv") else top
        os.makedirs(top)
        t.on_cleanup(lambda: shutil.rmtree(created, ignore_errors=True), rescue="rm -rf '%s'" % created)
    sub = os.path.join(top, "custos-it-%d" % os.getpid())
    os.makedirs(sub)
    t.on_cleanup(lambda: shutil.rmtree(sub, ignore_errors=True), rescue="rm -rf '%s'" % sub)
    f = os.path.join(sub, "customers.csv")
    with open(f, "w") as fh:
        fh.write("id,email\n1,a@b.c\n")
    a = t.start_agent(None)
    start = agent_events(a.events_now(), "agent-start")[0]
    expect_field(start, "custos.agent.config", "<built-in>")
    expect_field(start, "custos.agent.rules", 3)
    r = run(["cat", f])
    evs = a.stop()
    o = the_open(evs, f, pid=r.pid)
    expect_field(o, "custos.rule", "customer-data")
    expect_field(o, "custos.tags", ["customer-data", "pii"])
    check_summaries(evs, get(o, "custos.open_id"), 17, 1)


# ------------------------------------------------------------- include files


def _at(path, needle, nth=0):
    with open(path) as f:
        text = f.read()
    line, col = pos(text, needle, nth)
    return "%s:%d:%d: " % (path, line, col)


def _check(config, *args):
    r = subprocess.run([CUSTOS, "check", "--json", "--config", config] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    return r.returncode, json.loads(r.stdout)["config"]


def _include_tree(t):
    """etc/custos.json watching crm, etc/conf.d/ with two include files in
    name order (20 before 3: names, not numbers), plus files that are not
    include files."""
    crm, db = t.mkdir("crm"), t.mkdir("db")
    etc = t.mkdir("etc")
    t.mkdir("etc", "conf.d")
    main = t.config_file('// the main file\n{\n  "watch": [%s],\n  "flush_interval": 30\n}\n' % json.dumps(
        rule("crm", [crm])), name="etc/custos.json")
    t.write("etc/conf.d/20-db.json", '# databases\n{"watch": [%s],\n "heartbeat_interval": 7}\n' % json.dumps(
        rule("db", [db])))
    t.write("etc/conf.d/3-outputs.json", '{"outputs": [{"type": "stdout"}]}\n')
    t.write("etc/conf.d/README", "not an include file\n")
    t.write("etc/conf.d/.hidden.json", "{not json\n")
    t.write("etc/conf.d/old.json.dpkg-old", "{not json\n")
    return etc, main, crm, db


def test_include_dir_merge(t):
    """conf.d next to the config: its *.json files (not hidden ones, not
    others) in name order, merged: watch rules joined after the main file's,
    other keys each from its one file; check lists them and validates the
    merged config; the agent watches what each names, and agent-start's
    config digest changes with an include file."""
    etc, main, crm, db = _include_tree(t)
    rc, out = _check(main)
    expect(rc in (0, 4) and out["valid"], "check of the merged config", out)
    expect_eq(out["includes"], [etc + "/conf.d/20-db.json", etc + "/conf.d/3-outputs.json"], "includes")
    expect_eq([r["name"] for r in out["rules"]], ["crm", "db"], "watch rules, main file first")
    f1, f2 = t.write("crm/a.csv", "abc"), t.write("db/b.csv", "defg")
    a = t.start_agent(main)
    r1, r2 = run(["cat", f1]), run(["cat", f2])
    evs = a.stop()
    expect_field(the_open(evs, f1, pid=r1.pid), "custos.rule", "crm")
    expect_field(the_open(evs, f2, pid=r2.pid), "custos.rule", "db")
    start = agent_events(evs, "agent-start")[0]
    digest = get(start, "custos.agent.config_digest")

    # "include_dir": "" turns the default off; a named directory replaces it.
    with open(main) as f:
        text = f.read()
    off = t.config_file(text.replace('"flush_interval": 30', '"flush_interval": 30, "include_dir": ""'),
                        name="etc/off.json")
    rc, out = _check(off)
    expect(out["valid"] and out["includes"] == [] and [r["name"] for r in out["rules"]] == ["crm"],
           "include_dir \"\"", out)
    t.mkdir("elsewhere")
    t.write("elsewhere/x.json", '{"watch": [%s]}\n' % json.dumps(rule("x", [t.workdir])))
    other = t.config_file(text.replace('"flush_interval": 30', '"include_dir": "%s"' % t.path("elsewhere")),
                          name="etc/other.json")
    rc, out = _check(other)
    expect(out["valid"] and out["includes"] == [t.path("elsewhere", "x.json")], "include_dir named", out)
    t.write("etc/conf.d/30-more.json", '{"rules": []}\n')
    a = t.start_agent(main)
    evs = a.stop()
    start = agent_events(evs, "agent-start")[0]
    expect(digest != get(start, "custos.agent.config_digest"), "the config digest did not change with a new "
           "include file")


def test_include_dir_errors(t):
    """An include file's errors name that file, line and column: a bad
    value (by check and run), a syntax error, a key other than the joined
    arrays set in two files (naming both), include_dir in an include file,
    a top level that is not an object; an include file or directory others
    can change is refused; a named include_dir that does not exist too."""
    etc, main, crm, db = _include_tree(t)
    inc = etc + "/conf.d/20-db.json"

    def refused(words, at=None, modes=("check", "run")):
        for mode in modes:
            r = subprocess.run([CUSTOS, mode, "--config", main], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=60)
            err = r.stderr.decode("utf-8", "replace")
            expect(r.returncode == 1 and not (mode == "run" and r.stdout),
                   "custos %s: status %d for a bad include file:\n%s" % (mode, r.returncode, err))
            for w in ([at] if at else []) + words:
                expect(w in err, "custos %s: stderr does not say %r:\n%s" % (mode, w, err))

    good = open(inc).read()
    with open(inc, "w") as f:
        f.write(good.replace('"heartbeat_interval": 7', '"heartbeat_interval": "often"'))
    refused(["heartbeat_interval", "integer"], _at(inc, '"often"'))
    with open(inc, "w") as f:
        f.write(good.replace('"tags": ["db"]', '"tags": "db"'))
    refused(["tags", "array"], _at(inc, '"db"', 1))
    with open(inc, "w") as f:
        f.write(good.replace('"heartbeat_interval": 7', '"heartbeat_interval": 7,'))
    refused(["invalid JSON"], inc + ":3:")
    with open(inc, "w") as f:
        f.write(good.replace('"heartbeat_interval": 7', '"flush_interval": 7'))
    refused(["is set already, at %s" % _at(main, '"flush_interval"').rstrip(": ")], _at(inc, '"flush_interval"'))
    with open(inc, "w") as f:
        f.write(good.replace('"heartbeat_interval": 7', '"include_dir": "/tmp"'))
    refused(["include files include nothing"], _at(inc, '"include_dir"'))
    with open(inc, "w") as f:
        f.write('[1]\n')
    refused(["an include file", "expected an object"], inc + ":1:1: ")
    with open(inc, "w") as f:
        f.write(good)
    rc, out = _check(main)
    expect(out["valid"], "the include file mended", out)

    os.chmod(inc, 0o666)
    refused(["include file %s is writable by anyone" % inc, "chmod go-w " + inc])
    os.chmod(inc, 0o644)
    os.chmod(etc + "/conf.d", 0o1777)
    refused(["include directory %s" % (etc + "/conf.d"), "writable by anyone"])
    os.chmod(etc + "/conf.d", 0o755)
    with open(main) as f:
        text = f.read()
    with open(main, "w") as f:
        f.write(text.replace('"flush_interval": 30', '"include_dir": "%s"' % t.path("nowhere")))
    refused(["include directory %s" % t.path("nowhere"), "No such file"])


def test_include_dir_sighup(t):
    """SIGHUP reads the include files again: a new one's watch rule is
    watched after it; a broken one is refused (agent-reload failure, its
    file and position on stderr) and the running config kept."""
    etc, main, crm, db = _include_tree(t)
    new = t.mkdir("new")
    f = t.write("new/n.csv", "n")
    a = t.start_agent(main)
    r1 = run(["cat", f])
    t.write("etc/conf.d/40-new.json", '{"watch": [%s]}\n' % json.dumps(rule("new", [new])))
    a.hup()
    r2 = run(["cat", f])
    t.write("etc/conf.d/50-broken.json", '{"watch": [{"name": "new", "paths": ["/x"]}]}\n')
    a.hup(expect_outcome="failure")
    r3 = run(["cat", f])
    evs = a.stop()
    expect_eq(file_events(evs, f, pid=r1.pid), [], "events of %s before its include file" % f)
    for r in (r2, r3):
        expect_field(the_open(evs, f, pid=r.pid), "custos.rule", "new")
    where = etc + "/conf.d/50-broken.json:1:"
    expect(where in a.stderr() and "unique" in a.stderr(),
           "stderr does not name %s (a rule name used twice):\n%s" % (where, a.stderr()))
