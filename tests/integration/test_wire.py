"""The PostgreSQL wire protocol on endpoints marked "parse": statements and
rows of clients that load no probed library, seen in the kernel's walk of
the messages on the socket."""

import os
import shutil

import dbservers
from itlib import PY, expect, expect_eq, expect_field, get, has, one, py, run
from test_db import statement_type

PG8000_CLIENT = r"""
import sys, pg8000
host, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
kw = dict(user="postgres", database="crm", port=port)
if host.startswith("/"):
    kw["unix_sock"] = host
else:
    kw["host"] = host
c = pg8000.connect(**kw)
cur = c.cursor()
cur.execute("SELECT id, email FROM customers WHERE id <= %s ORDER BY id", (7,))
print(len(cur.fetchall()), flush=True)
cur.execute("UPDATE customers SET email = email WHERE id <= 3")
c.commit()
try:
    cur.execute("SELECT nosuchcolumn FROM customers WHERE email = 'x@example.com'")
except Exception as e:
    print("error", flush=True)
c.rollback()
try:
    cur.execute("INSERT INTO customers VALUES (%s, %s)", (1, "dup@example.com"))
except Exception as e:
    print("duplicate", flush=True)
c.rollback()
cur.execute("SELECT count(*) FROM customers")
print(cur.fetchone()[0], flush=True)
c.close()
"""

# The protocol by hand, through sendmsg and recvmsg_into with several
# buffers: headers and bodies split across iovecs.
VECTORED_CLIENT = r"""
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
params = b"user\0postgres\0database\0crm\0\0"
startup = struct.pack("!II", 8 + len(params), 196608) + params
s.sendmsg([startup[:3], startup[3:10], startup[10:]])
buf = b""
def until_ready():
    global buf
    rows = 0
    while True:
        while len(buf) >= 5 and len(buf) >= 1 + struct.unpack("!I", buf[1:5])[0]:
            kind, n = buf[0:1], struct.unpack("!I", buf[1:5])[0]
            buf = buf[1 + n:]
            if kind == b"D":
                rows += 1
            if kind == b"Z":
                return rows
        a, b = bytearray(3), bytearray(100)
        n = s.recvmsg_into([a, b])[0]
        if n == 0:
            sys.exit("the server closed the connection")
        buf += bytes(a[:min(n, 3)]) + bytes(b[:max(0, n - 3)])
until_ready()
q = b"SELECT id, email FROM customers WHERE id <= 12\0"
m = b"Q" + struct.pack("!I", 4 + len(q)) + q
s.sendmsg([m[:2], m[2:20], m[20:]])
print(until_ready(), flush=True)
s.sendall(b"X\0\0\0\4")
s.close()
"""

GARBAGE_CLIENT = r"""
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"\xff" * 64 + b"GET / HTTP/1.0\r\n\r\n")
try:
    s.recv(100)
except OSError:
    pass
s.close()
"""


def client(t, name, code, *args, **kw):
    """Runs a Python client from a file: its SQL stays out of process.args."""
    path = t.path(name + ".py")
    with open(path, "w") as f:
        f.write(code)
    return run([PY, path] + list(args), **kw)


def pg_endpoint(pg, **extra):
    e = {"name": "crm-db", "tags": ["customer-data"], "address": "127.0.0.1", "port": pg.port,
         "parse": "postgresql"}
    e.update(extra)
    return e


def config(t, *endpoints, **databases):
    c = {"watch": [{"name": "crm", "paths": [t.mkdir("crm")]}], "endpoints": list(endpoints),
         "heartbeat_interval": 0}
    if databases:
        c["databases"] = databases
    return c


def crm_server(t, rows=20):
    pg = dbservers.Postgres(t).start().ready()
    pg.sql("CREATE DATABASE crm;")
    pg.sql("CREATE TABLE customers (id int PRIMARY KEY, email text);"
           "INSERT INTO customers SELECT g, 'c' || g || '@example.com' FROM generate_series(1, %d) g;"
           % rows, db="crm")
    return pg


