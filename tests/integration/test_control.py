"""The agent's control socket: custos status, custos trace attached to the
running agent, and what the socket does with hostile or slow clients.

Every agent of these tests serves the test's own socket (itlib's
control_socket), never /run/custos/agent.sock."""

import json
import os
import re
import socket
import stat
import subprocess
import time

from itlib import (CUSTOS, PY, action, agent_events, check_seq, expect, expect_eq, fail, file_events, get,
                   run, scaled)

UTF8 = dict(os.environ, LANG="C.UTF-8", LC_ALL="C.UTF-8")
LINE = re.compile(r"^(\d\d:\d\d:\d\d\.\d{3}) (\S+)(→|->)(\S+) (\d+) (\S+) (\S+) (\S+) (.+)$")


def _config(t, d, **kw):
    # No database probes: other programs' statements on this host are no business of these tests.
    return dict({"watch": [{"name": "crm", "paths": [d]}], "heartbeat_interval": 0,
                 "databases": {"postgresql": False, "mysql": False, "sqlite": False}}, **kw)


def _status(t, *args, user=None, sock=None):
    argv = [t.custos_for_anyone() if user else CUSTOS, "status", "--socket", sock or t.control_socket()]
    argv += list(args)
    if user:
        argv = ["runuser", "-u", user, "--"] + argv
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)


def _status_json(t):
    r = _status(t, "--json")
    expect(r.returncode in (0, 1), "custos status --json: status %d, stderr %r" % (r.returncode, r.stderr))
    return r.returncode, json.loads(r.stdout)


def _lines_of(a):
    raw = a.raw()
    return raw[:raw.rfind(b"\n") + 1].count(b"\n")


def _bpf_fds(pid):
    """How many BPF programs and maps process pid holds open."""
    n = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if target in ("anon_inode:bpf-prog", "anon_inode:bpf-map", "anon_inode:bpf_link",
                      "anon_inode:bpf-link"):
            n += 1
    return n


def _stale_socket(path):
    """A socket file nobody serves, as an agent killed with SIGKILL leaves."""
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    s.close()


def test_status_text_and_json(t):
    """custos status against a running agent (which removed the stale socket
    left at its path): --json has the agent's pid, uptime, the hooks of
    agent-start, and for stdout as many events out as lines written; the
    text says the same, aligned; a healthy agent exits 0. The socket is
    0600 in a 0700 directory, and gone when the agent stops."""
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", "0123456789")
    _stale_socket(t.control_socket())
    a = t.start_agent(_config(t, d))
    st = os.stat(t.control_socket())
    expect(stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == 0,
           "control socket mode %o uid %d" % (st.st_mode, st.st_uid))
    expect_eq(stat.S_IMODE(os.stat(os.path.dirname(t.control_socket())).st_mode), 0o700, "its directory's mode")
    for _ in range(5):
        run(["cat", f])
    a.wait_for(lambda e: action(e) == "close" and get(e, "file.path", None) == f and
               len(file_events(a.events_now(), f, "close")) == 5, "5 closes")
    deadline = time.time() + scaled(10)
    while True:  # the output thread counts a line once written: wait until both agree
        rc, js = _status_json(t)
        out = {o["name"]: o for o in get(js, "stats.outputs")}["stdout"]["out"]
        if out == _lines_of(a) or time.time() > deadline:
            break
        time.sleep(0.2)
    expect_eq(out, _lines_of(a), "stats.outputs.stdout.out against the lines on stdout", js)
    expect_eq(rc, 0, "exit status of a healthy agent", js)
    expect_eq(js["health"], {"status": "ok", "reasons": []}, "health")
    expect("control" not in js, "custos status --json keeps the protocol's \"control\" key", js)
    start = agent_events(a.events_now(), "agent-start")[0]
    expect_eq(get(js, "agent.pid"), a.pid, "agent.pid")
    expect_eq(get(js, "agent.mode"), "run", "agent.mode")
    expect_eq(get(js, "agent.hooks"), get(start, "custos.agent.hooks"), "agent.hooks against agent-start's")
    expect_eq(get(js, "agent.hooks_unavailable"), get(start, "custos.agent.hooks_unavailable"),
              "agent.hooks_unavailable")
    up = get(js, "agent.uptime_seconds")
    expect(0 < up <= time.time() - a.started_at + 1, "uptime %s s, started %.1f s ago" % (
        up, time.time() - a.started_at))
    expect_eq(get(js, "stats.ringbuf_drops"), 0, "stats.ringbuf_drops")
    expect_eq(get(js, "stats.events"), _lines_of(a), "stats.events (every event went to stdout)")
    expect_eq(get(js, "clients.connected"), 1, "clients.connected (this status)")

    r = _status(t)
    text = r.stdout.decode()
    expect_eq(r.returncode, 0, "exit status of the text form", text)
    rows = dict((ln[:14].strip(), ln[14:]) for ln in text.splitlines() if ln[:14].strip())
    expect(rows.get("agent", "").startswith("running, pid %d, up " % a.pid), "agent row", text)
    expect_eq(rows.get("health"), "ok", "health row", text)
    expect(rows.get("hooks", "").startswith("%d attached, %d unavailable" % (
        len(get(start, "custos.agent.hooks")), len(get(start, "custos.agent.hooks_unavailable")))), "hooks row", text)
    m = re.search(r"^ {14}stdout +up +(\d+) +(\d+) +0 ", text, re.M)
    expect(m and int(m.group(1)) == int(m.group(2)) == _lines_of(a), "stdout row: in, out = %d lines" % _lines_of(a),
           text)
    expect(all(len(ln) > 14 and ln[13] == " " and ln[14] != " " or ln[:14].strip() == ""
               for ln in text.splitlines()), "values not aligned at column 15", text)
    a.stop()
    expect(not os.path.exists(t.control_socket()), "the socket is still there after the agent stopped")


