"""Outputs ("Ship to the SIEM and lose nothing"): file, syslog and http
outputs next to stdout, the disk spool of network outputs, gap events,
rotation, heartbeats.

Every test starts its own receivers, in its own directory, on loopback or on
unix sockets, on free ports; run.py kills them with the test's process group.
The agent's stdout (always one of the outputs) is the reference: what a
receiver gets is compared with it event by event (custos.seq).

Receivers:

- rsyslog (package rsyslog), run as `rsyslogd -n -f CONF -i PIDFILE` with the
  configuration below (workDirectory in the test directory, TCP input bound
  to 127.0.0.1:PORT with its own ruleset so that rsyslog's own messages stay
  out). imtcp takes RFC 6587 octet-counted frames ("LEN SP MESSAGE") by
  itself; maxMessageSize must be raised (8 KiB by default) and must come
  before the modules are loaded. For an RFC 5424 message %msg% is the JSON
  exactly (no leading space, unlike RFC 3164); a second file gets the header
  fields as rsyslog parsed them and the raw message:

      global(workDirectory="DIR" maxMessageSize="1m")
      module(load="imtcp")
      template(name="custosJson" type="string" string="%msg%\\n")
      template(name="custosHead" type="string"
               string="%pri% %protocol-version% %hostname% %app-name% %procid% %msgid% %structured-data%|%rawmsg%\\n")
      ruleset(name="custos") {
          action(type="omfile" file="DIR/events.ndjson" template="custosJson")
          action(type="omfile" file="DIR/head.log" template="custosHead")
      }
      input(type="imtcp" address="127.0.0.1" port="PORT" ruleset="custos")

- http: a Python http.server (HTTP/1.1, in a thread of the test) that keeps
  every request (method, path, headers, body) and answers 200, or 503 for
  the first seconds after its first request.
- syslog over UDP and unix datagram sockets: sockets bound by the test.
"""

import calendar
import gzip
import hashlib
import http.server
import json
import os
import re
import socket
import stat
import subprocess
import threading
import time

from dbservers import free_port
from itlib import (CUSTOS, PY, action, agent_events, expect, expect_eq, fail, get, hostname, outputs_stats,
                   parse_lines, run, sh, show, which)

RFC5424_RE = re.compile(
    r"^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (-|\[\S*\]) (.*)$", re.S)
# RFC 5424 TIME-SECFRAC is 1 to 6 digits; UTC as the spec says.
SYSLOG_TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")
AUTHPRIV = 10
LOCAL3 = 19
INFO = 6
WARNING = 4
DELIVERY_TIMEOUT = 40  # http backoff goes up to 30 s
GAP_REASONS = ("queue_full", "spool_full", "spool_write_failed", "too_large")

# One process reads a watched file n times, d seconds apart: an open and a
# close event each time.
READER = r"""
import sys, time
f, n, d = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
for i in range(n):
    with open(f, "rb") as h:
        h.read()
    if d:
        time.sleep(d)
"""


# ------------------------------------------------------------------ helpers


def config(t, outputs, **extra):
    """A config watching t/crm, heartbeats off, the spool in the test directory."""
    d = t.mkdir("crm")
    c = {"watch": [{"name": "crm", "tags": ["pii"], "paths": [d]}], "heartbeat_interval": 0,
         "outputs": outputs, "spool": {"dir": t.path("spool")}}
    c.update(extra)
    return c


def reader(t, n, delay=0.0, name="a.csv", background=False):
    f = t.write(os.path.join("crm", name), "0123456789")
    argv = [PY, "-c", READER, f, str(n), str(delay)]
    if background:
        return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return run(argv, timeout=120)


def wait_until(fn, timeout, what, evidence=lambda: ""):
    """fn()'s value as soon as it is true; a failure after timeout seconds."""
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.time() > deadline:
            fail("%s: not within %s s" % (what, timeout), evidence())
        time.sleep(0.1)


def seqs(evs):
    return [get(e, "custos.seq") for e in evs]


def by_seq(evs):
    return {get(e, "custos.seq"): e for e in evs}


def first_occurrences(evs):
    """The events with each seq once (its first occurrence), in arrival order;
    and how many were duplicates."""
    seen, out = set(), []
    for e in evs:
        s = get(e, "custos.seq")
        if s not in seen:
            seen.add(s)
            out.append(e)
    return out, len(evs) - len(out)


def check_same_events(got, ref, what, allow_dups=False, complete=True):
    """got (what a receiver has) against ref (the agent's stdout): each event
    identical to the stdout event with its seq, seqs in increasing order, none
    missing (if complete), duplicates only if allowed."""
    ref_by = by_seq(ref)
    uniq, dups = first_occurrences(got)
    if not allow_dups:
        expect_eq(dups, 0, "%s: duplicated events" % what,
                  [e for e in got if seqs(got).count(get(e, "custos.seq")) > 1][:20])
    for e in got:
        s = get(e, "custos.seq")
        if s not in ref_by:
            fail("%s: seq %s is not in the agent's stdout" % (what, s), e)
        if e != ref_by[s]:
            fail("%s: event seq %s differs from stdout's" % (what, s), e, ref_by[s])
    order = seqs(uniq)
    expect(order == sorted(order), "%s: events not in seq order: %s" % (what, order[:200]))
    if complete:
        missing = sorted(set(ref_by) - set(order))
        expect(not missing, "%s: %d seqs of stdout missing: %s" % (what, len(missing), missing[:100]))
    return dups


def parse_rfc5424(msg, what):
    """(pri, timestamp, hostname, app, procid, msgid, sd, event) of one message."""
    m = RFC5424_RE.match(msg)
    if not m:
        fail("%s is not an RFC 5424 message <PRI>1 TIMESTAMP HOST APP PID MSGID SD MSG: %r" % (what, msg[:500]))
    pri, ts, host, app, procid, msgid, sd, body = m.groups()
    try:
        ev = json.loads(body)
    except ValueError as e:
        fail("%s: the MSG part is not one JSON object (%s): %r" % (what, e, body[:500]))
    if not isinstance(ev, dict):
        fail("%s: the MSG part is not a JSON object: %r" % (what, body[:500]))
    return int(pri), ts, host, app, procid, msgid, sd, ev


def check_syslog_header(fields, agent_pid, facility, what):
    pri, ts, host, app, procid, msgid, sd, ev = fields
    severity = WARNING if action(ev) == "gap" else INFO
    expect_eq(pri, facility * 8 + severity, "%s: PRI of %s (facility %d, severity %d)" % (
        what, action(ev), facility, severity), ev)
    expect(SYSLOG_TS_RE.match(ts), "%s: TIMESTAMP %r is not RFC 3339 UTC with at most 6 fractional "
           "digits (RFC 5424 TIME-SECFRAC)" % (what, ts), ev)
    expect_eq(host, get(ev, "host.name"), "%s: HOSTNAME" % what, ev)
    expect_eq(app, "custos", "%s: APP-NAME" % what, ev)
    expect_eq(procid, str(agent_pid), "%s: PROCID (the agent's pid)" % what, ev)
    expect_eq(msgid, action(ev), "%s: MSGID (event.action)" % what, ev)
    expect_eq(sd, "-", "%s: STRUCTURED-DATA" % what, ev)