def skip_without(*systems):
    why = dbservers.missing_servers(*systems)
    if why:
        print("SKIPPED: not installed: %s (scripts/deps.sh test installs it)" % why)
    return bool(why)


def wire_statements(evs, pid=None):
    return [e for e in evs if get(e, "event.category", None) == "database"
            and get(e, "custos.db.source", None) == "wire"
            and (pid is None or get(e, "process.pid", None) == pid)]


def check_wire_statement(e, pg, text, op, rows=None, affected=None, outcome="success",
                         tags=("customer-data",)):
    expect_field(e, "event.action", "query")
    expect_field(e, "event.outcome", outcome)
    expect_field(e, "event.type", statement_type(op, outcome, text))
    expect_field(e, "db.system.name", "postgresql")
    expect_field(e, "db.query.text", text)
    expect_field(e, "db.operation.name", op)
    expect_field(e, "db.namespace", "crm")
    expect_field(e, "custos.db.user", "postgres")
    expect_field(e, "custos.db.source", "wire")
    expect_field(e, "custos.rule", "crm-db")
    expect_field(e, "custos.tags", list(tags))
    if rows is None:
        expect(not has(e, "db.response.returned_rows"), "no rows for a statement without a result", e)
    else:
        expect_field(e, "db.response.returned_rows", rows)
    if affected is None:
        expect(not has(e, "custos.db.affected_rows"), "no affected rows", e)
    else:
        expect_field(e, "custos.db.affected_rows", affected)
    d = get(e, "event.duration")
    expect(isinstance(d, int) and 0 < d < 60 * 10**9, "event.duration is a duration in ns", e)


def test_wire_pg8000_tcp(t):
    """pg8000 (pure Python: no libpq) over TCP to a parsed endpoint: each
    statement once, redacted, with its rows from the kernel's count of
    DataRow messages, affected rows from the command tag, a failing
    statement with its SQLSTATE, user and database from the startup packet,
    and the server's address; no Bind value and no row content anywhere."""
    if skip_without("postgresql"):
        return
    pg = crm_server(t)
    a = t.start_agent(config(t, pg_endpoint(pg)))
    r = client(t, "pg8000-client", PG8000_CLIENT, "127.0.0.1", str(pg.port), "tcp")
    evs = a.stop()
    expect_eq(r.out.split(), [b"7", b"error", b"duplicate", b"20"], "the client's output")

    st = wire_statements(evs, pid=r.pid)
    texts = [get(e, "db.query.text") for e in st]
    sel = one([e for e in st if get(e, "db.query.text").startswith("SELECT id, email")],
              "the SELECT", st)
    check_wire_statement(sel, pg, "SELECT id, email FROM customers WHERE id <= $1 ORDER BY id",
                         "SELECT", rows=7)
    expect_field(sel, "server.address", "127.0.0.1")
    expect_field(sel, "server.port", pg.port)
    expect_field(sel, "destination.port", pg.port)
    expect_field(sel, "network.protocol", "postgresql")
    expect_field(sel, "process.pid", r.pid)
    upd = one([e for e in st if get(e, "db.operation.name") == "UPDATE"], "the UPDATE", st)
    check_wire_statement(upd, pg, "UPDATE customers SET email = email WHERE id <= ?", "UPDATE",
                         affected=3)
    bad = one([e for e in st if "nosuchcolumn" in get(e, "db.query.text")], "the failing SELECT", st)
    check_wire_statement(bad, pg, "SELECT nosuchcolumn FROM customers WHERE email = ?", "SELECT",
                         outcome="failure")
    expect_field(bad, "error.code", "42703")
    expect_field(bad, "error.message", 'column "?" does not exist')  # quoted values redacted
    dup = one([e for e in st if get(e, "db.operation.name") == "INSERT"], "the INSERT", st)
    check_wire_statement(dup, pg, "INSERT INTO customers VALUES ($1, $2)", "INSERT",
                         outcome="failure")
    expect_field(dup, "error.code", "23505")
    expect_field(dup, "error.message", 'duplicate key value violates unique constraint "?"')
    cnt = one([e for e in st if "count(*)" in get(e, "db.query.text")], "the count", st)
    check_wire_statement(cnt, pg, "SELECT count(*) FROM customers", "SELECT", rows=1)
    expect_eq(len(wire_statements(evs)), len(st),
              "statements reported once: by the client's side, not again by the server's", evs)
    raw = "\n".join(str(e) for e in evs)
    for secret in ("c1@example.com", "c7@example.com", "x@example.com", "dup@example.com"):
        expect(secret not in raw, "a row's or a literal's content in the stream: %s" % secret, texts)

