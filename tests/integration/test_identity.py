"""Who: users, the human behind the login, the terminal, the container."""

import grp
import os
import subprocess
import time

from itlib import (PY, PY_REAL, check_summaries, expect, expect_eq, expect_field, fail, get, has,
                   one, opens, py, run, the_open, file_events)


def watch(d, name="crm"):
    return {"watch": [{"name": name, "tags": ["pii"], "paths": [d]}]}


def check_user(ev, uid, name, euid=None, ename=None, what="event"):
    expect_field(ev, "user.id", str(uid), what)
    expect_field(ev, "user.name", name, what)
    expect_field(ev, "user.effective.id", str(uid if euid is None else euid), what)
    expect_field(ev, "user.effective.name", name if ename is None else ename, what)


def check_audit(ev, auid, aname, what="event"):
    expect_field(ev, "user.audit.id", str(auid), what)
    expect_field(ev, "user.audit.name", aname, what)


def test_login_user_through_runuser(t):
    """A human (login uid 1000) runs `runuser -u nobody -- cat F`: the user
    is nobody, the login user is still the human, on the open and the close;
    the audit session id is there."""
    auid, aname = t.login_user()
    d = t.mkdir("crm")
    f = t.write("crm/world.csv", "public,but,watched\n", mode=0o644)
    a = t.start_agent(watch(d))
    run(["runuser", "-u", "nobody", "--", "cat", f], loginuid=auid)
    # the same, with a program that tells us its session id and login uid
    r2 = run(["runuser", "-u", "nobody", "--", PY, "-c",
              "import sys; print(open('/proc/self/sessionid').read(), open('/proc/self/loginuid').read());"
              "open(sys.argv[1]).read()", f], loginuid=auid)
    sid, seen_auid = map(int, r2.out.split())
    expect_eq(seen_auid, auid, "login uid the workload saw (test set-up)")
    evs = a.stop()
    nogroup = grp.getgrgid(65534).gr_name
    cats = [e for e in file_events(evs, f) if get(e, "process.name", None) == "cat"]
    expect_eq(len(cats), 2, "events of cat (open and close)", file_events(evs, f))
    for e in cats:
        check_user(e, 65534, "nobody", what="cat as nobody")
        check_audit(e, auid, aname, "cat as nobody")
        expect_field(e, "group.id", "65534", "cat as nobody")
        expect_field(e, "group.name", nogroup, "cat as nobody")
        expect_field(e, "user.effective.group.id", "65534", "cat as nobody")
    pys = [e for e in file_events(evs, f) if get(e, "process.name", None) != "cat"]
    expect(pys, "no events of the python workload", evs)
    for e in pys:
        check_user(e, 65534, "nobody", what="python as nobody")
        check_audit(e, auid, aname, "python as nobody")
        expect_field(e, "process.session_id", sid, "python as nobody")


def test_login_user_through_su_and_setpriv(t):
    """The login user survives su and setpriv too: cat run as nobody by
    either is nobody, logged in as the human."""
    auid, aname = t.login_user()
    d = t.mkdir("crm")
    f = t.write("crm/world.csv", "abc\n", mode=0o644)
    a = t.start_agent(watch(d))
    run(["su", "-s", "/bin/sh", "nobody", "-c", "exec cat '%s'" % f], loginuid=auid)
    run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "cat", f], loginuid=auid)
    evs = a.stop()
    cats = [e for e in opens(evs, f) if get(e, "process.name", None) == "cat"]
    expect_eq(len(cats), 2, "opens by cat (under su, under setpriv)", file_events(evs, f))
    for o in cats:
        check_user(o, 65534, "nobody", what="cat as nobody")
        check_audit(o, auid, aname, "cat as nobody")
        s = check_summaries(evs, get(o, "custos.open_id"), 4, 1)
        check_audit(s[-1], auid, aname, "close by cat as nobody")