def test_status_degraded(t):
    """An output that cannot deliver (a syslog port nobody listens on) makes
    the agent degraded: exit status 1, a reason naming the output, the same
    in --json."""
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", "x")
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nobody listens there
    a = t.start_agent(_config(t, d, outputs=[{"type": "stdout"},
                                             {"type": "syslog", "url": "tcp://127.0.0.1:%d" % port,
                                              "name": "siem"}],
                               spool={"dir": t.path("spool"), "max_bytes": 65536}))
    run(["cat", f])
    deadline = time.time() + scaled(15)
    while True:
        r = _status(t, "--json")
        if r.returncode != 0 or time.time() > deadline:
            break
        time.sleep(0.3)
    expect_eq(r.returncode, 1, "exit status of a degraded agent", r.stdout.decode(), r.stderr.decode())
    js = json.loads(r.stdout)
    expect_eq(js["health"]["status"], "degraded", "health.status", js)
    expect(any("output siem" in x for x in js["health"]["reasons"]), "no reason names output siem", js["health"])
    r = _status(t)
    expect_eq(r.returncode, 1, "exit status of the text form")
    expect(re.search(r"^health +degraded$", r.stdout.decode(), re.M) and "output siem" in r.stdout.decode(),
           "the text says degraded and why", r.stdout.decode())
    a.stop()