BULK_CLIENT = r"""
import io, sys, pg8000
c = pg8000.connect(user="postgres", database="crm", host="127.0.0.1", port=int(sys.argv[1]))
cur = c.cursor()
cur.execute("SELECT g, 'c' || g || '@example.com' FROM generate_series(1, 100000) g")
print(len(cur.fetchall()), flush=True)
out = io.BytesIO()
cur.execute("COPY customers TO STDOUT", stream=out)
print(out.getvalue().count(b"\n"), flush=True)
c.commit()
c.close()
"""


def test_wire_bulk_select_and_copy(t):
    """A 100,000-row SELECT and a COPY TO STDOUT of 5,000 rows through a
    parsed endpoint: exact row counts (DataRow and CopyData messages
    counted in the kernel), and not one row's content in the stream."""
    if skip_without("postgresql"):
        return
    pg = crm_server(t, rows=5000)
    a = t.start_agent(config(t, pg_endpoint(pg)))
    r = client(t, "bulk-client", BULK_CLIENT, str(pg.port))
    evs = a.stop()
    expect_eq(r.out.split(), [b"100000", b"5000"], "the client's output")

    st = wire_statements(evs, pid=r.pid)
    big = one([e for e in st if "generate_series" in get(e, "db.query.text")], "the SELECT", st)
    expect_field(big, "db.response.returned_rows", 100000)
    expect_field(big, "event.outcome", "success")
    cp = one([e for e in st if get(e, "db.query.text").startswith("COPY")], "the COPY", st)
    expect_field(cp, "db.query.text", "COPY customers TO STDOUT")
    expect_field(cp, "event.type", ["access"])  # COPY ... TO reads
    expect_field(cp, "db.response.returned_rows", 5000)
    expect_field(cp, "custos.db.affected_rows", 5000)
    s = [e for e in evs if get(e, "custos.open_id", None) == get(cp, "custos.open_id")
         and get(e, "event.action", None) == "close"]
    expect(s and not has(s[-1], "custos.net.parse_lost"), "the kernel followed every message", s)
    raw = "\n".join(str(e) for e in evs)
    for secret in ("c4999@example.com", "c99999@example.com"):
        expect(secret not in raw, "a row's content in the stream: %s" % secret)