def test_login_user_as_root(t):
    """The human became root (login uid 1000, uid 0): user root, login user
    the human."""
    auid, aname = t.login_user()
    d = t.mkdir("crm")
    f = t.write("crm/secret.csv", "secret\n", mode=0o600)
    a = t.start_agent(watch(d))
    r = run(["cat", f], loginuid=auid)
    r2 = run(["runuser", "-u", "root", "--", "cat", f], loginuid=auid)
    evs = a.stop()
    via_runuser = [e for e in opens(evs, f) if get(e, "process.parent.pid", None) == r2.pid]
    for o in [the_open(evs, f, pid=r.pid), one(via_runuser, "open by cat under runuser", evs)]:
        check_user(o, 0, "root")
        check_audit(o, auid, aname)
        check_summaries(evs, get(o, "custos.open_id"), 7, 1)


def test_no_login_user(t):
    """Without a login uid (4294967295) there is no user.audit at all."""
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", "abc\n")
    a = t.start_agent(watch(d))
    r = py("import sys; print(open('/proc/self/loginuid').read()); open(sys.argv[1]).read()", f,
           loginuid=4294967295)
    expect_eq(r.out.decode().split(), ["4294967295"], "login uid the workload saw (test set-up)")
    evs = a.stop()
    for e in file_events(evs, f, pid=r.pid):
        expect(not has(e, "user.audit"), "user.audit is present without a login uid", e)
        expect(not has(e, "process.session_id"), "process.session_id is present without a session", e)


def test_real_and_effective_ids(t):
    """A process with real uid/gid nobody and effective uid/gid root reads a
    0600 root file: user.id/group.id are the real ids, user.effective and
    user.effective.group.id the effective ones."""
    d = t.mkdir("crm")
    f = t.write("crm/secret.csv", "s" * 50, mode=0o600)
    a = t.start_agent(watch(d))
    r = py("import os, sys\n"
           "os.setresgid(65534, 0, 0); os.setresuid(65534, 0, 0)\n"
           "print(os.getuid(), os.geteuid()); fd = os.open(sys.argv[1], os.O_RDONLY); os.read(fd, 50)", f)
    expect_eq(r.out.decode().split(), ["65534", "0"], "uid and euid of the workload (test set-up)")
    evs = a.stop()
    o = the_open(evs, f, pid=r.pid)
    check_user(o, 65534, "nobody", euid=0, ename="root")
    expect_field(o, "group.id", "65534")
    expect_field(o, "user.effective.group.id", "0")
    s = check_summaries(evs, get(o, "custos.open_id"), 50, 1, final_reason="exit")
    check_user(s[-1], 65534, "nobody", euid=0, ename="root")


def test_tty_name(t):
    """A process whose controlling terminal is a pseudo-terminal: process.tty.name
    is "pts/N" for that terminal; a process without one has no process.tty."""
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", "tty\n")
    a = t.start_agent(watch(d))
    master, slave = os.openpty()
    name = os.ttyname(slave)
    expect(name.startswith("/dev/pts/"), "openpty gave %s" % name)

    def ctty():
        import fcntl
        import termios
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    try:
        p = subprocess.Popen(["cat", f], stdin=slave, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             preexec_fn=ctty, pass_fds=(slave,))
        p.wait(30)
    finally:
        os.close(slave)
        os.close(master)
    r = run(["cat", f])
    evs = a.stop()
    o = the_open(evs, f, pid=p.pid)
    expect_field(o, "process.tty.name", name[len("/dev/"):])
    st = os.stat(name) if os.path.exists(name) else None
    if st:
        expect_field(o, "process.tty.char_device.major", os.major(st.st_rdev))
        expect_field(o, "process.tty.char_device.minor", os.minor(st.st_rdev))
    o2 = the_open(evs, f, pid=r.pid)
    expect(not has(o2, "process.tty"), "process.tty for a process without a terminal", o2)


def _container_cgroup(t):
    """A cgroup v2 named like a docker container's scope; (path, container id)."""
    root = None
    with open("/proc/self/mountinfo") as fh:
        for line in fh:
            parts = line.split()
            sep = parts.index("-")
            if parts[sep + 1] == "cgroup2":
                root = parts[4]
                break
    if not root:
        fail("no cgroup2 file system is mounted: cannot put a process in a container-like cgroup")
    cid = os.urandom(32).hex()
    path = os.path.join(root, "custos-it-docker-%s.scope" % cid)
    os.mkdir(path)

    def remove():
        for _ in range(50):
            try:
                os.rmdir(path)
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.1)
        os.rmdir(path)
    t.on_cleanup(remove, rescue="rmdir %s" % path)
    return path, cid


