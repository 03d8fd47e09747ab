"""The MySQL/MariaDB client/server protocol on endpoints marked "parse":
statements and rows of clients that load no probed library (PyMySQL, node
mysql2), seen in the kernel's walk of the packets on the socket."""

import os
import shutil

import dbservers
from itlib import expect, expect_eq, expect_field, get, has, one, run
from test_db import statement_type
from test_wire import client, config, skip_without, wire_statements

PYMYSQL_CLIENT = r"""
import sys, pymysql
from pymysql.constants import CLIENT
host, port = sys.argv[1], int(sys.argv[2])
kw = dict(user="root", database="crm", client_flag=CLIENT.MULTI_STATEMENTS)
if host.startswith("/"):
    kw["unix_socket"] = host
else:
    kw["host"], kw["port"] = host, port
c = pymysql.connect(**kw)
cur = c.cursor()
cur.execute("SELECT id, email FROM customers WHERE id <= %s ORDER BY id", (7,))
print(len(cur.fetchall()), flush=True)
cur.execute("UPDATE customers SET email = concat(email, '.') WHERE id <= 3")
c.commit()
try:
    cur.execute("SELECT nosuchcolumn FROM customers WHERE email = 'x@example.com'")
except Exception as e:
    print("error", flush=True)
try:
    cur.execute("INSERT INTO customers VALUES (%s, %s)", (1, "dup@example.com"))
except Exception as e:
    print("duplicate", flush=True)
cur.execute("SELECT 1; SELECT id FROM customers WHERE id <= 3")
n = len(cur.fetchall())
cur.nextset()
print(n + len(cur.fetchall()), flush=True)
cur.execute("SELECT id, email FROM customers")
print(len(cur.fetchall()), flush=True)
c.close()
"""


def my_endpoint(my, **extra):
    e = {"name": "orders-db", "tags": ["customer-data"], "address": "127.0.0.1", "port": my.port,
         "parse": "mysql"}
    e.update(extra)
    return e


def crm_server(t, rows=20, ssl=False):
    my = dbservers.MariaDB(t).start(ssl=ssl).ready()
    my.sql("CREATE DATABASE crm; CREATE TABLE crm.customers (id int PRIMARY KEY, email text);"
           "INSERT INTO crm.customers SELECT seq, concat('c', seq, '@example.com') "
           "FROM crm.seq_1_to_%d;" % rows)
    return my


def check_statement(e, text, op, rows=None, affected=None, outcome="success"):
    expect_field(e, "event.action", "query")
    expect_field(e, "event.outcome", outcome)
    expect_field(e, "event.type", statement_type(op, outcome, text))
    expect_field(e, "db.system.name", "mysql")
    expect_field(e, "db.query.text", text)
    expect_field(e, "db.operation.name", op)
    expect_field(e, "db.namespace", "crm")
    expect_field(e, "custos.db.user", "root")
    expect_field(e, "custos.db.source", "wire")
    expect_field(e, "custos.rule", "orders-db")
    expect_field(e, "custos.tags", ["customer-data"])
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


