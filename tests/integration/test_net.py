"""Sockets to watched endpoints: connects and accepts, their bytes, their ends."""

import os
import socket
import threading

import dbservers
from itlib import PY, expect, expect_eq, expect_field, fail, get, has, helper, one, py, run

CLIENT = r"""
import os, socket, sys
family = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
kind = socket.SOCK_DGRAM if sys.argv[3] == "udp" else socket.SOCK_STREAM
s = socket.socket(family, kind)
if sys.argv[4] == "nonblock":
    s.setblocking(False)
    try:
        s.connect((sys.argv[1], int(sys.argv[2])))
    except BlockingIOError:
        pass
    import select
    select.select([], [s], [], 5)
    s.setblocking(True)
else:
    s.connect((sys.argv[1], int(sys.argv[2])))
print(s.getsockname()[1], flush=True)
s.send(b"a" * 600)
s.send(b"b" * 400)
os.write(s.fileno(), b"c" * 24)
if kind == socket.SOCK_STREAM:
    s.recv(100, socket.MSG_PEEK)
    got = 0
    while got < 500:
        got += len(s.recv(500 - got))
s.close()
"""

REFUSED = r"""
import socket, sys
s = socket.socket()
try:
    s.connect(("127.0.0.1", int(sys.argv[1])))
except ConnectionRefusedError:
    print("refused")
"""