def test_wire_unix_socket_vectored_and_garbage(t):
    """pg8000 over PostgreSQL's unix socket (an endpoint by its path,
    parsed): its statements, with custos.db.socket. A client that speaks
    the protocol through sendmsg and recvmsg with several buffers, headers
    split across them: its statement and rows. A client that sends
    garbage to the parsed TCP endpoint: the kernel stops following that
    connection and says why in its summary; no statement is invented."""
    if skip_without("postgresql"):
        return
    pg = crm_server(t)
    sock = os.path.join(pg.sockdir, ".s.PGSQL.%d" % pg.port)
    a = t.start_agent(config(t, pg_endpoint(pg),
                             {"name": "crm-db-local", "unix": sock, "parse": "postgresql"}))
    r = client(t, "unix-client", PG8000_CLIENT, sock, str(pg.port), "unix")
    g = py(GARBAGE_CLIENT, str(pg.port))
    v = client(t, "vectored-client", VECTORED_CLIENT, str(pg.port))
    evs = a.stop()
    expect_eq(v.out.split(), [b"12"], "the vectored client's output")
    vs = one(wire_statements(evs, pid=v.pid), "the vectored client's statement", evs)
    check_wire_statement(vs, pg, "SELECT id, email FROM customers WHERE id <= ?", "SELECT", rows=12)
    expect_eq(r.out.split(), [b"7", b"error", b"duplicate", b"20"], "the client's output")

    st = wire_statements(evs, pid=r.pid)
    sel = one([e for e in st if get(e, "db.query.text").startswith("SELECT id, email")],
              "the SELECT over the unix socket", st)
    expect_field(sel, "db.response.returned_rows", 7)
    expect_field(sel, "custos.db.socket", sock)
    expect_field(sel, "custos.rule", "crm-db-local")
    expect(not has(sel, "server.address"), "a unix socket has no server address", sel)
    expect_eq(len(wire_statements(evs)), len(wire_statements(evs, pid=r.pid)) + 1,
              "statements reported once (the client's side), the vectored client's too", evs)

    expect_eq([e for e in evs if get(e, "event.category", None) == "database"
               and get(e, "process.pid", None) == g.pid], [], "statements of the garbage client")
    c = one([e for e in evs if get(e, "process.pid", None) == g.pid
             and get(e, "event.action", None) == "connect"], "the garbage client's connect", evs)
    s = [e for e in evs if get(e, "custos.open_id", None) == get(c, "custos.open_id")
         and get(e, "event.action", None) == "close"]
    expect(s, "a summary of the garbage client's connection", evs)
    expect_field(s[-1], "custos.net.parse_lost", "framing")


TLS_CLIENT = r"""
import sys, pg8000
c = pg8000.connect(user="postgres", database="postgres", host="127.0.0.1", port=int(sys.argv[1]),
                   ssl=True)
cur = c.cursor()
cur.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
print("tls" if cur.fetchone()[0] else "plain", flush=True)
cur.execute("SELECT g FROM generate_series(1, 25) g WHERE g > %s", (0,))
print(len(cur.fetchall()), flush=True)
c.close()
"""


def test_wire_psql_once_and_tls(t):
    """psql (libpq, probed) over TCP to a parsed endpoint: each statement
    reported once, by the library probe, not again from the wire. With
    sslmode=require the connection turns to TLS: the summary says so, the
    bytes are still counted, and psql's statement is still reported once
    (libssl's plaintext is read inside the probed libpq call). pg8000 over
    TLS (Python's ssl module, on libssl): its statements from the plaintext
    SSL_read and SSL_write carried, with their rows."""
    if skip_without("postgresql"):
        return
    pg = dbservers.Postgres(t).start(ssl=True).ready()
    a = t.start_agent(config(t, pg_endpoint(pg)))
    r = run(pg.psql(tcp=True), stdin=b"SELECT 1 AS one;\nSELECT 2 AS two;\n",
            env=dict(os.environ, PGSSLMODE="disable"))
    r_tls = run(pg.psql(tcp=True), stdin=b"SELECT 3 AS three;\n",
                env=dict(os.environ, PGSSLMODE="require"))
    p_tls = client(t, "tls-client", TLS_CLIENT, str(pg.port))
    evs = a.stop()
    expect_eq(p_tls.out.split(), [b"tls", b"25"], "the pg8000 TLS client's output")
    st = wire_statements(evs, pid=p_tls.pid)
    sel = one([e for e in st if "generate_series" in get(e, "db.query.text")],
              "pg8000's SELECT over TLS", st)
    expect_field(sel, "db.query.text", "SELECT g FROM generate_series(?, ?) g WHERE g > $1")
    expect_field(sel, "db.response.returned_rows", 25)
    expect_field(sel, "custos.db.user", "postgres")
    expect_field(sel, "db.namespace", "postgres")
    ps = [e for e in evs if get(e, "process.pid", None) == p_tls.pid
          and get(e, "event.action", None) == "close" and get(e, "network.protocol", None)]
    expect(ps and get(ps[-1], "custos.net.tls", None) is True and
           not has(ps[-1], "custos.net.parse_lost"), "pg8000's connection: TLS, followed", ps)

    dbs = [e for e in evs if get(e, "event.category", None) == "database"
           and get(e, "process.pid", None) == r.pid]
    expect_eq(sorted(get(e, "db.query.text") for e in dbs), ["SELECT ? AS one;", "SELECT ? AS two;"],
              "psql's statements, once each", dbs)
    expect(all(get(e, "custos.db.source") == "library" for e in dbs), "reported by the library", dbs)
    c = one([e for e in evs if get(e, "process.pid", None) == r_tls.pid
             and get(e, "event.action", None) == "connect"], "the TLS psql's connect", evs)
    s = [e for e in evs if get(e, "custos.open_id", None) == get(c, "custos.open_id")
         and get(e, "event.action", None) == "close"]
    expect(s, "a summary of the TLS connection", evs)
    expect_field(s[-1], "custos.net.tls", True)
    expect(sum(get(e, "custos.io.bytes_received") for e in s) > 0, "TLS bytes counted", s)
    tls_dbs = [e for e in evs if get(e, "event.category", None) == "database"
               and get(e, "process.pid", None) == r_tls.pid]
    expect_eq([(get(e, "db.query.text"), get(e, "custos.db.source")) for e in tls_dbs],
              [("SELECT ? AS three;", "library")], "psql's statement over TLS, once", tls_dbs)
    expect_eq([e for e in evs if get(e, "custos.db.source", None) == "wire"
               and get(e, "process.pid", None) != p_tls.pid], [],
              "statements from the wire of psql (all of them went through the probed libpq)")