def check_pymysql(evs, r, where):
    expect_eq(r.out.split(), [b"7", b"error", b"duplicate", b"4", b"20"],
              "the client's output (%s)" % where)
    st = wire_statements(evs, pid=r.pid)
    sel = one([e for e in st if get(e, "db.query.text").startswith("SELECT id, email FROM customers "
                                                                    "WHERE")], "the SELECT", st)
    check_statement(sel, "SELECT id, email FROM customers WHERE id <= ? ORDER BY id", "SELECT",
                    rows=7)
    expect_field(sel, "process.pid", r.pid)
    upd = one([e for e in st if get(e, "db.operation.name") == "UPDATE"], "the UPDATE", st)
    check_statement(upd, "UPDATE customers SET email = concat(email, ?) WHERE id <= ?", "UPDATE",
                    affected=3)
    bad = one([e for e in st if "nosuchcolumn" in get(e, "db.query.text")], "the failing SELECT", st)
    check_statement(bad, "SELECT nosuchcolumn FROM customers WHERE email = ?", "SELECT",
                    outcome="failure")
    expect_field(bad, "error.code", "1054")
    expect_field(bad, "error.message", "Unknown column '?' in '?'")
    dup = one([e for e in st if get(e, "db.operation.name") == "INSERT"], "the INSERT", st)
    check_statement(dup, "INSERT INTO customers VALUES (?, ?)", "INSERT", outcome="failure")
    expect_field(dup, "error.code", "1062")
    expect_field(dup, "error.message", "Duplicate entry '?' for key '?'")
    multi = one([e for e in st if get(e, "db.query.text").startswith("SELECT ?;")], "the two", st)
    check_statement(multi, "SELECT ?; SELECT id FROM customers WHERE id <= ?", "SELECT", rows=4)
    full = one([e for e in st if get(e, "db.query.text") == "SELECT id, email FROM customers"],
               "the full SELECT", st)
    check_statement(full, "SELECT id, email FROM customers", "SELECT", rows=20)
    expect_eq(len(st), 8, "statements: the six, the session's SET AUTOCOMMIT and the COMMIT", st)
    raw = "\n".join(str(e) for e in evs)
    for secret in ("c1@example.com", "c7@example.com", "x@example.com", "dup@example.com"):
        expect(secret not in raw, "a row's or a literal's content in the stream: %s" % secret)
    return st


def test_wire_mysql_pymysql(t):
    """PyMySQL (pure Python: no libmariadb) over TCP and over MariaDB's unix
    socket, both parsed: each statement once, redacted, with its rows from
    the kernel's count of row packets, affected rows from the OK packet,
    failing statements with their error numbers and redacted messages,
    several statements in one COM_QUERY with all their rows, user and schema
    from the login; no row content and no literal anywhere."""
    if skip_without("mysql"):
        return
    my = crm_server(t)
    a = t.start_agent(config(t, my_endpoint(my),
                             {"name": "orders-local", "tags": ["customer-data"],
                              "unix": my.socket, "parse": "mysql"}))
    r = client(t, "pymysql-tcp", PYMYSQL_CLIENT, "127.0.0.1", str(my.port))
    u = client(t, "pymysql-unix", PYMYSQL_CLIENT, my.socket, "0")
    evs = a.stop()
    st = check_pymysql(evs, r, "TCP")
    sel = st[0]
    expect_field(sel, "server.address", "127.0.0.1")
    expect_field(sel, "server.port", my.port)
    expect_field(sel, "network.protocol", "mysql")
    su = wire_statements(evs, pid=u.pid)
    expect_eq(len(su), 8, "the unix socket's statements", su)
    full = one([e for e in su if get(e, "db.query.text") == "SELECT id, email FROM customers"],
               "the full SELECT over the unix socket", su)
    expect_field(full, "db.response.returned_rows", 20)
    expect_field(full, "custos.rule", "orders-local")
    expect_field(full, "custos.db.socket", my.socket)


BULK_CLIENT = r"""
import sys, pymysql
c = pymysql.connect(user="root", database="crm", host="127.0.0.1", port=int(sys.argv[1]))
cur = c.cursor()
cur.execute("SELECT seq, concat('c', seq, '@example.com') FROM seq_1_to_100000")
print(len(cur.fetchall()), flush=True)
# Packets of 16 MiB and more, continued by the next: a row sent by the server, a
# statement sent by the client.
cur.execute("SELECT repeat('x', 17000000) AS big UNION ALL SELECT 'small'")
print([len(r[0]) for r in cur.fetchall()], flush=True)
cur.execute("SELECT length('" + "y" * 17000000 + "') AS n")
print(cur.fetchone()[0], flush=True)
cur.execute("SELECT count(*) FROM customers")
print(cur.fetchone()[0], flush=True)
c.close()
# A command whose answer the walk does not follow (COM_FIELD_LIST: column
# definitions, then EOF): that connection is lost, nothing is guessed after it.
d = pymysql.connect(user="root", database="crm", host="127.0.0.1", port=int(sys.argv[1]))
d._execute_command(pymysql.constants.COMMAND.COM_FIELD_LIST, "customers\0")
while not d._read_packet().is_eof_packet():
    pass
d.cursor().execute("SELECT id FROM customers WHERE id = 3")
d.close()
"""


