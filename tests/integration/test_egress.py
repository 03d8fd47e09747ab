"""Egress: a session that read customer data (opened a watched file to read
it) and then connects to an endpoint no rule names, or writes a new file
outside every watched tree. Each workload runs in a login session of its
own (its login uid written first, which starts a new audit session), as a
human's shell would."""

import datetime
import os
import socket
import subprocess

from itlib import (CUSTOS, PY, TIMESTAMP_RE, expect, expect_eq, expect_field, file_events, get,
                   has, one, opens, run, summaries)
from test_net import Server, UnixServer, check_summary_bytes, endpoint, net_events


class UploadServer(Server):
    """A plain HTTP server on loopback taking one upload (curl -T -: PUT,
    chunked): it reads the request to the end of its body, counting every
    byte, and answers with a short response."""

    RESPONSE = b"HTTP/1.1 201 Created\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n"

    def serve(self):
        conn, _ = self.sock.accept()
        data = b""
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
            head, sep, body = data.partition(b"\r\n\r\n")
            if not sep:
                continue
            if b"chunked" in head.lower() and body.endswith(b"0\r\n\r\n"):
                break
            length = [int(line.split(b":")[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:")]
            if length and len(body) >= length[0]:
                break
        self.received = len(data)
        self.request = data
        conn.sendall(self.RESPONSE)
        conn.close()


def in_session(t, script, check=True, timeout=60):
    """Runs bash -c script as a login's shell: a new audit session (its
    login uid written first). The first line of its output is the session
    id; returns (session id, Run)."""
    uid, _ = t.login_user()
    r = run(["bash", "-c", "cat /proc/$$/sessionid; echo; " + script], loginuid=uid, check=check,
            timeout=timeout)
    first = r.out.split(b"\n", 1)[0]
    expect(first.isdigit() and int(first) != 0xffffffff, "no audit session id: %r" % r)
    return int(first), r


def seconds(timestamp):
    """An event's RFC 3339 time as seconds since the epoch."""
    day = datetime.datetime.strptime(timestamp[:19], "%Y-%m-%dT%H:%M:%S")
    return day.replace(tzinfo=datetime.timezone.utc).timestamp() + float("0" + timestamp[19:-1])


def in_session_of(evs, session, pred=lambda e: True):
    return [e for e in evs if get(e, "process.session_id", None) == session and pred(e)]


# curl uploads its stdin, started only once cat has written into the pipe
# (cat's open of the watched file comes first, for certain).
CURL_AFTER_STDIN = "until read -t 0; do sleep 0.01; done; exec curl -sS -H Expect: -T - %s"


def curl_pipeline(src, port):
    return "cat '%s' | bash -c '%s'" % (src, CURL_AFTER_STDIN % ("http://127.0.0.1:%d/up" % port))


# A tainted session's client: UDP to an unwatched port, TCP over IPv6 to an
# unwatched port, TCP to a watched endpoint, and a unix socket.
CLIENTS = r"""
import socket, sys
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.connect(("127.0.0.1", int(sys.argv[1])))
udp.send(b"u" * 700)
udp.close()
for family, host, port in ((socket.AF_INET6, "::1", sys.argv[2]), (socket.AF_INET, "127.0.0.1", sys.argv[3])):
    s = socket.socket(family)
    s.connect((host, int(port)))
    s.sendall(b"a" * 1024)
    got = 0
    while got < 500:
        got += len(s.recv(500 - got))
    s.close()
u = socket.socket(socket.AF_UNIX)
u.connect(sys.argv[4])
u.sendall(b"x" * 1024)
got = 0
while got < 500:
    got += len(u.recv(500 - got))
u.close()
"""


def test_egress_network(t):
    """A login shell runs `cat WATCHED | curl -T - http://127.0.0.1:PORT/`:
    cat's open and close of the watched file, then curl's connect to that
    unwatched port and its final summary, with exactly the bytes the server
    received and sent, all in the same session; the connect says
    custos.egress, custos.rule null, custos.tags [] and the read it
    followed (custos.egress_after). The same session's UDP and IPv6
    connects to unwatched ports are egress too, its connect to a watched
    endpoint is that endpoint's as ever, its unix socket is nothing. Another
    session's same curl, after reading an unwatched file, is not reported."""
    d = t.mkdir("crm")
    watched = t.write("crm/customers.csv", os.urandom(70000))
    unwatched = t.write("public/prices.csv", os.urandom(30000))
    up, up2 = UploadServer().start(), UploadServer().start()
    udp = Server("127.0.0.1", socket.SOCK_DGRAM)  # bound, not read: the datagram waits there
    v6, api = Server("::1").start(), Server().start()
    unix = UnixServer(t.path("app.sock")).start()
    a = t.start_agent({"watch": [{"name": "crm", "tags": ["pii"], "paths": [d]}],
                       "endpoints": [endpoint("crm-api", "127.0.0.1", api.port)],
                       "heartbeat_interval": 0})
    sa, ra = in_session(t, curl_pipeline(watched, up.port))
    sc, rc = in_session(t, "cat '%s' > /dev/null; exec %s -c '%s' %d %d %d %s" % (
        watched, PY, CLIENTS.replace("'", "'\\''"), udp.port, v6.port, api.port, t.path("app.sock")))
    sb, rb = in_session(t, curl_pipeline(unwatched, up2.port))
    for s in (up, up2, v6, api, unix):
        s.close()
    udp.sock.close()
    evs = a.stop()

    expect(len({sa, sb, sc}) == 3, "three sessions: %s" % [sa, sb, sc])
    expect_eq(ra.out.split(b"\n", 1)[1], b"ok\n", "curl's output (the server's answer)")
    expect_eq(up.request.split(b"\r\n\r\n", 1)[1].count(b"\r\n0\r\n\r\n"), 1, "a chunked upload")
    o = the_open_in(evs, sa, watched)
    expect_field(o, "process.name", "cat")
    s = summaries(evs, get(o, "custos.open_id"))
    expect_eq(sum(get(e, "custos.io.bytes_read") for e in s), 70000, "cat's bytes read", s)
    c = one(in_session_of(net_events(evs, action="connect"), sa), "curl's connect", evs)
    expect_field(c, "process.name", "curl")
    expect_field(c, "event.outcome", "success")
    expect_field(c, "event.type", ["connection", "start"])
    expect_field(c, "custos.egress", True)
    expect(has(c, "custos.rule") and get(c, "custos.rule") is None, "custos.rule null", c)
    expect_field(c, "custos.tags", [])
    expect_field(c, "custos.egress_after.rule", "crm")
    read_at = get(c, "custos.egress_after.read_at")
    expect(TIMESTAMP_RE.match(read_at) and abs(seconds(read_at) - seconds(get(o, "@timestamp"))) < 0.1
           and read_at < get(c, "@timestamp"),
           "egress_after.read_at: when cat opened the file, before curl connected", o, c)
    expect_field(c, "destination.ip", "127.0.0.1")
    expect_field(c, "destination.port", up.port)
    expect_field(c, "network.transport", "tcp")
    expect_field(c, "network.direction", "egress")
    expect_field(c, "user.audit.id", str(t.login_user()[0]))
    sc_ = check_summary_bytes(evs, get(c, "custos.open_id"), up.received, len(UploadServer.RESPONSE))
    expect(up.received > 70000, "the server received the file and more (%d bytes)" % up.received)
    for e in sc_:
        expect_field(e, "custos.egress", True)
        expect_field(e, "process.name", "curl")

    # The client session: UDP and IPv6 egress, the watched endpoint as it is, no unix socket.
    cs = in_session_of(net_events(evs, action="connect"), sc)
    cu = one([e for e in cs if get(e, "network.transport") == "udp"], "the UDP connect", cs)
    expect_field(cu, "custos.egress", True)
    expect_field(cu, "destination.port", udp.port)
    check_summary_bytes(evs, get(cu, "custos.open_id"), 700, 0)
    c6 = one([e for e in cs if get(e, "network.type", None) == "ipv6"], "the IPv6 connect", cs)
    expect_field(c6, "custos.egress", True)
    expect_field(c6, "destination.ip", "::1")
    check_summary_bytes(evs, get(c6, "custos.open_id"), 1024, 500)
    cw = one([e for e in cs if get(e, "destination.port", None) == api.port], "the watched endpoint's", cs)
    expect_field(cw, "custos.rule", "crm-api")
    expect(not has(cw, "custos.egress") and not has(cw, "custos.egress_after"),
           "a watched endpoint's connect is no egress", cw)
    check_summary_bytes(evs, get(cw, "custos.open_id"), 1024, 500)
    expect_eq(len(cs), 3, "the client session's connects (none for its unix socket)", cs)

    # The other session read nothing watched: its upload went through, unreported.
    expect(up2.received > 30000, "the second upload reached its server (%d bytes)" % up2.received)
    expect_eq(in_session_of(evs, sb, lambda e: get(e, "event.category") == "network"), [],
              "network events of a session that read no customer data")
    expect_eq([e for e in evs if has(e, "custos.egress") and get(e, "process.session_id", None) == sb],
              [], "egress of a session that read no customer data")


def the_open_in(evs, session, path):
    return one(in_session_of(opens(evs, path=path), session), "open of %s in session %d" % (path, session),
               evs)


def written(evs, open_id):
    return sum(get(e, "custos.io.bytes_written") for e in summaries(evs, open_id))


def test_egress_new_files(t):
    """`cp WATCHED OUT/new.csv` in a login session: an open event of the new
    file (custos.egress, rule null, tags [], the read it followed) and
    summaries whose bytes written add up to the file's size. Before it, in
    that session, `cat WATCHED > OUT/redir.csv` (opened by the shell before
    anything was read) the same, as cat's standard output
    (custos.open.via "stdout"). After it, an append to a file with content
    and a write to /proc are not egress; `cp UNWATCHED` in another session
    is not either."""
    d = t.mkdir("crm")
    out = t.mkdir("out")
    size = 123457
    watched = t.write("crm/customers.csv", os.urandom(size))
    unwatched = t.write("public/prices.csv", os.urandom(5000))
    log = t.write("out/log.txt", "earlier\n")
    a = t.start_agent({"watch": [{"name": "crm", "tags": ["pii"], "paths": [d]}],
                       "heartbeat_interval": 0})
    new, redir = os.path.join(out, "new.csv"), os.path.join(out, "redir.csv")
    # The redirection first: the shell opens redir.csv before cat read anything.
    sa, _ = in_session(t, "cat '%s' > '%s'; cp '%s' '%s'; cat '%s' >> '%s'; echo x > /proc/self/comm" % (
        watched, redir, watched, new, watched, log))
    sb, _ = in_session(t, "cp '%s' '%s'" % (unwatched, os.path.join(out, "other.csv")))
    evs = a.stop()

    expect_eq(os.path.getsize(new), size, "the copy's size")
    src = [e for e in in_session_of(opens(evs, path=watched), sa) if get(e, "process.name") == "cp"]
    one(src, "cp's open of the watched file", evs)
    o = one(in_session_of(opens(evs, path=new), sa), "the egress open of the new file", evs)
    expect_field(o, "process.name", "cp")
    expect_field(o, "custos.egress", True)
    expect(has(o, "custos.rule") and get(o, "custos.rule") is None, "custos.rule null", o)
    expect_field(o, "custos.tags", [])
    expect_field(o, "custos.egress_after.rule", "crm")
    expect("O_CREAT" in get(o, "custos.open.flags") and "O_WRONLY" in get(o, "custos.open.flags"),
           "opened to create it", o)
    expect_field(o, "file.inode", str(os.stat(new).st_ino))
    expect(not has(o, "custos.file.removable"), "not on a removable disk", o)
    expect_eq(written(evs, get(o, "custos.open_id")), size, "bytes written to the new file",
              summaries(evs, get(o, "custos.open_id")))
    for e in summaries(evs, get(o, "custos.open_id")):
        expect_field(e, "custos.egress", True)
        expect_field(e, "file.path", new)

    r = one(in_session_of(opens(evs, path=redir), sa), "the egress open of cat's stdout", evs)
    expect_field(r, "process.name", "cat")
    expect_field(r, "custos.open.via", "stdout")
    expect_field(r, "custos.open.fd", 1)
    expect_field(r, "custos.egress", True)
    expect_eq(written(evs, get(r, "custos.open_id")), size, "bytes cat wrote to its stdout file")

    expect_eq(file_events(evs, path=log), [], "events of an append to a file with content")
    expect_eq([e for e in file_events(evs) if str(get(e, "file.path", "")).startswith("/proc/")], [],
              "events of a write to /proc")
    expect_eq(in_session_of(file_events(evs, under=out), sb), [], "events of a copy of an unwatched file")
    expect_eq(sorted({get(e, "file.path") for e in file_events(evs, under=out)}), sorted([new, redir]),
              "the files under OUT reported")


def test_egress_window(t):
    """With egress.window 0, reading and copying a watched file is reported
    as a read and nothing more; with a window of 3 s, a copy of an unwatched
    file 4 s after the read is not egress, and one right after a new read
    is."""
    d = t.mkdir("crm")
    out = t.mkdir("out")
    watched = t.write("crm/customers.csv", os.urandom(4096))
    unwatched = t.write("public/prices.csv", os.urandom(1000))
    cfg = {"watch": [{"name": "crm", "paths": [d]}], "heartbeat_interval": 0}
    a = t.start_agent(dict(cfg, egress={"window": 0}))
    s0, _ = in_session(t, "cp '%s' '%s'" % (watched, os.path.join(out, "off.csv")))
    evs = a.stop()
    one(in_session_of(opens(evs, path=watched), s0), "the watched open", evs)
    expect_eq([e for e in evs if has(e, "custos.egress")], [], "egress events with the window 0")
    start = one([e for e in evs if get(e, "event.action") == "agent-start"], "agent-start", evs)
    expect_field(start, "custos.agent.egress_window", 0)

    a = t.start_agent(dict(cfg, egress={"window": 3}))
    late, again = os.path.join(out, "late.csv"), os.path.join(out, "again.csv")
    s1, _ = in_session(t, "cat '%s' > /dev/null; sleep 4; cp '%s' '%s'; cat '%s' > /dev/null; cp '%s' '%s'" % (
        watched, unwatched, late, watched, unwatched, again))
    evs = a.stop()
    expect_eq(file_events(evs, path=late), [], "a new file after the window")
    o = one(in_session_of(opens(evs, path=again), s1), "a new file within the window", evs)
    expect_field(o, "custos.egress", True)
    expect_eq(written(evs, get(o, "custos.open_id")), 1000, "bytes written")


def test_egress_config_errors(t):
    """A bad egress.window is refused with file, line and column, by custos
    check and by custos run, which does not start."""
    bad = t.config_file('{"watch": [{"name": "crm", "paths": ["/srv"]}],\n'
                        ' "egress": {"window": "1h"}}\n')
    want = "%s:2:23: \"window\" of egress must be an integer, not a string" % bad
    for argv in ([CUSTOS, "check", "--config", bad], [CUSTOS, "run", "--config", bad]):
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        expect_eq(r.returncode, 1, "%s: exit status" % " ".join(argv))
        expect(want in r.stderr.decode(), "%s: expected %r in stderr: %r" % (" ".join(argv), want, r.stderr))
    text = '{"watch": [{"name": "crm", "paths": ["/srv"]}], "egress": {"window": -1}}\n'
    neg = t.config_file(text)
    r = subprocess.run([CUSTOS, "check", "--config", neg], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=30)
    want = "%s:1:%d: \"window\" of egress is -1" % (neg, text.index("-1") + 1)
    expect(r.returncode == 1 and want in r.stderr.decode(), "check of egress.window -1: expected %r in %r" % (
        want, r.stderr))