GO_CLIENT = r"""
package main

import (
	"database/sql"
	"fmt"
	"os"

	_ "github.com/lib/pq"
)

func main() {
	db, err := sql.Open("postgres", "host=127.0.0.1 port="+os.Args[1]+" user=postgres dbname=crm sslmode=disable")
	if err != nil {
		panic(err)
	}
	rows, err := db.Query("SELECT id, email FROM customers WHERE id <= $1 ORDER BY id", 5)
	if err != nil {
		panic(err)
	}
	n := 0
	for rows.Next() {
		n++
	}
	rows.Close()
	res, err := db.Exec("UPDATE customers SET email = email WHERE id <= 2")
	if err != nil {
		panic(err)
	}
	affected, _ := res.RowsAffected()
	fmt.Println(n, affected)
	db.Close()
}
"""

JDBC_CLIENT = r"""
import java.sql.*;

public class JdbcClient {
    public static void main(String[] args) throws Exception {
        Connection c = DriverManager.getConnection(
            "jdbc:postgresql://127.0.0.1:" + args[0] + "/crm?sslmode=disable", "postgres", "");
        c.setAutoCommit(false);
        PreparedStatement p = c.prepareStatement("SELECT id, email FROM customers WHERE id <= ? ORDER BY id");
        p.setFetchSize(4);
        p.setInt(1, 10);
        ResultSet r = p.executeQuery();
        int n = 0;
        while (r.next()) n++;
        r.close();
        // Past prepareThreshold (5) the driver names the statement on the server.
        for (int i = 0; i < 6; i++) {
            p.setInt(1, 3);
            r = p.executeQuery();
            while (r.next()) n++;
            r.close();
        }
        c.commit();
        System.out.println(n);
        c.close();
    }
}
"""

GO_PQ = "/usr/share/gocode/src/github.com/lib/pq"
JDBC_JAR = "/usr/share/java/postgresql.jar"


def build_go(t, code):
    src = t.path("client.go")
    with open(src, "w") as f:
        f.write(code)
    out = t.path("go-client")
    run(["go", "build", "-o", out, src], timeout=300,
        env=dict(os.environ, GOPATH="/usr/share/gocode", GO111MODULE="off",
                 GOCACHE="/var/tmp/custos-it-gocache", HOME=t.path(".")))
    return out