def test_wire_mysql_bulk_and_library_clients(t):
    """A 100,000-row SELECT through a parsed endpoint: the exact row count
    (row packets counted in the kernel) and not one row in the stream; a
    17 MB row and a 17 MB statement (packets continued past 16 MiB): counted
    once, and the walk goes on after them. The
    mariadb CLI (libmariadb, probed) over the same endpoint: its statements
    once, by the library probe; with --compress, its connection's summary
    says the kernel stopped following it because of compression."""
    if skip_without("mysql"):
        return
    my = crm_server(t)
    a = t.start_agent(config(t, my_endpoint(my)))
    r = client(t, "bulk-client", BULK_CLIENT, str(my.port))
    cli = run(my.cli(tcp=True, db="crm"), stdin=b"SELECT count(*) FROM customers;\n")
    z = run(my.cli(tcp=True, db="crm") + ["--compress"],
            stdin=b"SELECT id FROM customers WHERE id <= 5;\n")
    evs = a.stop()
    expect_eq(r.out.split(b"\n")[:4], [b"100000", b"[17000000, 5]", b"17000000", b"20"],
              "the bulk client's output")

    st = wire_statements(evs, pid=r.pid)
    big = one([e for e in st if "seq_1_to_100000" in get(e, "db.query.text")], "the SELECT", st)
    expect_field(big, "db.response.returned_rows", 100000)
    expect_field(big, "event.outcome", "success")
    two = one([e for e in st if "repeat" in get(e, "db.query.text")], "the 17 MB row", st)
    expect_field(two, "db.response.returned_rows", 2)
    long = one([e for e in st if get(e, "db.query.text", "").startswith("SELECT length(")],
               "the 17 MB statement", st)
    expect_field(long, "custos.db.query_truncated", True)
    expect_field(long, "db.response.returned_rows", 1)
    cnt = one([e for e in st if "count(*)" in get(e, "db.query.text")], "the count after", st)
    expect_field(cnt, "db.response.returned_rows", 1)
    s = [e for e in evs if get(e, "custos.open_id", None) == get(big, "custos.open_id")
         and get(e, "event.action", None) == "close"]
    expect(s and not has(s[-1], "custos.net.parse_lost"), "the kernel followed every packet", s)
    lost = [e for e in evs if get(e, "process.pid", None) == r.pid
            and get(e, "event.action", None) == "close" and has(e, "custos.net.parse_lost")]
    expect_eq([get(e, "custos.net.parse_lost") for e in lost], ["protocol"],
              "the connection that sent COM_FIELD_LIST", lost)
    expect_eq([e for e in st if "id = ?" in get(e, "db.query.text")], [],
              "nothing guessed after the walk lost it")

    lib = [e for e in evs if get(e, "event.category", None) == "database"
           and get(e, "process.pid", None) == cli.pid and "count(*)" in get(e, "db.query.text", "")]
    expect_eq([get(e, "custos.db.source") for e in lib], ["library"],
              "the CLI's statement reported once, by the library probe", lib)
    expect_field(lib[0], "db.response.returned_rows", 1)

    zs = [e for e in evs if get(e, "process.pid", None) == z.pid]
    zq = [e for e in zs if get(e, "event.category", None) == "database"
          and "customers" in get(e, "db.query.text", "")]
    expect_eq([get(e, "custos.db.source") for e in zq], ["library"],
              "the compressed connection's statement, by the library probe", zq)
    summary = [e for e in zs if get(e, "event.action", None) == "close"
               and get(e, "network.protocol", None) == "mysql"]
    expect(summary, "the compressed connection's summary", zs)
    expect_field(summary[-1], "custos.net.parse_lost", "compressed")
    raw = "\n".join(str(e) for e in evs)
    for secret in ("c99999@example.com", "c5@example.com"):
        expect(secret not in raw, "a row's content in the stream: %s" % secret)