def gaps(evs, output=None):
    return [e for e in evs if action(e) == "gap"
            and (output is None or get(e, "custos.gap.output", None) == output)]


def check_gap_event(e, output):
    expect_eq(get(e, "event.category"), "process", "gap event.category", e)
    expect_eq(get(e, "event.outcome"), "failure", "gap event.outcome", e)
    expect_eq(get(e, "custos.gap.output"), output, "custos.gap.output", e)
    expect(get(e, "custos.gap.reason") in GAP_REASONS, "custos.gap.reason is not one of %s" % (GAP_REASONS,), e)
    n, a, b = get(e, "custos.gap.count"), get(e, "custos.gap.first_seq"), get(e, "custos.gap.last_seq")
    expect(isinstance(n, int) and n > 0, "custos.gap.count is not a positive integer", e)
    expect(isinstance(a, int) and isinstance(b, int) and 1 <= a <= b, "custos.gap first_seq/last_seq", e)
    expect(n <= b - a + 1, "custos.gap.count is more than last_seq - first_seq + 1", e)


def check_gap_accounting(ref, got, output, what):
    """The seqs of stdout missing from got are exactly those the gap events of
    output on stdout say were dropped: counts add up, ranges cover them."""
    g = gaps(ref, output)
    for e in g:
        check_gap_event(e, output)
    missing = sorted(set(seqs(ref)) - set(seqs(got)))
    counted = sum(get(e, "custos.gap.count") for e in g)
    spans = [(get(e, "custos.gap.first_seq"), get(e, "custos.gap.last_seq")) for e in g]
    arrived = set(seqs(got))
    outside = [s for s in missing if not any(a <= s <= b for a, b in spans)]
    inside_arrived = sorted(s for s in arrived if any(a <= s <= b for a, b in spans))
    gap_summary = ", ".join("seq %d: %d in %d..%d" % (get(e, "custos.seq"), get(e, "custos.gap.count"), a, b)
                            for e, (a, b) in zip(g, spans))
    if counted != len(missing) or outside:
        fail("%s: the gap events of %s count %d events dropped, but %d seqs of stdout are missing at the "
             "receiver (%s); missing and in no gap range: %s; in a gap range but arrived: %s; gap events "
             "(seq: count in first..last): %s" % (what, output, counted, len(missing), ranges(missing),
                                                    ranges(outside) or "none", ranges(inside_arrived) or "none",
                                                    gap_summary))
    return g, missing


def spool_files(d):
    """The files under the spool directory d and their sizes, for a failure message."""
    out = []
    for dp, _, fns in os.walk(d):
        for fn in sorted(fns):
            p = os.path.join(dp, fn)
            out.append("%s %d" % (os.path.relpath(p, d), os.path.getsize(p)))
    st = os.statvfs(d)
    return "%s (free %d bytes)" % (", ".join(out) or "(empty)", st.f_bavail * st.f_frsize)


def ranges(ns):
    """[1, 2, 3, 7, 9, 11] as "1..3, 7..11/2" (runs of a constant step), for messages."""
    out, i = [], 0
    while i < len(ns):
        j = i + 1
        step = ns[j] - ns[i] if j < len(ns) else 1
        while j < len(ns) and ns[j] - ns[j - 1] == step:
            j += 1
        out.append(str(ns[i]) if j == i + 1 else "%d..%d%s" % (ns[i], ns[j - 1], "" if step == 1 else "/%d" % step))
        i = j
    return ", ".join(out)


def agent_seq_of_file_event(evs, pid, act):
    return [get(e, "custos.seq") for e in evs if get(e, "process.pid", None) == pid and action(e) == act]


# ----------------------------------------------------------------- receivers


def listening(port):
    """Something listens on 127.0.0.1:port (TCP)."""
    want = ":%04X" % port
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            p = line.split()
            if p[1].endswith(want) and p[3] == "0A":
                return True
    return False


class Rsyslog:
    """rsyslogd of this test: TCP on 127.0.0.1:port, the JSON of each message
    in events_path (one per line), the parsed header and raw message in
    head_path."""

    def __init__(self, t, port=None, name="rsyslog"):
        self.t = t
        self.port = port or free_port()
        self.dir = t.mkdir(name)
        self.events_path = os.path.join(self.dir, "events.ndjson")
        self.head_path = os.path.join(self.dir, "head.log")
        self.conf = os.path.join(self.dir, "rsyslog.conf")
        self.pidfile = os.path.join(self.dir, "rsyslogd.pid")
        self.log = os.path.join(self.dir, "rsyslogd.log")
        self.proc = None
        with open(self.conf, "w") as f:
            f.write("""global(workDirectory="%(dir)s" maxMessageSize="1m")
module(load="imtcp")
template(name="custosJson" type="string" string="%%msg%%\\n")
template(name="custosHead" type="string" string="%%pri%% %%protocol-version%% %%hostname%% %%app-name%% %%procid%% %%msgid%% %%structured-data%%|%%rawmsg%%\\n")
ruleset(name="custos") {
    action(type="omfile" file="%(events)s" template="custosJson")
    action(type="omfile" file="%(head)s" template="custosHead")
}
input(type="imtcp" address="127.0.0.1" port="%(port)d" ruleset="custos")
""" % {"dir": self.dir, "events": self.events_path, "head": self.head_path, "port": self.port})

    def start(self):
        rsyslogd = which("rsyslogd")
        if os.path.exists(self.pidfile):
            os.unlink(self.pidfile)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([rsyslogd, "-n", "-f", self.conf, "-i", self.pidfile],
                                         stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        proc = self.proc
        self.t.on_cleanup(lambda: proc.poll() is None and (proc.kill(), proc.wait()))
        deadline = time.time() + 15
        while not listening(self.port):
            if proc.poll() is not None:
                fail("rsyslogd exited with status %s:\n%s" % (proc.returncode, self.log_text()))
            if time.time() > deadline:
                fail("rsyslogd does not listen on 127.0.0.1:%d within 15 s:\n%s" % (self.port, self.log_text()))
            time.sleep(0.05)
        return self

    def kill(self):
        self.proc.kill()
        self.proc.wait(10)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)

    def log_text(self):
        try:
            with open(self.log, "rb") as f:
                return f.read()[-3000:].decode("utf-8", "replace")
        except OSError:
            return ""

    def _complete(self, path):
        try:
            with open(path, "rb") as f:
                raw = f.read()
        except FileNotFoundError:
            return b""
        return raw[:raw.rfind(b"\n") + 1]

    def events(self):
        return parse_lines(self._complete(self.events_path), "rsyslog's %s" % self.events_path)

    def heads(self):
        """Per message: (rsyslog's parsed fields as a list, the raw message)."""
        out = []
        for line in self._complete(self.head_path).decode("utf-8", "strict").split("\n")[:-1]:
            parsed, raw = line.split("|", 1)
            out.append((parsed.split(" "), raw))
        return out