class Server:
    """A TCP (or UDP) server in this process: reads 1024 bytes, answers 500."""

    def __init__(self, host="127.0.0.1", kind=socket.SOCK_STREAM):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, kind)
        self.sock.bind((host, 0))
        self.port = self.sock.getsockname()[1]
        self.kind = kind
        self.received = 0
        if kind == socket.SOCK_STREAM:
            self.sock.listen(8)
        self.thread = threading.Thread(target=self.serve, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def serve(self):
        if self.kind == socket.SOCK_DGRAM:
            while self.received < 1024:
                self.received += len(self.sock.recv(4096))
            return
        conn, _ = self.sock.accept()
        while self.received < 1024:
            self.received += len(conn.recv(4096))
        conn.sendall(b"r" * 500)
        conn.close()

    def close(self):
        self.thread.join(10)
        self.sock.close()


def endpoint(name, address, port=None, **extra):
    e = {"name": name, "tags": ["customer-data"], "address": address}
    if port is not None:
        e["port"] = port
    e.update(extra)
    return e


def config(t, *endpoints):
    return {"watch": [{"name": "crm", "paths": [t.mkdir("crm")]}], "endpoints": list(endpoints),
            "heartbeat_interval": 0}


def net_events(evs, pid=None, action=None):
    return [e for e in evs if get(e, "event.category", None) == "network"
            and (pid is None or get(e, "process.pid", None) == pid)
            and (action is None or get(e, "event.action", None) == action)]


def check_summary_bytes(evs, open_id, sent, received, send_calls=None):
    s = [e for e in evs if get(e, "custos.open_id", None) == open_id
         and get(e, "event.action", None) == "close"]
    expect(s and get(s[-1], "custos.close.final"), "a final summary of open_id %d" % open_id, evs)
    expect_eq(sum(get(e, "custos.io.bytes_sent") for e in s), sent, "bytes sent", s)
    expect_eq(sum(get(e, "custos.io.bytes_received") for e in s), received, "bytes received", s)
    if send_calls is not None:
        expect_eq(sum(get(e, "custos.io.send_calls") for e in s), send_calls, "send calls", s)
    expect_field(s[-1], "event.type", ["connection", "end"])
    return s


def test_net_connect_and_accept(t):
    """A client connects to a watched endpoint, sends 1024 bytes (two send()s
    and a write()), peeks and receives 500: one connect event with both ends,
    and a final summary with exactly those bytes (the peek not counted). The
    server's accept of it is an event too, the ends the other way round."""
    srv = Server().start()
    a = t.start_agent(config(t, endpoint("crm-api", "127.0.0.1", srv.port)))
    r = py(CLIENT, "127.0.0.1", str(srv.port), "tcp", "block")
    srv.close()
    evs = a.stop()
    client_port = int(r.out.decode().split()[0])

    c = one(net_events(evs, pid=r.pid, action="connect"), "the client's connect event", evs)
    expect_field(c, "event.outcome", "success")
    expect_field(c, "event.type", ["connection", "start"])
    expect_field(c, "custos.rule", "crm-api")
    expect_field(c, "custos.tags", ["customer-data"])
    expect_field(c, "source.ip", "127.0.0.1")
    expect_field(c, "source.port", client_port)
    expect_field(c, "destination.ip", "127.0.0.1")
    expect_field(c, "destination.port", srv.port)
    expect_field(c, "network.transport", "tcp")
    expect_field(c, "network.type", "ipv4")
    expect_field(c, "network.direction", "egress")
    expect_field(c, "process.name", "python3")
    expect(not has(c, "file"), "a connect event has no file.*", c)
    check_summary_bytes(evs, get(c, "custos.open_id"), 1024, 500, send_calls=3)

    acc = one(net_events(evs, action="accept"), "the server's accept event", evs)
    expect_field(acc, "source.port", client_port)
    expect_field(acc, "destination.port", srv.port)
    expect_field(acc, "network.direction", "ingress")
    check_summary_bytes(evs, get(acc, "custos.open_id"), 500, 1024)


def test_net_unwatched_and_refused(t):
    """A connect to a port no endpoint names is not reported; a refused
    connect to a watched one is, as a failure, and tracks nothing."""
    other = Server().start()
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    dead_port = closed.getsockname()[1]
    closed.close()
    a = t.start_agent(config(t, endpoint("dead", "127.0.0.1", dead_port)))
    r_other = py(CLIENT, "127.0.0.1", str(other.port), "tcp", "block")
    r_dead = py(REFUSED, str(dead_port))
    other.close()
    evs = a.stop()

    expect_eq(net_events(evs, pid=r_other.pid), [], "events of a connect to an unwatched port")
    expect_eq(r_dead.out.decode().strip(), "refused", "the refused client's output", r_dead)
    e = one(net_events(evs, pid=r_dead.pid), "the refused connect's event", evs)
    expect_field(e, "event.action", "connect")
    expect_field(e, "event.outcome", "failure")
    expect_field(e, "error.code", "ECONNREFUSED")
    expect_field(e, "destination.port", dead_port)
    expect(not has(e, "custos.open_id"), "a refused connect is not tracked", e)


def test_net_prefixes_ranges_ipv6_udp_nonblocking(t):
    """An IPv6 endpoint with a port range, a CIDR prefix (127.0.0.0/8 reached
    at 127.0.0.2), a UDP endpoint, and a non-blocking connect (reported as
    under way, its bytes counted all the same)."""
    v6 = Server("::1").start()
    lo = Server("0.0.0.0").start()
    udp = Server("127.0.0.1", socket.SOCK_DGRAM).start()
    nb = Server().start()
    a = t.start_agent(config(t,
                             endpoint("v6", "::1", "%d-%d" % (v6.port - 1, v6.port)),
                             endpoint("lo-net", "127.0.0.0/8", lo.port),
                             endpoint("udp", "127.0.0.1", udp.port, protocol="udp"),
                             endpoint("nb", "127.0.0.1", nb.port)))
    r6 = py(CLIENT, "::1", str(v6.port), "tcp", "block")
    rlo = py(CLIENT, "127.0.0.2", str(lo.port), "tcp", "block")
    rudp = py(CLIENT, "127.0.0.1", str(udp.port), "udp", "block")
    rnb = py(CLIENT, "127.0.0.1", str(nb.port), "tcp", "nonblock")
    for s in (v6, lo, udp, nb):
        s.close()
    evs = a.stop()

    c6 = one(net_events(evs, pid=r6.pid, action="connect"), "IPv6 connect", evs)
    expect_field(c6, "custos.rule", "v6")
    expect_field(c6, "destination.ip", "::1")
    expect_field(c6, "network.type", "ipv6")
    check_summary_bytes(evs, get(c6, "custos.open_id"), 1024, 500)

    clo = one(net_events(evs, pid=rlo.pid, action="connect"), "connect to 127.0.0.2", evs)
    expect_field(clo, "custos.rule", "lo-net")
    expect_field(clo, "destination.ip", "127.0.0.2")

    cu = one(net_events(evs, pid=rudp.pid, action="connect"), "UDP connect", evs)
    expect_field(cu, "network.transport", "udp")
    check_summary_bytes(evs, get(cu, "custos.open_id"), 1024, 0)

    # Over loopback the handshake is mostly over when connect returns: a success
    # then; else under way, and its end follows.
    cn = net_events(evs, pid=rnb.pid, action="connect")
    expect_eq([get(e, "event.outcome") for e in cn][-1:], ["success"],
              "the non-blocking connect's outcome", cn)
    expect(len(cn) == 1 or [get(e, "event.outcome") for e in cn] == ["unknown", "success"],
           "at most an under-way connect before it", cn)
    check_summary_bytes(evs, get(cn[0], "custos.open_id"), 1024, 500)


# A non-blocking connect whose handshake ends after the call: the listener's
# accept queue (backlog 0) is full, so the SYN is dropped and sent again a
# second later; one is let in by an accept (success), the next finds the
# listener closed (refused).
LATE_CONNECT = r"""
import errno, select, socket, sys, time
lis = socket.socket()
lis.bind(("127.0.0.1", int(sys.argv[1])))
lis.listen(0)
first = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
def start():
    s = socket.socket()
    s.setblocking(False)
    print(s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == errno.EINPROGRESS, flush=True)
    return s
def wait(s):
    select.select([], [s], [], 10)
    print(errno.errorcode.get(s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR), "ok"), flush=True)
late = start()
time.sleep(0.3)
lis.accept()[0].close()
wait(late)
refused = start()
time.sleep(0.3)
lis.close()
wait(refused)
"""


def test_net_nonblocking_connect_ends_later(t):
    """A non-blocking connect reported under way (outcome unknown,
    custos.net.in_progress) is followed by a second connect event for the
    same open when its handshake ends: success, or failure with its error
    (ECONNREFUSED)."""
    port = dbservers.free_port()
    a = t.start_agent(config(t, endpoint("late", "127.0.0.1", port)))
    r = py(LATE_CONNECT, str(port))
    evs = a.stop()
    expect_eq(r.out.split(), [b"True", b"ok", b"True", b"ECONNREFUSED"], "the client's output")
    cs = [e for e in net_events(evs, pid=r.pid, action="connect")]
    by_open = {}
    for e in cs:
        by_open.setdefault(get(e, "custos.open_id"), []).append(e)
    outcomes = [[get(e, "event.outcome") for e in v] for v in by_open.values()]
    expect_eq(sorted(outcomes), [["success"], ["unknown", "failure"], ["unknown", "success"]],
              "the connects' outcomes, by open (the first blocking, then the two late ones)", cs)
    failed = [v for v in by_open.values() if get(v[-1], "event.outcome") == "failure"][0]
    expect_field(failed[-1], "error.code", "ECONNREFUSED")
    expect_field(failed[0], "custos.net.in_progress", True)
    expect(not has(failed[-1], "custos.net.in_progress"), "no longer under way", failed)
    for v in by_open.values():
        expect_field(v[-1], "destination.port", port)
        expect_field(v[-1], "custos.rule", "late")


def test_net_sighup_adds_and_removes_endpoints(t):
    """SIGHUP with a config that replaces an endpoint: connects to the new
    one are watched from then on, under its name (its host name "localhost"
    resolved at the reload); connects to the removed one, and to the new
    one before the reload, are silent."""
    old, new = Server().start(), Server().start()
    watch = {"name": "crm", "paths": [t.mkdir("crm")]}
    path = t.config_file({"watch": [watch], "endpoints": [endpoint("old", "127.0.0.1", old.port)]})
    a = t.start_agent(path)
    r_new_before = py(CLIENT, "127.0.0.1", str(new.port), "tcp", "block")
    new.close()
    new2 = Server().start()
    t.config_file({"watch": [watch], "endpoints": [endpoint("new", "localhost", new2.port)]},
                  name=path.rsplit("/", 1)[1])
    a.hup()
    r_old = py(CLIENT, "127.0.0.1", str(old.port), "tcp", "block")
    r_new = py(CLIENT, "127.0.0.1", str(new2.port), "tcp", "block")
    old.close()
    new2.close()
    evs = a.stop()

    expect_eq(net_events(evs, pid=r_new_before.pid), [], "a connect before its endpoint was added")
    expect_eq(net_events(evs, pid=r_old.pid), [], "a connect to the endpoint removed")
    c = one(net_events(evs, pid=r_new.pid, action="connect"), "the connect to the new endpoint", evs)
    expect_field(c, "custos.rule", "new")
    expect_field(c, "custos.tags", ["customer-data"])
    check_summary_bytes(evs, get(c, "custos.open_id"), 1024, 500)


EXISTING = r"""
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
print(s.getsockname()[1], flush=True)
sys.stdin.readline()  # the agent has started
s.send(b"x" * 1024)
got = 0
while got < 500:
    got += len(s.recv(500 - got))
s.close()
"""


def test_net_connected_before_start(t):
    """A socket connected to an endpoint before the agent started is found at
    start (custos.net.existing), on both ends, and counted from then on."""
    import subprocess
    srv = Server().start()
    p = subprocess.Popen([PY, "-c", EXISTING, str(srv.port)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE)
    client_port = int(p.stdout.readline())
    a = t.start_agent(config(t, endpoint("api", "127.0.0.1", srv.port)))
    p.stdin.write(b"go\n")
    p.stdin.flush()
    expect_eq(p.wait(30), 0, "the client's exit status")
    srv.close()
    evs = a.stop()

    c = one(net_events(evs, pid=p.pid, action="connect"), "the client's connect, found at start", evs)
    expect_field(c, "custos.net.existing", True)
    expect_field(c, "source.port", client_port)
    expect_field(c, "destination.port", srv.port)
    expect_field(c, "network.direction", "egress")
    check_summary_bytes(evs, get(c, "custos.open_id"), 1024, 500)
    acc = one(net_events(evs, action="accept"), "the server's end, found at start", evs)
    expect_field(acc, "custos.net.existing", True)
    expect_field(acc, "source.port", client_port)
    check_summary_bytes(evs, get(acc, "custos.open_id"), 500, 1024)


UNIX_CLIENT = r"""
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
# "@name": an abstract name, a NUL first in the address
s.connect("\0" + sys.argv[1][1:] if sys.argv[1].startswith("@") else sys.argv[1])
s.send(b"u" * 1024)
got = 0
while got < 500:
    got += len(s.recv(500 - got))
s.close()
"""


class UnixServer(Server):
    """The same server on a unix socket at path."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind("\0" + path[1:] if path.startswith("@") else path)
        self.sock.listen(8)
        self.kind = socket.SOCK_STREAM
        self.received = 0
        self.thread = threading.Thread(target=self.serve, daemon=True)


def test_net_unix_sockets(t):
    """A unix socket endpoint is matched by its socket file: a client's
    connect and the server's accept, with exact bytes; a unix socket
    elsewhere is not reported. An abstract name ("@name") is matched by
    name: connect and accept; another abstract name is not reported."""
    path, other = t.path("api.sock"), t.path("other.sock")
    abstract = "@custos-it-%d-api" % os.getpid()
    srv, srv_other = UnixServer(path).start(), UnixServer(other).start()
    srv_abs, srv_abs_other = UnixServer(abstract).start(), UnixServer(abstract + "x").start()
    a = t.start_agent(config(t, {"name": "api", "tags": ["customer-data"], "unix": path},
                             {"name": "api-abstract", "unix": abstract}))
    r = py(UNIX_CLIENT, path)
    r_other = py(UNIX_CLIENT, other)
    r_abs = py(UNIX_CLIENT, abstract)
    r_abs_other = py(UNIX_CLIENT, abstract + "x")
    for s in (srv, srv_other, srv_abs, srv_abs_other):
        s.close()
    evs = a.stop()

    ca = one(net_events(evs, pid=r_abs.pid, action="connect"), "the abstract connect", evs)
    expect_field(ca, "custos.rule", "api-abstract")
    expect_field(ca, "custos.net.unix", abstract)
    check_summary_bytes(evs, get(ca, "custos.open_id"), 1024, 500)
    aa = one([e for e in net_events(evs, action="accept")
              if get(e, "custos.rule", None) == "api-abstract"], "the abstract accept", evs)
    check_summary_bytes(evs, get(aa, "custos.open_id"), 500, 1024)
    expect_eq(net_events(evs, pid=r_abs_other.pid), [], "another abstract name")

    c = one(net_events(evs, pid=r.pid, action="connect"), "the client's connect", evs)
    expect_field(c, "custos.rule", "api")
    expect_field(c, "custos.tags", ["customer-data"])
    expect_field(c, "custos.net.unix", path)
    expect_field(c, "network.direction", "egress")
    expect(not has(c, "source") and not has(c, "destination") and not has(c, "network.type"),
           "a unix socket has no IP ends", c)
    s = check_summary_bytes(evs, get(c, "custos.open_id"), 1024, 500)
    expect_field(s[-1], "custos.net.unix", path)
    acc = one([e for e in net_events(evs, action="accept") if get(e, "custos.rule", None) == "api"],
              "the server's accept", evs)
    expect_field(acc, "custos.net.unix", path)
    expect_field(acc, "network.direction", "ingress")
    check_summary_bytes(evs, get(acc, "custos.open_id"), 500, 1024)
    expect_eq(net_events(evs, pid=r_other.pid), [], "events of a unix socket no endpoint names")


def test_net_unix_psql(t):
    """psql to PostgreSQL's unix socket, an endpoint: its connect, the
    server's accept, and bytes both ways."""
    why = dbservers.missing_servers("postgresql")
    if why:
        print("SKIPPED: not installed: %s (scripts/deps.sh test installs it)" % why)
        return
    pg = dbservers.Postgres(t).start().ready()
    pg_sock = os.path.join(pg.sockdir, ".s.PGSQL.%d" % pg.port)
    a = t.start_agent(config(t, {"name": "pg", "unix": pg_sock}))
    r_pg = run(pg.psql(), stdin=b"select 1 as one;\n")
    evs = a.stop()

    p = one(net_events(evs, pid=r_pg.pid, action="connect"), "psql's connect", evs)
    expect_field(p, "custos.rule", "pg")
    expect_field(p, "custos.net.unix", pg_sock)
    expect_field(p, "process.name", "psql")
    one(net_events(evs, action="accept"), "PostgreSQL's accept of psql", evs)
    s = [e for e in evs if get(e, "custos.open_id", None) == get(p, "custos.open_id")
         and get(e, "event.action") == "close"]
    expect(s and sum(get(e, "custos.io.bytes_sent") for e in s) > 0 and
           sum(get(e, "custos.io.bytes_received") for e in s) > 0,
           "psql sent and received through the socket", s)


MMSG_CLIENT = r"""
import ctypes, socket, sys
libc = ctypes.CDLL(None, use_errno=True)

class iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]

class msghdr(ctypes.Structure):
    _fields_ = [("name", ctypes.c_void_p), ("namelen", ctypes.c_uint32), ("iov", ctypes.POINTER(iovec)),
                ("iovlen", ctypes.c_size_t), ("control", ctypes.c_void_p), ("controllen", ctypes.c_size_t),
                ("flags", ctypes.c_int)]

class mmsghdr(ctypes.Structure):
    _fields_ = [("hdr", msghdr), ("len", ctypes.c_uint)]

def vec(buffers):
    msgs = (mmsghdr * len(buffers))()
    keep = []
    for m, b in zip(msgs, buffers):
        io = (iovec * 1)(iovec(ctypes.cast(b, ctypes.c_void_p), len(b)))
        keep.append(io)
        m.hdr.iov = io
        m.hdr.iovlen = 1
    return msgs, keep

s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
out = [ctypes.create_string_buffer(b"m" * 600, 600), ctypes.create_string_buffer(b"n" * 424, 424)]
msgs, keep = vec(out)
sent = libc.sendmmsg(s.fileno(), msgs, 2, 0)
got = 0
while got < 500:
    buf = [ctypes.create_string_buffer(500 - got)]
    msgs, keep = vec(buf)
    n = libc.recvmmsg(s.fileno(), msgs, 1, 0, None)
    if n != 1:
        sys.exit("recvmmsg: %d" % ctypes.get_errno())
    got += msgs[0].len
print(sent, got)
s.close()
"""


def test_net_sendmmsg_recvmmsg(t):
    """sendmmsg of two messages (600 and 424 bytes) and recvmmsg until the
    server's 500 bytes arrived, on a socket to a watched endpoint: exactly
    those bytes in its summaries, one send call."""
    srv = Server().start()
    a = t.start_agent(config(t, endpoint("crm-api", "127.0.0.1", srv.port)))
    r = py(MMSG_CLIENT, str(srv.port))
    srv.close()
    evs = a.stop()
    expect_eq(r.out.split(), [b"2", b"500"], "the client's output")
    c = one(net_events(evs, pid=r.pid, action="connect"), "the client's connect", evs)
    check_summary_bytes(evs, get(c, "custos.open_id"), 1024, 500, send_calls=1)


def test_net_io_uring_send_recv(t):
    """A socket to a watched endpoint used through io_uring (IORING_OP_SEND,
    IORING_OP_SENDMSG, IORING_OP_RECV, inline and forced to io-wq workers):
    its bytes and calls counted as the syscalls' are."""
    servers = [Server().start(), Server().start()]
    a = t.start_agent(config(t, *[endpoint("ring%d" % i, "127.0.0.1", srv.port)
                                  for i, srv in enumerate(servers)]))
    runs = [run([helper("uring")] + opts + ["send-recv", str(srv.port)], check=False)
            for opts, srv in (([], servers[0]), (["-a"], servers[1]))]
    for srv in servers:
        srv.close()
    evs = a.stop()
    for r in runs:
        if r.rc == 77:
            fail("io_uring is not available here: %r" % r)
        expect_eq(r.rc, 0, "uring send-recv succeeded: %r" % r)
        c = one(net_events(evs, pid=r.pid, action="connect"), "the connect", evs)
        s = check_summary_bytes(evs, get(c, "custos.open_id"), 1024, 500, send_calls=2)
        expect(sum(get(e, "custos.io.recv_calls") for e in s) >= 1, "receive calls", s)


class HttpServer(Server):
    """A plain HTTP/1.0 server on loopback: one request read to its blank
    line, a response of a known size written; self.received counts the
    request's bytes."""

    BODY = b"x" * 123456

    def serve(self):
        conn, _ = self.sock.accept()
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = conn.recv(4096)
            if not chunk:
                break
            request += chunk
        self.received = len(request)
        self.response = (b"HTTP/1.0 200 OK\r\nContent-Type: text/csv\r\nContent-Length: %d\r\n\r\n"
                         % len(self.BODY)) + self.BODY
        conn.sendall(self.response)
        conn.close()


def test_net_curl_http(t):
    """curl fetching a file from a plain HTTP server on a watched endpoint:
    its connect with the process and the human, the request's and the
    response's exact bytes in its summaries; a second endpoint nobody
    connects to stays silent."""
    srv = HttpServer().start()
    idle = Server()
    a = t.start_agent(config(t, endpoint("crm-api", "127.0.0.1", srv.port),
                             endpoint("idle", "127.0.0.1", idle.port)))
    r = run(["curl", "-sS", "-o", "/dev/null", "-w", "%{size_download}",
             "http://127.0.0.1:%d/customers.csv" % srv.port])
    srv.close()
    idle.sock.close()
    evs = a.stop()
    expect_eq(r.out, b"123456", "curl's download")
    c = one(net_events(evs, pid=r.pid, action="connect"), "curl's connect", evs)
    expect_field(c, "process.name", "curl")
    expect_field(c, "event.outcome", "success")
    expect_field(c, "custos.rule", "crm-api")
    expect_field(c, "destination.port", srv.port)
    check_summary_bytes(evs, get(c, "custos.open_id"), srv.received, len(srv.response))
    expect_eq([e for e in net_events(evs) if get(e, "custos.rule", None) == "idle"], [],
              "the endpoint nobody connected to")