NODE_CLIENT = r"""
const mysql = require(process.argv[2] + "/node_modules/mysql2/promise");
(async () => {
  const c = await mysql.createConnection({host: "127.0.0.1", port: +process.argv[3], user: "root",
                                          database: "crm"});
  const [rows] = await c.execute("SELECT id, email FROM customers WHERE id <= ? ORDER BY id", [6]);
  const [upd] = await c.execute("UPDATE customers SET email = concat(email, '!') WHERE id <= ?", [4]);
  const [again] = await c.execute("SELECT id, email FROM customers WHERE id <= ? ORDER BY id", [9]);
  let failed = "no";
  try {
    await c.execute("SELECT nosuchcolumn FROM customers WHERE id = ?", [1]);
  } catch (e) { failed = "failed"; }
  const [plain] = await c.query("SELECT count(*) AS n FROM customers");
  console.log(rows.length, upd.affectedRows, again.length, failed, plain[0].n);
  await c.end();
})().catch((e) => { console.error(e); process.exit(1); });
"""

# Where scripts/deps.sh test installs node's mysql2 from the npm registry.
NODE_MODULES = "/var/tmp/custos-it-node"


def test_wire_mysql_node_prepared(t):
    """node's mysql2 (pure JavaScript) with server-side prepared statements
    (COM_STMT_PREPARE, then COM_STMT_EXECUTE with binary result sets): each
    execution reported with the prepared text, its statement id, its rows or
    affected rows; a statement the server refuses to prepare is a failure;
    a plain query too. No parameter value in the stream."""
    if skip_without("mysql"):
        return
    if not os.path.isdir(os.path.join(NODE_MODULES, "node_modules", "mysql2")) or \
            not shutil.which("node"):
        print("SKIPPED: not installed: node's mysql2 in %s (scripts/deps.sh test)" % NODE_MODULES)
        return
    my = crm_server(t)
    script = t.path("client.js")
    with open(script, "w") as f:
        f.write(NODE_CLIENT)
    a = t.start_agent(config(t, my_endpoint(my)))
    r = run(["node", script, NODE_MODULES, str(my.port)])
    evs = a.stop()
    expect_eq(r.out.split(), [b"6", b"4", b"9", b"failed", b"20"], "the client's output")

    st = wire_statements(evs, pid=r.pid)
    sels = [e for e in st if "ORDER BY" in get(e, "db.query.text")]
    expect_eq([get(e, "db.response.returned_rows") for e in sels], [6, 9],
              "the prepared SELECT's two executions", sels)
    for e in sels:
        check_statement(e, "SELECT id, email FROM customers WHERE id <= ? ORDER BY id", "SELECT",
                        rows=get(e, "db.response.returned_rows"))
    expect(get(sels[0], "custos.db.prepared_name") == get(sels[1], "custos.db.prepared_name"),
           "one statement id for both executions", sels)
    upd = one([e for e in st if get(e, "db.operation.name") == "UPDATE"], "the UPDATE", st)
    check_statement(upd, "UPDATE customers SET email = concat(email, ?) WHERE id <= ?", "UPDATE",
                    affected=4)
    bad = one([e for e in st if "nosuchcolumn" in get(e, "db.query.text")], "the refused one", st)
    check_statement(bad, "SELECT nosuchcolumn FROM customers WHERE id = ?", "SELECT",
                    outcome="failure")
    expect_field(bad, "error.code", "1054")
    cnt = one([e for e in st if "count(*)" in get(e, "db.query.text")], "the plain query", st)
    check_statement(cnt, "SELECT count(*) AS n FROM customers", "SELECT", rows=1)
    raw = "\n".join(str(e) for e in evs)
    for secret in ("c6@example.com", "c9@example.com"):
        expect(secret not in raw, "a row's content in the stream: %s" % secret)