def test_wire_go_lib_pq(t):
    """A Go program on lib/pq (no libpq: Go's own sockets, extended
    protocol with unnamed statements, two round trips a query): its SELECT
    with the rows, its UPDATE with the rows changed, attributed to it."""
    if skip_without("postgresql"):
        return
    if not os.path.isdir(GO_PQ) or not shutil.which("go"):
        print("SKIPPED: not installed: golang-go, golang-github-lib-pq-dev (scripts/deps.sh test)")
        return
    binary = build_go(t, GO_CLIENT)
    pg = crm_server(t)
    a = t.start_agent(config(t, pg_endpoint(pg)))
    r = run([binary, str(pg.port)])
    evs = a.stop()
    expect_eq(r.out.split(), [b"5", b"2"], "the client's output")

    st = wire_statements(evs, pid=r.pid)
    sel = one([e for e in st if get(e, "db.operation.name") == "SELECT"], "the SELECT", st)
    check_wire_statement(sel, pg, "SELECT id, email FROM customers WHERE id <= $1 ORDER BY id",
                         "SELECT", rows=5)
    expect_field(sel, "process.executable", binary)
    upd = one([e for e in st if get(e, "db.operation.name") == "UPDATE"], "the UPDATE", st)
    check_wire_statement(upd, pg, "UPDATE customers SET email = email WHERE id <= ?", "UPDATE",
                         affected=2)


def test_wire_jdbc_fetch_size(t):
    """PgJDBC (Java's own sockets): a SELECT fetched 4 rows at a time
    (PortalSuspended, the portal executed again) is one statement with all
    10 rows; executed 6 more times, past the driver's prepareThreshold,
    from a named server-side statement: each execution with its text."""
    if skip_without("postgresql"):
        return
    if not os.path.exists(JDBC_JAR) or not shutil.which("javac"):
        print("SKIPPED: not installed: default-jdk-headless, libpostgresql-jdbc-java "
              "(scripts/deps.sh test)")
        return
    src = t.path("JdbcClient.java")
    with open(src, "w") as f:
        f.write(JDBC_CLIENT)
    run(["javac", "-d", t.path("."), src], timeout=300)
    pg = crm_server(t)
    a = t.start_agent(config(t, pg_endpoint(pg)))
    r = run(["java", "-cp", t.path(".") + ":" + JDBC_JAR, "JdbcClient", str(pg.port)], timeout=300)
    evs = a.stop()
    expect_eq(r.out.split(), [b"28"], "the client's output")

    st = [e for e in wire_statements(evs, pid=r.pid) if get(e, "db.operation.name") == "SELECT"]
    expect_eq(len(st), 7, "the SELECT's executions", st)
    for e in st:
        check_wire_statement(e, pg, "SELECT id, email FROM customers WHERE id <= $1 ORDER BY id",
                             "SELECT", rows=get(e, "db.response.returned_rows"))
    expect_eq([get(e, "db.response.returned_rows") for e in st], [10] + [3] * 6,
              "rows of each execution (the first fetched in parts of 4)", st)
    expect(any(has(e, "custos.db.prepared_name") for e in st),
           "executions of the server-side named statement", st)


NODE_CLIENT = r"""
const { Client } = require(process.argv[2] + "/node_modules/pg");
(async () => {
  const c = new Client({host: "127.0.0.1", port: +process.argv[3], user: "postgres", database: "crm"});
  await c.connect();
  const r = await c.query("SELECT id, email FROM customers WHERE id <= $1 ORDER BY id", [6]);
  const u = await c.query("UPDATE customers SET email = email WHERE id <= 4");
  const named = {name: "count-customers", text: "SELECT count(*) FROM customers"};
  await c.query(named);
  const n = await c.query(named);
  console.log(r.rows.length, u.rowCount, n.rows[0].count);
  await c.end();
})().catch((e) => { console.error(e); process.exit(1); });
"""