class HttpReceiver:
    """An HTTP/1.1 server on 127.0.0.1 (a thread of the test) keeping every
    request; answers `status` (503) during the fail_seconds after its first
    request, 200 after."""

    def __init__(self, t, fail_seconds=0, status=503):
        self.t = t
        self.fail_seconds = fail_seconds
        self.fail_status = status
        self.requests = []  # dicts: method, path, headers, body, status, time
        self.lock = threading.Lock()
        self.started = None
        self.first = None  # when the first request came
        recv = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _body(self):
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    body = b""
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return body
                        body += self.rfile.read(size)
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length", "0")))

            def _any(self):
                body = self._body()
                with recv.lock:
                    if recv.first is None:
                        recv.first = time.time()
                failing = time.time() < recv.first + recv.fail_seconds
                status = recv.fail_status if failing else 200
                with recv.lock:
                    recv.requests.append({"method": self.command, "path": self.path,
                                          "headers": {k.lower(): v for k, v in self.headers.items()},
                                          "body": body, "status": status, "time": time.time()})
                reply = b'{"text":"Success","code":0}' if status == 200 else b'{"text":"busy"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            do_POST = do_PUT = _any

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]

    def url(self, path="/services/collector/event"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def start(self):
        self.started = time.time()
        th = threading.Thread(target=self.server.serve_forever, daemon=True)
        th.start()
        self.t.on_cleanup(lambda: (self.server.shutdown(), self.server.server_close()))
        return self

    def delivered(self):
        with self.lock:
            return [r for r in self.requests if 200 <= r["status"] < 300]

    def all(self):
        with self.lock:
            return list(self.requests)


def body_events(req, fmt, what):
    """The events of one request body in format fmt (checking the format)."""
    body = req["body"]
    try:
        text = body.decode("utf-8", "strict")
    except UnicodeDecodeError as e:
        fail("%s: body is not UTF-8: %s" % (what, e))
    expect(text.endswith("\n"), "%s: body does not end with a newline: ...%r" % (what, text[-200:]))
    lines = text.split("\n")[:-1]
    objs = []
    for n, line in enumerate(lines, 1):
        try:
            objs.append(json.loads(line))
        except ValueError as e:
            fail("%s: body line %d is not JSON (%s): %r" % (what, n, e, line[:500]))
    if fmt == "ndjson":
        return objs
    if fmt == "hec":
        evs = []
        for o in objs:
            expect(isinstance(o, dict) and sorted(o) == ["event", "host", "sourcetype", "time"],
                   "%s: a hec line is not {event, time, host, sourcetype}" % what, o)
            expect_eq(o["sourcetype"], "custos", "%s: hec sourcetype" % what, o)
            expect_eq(o["host"], hostname(), "%s: hec host" % what, o)
            expect(isinstance(o["time"], (int, float)), "%s: hec time is not a number" % what, o)
            evs.append(o["event"])
        return evs
    if fmt == "bulk":
        expect(len(objs) % 2 == 0, "%s: odd number of lines in a bulk body" % what, objs[:6])
        for k in range(0, len(objs), 2):
            expect_eq(objs[k], {"create": {}}, "%s: bulk action line %d" % (what, k + 1), objs[k + 1])
        return objs[1::2]
    raise AssertionError(fmt)


def received(recv, fmt, what):
    out = []
    for r in recv.delivered():
        out += body_events(r, fmt, what)
    return out


def epoch(ts):
    """Seconds since the epoch of @timestamp (RFC 3339 UTC, 9 fractional digits)."""
    base = calendar.timegm(time.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S"))
    return base + int(ts[20:29]) / 1e9


# -------------------------------------------------------------------- syslog


def test_syslog_tcp_rsyslog(t):
    """RFC 5424 over TCP (octet counting) into rsyslog: every event (agent-start,
    opens and closes by cat, agent-stop) arrives exactly once, in seq order,
    identical to stdout; PRI authpriv.info (86), APP-NAME custos, PROCID the
    agent's pid, MSGID the event.action, HOSTNAME the host; agent-start names
    the outputs and the config's sha256."""
    rs = Rsyslog(t).start()
    name = "syslog:tcp://127.0.0.1:%d" % rs.port
    c = config(t, [{"type": "stdout"}, {"type": "syslog", "url": "tcp://127.0.0.1:%d" % rs.port}])
    a = t.agent(c)
    a.start()
    f = t.write("crm/a.csv", "0123456789")
    long_name = t.write("crm/" + "l" * 200 + ".csv", "x")
    pids = [run(["cat", f]).pid for _ in range(5)] + [run(["cat", long_name]).pid]
    ref_now = a.events_now()
    wait_until(lambda: len(rs.events()) >= len(ref_now), 10, "rsyslog has the events so far",
               lambda: show(rs.events()))
    evs = a.stop()
    wait_until(lambda: len(rs.events()) >= len(evs), 10, "rsyslog has agent-stop", lambda: show(rs.events()))
    time.sleep(0.5)
    got = rs.events()
    check_same_events(got, evs, "rsyslog")
    expect_eq(len(got), len(evs), "events at rsyslog (exactly once each)")
    for p in pids:
        expect_eq(len(agent_seq_of_file_event(got, p, "open")), 1, "open events of cat pid %d at rsyslog" % p)
    start = evs[0]
    expect_eq(get(start, "custos.agent.outputs"), ["stdout", name], "agent-start custos.agent.outputs", start)
    with open(a.config_path, "rb") as cf:
        digest = hashlib.sha256(cf.read()).hexdigest()
    expect_eq(get(start, "custos.agent.config_digest"), digest, "agent-start custos.agent.config_digest", start)
    v = get(start, "custos.agent.version")
    expect(isinstance(v, str) and v, "custos.agent.version is not a non-empty string", start)
    heads = rs.heads()
    expect_eq(len(heads), len(got), "messages in rsyslog's header file")
    for (parsed, raw), ev in zip(heads, got):
        fields = parse_rfc5424(raw, "raw message seq %s" % get(ev, "custos.seq"))
        expect_eq(fields[7], ev, "the JSON of the raw message vs rsyslog's %msg%")
        check_syslog_header(fields, a.pid, AUTHPRIV, "rsyslog raw message")
        # what rsyslog's own RFC 5424 parser made of it
        pri, version, host, app, procid, msgid, sd = parsed
        expect_eq([pri, version, host, app, procid, msgid, sd],
                  [str(AUTHPRIV * 8 + INFO), "1", hostname(), "custos", str(a.pid), action(ev), "-"],
                  "rsyslog's pri, protocol-version, hostname, app-name, procid, msgid, structured-data", ev)


test_syslog_tcp_rsyslog.timeout = 60


def test_syslog_tcp_receiver_killed(t):
    """rsyslog is SIGKILLed while a process keeps reading watched files, and
    restarted on the same port 3 s later: every seq of stdout reaches rsyslog's
    file (duplicates allowed, each identical to stdout), first occurrences in
    order."""
    rs = Rsyslog(t).start()
    c = config(t, [{"type": "stdout"}, {"type": "syslog", "url": "tcp://127.0.0.1:%d" % rs.port}])
    a = t.start_agent(c)
    p = reader(t, 700, 0.01, background=True)
    t.on_cleanup(lambda: p.poll() is None and (p.kill(), p.wait()))
    wait_until(lambda: len(rs.events()) > 100, 10, "rsyslog receives the stream")
    rs.kill()
    killed_at = time.time()
    before_kill = len(rs.events())
    time.sleep(3)
    rs.start()
    expect_eq(p.wait(60), 0, "the reader's exit status")
    evs_now = a.events_now()
    after = [e for e in evs_now if get(e, "process.pid", None) == p.pid and epoch(get(e, "@timestamp")) > killed_at]
    expect(len(after) > 100, "the reader's events after the kill: %d (the test needs a stream across it)" % len(after))
    wait_until(lambda: set(seqs(evs_now)) <= set(seqs(rs.events())), DELIVERY_TIMEOUT,
               "every event so far at rsyslog after its restart",
               lambda: "missing: %s" % sorted(set(seqs(evs_now)) - set(seqs(rs.events())))[:100])
    evs = a.stop()
    wait_until(lambda: set(seqs(evs)) <= set(seqs(rs.events())), 10, "agent-stop at rsyslog",
               lambda: "missing: %s" % sorted(set(seqs(evs)) - set(seqs(rs.events())))[:100])
    got = rs.events()
    dups = check_same_events(got, evs, "rsyslog after SIGKILL and restart", allow_dups=True)
    print("%d events, %d at rsyslog before the kill, %d duplicates after the reconnect" % (
        len(evs), before_kill, dups))


test_syslog_tcp_receiver_killed.timeout = 120


def test_spool_survives_restart(t):
    """The receiver is down; the agent is stopped (its events stay in the
    spool), the receiver started, a new agent started with the same config:
    the old run's events arrive first, all of them, then the new run's."""
    port = free_port()
    c = config(t, [{"type": "stdout"}, {"type": "syslog", "url": "tcp://127.0.0.1:%d" % port}])
    path = t.config_file(c)
    a1 = t.start_agent(path)
    for _ in range(5):
        run(["cat", t.write("crm/a.csv", "abc")])
    t0 = time.time()
    evs1 = a1.stop()
    expect(time.time() - t0 < 8, "the agent took %.1f s to stop with its receiver down (deadline 5 s)" % (
        time.time() - t0))
    spooled = sum(os.path.getsize(os.path.join(dp, fn)) for dp, _, fns in os.walk(t.path("spool")) for fn in fns)
    expect(spooled > 0, "nothing in the spool directory %s after a run with the receiver down" % t.path("spool"))
    rs = Rsyslog(t, port=port).start()
    a2 = t.start_agent(path)
    for _ in range(3):
        run(["cat", t.write("crm/a.csv", "abc")])
    wait_until(lambda: len(rs.events()) >= len(evs1) + 1, DELIVERY_TIMEOUT, "the first run's events at rsyslog",
               lambda: show(rs.events()))
    evs2_now = a2.events_now()
    wait_until(lambda: len(rs.events()) >= len(evs1) + len(evs2_now), 15, "the second run's events at rsyslog")
    evs2 = a2.stop()
    wait_until(lambda: len(rs.events()) >= len(evs1) + len(evs2), 10, "the second run's agent-stop at rsyslog")
    time.sleep(0.3)
    got = rs.events()
    # each event is the first or the second run's (their seqs both start at 1)
    runs = []
    for e in got:
        s = get(e, "custos.seq")
        if 1 <= s <= len(evs1) and evs1[s - 1] == e:
            runs.append((1, s))
        elif 1 <= s <= len(evs2) and evs2[s - 1] == e:
            runs.append((2, s))
        else:
            fail("an event at rsyslog is neither the first nor the second run's", e)
    uniq = []
    for r in runs:
        if r not in uniq:
            uniq.append(r)
    expected = [(1, s) for s in range(1, len(evs1) + 1)] + [(2, s) for s in range(1, len(evs2) + 1)]
    expect_eq(uniq, expected, "(run, seq) of the events at rsyslog, duplicates removed")
    expect_eq(action(got[0]), "agent-start", "the first event delivered (the first run's agent-start)")


test_spool_survives_restart.timeout = 90


def _spool_bound(t, tmpfs, max_bytes=65536):
    """Receivers down, many events, spool bounded (1 MiB tmpfs, or max_bytes
    with an output dropping the newest and one dropping the oldest): gap
    events whose counts are the seqs really missing once the receivers are
    back; the agent still delivers new events after."""
    spool = t.mkdir("spool", mode=0o700)
    spool_cfg = {"dir": spool}
    if tmpfs:
        sh(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "custos-it-spool", spool])
        t.on_cleanup(lambda: sh(["umount", spool], check=False), rescue="umount -l %s" % spool)
        drops = {"siem": "newest"}
    else:
        spool_cfg["max_bytes"] = max_bytes
        drops = {"siem": "newest", "siem-oldest": "oldest"}
    ports = {name: free_port() for name in drops}
    c = config(t, [{"type": "stdout"}] + [
        {"type": "syslog", "url": "tcp://127.0.0.1:%d" % ports[name], "name": name, "drop": drop}
        for name, drop in drops.items()])
    c["spool"] = spool_cfg
    a = t.start_agent(c)
    r = reader(t, 3000 if tmpfs or max_bytes > 65536 else 600)
    reasons = ("spool_full", "spool_write_failed") if tmpfs else ("spool_full",)
    for name in drops:
        g = a.wait_for(lambda e: action(e) == "gap" and get(e, "custos.gap.output", None) == name,
                       "a gap event of output %s" % name, timeout=10)
        check_gap_event(g, name)
        expect(get(g, "custos.gap.reason") in reasons, "custos.gap.reason is not one of %s" % (reasons,), g)
    expect(a.alive(), "the agent died when its spool filled up")
    rss = {name: Rsyslog(t, port=ports[name], name="rsyslog-" + name).start() for name in drops}
    # While a spool drains, new events may still find it full (and be
    # dropped, with gap events): read a marker file every 0.5 s until one of
    # those reads reaches every receiver.
    marker = t.write("crm/marker.csv", "m")
    markers = []

    def marker_arrived():
        markers.append(run(["cat", marker]).pid)
        time.sleep(0.4)
        for rs in rss.values():
            got = rs.events()
            if not any(agent_seq_of_file_event(got, p, "open") for p in markers):
                return False
        return True

    wait_until(marker_arrived, DELIVERY_TIMEOUT, "the open of a file read after the receivers came back, "
               "at every receiver", lambda: "%s\nspool: %s\nagent stderr:\n%s" % (
                   "\n".join("%s: %d events, the last: %s" % (n, len(rs.events()), show(rs.events()[-1:]))
                             for n, rs in rss.items()), spool_files(spool), a.stderr()[-3000:]))
    evs = a.stop()
    for name, rs in rss.items():
        wait_until(lambda: rs.events() and action(rs.events()[-1]) == "agent-stop", 10,
                   "agent-stop at the receiver of %s" % name)
        got = rs.events()
        check_same_events(got, evs, "rsyslog of " + name, allow_dups=True, complete=False)
        g, missing = check_gap_accounting(evs, got, name, "%s, drop %s, %s" % (
            name, drops[name], "spool on a 1 MiB tmpfs" if tmpfs else "max_bytes %d" % max_bytes))
        expect(missing, "%s: nothing was dropped: the test needs more events than the spool holds" % name)
        mine = agent_seq_of_file_event(evs, r.pid, "open")
        delivered = agent_seq_of_file_event(got, r.pid, "open")
        expect(delivered, "%s: none of the reader's events reached rsyslog" % name)
        if drops[name] == "oldest":
            expect(mine[-1] in delivered and mine[0] not in delivered,
                   "%s (drop oldest): the reader's last open should be delivered, its first dropped (reader's "
                   "opens: seq %d..%d, delivered: %s)" % (name, mine[0], mine[-1], ranges(delivered)), g)
        else:
            expect(mine[0] in delivered and mine[-1] not in delivered,
                   "%s (drop newest): the reader's first open should be delivered, its last dropped (reader's "
                   "opens: seq %d..%d, delivered: %s)" % (name, mine[0], mine[-1], ranges(delivered)), g)
        expect(set(seqs(g)) & set(seqs(got)), "no gap event of %s reached that output once it was back" % name, g)
        for (parsed, raw), ev in zip(rs.heads(), got):
            if action(ev) == "gap":
                expect_eq(parsed[0], str(AUTHPRIV * 8 + WARNING), "PRI of a gap event (authpriv.warning)", ev)
        print("%s: %d events, %d dropped, gap events: %s" % (name, len(evs), len(missing), show(g, 1000)))


def test_spool_full_tmpfs(t):
    """The spool's disk (a 1 MiB tmpfs) fills up while the receiver is down:
    gap events (spool_full or spool_write_failed) count exactly the seqs that
    never arrive; the agent lives on and delivers the rest when the receiver
    is back."""
    _spool_bound(t, tmpfs=True)


test_spool_full_tmpfs.timeout = 90


def test_spool_max_bytes(t):
    """spool.max_bytes 65536 with the receiver down: gap events (spool_full)
    count exactly the seqs that never arrive."""
    _spool_bound(t, tmpfs=False)


test_spool_max_bytes.timeout = 90


def test_spool_max_bytes_1m(t):
    """The same with spool.max_bytes 1 MiB (the spool in several segments)
    and more events."""
    _spool_bound(t, tmpfs=False, max_bytes=1 << 20)


test_spool_max_bytes_1m.timeout = 90


def test_syslog_udp_and_unix(t):
    """syslog over udp:// (facility local3) and unix:// (a datagram socket the
    test binds): one RFC 5424 message per datagram, no framing, carrying the
    JSON of every event once, in order."""
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    udp.bind(("127.0.0.1", 0))
    ux_path = t.path("log.sock")
    ux = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ux.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    ux.bind(ux_path)
    t.on_cleanup(lambda: (udp.close(), ux.close()))
    got = {"udp": [], "unix": []}

    def drain(sock, key):
        sock.settimeout(0.2)
        while True:
            try:
                got[key].append(sock.recv(1 << 20))
            except socket.timeout:
                continue
            except OSError:
                return

    for s, k in ((udp, "udp"), (ux, "unix")):
        threading.Thread(target=drain, args=(s, k), daemon=True).start()
    c = config(t, [{"type": "stdout"},
                   {"type": "syslog", "url": "udp://127.0.0.1:%d" % udp.getsockname()[1], "facility": "local3"},
                   {"type": "syslog", "url": "unix://" + ux_path}])
    a = t.start_agent(c)
    f = t.write("crm/a.csv", "abc")
    pids = [run(["cat", f]).pid for _ in range(10)]
    evs = a.stop()
    for k, facility in (("udp", LOCAL3), ("unix", AUTHPRIV)):
        wait_until(lambda: len(got[k]) >= len(evs), 10, "%d datagrams on %s" % (len(evs), k),
                   lambda: "got %d" % len(got[k]))
        time.sleep(0.3)
        msgs = []
        for n, dgram in enumerate(got[k]):
            text = dgram.decode("utf-8", "strict")
            expect(text.startswith("<"), "%s datagram %d does not start with <PRI> (framing?): %r" % (k, n, text[:100]))
            if text.endswith("\n"):
                text = text[:-1]
            fields = parse_rfc5424(text, "%s datagram %d" % (k, n))
            check_syslog_header(fields, a.pid, facility, k)
            msgs.append(fields[7])
        check_same_events(msgs, evs, "syslog over " + k)
        expect_eq(len(msgs), len(evs), "datagrams over %s (one per event)" % k)
        for p in pids:
            expect_eq(len(agent_seq_of_file_event(msgs, p, "open")), 1, "%s: opens by cat pid %d" % (k, p))


# ---------------------------------------------------------------------- file


ROTATED_RE = r"^%s\.(\d{8}T\d{6}\.\d{6}Z)\.gz$"


def rotated(path, t0, t1):
    """The rotated files of path, oldest first: [(file name, uncompressed bytes)];
    checks their names (UTC time of rotation within t0..t1) and that no
    uncompressed rotated file is left."""
    d, base = os.path.split(path)
    rx = re.compile(ROTATED_RE % re.escape(base))
    found = []
    for fn in os.listdir(d):
        if not fn.startswith(base + "."):
            continue
        m = rx.match(fn)
        if not m:
            fail("%s: unexpected file %s (an uncompressed rotated file left, or a bad name)" % (d, fn),
                 "files: %s" % sorted(os.listdir(d)))
        when = calendar.timegm(time.strptime(m.group(1)[:15], "%Y%m%dT%H%M%S")) + int(m.group(1)[16:22]) / 1e6
        expect(t0 - 2 <= when <= t1 + 2, "rotated file %s is not named after the UTC time of rotation "
               "(%.3f..%.3f)" % (fn, t0, t1))
        found.append(fn)
    out = []
    # the names sort oldest first
    for fn in sorted(found):
        p = os.path.join(d, fn)
        expect_eq(stat.S_IMODE(os.stat(p).st_mode), 0o600, "mode of %s" % fn)
        with gzip.open(p, "rb") as g:
            out.append((fn, g.read()))
    return out


def test_file_rotation(t):
    """file outputs under load: rotate_bytes 65536 (keep 1000, and keep 2) and
    rotate_seconds 1: the rotated .gz files (oldest first) followed by the live
    file are exactly stdout's bytes (or, with keep 2, its end); every rotated
    file at most 65536 bytes; files 0600."""
    logs = t.mkdir("logs", mode=0o700)
    pa, pb, pc = (os.path.join(logs, n) for n in ("a.ndjson", "b.ndjson", "c.ndjson"))
    c = config(t, [{"type": "stdout"},
                   {"type": "file", "path": pa, "rotate_bytes": 65536, "keep": 1000},
                   {"type": "file", "path": pb, "rotate_bytes": 65536, "keep": 2},
                   {"type": "file", "path": pc, "rotate_bytes": 0, "rotate_seconds": 1, "keep": 1000}])
    t0 = time.time()
    a = t.start_agent(c)
    reader(t, 1500, 0.002)
    evs = a.stop()
    t1 = time.time()
    time.sleep(0.5)
    ref = a.raw()
    expect(len(ref) > 20 * 65536, "stdout has %d bytes: not enough for the test" % len(ref))
    live = {}
    for p in (pa, pb, pc):
        expect_eq(stat.S_IMODE(os.stat(p).st_mode), 0o600, "mode of %s" % p)
        with open(p, "rb") as f:
            live[p] = f.read()
    ra = rotated(pa, t0, t1)
    expect(len(ra) >= 20, "%s: %d rotated files for %d bytes with rotate_bytes 65536" % (pa, len(ra), len(ref)))
    for fn, data in ra:
        expect(0 < len(data) <= 65536, "rotated %s has %d bytes (rotate_bytes 65536)" % (fn, len(data)))
        expect(data.endswith(b"\n"), "rotated %s does not end with a whole line" % fn)
    whole = b"".join(d for _, d in ra) + live[pa]
    if whole != ref:
        got = parse_lines(whole, "zcat of %s.*.gz + %s" % (pa, pa))
        check_same_events(got, evs, "file output with rotation")
        fail("zcat of the rotated files + the live file is not stdout's bytes (%d vs %d bytes)" % (
            len(whole), len(ref)))
    rb = rotated(pb, t0, t1)
    expect_eq(len(rb), 2, "rotated files of %s with keep 2" % pb, "files: %s" % sorted(os.listdir(logs)))
    tail = b"".join(d for _, d in rb) + live[pb]
    expect(ref.endswith(tail) and (len(tail) == len(ref) or ref[len(ref) - len(tail) - 1:][:1] == b"\n"),
           "with keep 2: the 2 newest rotated files + the live file are not the end of stdout")
    expect(len(tail) > 65536, "with keep 2: only %d bytes kept" % len(tail))
    rc = rotated(pc, t0, t1)
    expect(len(rc) >= 2, "%s: %d rotated files in %.1f s with rotate_seconds 1" % (pc, len(rc), t1 - t0))
    expect_eq(b"".join(d for _, d in rc) + live[pc] == ref, True,
              "rotate_seconds 1: zcat of the rotated files + the live file is stdout's bytes")


test_file_rotation.timeout = 90


# ---------------------------------------------------------------------- http


def test_http_formats(t):
    """http outputs in each format (ndjson, hec, bulk), each to its own
    receiver, with headers: every event once, in order, identical to stdout;
    hec wraps each in {event, time, host, sourcetype}, bulk puts
    {"create":{}} before each; the headers configured are sent."""
    fmts = ("ndjson", "hec", "bulk")
    recvs = {f: HttpReceiver(t).start() for f in fmts}
    paths = {"ndjson": "/ingest", "hec": "/services/collector/event", "bulk": "/_bulk"}
    outs = [{"type": "stdout"}]
    for f in fmts:
        outs.append({"type": "http", "url": recvs[f].url(paths[f]), "format": f,
                     "headers": {"Authorization": "Splunk 0123-token-" + f, "X-Custos-Test": "yes " + f}})
    a = t.start_agent(config(t, outs))
    fp = t.write("crm/a.csv", "abc")
    for _ in range(10):
        run(["cat", fp])
    reader(t, 200)
    evs = a.stop()
    for f in fmts:
        wait_until(lambda: len(received(recvs[f], f, f)) >= len(evs), 15, "%s receiver has every event" % f,
                   lambda: "got %d of %d" % (len(received(recvs[f], f, f)), len(evs)))
        time.sleep(0.3)
        got = received(recvs[f], f, f)
        check_same_events(got, evs, "http " + f)
        expect_eq(len(got), len(evs), "events at the %s receiver" % f)
        for r in recvs[f].all():
            expect_eq(r["method"], "POST", "%s: method" % f)
            expect_eq(r["path"], paths[f], "%s: request path" % f)
            expect_eq(r["headers"].get("authorization"), "Splunk 0123-token-" + f, "%s: Authorization header" % f)
            expect_eq(r["headers"].get("x-custos-test"), "yes " + f, "%s: X-Custos-Test header" % f)
            expect_eq(r["status"], 200, "%s: status answered" % f)
        if f == "hec":
            for r in recvs[f].delivered():
                for line in r["body"].decode().split("\n")[:-1]:
                    o = json.loads(line)
                    expect(abs(o["time"] - epoch(get(o["event"], "@timestamp"))) < 0.002,
                           "hec time is not the event's @timestamp in seconds", o)
        print("%s: %d requests" % (f, len(recvs[f].all())))


def test_http_retry_after_503(t):
    """The receiver answers 503 for 5 s from its first request: batches are
    retried (with backoff) and everything is delivered afterwards, once, in
    order."""
    recv = HttpReceiver(t, fail_seconds=5).start()
    a = t.start_agent(config(t, [{"type": "stdout"}, {"type": "http", "url": recv.url("/in")}]))
    fp = t.write("crm/a.csv", "abc")
    for _ in range(5):
        run(["cat", fp])
    wait_until(lambda: any(r["status"] == 503 for r in recv.all()), 10, "a request answered 503")
    time.sleep(1)
    reader(t, 100)
    now = a.events_now()
    wait_until(lambda: len(received(recv, "ndjson", "http")) >= len(now), DELIVERY_TIMEOUT,
               "every event delivered after the 503s", lambda: "got %d of %d; requests: %s" % (
                   len(received(recv, "ndjson", "http")), len(now),
                   [(round(r["time"] - recv.started, 1), r["status"], len(r["body"])) for r in recv.all()]))
    evs = a.stop()
    wait_until(lambda: len(received(recv, "ndjson", "http")) >= len(evs), 10, "agent-stop delivered")
    time.sleep(0.3)
    got = received(recv, "ndjson", "http")
    check_same_events(got, evs, "http after 503")
    n503 = sum(1 for r in recv.all() if r["status"] == 503)
    expect(n503 >= 2, "only %d requests answered 503: no retry seen" % n503)
    print("%d requests answered 503, %d delivered" % (n503, len(recv.delivered())))


test_http_retry_after_503.timeout = 90


# ----------------------------------------------------------------- heartbeat


def test_heartbeat_outputs(t):
    """heartbeat_interval 1: agent-heartbeat events with custos.stats.outputs
    per output (in, out, dropped, queued_bytes, spool_bytes, state), cpu_seconds,
    rss_bytes, ringbuf; "in" counts every line before the heartbeat, "out" no
    more than the receiver had, and once settled exactly that."""
    recv = HttpReceiver(t).start()
    hname = "http:" + recv.url("/in")
    a = t.start_agent(config(t, [{"type": "stdout"}, {"type": "http", "url": recv.url("/in")}],
                             heartbeat_interval=1))
    fp = t.write("crm/a.csv", "abc")
    for _ in range(10):
        run(["cat", fp])
    time.sleep(3.5)
    evs = a.stop()
    wait_until(lambda: len(received(recv, "ndjson", "http")) >= len(evs), 10, "every event delivered")
    hbs = agent_events(evs, "agent-heartbeat")
    expect(len(hbs) >= 3, "%d agent-heartbeat events in %.1f s with heartbeat_interval 1" % (
        len(hbs), a.stopped_at - a.started_at), hbs)
    # lines the receiver had before each request, by seq of the first event of the request
    had_before = {}
    n = 0
    for r in recv.delivered():
        for e in body_events(r, "ndjson", "http"):
            had_before[get(e, "custos.seq")] = n
        n += len(body_events(r, "ndjson", "http"))
    settled = False
    for h in hbs:
        s = get(h, "custos.seq")
        outs = outputs_stats(h)
        expect_eq(sorted(outs), sorted(["stdout", hname]), "outputs in custos.stats.outputs", h)
        for name, o in outs.items():
            for k in ("in", "out", "queued_bytes", "spool_bytes"):
                expect(isinstance(o.get(k), int) and o[k] >= 0, "%s.%s is not a count" % (name, k), h)
            expect(isinstance(o.get("dropped"), dict), "%s.dropped is not an object" % name, h)
            expect_eq(sum(o["dropped"].values()), 0, "%s: dropped" % name, h)
            expect_eq(o.get("state"), "up", "%s: state" % name, h)
            expect("last_error" not in o or isinstance(o["last_error"], str), "%s.last_error" % name, h)
            expect(o["in"] in (s - 1, s), "%s.in is %d: every line before heartbeat seq %d" % (name, o["in"], s), h)
            expect(o["out"] <= o["in"], "%s.out > in" % name, h)
        o = outs[hname]
        expect(o["out"] <= had_before[s], "%s.out is %d but the receiver had %d lines before this heartbeat" % (
            hname, o["out"], had_before[s]), h)
        if o["out"] == o["in"] == had_before[s]:
            settled = True
        cpu = get(h, "custos.stats.cpu_seconds")
        expect(isinstance(cpu.get("user"), (int, float)) and isinstance(cpu.get("system"), (int, float))
               and cpu["user"] >= 0 and cpu["system"] >= 0, "cpu_seconds", h)
        rss = get(h, "custos.stats.rss_bytes")
        expect(isinstance(rss, int) and 1 << 20 < rss < 4 << 30, "rss_bytes %r" % rss, h)
        expect_eq(get(h, "custos.stats.ringbuf.size_bytes"), 16 << 20, "ringbuf.size_bytes (ring_buffer_mb 16)", h)
        used = get(h, "custos.stats.ringbuf.used_bytes")
        expect(isinstance(used, int) and 0 <= used <= 16 << 20, "ringbuf.used_bytes", h)
    expect(settled, "no heartbeat where %s had delivered everything before it (in == out == lines at the "
           "receiver); had_before: %s" % (hname, [(get(h, "custos.seq"), had_before[get(h, "custos.seq")])
                                                  for h in hbs]), hbs)


# ------------------------------------------------------------ dead outputs


def test_dead_output_does_not_block(t):
    """A syslog output to a port nobody listens on and an http output to a
    server that never answers, with a small spool: stdout still gets every
    event at once (seq 1, 2, 3... none missing), gap events name the dead
    outputs, and the agent stops within the 5 s deadline."""
    port = free_port()
    hang = socket.socket()
    hang.bind(("127.0.0.1", 0))
    hang.listen(64)
    t.on_cleanup(hang.close)
    conns = []

    def accept():
        while True:
            try:
                conns.append(hang.accept()[0])  # and never read, never answer
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    sname, hname = "dead-syslog", "dead-http"
    a = t.start_agent(config(t, [
        {"type": "stdout"},
        {"type": "syslog", "url": "tcp://127.0.0.1:%d" % port, "name": sname},
        {"type": "http", "url": "http://127.0.0.1:%d/x" % hang.getsockname()[1], "name": hname,
         "timeout_seconds": 2}], spool={"dir": t.path("spool"), "max_bytes": 65536}, heartbeat_interval=1))
    r = reader(t, 2000)
    done = time.time()
    def closes():
        return agent_seq_of_file_event(a.events_now(), r.pid, "close")
    wait_until(lambda: len(closes()) == 2000, 3, "stdout has the 2000 closes of the reader",
               lambda: "%d so far" % len(closes()))
    expect(time.time() - done < 3, "stdout lagged %.1f s behind" % (time.time() - done))
    for name in (sname, hname):
        a.wait_for(lambda e: action(e) == "gap" and get(e, "custos.gap.output", None) == name,
                   "a gap event of %s" % name, timeout=10)
    t0 = time.time()
    evs = a.stop()
    expect(time.time() - t0 < 8, "the agent took %.1f s to stop (outputs' deadline 5 s)" % (time.time() - t0))
    expect_eq(seqs(evs), list(range(1, len(evs) + 1)), "custos.seq on stdout (nothing missing)")
    expect_eq(len(agent_seq_of_file_event(evs, r.pid, "open")), 2000, "opens of the reader on stdout")
    expect_eq(gaps(evs, "stdout"), [], "gap events of stdout")
    for name in (sname, hname):
        for e in gaps(evs, name):
            check_gap_event(e, name)
    # the heartbeats say so: state down, the last error, the drops
    hbs = agent_events(evs, "agent-heartbeat")
    expect(hbs, "no agent-heartbeat with heartbeat_interval 1")
    h = hbs[-1]
    for name in (sname, hname):
        o = outputs_stats(h).get(name)
        expect(isinstance(o, dict), "custos.stats.outputs has no %s" % name, h)
        expect_eq(o.get("state"), "down", "%s: state in the last heartbeat" % name, h)
        expect(isinstance(o.get("last_error"), str) and o["last_error"], "%s: no last_error" % name, h)
        before = sum(get(e, "custos.gap.count") for e in gaps(evs, name) if get(e, "custos.seq") < get(h, "custos.seq"))
        dropped = sum(o.get("dropped", {}).values())
        expect(dropped >= before > 0, "%s: dropped %s in the heartbeat, %d in the gap events before it" % (
            name, o.get("dropped"), before), h)
        expect_eq(o.get("out"), 0, "%s: lines delivered" % name, h)
    o = outputs_stats(h).get("stdout")
    expect_eq((o.get("state"), sum(o.get("dropped", {}).values())), ("up", 0), "stdout: state and drops", h)


test_dead_output_does_not_block.timeout = 60


def test_file_appends_with_mode(t):
    """A file output appends to what the file had; a new file gets the mode
    configured (0640), whatever the agent's umask (077), the default one
    0600."""
    old = b'{"old":"line"}\n'
    p1 = t.write("existing.ndjson", old, mode=0o600)
    p2, p3 = t.path("new-0640.ndjson"), t.path("new-default.ndjson")
    a = t.agent(config(t, [{"type": "stdout"}, {"type": "file", "path": p1},
                           {"type": "file", "path": p2, "mode": "0640"}, {"type": "file", "path": p3}]))
    mask = os.umask(0o077)
    try:
        a.start()
    finally:
        os.umask(mask)
    run(["cat", t.write("crm/a.csv", "abc")])
    a.stop()
    ref = a.raw()
    for p, before in ((p1, old), (p2, b""), (p3, b"")):
        with open(p, "rb") as f:
            expect_eq(f.read(), before + ref, "content of %s (what it had + stdout)" % p)
    expect_eq(oct(stat.S_IMODE(os.stat(p2).st_mode)), oct(0o640), "mode of %s (\"mode\": \"0640\")" % p2)
    expect_eq(oct(stat.S_IMODE(os.stat(p3).st_mode)), oct(0o600), "mode of %s (default)" % p3)


def test_check_refuses_bad_outputs(t):
    """custos check and custos run refuse bad "outputs" with FILE:LINE:COLUMN
    (exit status 1 for check; run writes no event)."""
    d = t.mkdir("crm")
    head = '{"watch": [{"name": "crm", "paths": ["%s"]}],\n "outputs": [' % d
    cases = [
        (head + '{"type": "stdout"},\n   {"type": "syslog", "url": "tcp://127.0.0.1:514", "path": "/x"}]}\n',
         '"path"', ["does not apply"]),
        (head + '{"type": "file", "path": "/tmp/x", "mode": "0666"}]}\n', '"0666"', ["mode", "0666"]),
        (head + ']}\n', '[]', ["outputs"]),
        ('{"watch": [{"name": "crm", "paths": ["%s"]}],\n "spool": {"dir": "rel"}}\n' % d, '"rel"', ["spool"]),
    ]
    for n, (text, needle, words) in enumerate(cases):
        path = t.write("bad%d.json" % n, text)
        off = text.index(needle)
        where = "%s:%d:%d: " % (path, text.count("\n", 0, off) + 1, off - (text.rfind("\n", 0, off) + 1) + 1)
        for mode in ("check", "run"):
            r = subprocess.run([CUSTOS, mode, "--config", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=30)
            err = r.stderr.decode("utf-8", "replace")
            expect(r.returncode == 1 if mode == "check" else r.returncode != 0,
                   "custos %s: exit status %d for a bad config:\n%s" % (mode, r.returncode, text))
            expect(where in err and all(w in err for w in words),
                   "custos %s: stderr does not have %r and %s:\n%s\nconfig:\n%s" % (mode, where, words, err, text))
            if mode == "run":
                expect_eq(r.stdout, b"", "stdout of a refused run")


# -------------------------------------------------------------------- reload


def test_reload_rebuilds_outputs(t):
    """SIGHUP with a config whose file output has another path: the lines
    before the reload are in the first file, those after in the second,
    nothing lost or doubled; a broken config on SIGHUP keeps the outputs."""
    p1, p2 = t.path("one.ndjson"), t.path("two.ndjson")
    c = config(t, [{"type": "stdout"}, {"type": "file", "path": p1}])
    path = t.config_file(c)
    a = t.start_agent(path)
    fp = t.write("crm/a.csv", "abc")
    run(["cat", fp])
    c["outputs"][1]["path"] = p2
    t.config_file(c, name=os.path.basename(path))
    a.hup()
    r2 = run(["cat", fp])
    with open(path, "w") as f:
        f.write('{"watch": [{"name": "crm", "paths": ["%s"]}], "outputs": [{"type": "stdout"}, '
                '{"type": "file", "path": "relative"}]}\n' % t.path("crm"))
    a.hup(expect_outcome="failure")
    r3 = run(["cat", fp])
    evs = a.stop()
    with open(p1, "rb") as f:
        one_ = f.read()
    with open(p2, "rb") as f:
        two = f.read()
    expect_eq(one_ + two, a.raw(), "the first file's lines followed by the second's (vs stdout)")
    for r in (r2, r3):
        expect(agent_seq_of_file_event(parse_lines(two, p2), r.pid, "open"),
               "the open by cat pid %d (after the reload) is not in the new file" % r.pid)
    expect_eq([get(e, "event.outcome") for e in agent_events(evs, "agent-reload")], ["success", "failure"],
              "agent-reload outcomes")
    expect(path + ":1:" in a.stderr() and "absolute" in a.stderr(),
           "the broken config's error (%s:1:COLUMN, path not absolute) is not on stderr:\n%s" % (path, a.stderr()))