TLS_CLIENT = r"""
import sys, pymysql
c = pymysql.connect(user="root", database="crm", host="127.0.0.1", port=int(sys.argv[1]),
                    ssl={"verify_mode": "none"})
cur = c.cursor()
cur.execute("SHOW STATUS LIKE 'Ssl_cipher'")
print("tls" if cur.fetchone()[1] else "plain", flush=True)
cur.execute("SELECT id FROM customers")
print(len(cur.fetchall()), flush=True)
c.close()
"""


def test_wire_mysql_server_side_and_tls(t):
    """On the database server's host, a client the agent does not follow
    (excluded here; on another host in production) is seen from the
    server's side of the accepted connection: each statement with the
    client's address, the server's process, the user and schema from the
    login, and its rows. A client that asks for TLS (CLIENT_SSL): the
    connection is marked TLS, its bytes counted, no statement guessed."""
    if skip_without("mysql"):
        return
    my = crm_server(t, ssl=True)
    c = config(t, my_endpoint(my))
    c["exclude"] = {"comm": ["python3"]}
    a = t.start_agent(c)
    r = client(t, "pymysql-tcp", PYMYSQL_CLIENT, "127.0.0.1", str(my.port))
    evs = a.stop()
    expect_eq(r.out.split(), [b"7", b"error", b"duplicate", b"4", b"20"], "the client's output")
    st = wire_statements(evs)
    expect(st, "statements, from the server's side",
           [e for e in evs if get(e, "event.category", None) in ("network", "database")])
    expect(all(get(e, "process.pid") != r.pid for e in st),
           "no statement from the excluded client's side", st)
    sel = one([e for e in st if get(e, "db.query.text").startswith("SELECT id, email FROM customers "
                                                                    "WHERE")], "the SELECT", st)
    check_statement(sel, "SELECT id, email FROM customers WHERE id <= ? ORDER BY id", "SELECT",
                    rows=7)
    expect_field(sel, "process.name", "mariadbd")
    expect_field(sel, "network.direction", "ingress")
    expect_field(sel, "source.ip", "127.0.0.1")
    expect_field(sel, "server.port", my.port)
    dup = one([e for e in st if get(e, "db.operation.name") == "INSERT"], "the INSERT", st)
    expect_field(dup, "error.code", "1062")
    expect_eq(len(st), 8, "the client's statements, from the server's side", st)

    a = t.start_agent(config(t, my_endpoint(my)))
    r = client(t, "tls-client", TLS_CLIENT, str(my.port))
    evs = a.stop()
    expect_eq(r.out.split(), [b"tls", b"20"], "the TLS client's output")
    st = wire_statements(evs, pid=r.pid)
    full = one([e for e in st if get(e, "db.query.text") == "SELECT id FROM customers"],
               "the SELECT, from the plaintext libssl had", st)
    check_statement(full, "SELECT id FROM customers", "SELECT", rows=20)
    s = [e for e in evs if get(e, "process.pid", None) == r.pid
         and get(e, "event.action", None) == "close" and get(e, "network.protocol", None) == "mysql"]
    expect(s, "a summary of the TLS connection", evs)
    expect_field(s[-1], "custos.net.tls", True)
    expect(not has(s[-1], "custos.net.parse_lost"), "TLS is not a loss of the parse", s)
    expect(sum(get(e, "custos.io.bytes_received") for e in s) > 0, "TLS bytes counted", s)