# Where scripts/deps.sh test installs node's pg from the npm registry.
NODE_PG = "/var/tmp/custos-it-node"


def test_wire_node_pg(t):
    """node-postgres (pure JavaScript over libuv): a parameterized SELECT,
    an UPDATE (simple query), and a named statement executed twice (parsed
    once): each reported with its rows."""
    if skip_without("postgresql"):
        return
    if not os.path.isdir(os.path.join(NODE_PG, "node_modules", "pg")) or not shutil.which("node"):
        print("SKIPPED: not installed: node's pg in %s (scripts/deps.sh test)" % NODE_PG)
        return
    pg = crm_server(t)
    script = t.path("client.js")
    with open(script, "w") as f:
        f.write(NODE_CLIENT)
    a = t.start_agent(config(t, pg_endpoint(pg)))
    r = run(["node", script, NODE_PG, str(pg.port)])
    evs = a.stop()
    expect_eq(r.out.split(), [b"6", b"4", b"20"], "the client's output")

    st = wire_statements(evs, pid=r.pid)
    sel = one([e for e in st if "ORDER BY" in get(e, "db.query.text")], "the SELECT", st)
    check_wire_statement(sel, pg, "SELECT id, email FROM customers WHERE id <= $1 ORDER BY id",
                         "SELECT", rows=6)
    upd = one([e for e in st if get(e, "db.operation.name") == "UPDATE"], "the UPDATE", st)
    check_wire_statement(upd, pg, "UPDATE customers SET email = email WHERE id <= ?", "UPDATE",
                         affected=4)
    cnt = [e for e in st if "count(*)" in get(e, "db.query.text")]
    expect_eq(len(cnt), 2, "the named statement's two executions", cnt)
    for e in cnt:
        check_wire_statement(e, pg, "SELECT count(*) FROM customers", "SELECT", rows=1)
        expect_field(e, "custos.db.prepared_name", "count-customers")


def test_wire_server_side(t):
    """On the database server's host, a client the agent does not follow
    (here: excluded; in production: on another host) is seen from the
    server's side of the accepted connection: each statement with the
    client's address (source.*), the server's process, the database user
    and database from the startup packet, and its rows."""
    if skip_without("postgresql"):
        return
    pg = crm_server(t)
    c = config(t, pg_endpoint(pg), tables=["customers"], tags=["customer-data", "pii"])
    c["exclude"] = {"comm": ["python3"]}
    a = t.start_agent(c)
    r = client(t, "pg8000-client", PG8000_CLIENT, "127.0.0.1", str(pg.port), "tcp")
    evs = a.stop()
    expect_eq(r.out.split(), [b"7", b"error", b"duplicate", b"20"], "the client's output")

    st = wire_statements(evs)
    expect(st and all(get(e, "process.pid") != r.pid for e in st),
           "statements, none from the excluded client's side", evs)
    sel = one([e for e in st if get(e, "db.query.text").startswith("SELECT id, email")],
              "the SELECT, from the server's side", st)
    # The databases' tags (it names a customer table), then the endpoint's not already there.
    check_wire_statement(sel, pg, "SELECT id, email FROM customers WHERE id <= $1 ORDER BY id",
                         "SELECT", rows=7, tags=("customer-data", "pii"))
    expect_field(sel, "custos.db.customer_data", True)
    expect_field(sel, "process.name", "postgres")
    expect_field(sel, "network.direction", "ingress")
    expect_field(sel, "source.ip", "127.0.0.1")
    expect_field(sel, "destination.port", pg.port)
    expect_field(sel, "server.address", "127.0.0.1")
    expect_field(sel, "server.port", pg.port)
    upd = one([e for e in st if get(e, "db.operation.name") == "UPDATE"], "the UPDATE", st)
    check_wire_statement(upd, pg, "UPDATE customers SET email = email WHERE id <= ?", "UPDATE",
                         affected=3, tags=("customer-data", "pii"))