def test_container_id_long_lived(t):
    """A process in a container's cgroup (docker-<64 hex>.scope) that stays
    a while: container.id is the id, custos.process.cgroup_id the cgroup's."""
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", "container\n")
    cg, cid = _container_cgroup(t)
    a = t.start_agent(watch(d))
    r = py("import sys, time; open(sys.argv[1]).read(); time.sleep(1)", f, cgroup=cg)
    evs = a.stop()
    o = the_open(evs, f, pid=r.pid)
    expect_field(o, "custos.process.cgroup_id", os.stat(cg).st_ino)
    expect_field(o, "container.id", cid)


def test_container_id_short_lived(t):
    """The same for a short-lived process (cat): the container id must not
    depend on the process still running when the agent reads /proc."""
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", "container\n")
    cg, cid = _container_cgroup(t)
    a = t.start_agent(watch(d))
    r = run(["cat", f], cgroup=cg)
    evs = a.stop()
    o = the_open(evs, f, pid=r.pid)
    expect_field(o, "custos.process.cgroup_id", os.stat(cg).st_ino)
    expect_field(o, "container.id", cid)


def _started_before_agent(t, linger):
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", "q" * 99)
    code = ("import os, sys, time; sys.stdin.readline(); fd = os.open(sys.argv[1], os.O_RDONLY); "
            "os.read(fd, 1000); time.sleep(float(sys.argv[2])); os._exit(0)")
    argv = [PY, "-c", code, f, str(linger)]
    t0 = time.time()
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    t.on_cleanup(lambda: p.kill())
    time.sleep(0.3)
    a = t.start_agent(watch(d))
    p.communicate(b"go\n", timeout=30)
    evs = a.stop()
    o = the_open(evs, f, pid=p.pid)
    expect_field(o, "process.executable", PY_REAL)
    expect_field(o, "process.args", argv)
    expect_field(o, "process.args_count", len(argv))
    start = get(o, "process.start")
    import datetime
    ts = datetime.datetime.strptime(start[:26], "%Y-%m-%dT%H:%M:%S.%f").replace(
        tzinfo=datetime.timezone.utc).timestamp()
    expect(t0 - 1 <= ts <= t0 + 1.5, "process.start %s is not when the process started (%.3f)" % (start, t0), o)
    s = check_summaries(evs, get(o, "custos.open_id"), 99, 1, final_reason="exit")
    expect_field(s[-1], "process.executable", PY_REAL)


def test_process_started_before_agent(t):
    """A process that started before the agent, reads afterwards and stays a
    while is described from /proc: executable, args, start time."""
    _started_before_agent(t, 1.0)


def test_process_started_before_agent_exits_at_once(t):
    """The same for a process that exits right after its read: what the
    agent reports must not depend on the process still running when the
    agent gets to the record (it polls every 100 ms)."""
    _started_before_agent(t, 0)


def test_entity_id_and_parent(t):
    """process.entity_id: 32 hex digits, the same in every event of one
    process and another for each process; process.parent.executable and
    .name: the parent's program (python, which ran cat)."""
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", "abc")
    a = t.start_agent(watch(d))
    r = py("import subprocess, sys\n"
           "for _ in range(2): subprocess.run(['cat', sys.argv[1]], stdout=subprocess.DEVNULL)", f)
    evs = a.stop()
    cats = [e for e in file_events(evs, f) if get(e, "process.name", None) == "cat"]
    expect_eq(len(cats), 4, "events of the two cats (open and close each)", file_events(evs, f))
    ids = {}
    for e in cats:
        eid = get(e, "process.entity_id")
        expect(isinstance(eid, str) and len(eid) == 32 and all(c in "0123456789abcdef" for c in eid),
               "process.entity_id is not 32 hex digits", e)
        ids.setdefault(get(e, "process.pid"), set()).add(eid)
        expect_field(e, "process.parent.pid", r.pid)
        expect_field(e, "process.parent.executable", PY_REAL)
        expect_field(e, "process.parent.name", os.path.basename(PY_REAL))
    expect_eq(len(ids), 2, "two cat processes", cats)
    expect(all(len(v) == 1 for v in ids.values()) and len(set.union(*ids.values())) == 2,
           "one process.entity_id per process, another for each", cats)