def test_status_no_agent(t):
    """No agent: exit status 3 and a message saying so, whether nothing is
    at the path or a stale socket nobody serves."""
    for what in ("nothing", "stale socket"):
        if what == "stale socket":
            _stale_socket(t.control_socket())
        r = _status(t)
        expect_eq(r.returncode, 3, "exit status with %s at the socket's path" % what)
        expect_eq(r.stdout, b"", "stdout")
        expect_eq(r.stderr.decode().strip(),
                  "custos status: no agent is running (nothing serves %s)" % t.control_socket(), "message")
        r = _status(t, "--json")
        expect_eq(r.returncode, 3, "exit status of --json with %s" % what)
    for argv in (["--bogus"], ["extra"], ["--socket", "/x", "--config", "/y"]):
        r = subprocess.run([CUSTOS, "status"] + argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        expect(r.returncode == 2 and r.stderr and not r.stdout, "custos status %s: %d %r" % (
            " ".join(argv), r.returncode, r.stderr))


def test_status_not_root(t):
    """nobody cannot ask: the socket's directory keeps it out (exit 4,
    permission denied); with the directory and socket opened up by hand, the
    agent itself refuses (it checks the peer's uid) and counts it."""
    d = t.mkdir("crm")
    a = t.start_agent(_config(t, d))
    r = _status(t, user="nobody")
    expect_eq(r.returncode, 4, "exit status for nobody", r.stderr.decode())
    expect("permission denied" in r.stderr.decode(), "message for nobody: %r" % r.stderr)
    os.chmod(os.path.dirname(t.control_socket()), 0o755)
    os.chmod(t.control_socket(), 0o666)
    r = _status(t, user="nobody")
    expect_eq(r.returncode, 4, "exit status for nobody, socket opened up", r.stderr.decode())
    expect_eq(r.stderr.decode().strip(), "custos status: the agent at %s refused: permission denied: the control "
              "socket is for root only" % t.control_socket(), "message")
    expect_eq(r.stdout, b"", "stdout for nobody")
    rc, js = _status_json(t)
    expect_eq(get(js, "clients.refused"), 1, "clients.refused")
    a.stop()


class _Trace:
    """custos trace started with Popen; stdout read line by line."""

    def __init__(self, t, args, env=None, stdout=None):
        self.path = t.path(t.unique("trace") + ".out")
        self.err_path = self.path + ".err"
        self.t0 = time.time()
        with open(self.err_path, "wb") as err:
            self.out = open(self.path, "wb") if stdout is None else None
            self.p = subprocess.Popen([CUSTOS, "trace"] + args, stdout=self.out or stdout, stderr=err, env=env)
        t.on_cleanup(lambda: (self.p.poll() is None and self.p.kill(), self.p.wait()))

    def lines(self):
        with open(self.path, "rb") as f:
            raw = f.read()
        return raw[:raw.rfind(b"\n") + 1].decode("utf-8", "replace").splitlines()

    def stderr(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_line(self, pred, what, timeout=10):
        deadline = time.time() + scaled(timeout)
        while time.time() < deadline:
            for ln in self.lines():
                if pred(ln):
                    return time.time()
            if self.p.poll() is not None:
                fail("%s: trace exited with %s\nstderr:\n%s" % (what, self.p.returncode, self.stderr()))
            time.sleep(0.01)
        fail("%s: not within %s s\nstdout:\n%s\nstderr:\n%s" % (what, timeout, "\n".join(self.lines()),
                                                                   self.stderr()))

    def stop(self):
        self.p.send_signal(2)
        rc = self.p.wait(scaled(10))
        if self.out:
            self.out.close()
        return rc


def test_trace_attached(t):
    """With an agent running, trace attaches to it: it holds no BPF program
    or map of its own, is ready in well under the time an agent takes to
    load, shows the agent's events as human lines (with --user/--comm/--pid
    working as before) or, with --json, the agent's own JSON lines byte for
    byte; it exits 0 on SIGINT."""
    auid, aname = t.login_user()
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", "0123456789abcdef")
    other = t.write("crm/other/b.csv", "b")
    a = t.start_agent(_config(t, d))
    human = _Trace(t, ["--socket", t.control_socket()], env=UTF8)
    under = _Trace(t, ["--socket", t.control_socket(), "--json", "--path", os.path.dirname(other)])
    ready = human.wait_line(lambda ln: ln.startswith("# attached to the agent (pid %d, " % a.pid), "attached")
    attach_s = ready - human.t0
    js = _Trace(t, ["--socket", t.control_socket(), "--json", "--comm", "cat", "--user", aname])
    time.sleep(0.5)
    expect_eq(_bpf_fds(human.p.pid), 0, "BPF programs and maps held by the attached trace")
    expect_eq(_bpf_fds(js.p.pid), 0, "BPF programs and maps held by the attached trace --json")
    r1 = run(["cat", f], loginuid=auid)
    r2 = run(["head", "-c", "4", f], loginuid=auid)
    r3 = run(["cat", f])  # no login user: not aname's
    r4 = run(["cat", other])
    human.wait_line(lambda ln: " %d cat close " % r4.pid in ln, "the close of the last cat")
    a.wait_for(lambda e: action(e) == "close" and get(e, "process.pid", None) == r3.pid, "agent: last close")
    time.sleep(0.3)
    expect_eq(human.stop(), 0, "trace's exit status on SIGINT")
    expect_eq(js.stop(), 0, "trace --json's exit status on SIGINT")
    expect_eq(under.stop(), 0, "trace --path's exit status on SIGINT")
    expect_eq([(json.loads(ln)["process"]["pid"], json.loads(ln)["file"]["path"]) for ln in under.lines()],
              [(r4.pid, other), (r4.pid, other)], "events of trace --json --path (pid, path)", "\n".join(under.lines()))
    lines = human.lines()
    expect_eq(lines[0], "# attached to the agent (pid %d, %s)" % (a.pid, t.control_socket()), "first line")
    got = []
    for ln in lines[1:]:
        m = LINE.match(ln)
        expect(m, "a line in no known form: %r" % ln, "\n".join(lines))
        if int(m.group(5)) in (r1.pid, r2.pid, r3.pid, r4.pid):
            got.append((m.group(2), m.group(4), int(m.group(5)), m.group(6), m.group(7), m.group(8), m.group(9)))
    expect_eq(got, [(aname, "root", r1.pid, "cat", "open", "-", f), (aname, "root", r1.pid, "cat", "close", "16", f),
                    (aname, "root", r2.pid, "head", "open", "-", f), (aname, "root", r2.pid, "head", "close", "4", f),
                    ("-", "root", r3.pid, "cat", "open", "-", f), ("-", "root", r3.pid, "cat", "close", "16", f),
                    ("-", "root", r4.pid, "cat", "open", "-", other), ("-", "root", r4.pid, "cat", "close", "1", other)],
              "human lines (login, user, pid, comm, action, bytes, path)", "\n".join(lines))
    mine = js.lines()
    agent_lines = {json.loads(ln)["custos"]["seq"]: ln for ln in a.raw().decode().splitlines()}
    expect_eq([json.loads(ln)["process"]["pid"] for ln in mine], [r1.pid, r1.pid], "pids of --json --comm cat --user",
              "\n".join(mine))
    for ln in mine:
        expect_eq(ln, agent_lines.get(json.loads(ln)["custos"]["seq"]), "a --json line against the agent's")
    expect("attached to the agent (pid %d" % a.pid in js.stderr(), "trace --json says it attached on stderr",
           js.stderr())
    print("trace attached: ready %.3f s after start" % attach_s)
    expect(attach_s < scaled(5), "trace took %.2f s to attach (less than 1 s expected)" % attach_s)
    a.stop()


def test_trace_falls_back(t):
    """With no agent at the socket, trace loads its own hooks (its first line
    is "# agent-start", and it holds BPF programs); so it does with
    --standalone while an agent runs."""
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", "abc")
    tr = _Trace(t, ["--socket", t.control_socket(), "--path", d])
    ready = tr.wait_line(lambda ln: ln == "# agent-start", "# agent-start", timeout=30)
    print("trace standalone (no agent): ready %.3f s after start" % (ready - tr.t0))
    expect(_bpf_fds(tr.p.pid) > 0, "the standalone trace holds no BPF program")
    r = run(["cat", f])
    tr.wait_line(lambda ln: " %d cat close 3 " % r.pid in ln, "close of cat")
    expect_eq(tr.stop(), 0, "exit status")
    expect_eq(tr.lines()[0], "# agent-start", "first line")

    a = t.start_agent(_config(t, d))
    tr = _Trace(t, ["--socket", t.control_socket(), "--standalone", "--path", d])
    ready = tr.wait_line(lambda ln: ln == "# agent-start", "# agent-start with --standalone", timeout=30)
    print("trace --standalone (agent running): ready %.3f s after start" % (ready - tr.t0))
    expect(_bpf_fds(tr.p.pid) > 0, "trace --standalone holds no BPF program")
    expect_eq(tr.stop(), 0, "exit status")
    a.stop()


def _cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _connect(t):
    s = socket.socket(socket.AF_UNIX)
    s.connect(t.control_socket())
    s.settimeout(scaled(5))
    return s


def _reply(s):
    data = b""
    while not data.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def test_control_hostile_clients(t):
    """Garbage, a line past 4096 bytes, bytes that are not UTF-8, unknown
    ops and keys: an error reply each (and the connection closed); more
    than 16 clients: the 17th is told and closed; a subscriber that never
    reads while 8000 events flow: the agent's stdout loses nothing (seq
    1, 2, 3...), the events dropped for it are counted, and after 30 s
    without reading it is disconnected. The agent still answers status afterwards."""
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", "x" * 100)
    a = t.start_agent(_config(t, d))
    for req, want in ((b"garbage\n", "not a JSON request"), (b"{}\n", "expected {\"op\""),
                      (b"\xff\xfe\n", "not a JSON request"), (b'{"op":"reboot"}\n', "unknown op"),
                      (b'{"op":"subscribe","format":"xml"}\n', "\"format\""),
                      (b'{"op":"subscribe","paths":["relative"]}\n', "expected an absolute path"),
                      (b'{"op":"status","op":"status"}\n', "not a JSON request"),
                      (b"{" * 5000, "longer than 4096")):
        s = _connect(t)
        s.sendall(req)
        rep = _reply(s)
        try:
            msg = json.loads(rep)
        except ValueError:
            fail("reply to %r is not JSON: %r" % (req[:40], rep))
        expect(msg.get("control") == "error" and want in msg.get("error", ""), "reply to %r: %r" % (req[:40], rep))
        try:
            rest = s.recv(100)
        except ConnectionResetError:  # it closed with our bytes unread
            rest = b""
        expect_eq(rest, b"", "the connection after an error (closed)")
        s.close()
    s = _connect(t)  # a request ended by the end of the stream rather than a newline
    s.sendall(b'{"op":"status"}')
    s.shutdown(socket.SHUT_WR)
    expect_eq(json.loads(_reply(s)).get("control"), "status", "reply to a status request without newline")
    s.close()
    # A client that asks without reading: once its replies are past the bound it is closed;
    # its unread bytes must not keep the agent's loop turning.
    flood = _connect(t)
    flood.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    flood.setblocking(False)
    sent = 0
    try:
        while sent < 32 << 20:
            sent += flood.send(b'{"op":"status"}\n' * 4096)
    except BlockingIOError:
        pass
    time.sleep(1)
    cpu0 = _cpu_seconds(a.pid)
    time.sleep(3)
    used = _cpu_seconds(a.pid) - cpu0
    expect(used < 1.0, "the agent used %.2f s of CPU in 3 s with a flooding client that does not read" % used)
    flood.close()
    many = [_connect(t) for _ in range(16)]
    extra = _connect(t)
    expect_eq(json.loads(_reply(extra)), {"control": "error", "error": "too many clients"}, "the 17th client")
    for s in many:
        s.close()
    extra.close()

    stuck = _connect(t)
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck.sendall(b'{"op":"subscribe"}\n')
    time.sleep(0.5)
    n = 4000
    r = run([PY, "-c", "import sys\nfor i in range(%d): open(sys.argv[1]).read()" % n, f])
    a.wait_for(lambda e: action(e) == "close" and get(e, "process.pid", None) == r.pid and
               len(file_events(a.events_now(grep=b'"close"'), f, "close", pid=r.pid)) == n,
               "the %d closes on stdout" % n, timeout=60, grep=b'"close"')
    rc, js = _status_json(t)
    expect(get(js, "clients.events_dropped") > 0, "no event dropped for a client that never reads", js["clients"])
    deadline = time.time() + scaled(60)
    while get(js, "clients.disconnected_stalled") == 0 and time.time() < deadline:
        time.sleep(1)
        rc, js = _status_json(t)
    expect_eq(get(js, "clients.disconnected_stalled"), 1, "clients disconnected for not reading", js["clients"])
    stuck.close()
    evs = a.stop()
    check_seq(evs)
    expect_eq(len(file_events(evs, f, "open", pid=r.pid)), n, "opens of the workload on the agent's stdout")
    expect_eq(len(file_events(evs, f, "close", pid=r.pid)), n, "closes of the workload on the agent's stdout")


test_control_hostile_clients.timeout = 120


def test_trace_attached_too_slow(t):
    """trace --json whose stdout nobody reads for a while: the agent drops
    events for it alone and tells it; trace says how many on stderr, and
    what it printed plus what was dropped is every event of the agent
    after it attached."""
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", "y" * 100)
    a = t.start_agent(_config(t, d))
    tr = _Trace(t, ["--socket", t.control_socket(), "--json"], stdout=subprocess.PIPE)
    deadline = time.time() + scaled(10)
    while "attached" not in tr.stderr() and time.time() < deadline:
        time.sleep(0.05)
    n = 6000
    r = run([PY, "-c", "import sys\nfor i in range(%d): open(sys.argv[1]).read()" % n, f])
    deadline = time.time() + scaled(60)
    while len(file_events(a.events_now(grep=b'"close"'), f, "close", pid=r.pid)) < n and time.time() < deadline:
        time.sleep(0.2)
    # now read everything trace wrote, and make one more event for the drop notice to go out before
    got = []
    os.set_blocking(tr.p.stdout.fileno(), False)

    def drain():
        while True:
            try:
                chunk = tr.p.stdout.read()
            except BlockingIOError:
                chunk = None
            if not chunk:
                return
            got.append(chunk)
    for _ in range(20):
        drain()
        time.sleep(0.1)
    last = run(["cat", f])
    deadline = time.time() + scaled(10)
    while (b'"pid":%d' % last.pid) not in b"".join(got) and time.time() < deadline:
        drain()
        time.sleep(0.1)
    expect((b'"pid":%d' % last.pid) in b"".join(got), "the events of the last cat did not reach trace",
           tr.stderr())
    tr.p.send_signal(2)
    rc = tr.p.wait(scaled(10))
    drain()
    expect_eq(rc, 0, "trace's exit status", tr.stderr())
    lines = b"".join(got).decode().splitlines()
    said = re.findall(r"the agent dropped (\d+) events for this trace", tr.stderr())
    expect(said, "trace did not say it lost events", tr.stderr())
    dropped = sum(int(x) for x in said)
    seqs = [json.loads(ln)["custos"]["seq"] for ln in lines]
    expect(seqs == sorted(seqs), "trace's lines out of order")
    evs = a.stop()
    last_seq = seqs[-1]
    first_seq = seqs[0]
    expect_eq(len(seqs) + dropped, last_seq - first_seq + 1,
              "lines printed (%d) + dropped (%d) against the agent's seqs %d..%d" % (
                  len(seqs), dropped, first_seq, last_seq))
    check_seq(evs)


test_trace_attached_too_slow.timeout = 120


def test_check_control_socket(t):
    """custos check validates control_socket: an absolute path of at most
    107 bytes, or "" for none; anything else is refused (exit status 1) with
    the file, line and column; a valid one is shown, in text and --json."""
    d = t.mkdir("crm")
    cases = (("/run/x/agent.sock", None), ("", None),
             ("rel.sock", 'control_socket: "rel.sock" is not an absolute path'),
             ("/" + "a" * 120, '"control_socket" is 121 bytes long'),
             (5, '"control_socket" must be a string, not a number'),
             ("/run/custos/", '"control_socket" ends with "/"'))
    for value, refusal in cases:
        path = t.config_file({"watch": [{"name": "a", "paths": [d]}], "control_socket": value})
        r = subprocess.run([CUSTOS, "check", "--config", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=60)
        out, err = r.stdout.decode(), r.stderr.decode()
        if refusal:
            expect_eq(r.returncode, 1, "exit status of check with control_socket %r" % (value,), err)
            expect(re.search(r"^%s:\d+:\d+: %s" % (re.escape(path), re.escape(refusal)), err, re.M),
                   "refusal of control_socket %r" % (value,), err)
            continue
        expect(r.returncode in (0, 4), "check refused control_socket %r: %d" % (value, r.returncode), err)
        want = value or "none (custos status and trace cannot reach the agent)"
        expect(("\ncontrol socket: %s\n" % want) in out, "check's text for control_socket %r" % (value,), out)
        r = subprocess.run([CUSTOS, "check", "--json", "--config", path], stdout=subprocess.PIPE, timeout=60)
        expect_eq(json.loads(r.stdout)["config"]["control_socket"], value, "check --json: config.control_socket")
