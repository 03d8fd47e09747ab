"""Database client probes: one event per SQL statement, from the real
clients (psql, the mariadb CLI, sqlite3, psycopg2, MySQLdb, python's
sqlite3 and tests/helpers/dbclient for the API paths those do not take)
talking to real servers started by the test (dbservers.py: PostgreSQL and
MariaDB on loopback and on unix sockets in the test's directory).

Each statement's event is checked field by field: its (redacted) text,
operation, tables, rows returned or changed, outcome and error, the
connection (db.namespace, custos.db.user, server.address/port or custos.db.socket),
customer-data tags, and who ran it (process.*, user.*). Literals must not
reach the output unless databases.raw_text is on; hostile text must never
break or forge a line. Database clients run with /usr/bin/python3 (Debian's,
with python3-psycopg2 and python3-mysqldb), whatever python3 runs the tests.
"""

import functools
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time

import dbservers
from itlib import (CUSTOS, TIMESTAMP_RE, action, agent_events, check_seq, expect, expect_eq, expect_field,
                   fail, field_bytes, get, has, helper, hostname, one, run, show, the_open)

SYS_PY = "/usr/bin/python3"
SECRET = "secret-42@example.com"
SYSTEMS = ("postgresql", "mysql", "sqlite")

PG_FUNCS = ["PQconnectdb", "PQconnectdbParams", "PQconnectStart", "PQconnectStartParams", "PQsetdbLogin",
            "PQfinish", "PQexec", "PQexecParams", "PQprepare", "PQexecPrepared", "PQsendQuery",
            "PQsendQueryParams", "PQsendPrepare", "PQsendQueryPrepared", "PQgetResult"]
MY_FUNCS = ["mysql_real_connect", "mysql_select_db", "mysql_real_query", "mysql_send_query",
            "mysql_read_query_result", "mysql_store_result", "mysql_use_result", "mysql_affected_rows",
            "mysql_stmt_prepare", "mysql_stmt_execute", "mysql_close"]
SQ_FUNCS = ["sqlite3_open", "sqlite3_open_v2", "sqlite3_prepare_v2", "sqlite3_prepare_v3", "sqlite3_step",
            "sqlite3_reset", "sqlite3_finalize", "sqlite3_close", "sqlite3_close_v2"]


# ------------------------------------------------------------------ helpers


def needs(*systems):
    """The test runs real servers: without their binaries it is skipped, saying
    so (scripts/deps.sh test installs them, so in CI it runs)."""
    def deco(fn):
        @functools.wraps(fn)
        def wrapper(t):
            why = dbservers.missing_servers(*systems)
            if why:
                print("SKIPPED: not installed: %s (scripts/deps.sh test installs it)" % why)
                return None
            return fn(t)
        return wrapper
    return deco


def cfg(t, **databases):
    """A config watching an empty directory, with this "databases" section."""
    d = t.mkdir("crm")
    c = {"watch": [{"name": "crm", "paths": [d]}], "heartbeat_interval": 0}
    if databases:
        c["databases"] = databases
    return c


def start(t, configs=(), servers=(), sequential=False):
    """Starts the servers (in the background), then the agents (at the same
    time, each waits for its agent-start), then waits for the servers."""
    for s in servers:
        s.start()
    agents = [t.agent(c) for c in configs]
    if sequential or len(agents) < 2:
        for a in agents:
            a.start()
    else:
        errors = []

        def go(a):
            try:
                a.start()
            except BaseException as e:  # noqa: BLE001
                errors.append(e)
        threads = [threading.Thread(target=go, args=(a,)) for a in agents]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        if errors:
            raise errors[0]
    for s in servers:
        s.ready()
    return agents


def db_events(evs, pid=None, system=None):
    return [e for e in evs if get(e, "event.category", None) == "database"
            and (pid is None or get(e, "process.pid", None) == pid)
            and (system is None or get(e, "db.system.name", None) == system)]


def text(e):
    return get(e, "db.query.text", None)


NOT_WRITES = ("SELECT", "WITH", "SHOW", "TABLE", "FETCH", "VALUES", "BEGIN", "COMMIT", "SET", "ROLLBACK")


def statement_type(op, outcome, text=""):
    """event.type of a statement: error when it failed, change when it may
    write (COPY ... FROM, not COPY ... TO), access otherwise."""
    if outcome == "failure":
        return ["error"]
    if op == "COPY":
        words = [w for w in re.findall(r"[a-z_]+", (text or "").lower()) if w in ("to", "from")]
        return ["change"] if words and words[-1] == "from" else ["access"]
    return ["access"] if op is None or op in NOT_WRITES else ["change"]


def check_common(e, system, outcome="success"):
    """What every statement event has."""
    expect_field(e, "event.kind", "event")
    expect_field(e, "event.category", "database")
    expect_field(e, "event.dataset", "custos.database")
    expect_field(e, "event.type", statement_type(get(e, "db.operation.name", None), outcome, text(e)))
    expect_field(e, "event.action", "query")
    expect_field(e, "event.outcome", outcome)
    expect_field(e, "db.system.name", system)
    expect_field(e, "custos.schema_version", 2)
    expect(not has(e, "db.user"), "the deprecated db.user", e)
    expect_field(e, "host.name", hostname())
    expect(TIMESTAMP_RE.match(get(e, "@timestamp")), "@timestamp is not RFC 3339 with ns", e)
    d = get(e, "event.duration")
    expect(isinstance(d, int) and 0 < d < 60 * 10**9, "event.duration is not a duration in ns", e)
    expect(isinstance(get(e, "custos.seq"), int), "custos.seq is not an integer", e)
    expect(isinstance(get(e, "custos.db.tables"), list), "custos.db.tables is not a list", e)
    if outcome == "success":
        expect(not has(e, "error"), "a successful statement has an error", e)


def check_who(e, r, name, exe, user="root", uid="0"):
    """process.* and user.* are those of the client process r (a Run)."""
    expect_field(e, "process.pid", r.pid)
    expect_field(e, "process.thread.id", r.pid)
    expect_field(e, "process.name", name)
    expect_field(e, "process.executable", exe)
    expect_field(e, "user.id", uid)
    expect_field(e, "user.name", user)
    expect_field(e, "user.effective.id", uid)
    expect_field(e, "user.effective.name", user)
    expect(isinstance(get(e, "process.parent.pid"), int), "process.parent.pid missing", e)
    expect(TIMESTAMP_RE.match(get(e, "process.start")), "process.start is not a timestamp", e)


def check_collection(e, tables):
    """db.collection.name: only for a statement that names exactly one table."""
    if len(tables) == 1:
        expect_field(e, "db.collection.name", tables[0])
    else:
        expect(not has(e, "db.collection"), "db.collection for %d tables" % len(tables), e)


def check_statement(e, system, text_, op, tables, rows=None, affected=None, outcome="success"):
    """The statement's text, operation, tables, returned and changed rows."""
    check_common(e, system, outcome)
    expect_field(e, "db.query.text", text_)
    expect_field(e, "db.operation.name", op)
    expect_field(e, "custos.db.tables", tables)
    expect_field(e, "event.type", statement_type(op, outcome, text_))
    check_collection(e, tables)
    if rows is None:
        expect(not has(e, "db.response.returned_rows"), "db.response.returned_rows should be absent", e)
    else:
        expect_field(e, "db.response.returned_rows", rows)
    if affected is None:
        expect(not has(e, "custos.db.affected_rows"), "custos.db.affected_rows should be absent", e)
    else:
        expect_field(e, "custos.db.affected_rows", affected)


def check_untagged(e):
    expect(not has(e, "custos.tags") and not has(e, "custos.db.customer_data"),
           "a statement on no customer table is tagged", e)


def check_tagged(e, tags=("customer-data",)):
    expect_field(e, "custos.db.customer_data", True)
    expect_field(e, "custos.tags", list(tags))


def expect_texts(evs, texts, what):
    got = [text(e) for e in evs]
    if got != texts:
        fail("%s: statements expected:\n%s\ngot:\n%s" % (what, "\n".join(map(repr, texts)),
                                                        "\n".join(map(repr, got))), evs)


def no_secret(a, *secrets):
    """The secret literals appear nowhere in the agent's output."""
    raw = a.raw()
    for s in secrets or (SECRET,):
        s = s.encode() if isinstance(s, str) else s
        if s in raw:
            line = [ln for ln in raw.split(b"\n") if s in ln][0]
            fail("the literal %r is in the output of an agent that redacts" % s, line.decode("utf-8", "replace"))


def as_nobody(argv):
    """argv run as nobody by setpriv, which execs it: same pid (runuser forks)."""
    return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"] + list(argv)


def sysrun(code, *args, **kw):
    """A /usr/bin/python3 program (the one with psycopg2 and MySQLdb), read
    from stdin: what it holds (literals) stays out of process.args."""
    return run([SYS_PY, "-"] + list(args), stdin=code.encode(), **kw)


def stats(evs):
    return get(one(agent_events(evs, "agent-stop"), "agent-stop event", evs), "custos.stats")


def check_sane_stats(evs):
    st = stats(evs)
    for k in ("malformed_records", "ringbuf_drops", "queue_drops"):
        expect_eq(st[k], 0, "custos.stats.%s" % k, st)
    expect(st["records"]["db_call"] > 0, "no db_call record counted", st)
    return st


def lib_path(soname):
    """The real file of a library, as the dynamic linker finds it."""
    out = subprocess.run(["ldconfig", "-p"], stdout=subprocess.PIPE, check=True).stdout.decode()
    for line in out.splitlines():
        m = re.match(r"\s*(\S+) \(([^)]*)\) => (\S+)", line)
        if m and m.group(1) == soname and "x86-64" in m.group(2):
            return os.path.realpath(m.group(3))
    fail("library %s not found by ldconfig -p" % soname)


def probes(start_ev):
    return get(start_ev, "custos.agent.db_probes")


def probed_by_file(start_ev):
    """{real path: [entries]} of custos.agent.db_probes.probed."""
    out = {}
    for p in get(probes(start_ev), "probed"):
        out.setdefault(os.path.realpath(p["path"]), []).append(p)
    return out


def start_event(evs):
    return one(agent_events(evs, "agent-start"), "agent-start event", evs)


# ------------------------------------------------------------ agent-start


@needs("postgresql")
def test_db_probes_listed_and_turned_off(t):
    """agent-start lists each client library once (libpq, libmariadb,
    libsqlite3, and the mariadb CLI that exports the API itself) with the
    functions probed. A second agent with "postgresql": false and
    "sqlite_rows": false probes no libpq and no sqlite3_step: psql gives it
    no event, SQLite statements have no returned_rows; a third with every
    system off lists no db_probes and sees no statement."""
    pg = dbservers.Postgres(t)
    full, partial, none_ = start(t, [
        cfg(t),
        cfg(t, postgresql=False, sqlite_rows=False),
        cfg(t, postgresql=False, mysql=False, sqlite=False)], [pg])
    db = t.path("a.db")
    r_pg = run(pg.psql(), stdin=b"select 1 as one;\n")
    r_sq = run([helper("dbclient"), "sqlite", db, "exec", "select 7 as seven union select 8"])
    evs_none = none_.stop()
    evs_partial = partial.stop()
    evs = full.stop()

    libs = {"postgresql": lib_path("libpq.so.5"), "mysql": lib_path("libmariadb.so.3"),
            "sqlite": lib_path("libsqlite3.so.0")}
    funcs = {"postgresql": PG_FUNCS, "mysql": MY_FUNCS, "sqlite": SQ_FUNCS}
    start_ev = start_event(evs)
    expect(isinstance(get(probes(start_ev), "warnings"), list), "db_probes.warnings is not a list", start_ev)
    by_file = probed_by_file(start_ev)
    for path, entries in by_file.items():
        expect_eq(len(entries), 1, "db_probes entries for %s (each file once, by identity)" % path, entries)
    for system, lib in libs.items():
        entry = one(by_file.get(lib, []), "db_probes entry for %s" % lib, probes(start_ev))
        expect_eq(entry["system"], system, "system of %s" % lib, entry)
        expect_eq(entry["functions"], funcs[system], "functions probed in %s" % lib, entry)
    cli = one(by_file.get(os.path.realpath(shutil.which("mariadb")), []), "db_probes entry for the mariadb CLI",
              probes(start_ev))
    expect_eq((cli["system"], cli["functions"]), ("mysql", MY_FUNCS), "the mariadb CLI's probes", cli)
    expect(not any(p["system"] == "postgresql" for p in get(probes(start_ev), "probed")
                   if os.path.realpath(p["path"]) not in (libs["postgresql"],)),
           "something other than libpq probed as postgresql", probes(start_ev))

    # Everything on: psql and the SQLite statement are seen.
    e = one(db_events(evs, pid=r_pg.pid), "statement of psql", evs)
    check_statement(e, "postgresql", "select ? as one;", "SELECT", [], rows=1)
    e = one(db_events(evs, pid=r_sq.pid), "statement of dbclient", evs)
    check_statement(e, "sqlite", "select ? as seven union select ?", "SELECT", [], rows=2)

    # postgresql off, sqlite_rows off.
    start_ev = start_event(evs_partial)
    by_file = probed_by_file(start_ev)
    expect(libs["postgresql"] not in by_file and
           not any(p["system"] == "postgresql" for p in get(probes(start_ev), "probed")),
           "libpq probed although \"postgresql\" is false", probes(start_ev))
    entry = one(by_file.get(libs["sqlite"], []), "db_probes entry for libsqlite3", probes(start_ev))
    expect_eq(entry["functions"], [f for f in SQ_FUNCS if f != "sqlite3_step"],
              "functions probed in libsqlite3 with sqlite_rows false", entry)
    one(by_file.get(libs["mysql"], []), "db_probes entry for libmariadb", probes(start_ev))
    expect_eq(db_events(evs_partial, pid=r_pg.pid), [], "events of psql with \"postgresql\": false")

    # Everything off.
    start_ev = start_event(evs_none)
    expect(not has(start_ev, "custos.agent.db_probes"), "db_probes listed with every system off", start_ev)
    expect_eq(db_events(evs_none), [], "statements seen with every system off")

    # sqlite_rows false: the statement is still reported, without its rows.
    e = one(db_events(evs_partial, pid=r_sq.pid), "statement of dbclient with sqlite_rows false", evs_partial)
    check_statement(e, "sqlite", "select ? as seven union select ?", "SELECT", [], rows=None)


# ------------------------------------------------------------------- psql


PSQL_SETUP = """
create table customers (id int primary key, email text);
insert into customers values (1, 'a@example.com'), (2, 'b@example.com'), (3, 'c@example.com');
"""

PSQL_WORK = """select id, email from customers where email = 'secret-42@example.com';
update customers set email = 'secret-42@example.com' where id >= 2;
select id, email from customers where email = 'secret-42@example.com';
delete from customers where id = 3;
insert into customers values (10, 'secret-42@example.com'), (11, 'x');
select * from missing_table where secret = 'secret-42@example.com';
"""


@needs("postgresql")
def test_db_psql(t):
    """psql over the unix socket (as root) and over TCP (as nobody): one event
    per statement with the redacted text (the literal 'secret-42@example.com'
    nowhere in the output), rows returned, rows changed by UPDATE, DELETE and
    INSERT, the failing statement on a missing table (failure, error.message
    with its quoted name redacted), db.namespace, custos.db.user, custos.db.socket or
    server.address and server.port, and the client process and user. A
    second agent with raw_text sees the same statements with their literals."""
    pg = dbservers.Postgres(t)
    a, raw = start(t, [cfg(t, tables=["customers"]), cfg(t, tables=["customers"], raw_text=True)], [pg])
    pg.sql(PSQL_SETUP)
    r1 = run(pg.psql(), stdin=PSQL_WORK.encode(), check=False)
    expect("missing_table" in r1.err.decode(), "psql did not fail on the missing table", repr(r1))
    r2 = run(as_nobody(pg.psql(tcp=True)), stdin=b"select count(*) from customers;\n")
    evs_raw = raw.stop()
    evs = a.stop()
    check_seq(evs)
    psql = os.path.realpath(os.path.join(pg.bindir, "psql"))

    expected = [
        ("select id, email from customers where email = ?;", "SELECT", 0, None),
        ("update customers set email = ? where id >= ?;", "UPDATE", None, 2),
        ("select id, email from customers where email = ?;", "SELECT", 2, None),
        ("delete from customers where id = ?;", "DELETE", None, 1),
        ("insert into customers values (?, ?), (?, ?);", "INSERT", None, 2),
    ]
    sock = db_events(evs, pid=r1.pid)
    expect_texts(sock, [x[0] for x in expected] + ["select * from missing_table where secret = ?;"],
                 "psql over the unix socket")
    for e, (txt, op, rows, affected) in zip(sock, expected):
        check_statement(e, "postgresql", txt, op, ["customers"], rows=rows, affected=affected)
        check_tagged(e)
    failed = sock[-1]
    check_statement(failed, "postgresql", "select * from missing_table where secret = ?;", "SELECT",
                    ["missing_table"], outcome="failure")
    check_untagged(failed)
    expect_field(failed, "error.message", 'ERROR:  relation "?" does not exist')
    for e in sock:
        check_who(e, r1, "psql", psql)
        expect_field(e, "db.namespace", "postgres")
        expect_field(e, "custos.db.user", "postgres")
        expect_field(e, "custos.db.socket", pg.sockdir)
        expect_field(e, "server.port", pg.port)
        expect(not has(e, "server.address"), "server.address for a unix socket connection", e)

    e = one(db_events(evs, pid=r2.pid), "statement of psql over TCP", evs)
    check_statement(e, "postgresql", "select count(*) from customers;", "SELECT", ["customers"], rows=1)
    check_tagged(e)
    check_who(e, r2, "psql", psql, user="nobody", uid="65534")
    expect_field(e, "server.address", "127.0.0.1")
    expect_field(e, "server.port", pg.port)
    expect_field(e, "db.namespace", "postgres")
    expect_field(e, "custos.db.user", "postgres")
    expect(not has(e, "custos.db.socket"), "custos.db.socket for a TCP connection", e)
    no_secret(a)

    # raw_text: the same statements, as sent, literals and all.
    sock_raw = db_events(evs_raw, pid=r1.pid)
    expect_texts(sock_raw, [s for s in PSQL_WORK.splitlines()], "psql with raw_text")
    for e, r in zip(sock_raw, sock):
        for f in ("db.response.returned_rows", "custos.db.affected_rows", "event.outcome", "custos.db.tables"):
            expect_eq(get(e, f, None), get(r, f, None), f + " with and without raw_text", e, r)
    expect(SECRET in text(sock_raw[0]), "raw text lost its literal", sock_raw[0])
    msg = get(sock_raw[-1], "error.message")
    expect('relation "missing_table" does not exist' in msg, "raw error.message is not the server's", sock_raw[-1])


# ---------------------------------------------------------------- mariadb


MY_SETUP = """
create database shop;
create table shop.customers (id int primary key, email varchar(100));
insert into shop.customers values (1, 'a@example.com'), (2, 'b@example.com'), (3, 'c@example.com');
"""

MY_WORK = """select id, email from customers where email = 'secret-42@example.com';
update customers set email = 'secret-42@example.com' where id >= 2;
select id, email from customers where email = 'secret-42@example.com';
delete from customers where id = 3;
insert into customers values (10, 'secret-42@example.com'), (11, 'x');
select * from missing_table where secret = 'secret-42@example.com';
"""


@needs("mysql")
def test_db_mariadb_cli(t):
    """The mariadb CLI (which carries the client API itself) over the unix
    socket and over TCP: redacted text, rows returned, rows changed by
    UPDATE, DELETE and INSERT, the failing statement (failure), db.namespace
    (the database connected to), custos.db.user, custos.db.socket with
    server.address localhost, or server.address and server.port; with
    raw_text the literals are there."""
    my = dbservers.MariaDB(t)
    a, raw = start(t, [cfg(t, tables=["customers"]), cfg(t, tables=["customers"], raw_text=True)], [my])
    my.sql(MY_SETUP)
    r1 = run(my.cli(db="shop"), stdin=MY_WORK.encode(), check=False)
    expect("missing_table" in r1.err.decode(), "mariadb did not fail on the missing table", repr(r1))
    r2 = run(my.cli(tcp=True, db="shop"), stdin=b"select count(*) from customers;\n")
    evs_raw = raw.stop()
    evs = a.stop()
    check_seq(evs)
    cli = os.path.realpath(shutil.which("mariadb"))

    expected = [
        ("select id, email from customers where email = ?", "SELECT", 0, None),
        ("update customers set email = ? where id >= ?", "UPDATE", None, 2),
        ("select id, email from customers where email = ?", "SELECT", 2, None),
        ("delete from customers where id = ?", "DELETE", None, 1),
        ("insert into customers values (?, ?), (?, ?)", "INSERT", None, 2),
    ]
    sock = db_events(evs, pid=r1.pid)
    expect_texts(sock, [x[0] for x in expected] + ["select * from missing_table where secret = ?"],
                 "mariadb over the unix socket")
    for e, (txt, op, rows, affected) in zip(sock, expected):
        check_statement(e, "mysql", txt, op, ["customers"], rows=rows, affected=affected)
        check_tagged(e)
    check_statement(sock[-1], "mysql", "select * from missing_table where secret = ?", "SELECT",
                    ["missing_table"], outcome="failure")
    check_untagged(sock[-1])
    for e in sock:
        check_who(e, r1, "mariadb", cli)
        expect_field(e, "db.namespace", "shop")
        expect_field(e, "custos.db.user", "root")
        expect_field(e, "custos.db.socket", my.socket)
        expect_field(e, "server.address", "localhost")
        expect(not has(e, "server.port"), "server.port for a unix socket connection", e)

    e = one(db_events(evs, pid=r2.pid), "statement of mariadb over TCP", evs)
    check_statement(e, "mysql", "select count(*) from customers", "SELECT", ["customers"], rows=1)
    check_who(e, r2, "mariadb", cli)
    expect_field(e, "server.address", "127.0.0.1")
    expect_field(e, "server.port", my.port)
    expect_field(e, "db.namespace", "shop")
    expect_field(e, "custos.db.user", "root")
    expect(not has(e, "custos.db.socket"), "custos.db.socket for a TCP connection", e)
    no_secret(a)

    sock_raw = db_events(evs_raw, pid=r1.pid)
    expect_texts(sock_raw, MY_WORK.rstrip("\n").replace(";", "").splitlines(), "mariadb with raw_text")
    for e, r in zip(sock_raw, sock):
        for f in ("db.response.returned_rows", "custos.db.affected_rows", "event.outcome", "custos.db.tables"):
            expect_eq(get(e, f, None), get(r, f, None), f + " with and without raw_text", e, r)


# ----------------------------------------------------------------- python


PSYCOPG = r"""
import json, sys, psycopg2
sockdir, port, secret = sys.argv[1], int(sys.argv[2]), "SECRET"
for host in (sockdir, "127.0.0.1"):
    c = psycopg2.connect(host=host, port=port, user="postgres", dbname="postgres")
    c.autocommit = True
    cur = c.cursor()
    cur.execute("select id, email from customers where email = %s", (secret,))
    assert cur.rowcount == 0
    cur.execute("update customers set email = %s where id <= %s", (secret, 2))
    assert cur.rowcount == 2
    cur.execute("select id, email from customers where email = %s", (secret,))
    assert len(cur.fetchall()) == 2
    cur.execute("update customers set email = %s where id <= %s", ("x", 2))
    c.close()
"""

MYSQLDB = r"""
import sys, MySQLdb
sock, port, secret = sys.argv[1], int(sys.argv[2]), "SECRET"
for kw in ({"unix_socket": sock}, {"host": "127.0.0.1", "port": port}):
    c = MySQLdb.connect(user="root", db="shop", autocommit=True, **kw)
    cur = c.cursor()
    cur.execute("select id, email from customers where email = %s", (secret,))
    assert cur.rowcount == 0
    cur.execute("update customers set email = %s where id <= %s", (secret, 2))
    assert cur.rowcount == 2
    cur.execute("select id, email from customers where email = %s", (secret,))
    assert len(cur.fetchall()) == 2
    cur.execute("update customers set email = %s where id <= %s", ("x", 2))
    c.close()
"""


@needs("postgresql", "mysql")
def test_db_python_clients(t):
    """psycopg2 and MySQLdb (/usr/bin/python3), each over the unix socket then
    over TCP, with parameters the modules put into the text themselves: the
    text is redacted, rows returned and changed, connection fields, and the
    python process."""
    pg = dbservers.Postgres(t)
    my = dbservers.MariaDB(t)
    (a,) = start(t, [cfg(t, tables=["customers"])], [pg, my])
    pg.sql(PSQL_SETUP)
    my.sql(MY_SETUP)
    r_pg = sysrun(PSYCOPG.replace("SECRET", SECRET), pg.sockdir, str(pg.port))
    r_my = sysrun(MYSQLDB.replace("SECRET", SECRET), my.socket, str(my.port))
    evs = a.stop()
    py_exe = os.path.realpath(SYS_PY)
    work = [
        ("select id, email from customers where email = ?", "SELECT", 0, None),
        ("update customers set email = ? where id <= ?", "UPDATE", None, 2),
        ("select id, email from customers where email = ?", "SELECT", 2, None),
        ("update customers set email = ? where id <= ?", "UPDATE", None, 2),
    ]
    for r, system, conns in ((r_pg, "postgresql", [("socket", pg.sockdir), ("address", "127.0.0.1")]),
                             (r_my, "mysql", [("socket", my.socket), ("address", "127.0.0.1")])):
        evs_r = [e for e in db_events(evs, pid=r.pid) if get(e, "custos.db.tables")]
        expect_texts(evs_r, [w[0] for w in work] * 2, "%s statements of python" % system)
        for i, e in enumerate(evs_r):
            txt, op, rows, affected = work[i % len(work)]
            check_statement(e, system, txt, op, ["customers"], rows=rows, affected=affected)
            check_tagged(e)
            check_who(e, r, "python3", py_exe)
            expect_field(e, "db.namespace", "postgres" if system == "postgresql" else "shop")
            expect_field(e, "custos.db.user", "postgres" if system == "postgresql" else "root")
            kind, where = conns[i // len(work)]
            if kind == "socket":
                expect_field(e, "custos.db.socket", where)
                expect(not has(e, "server.address") or get(e, "server.address") == "localhost",
                       "server.address for a unix socket", e)
            else:
                expect_field(e, "server.address", where)
                expect_field(e, "server.port", pg.port if system == "postgresql" else my.port)
                expect(not has(e, "custos.db.socket"), "custos.db.socket for TCP", e)
        for e in db_events(evs, pid=r.pid):
            check_common(e, system)
    no_secret(a)


# ----------------------------------------------------------------- sqlite


SQLITE_PY = r"""
import sqlite3, sys
db, secret = sys.argv[1], "SECRET"
c = sqlite3.connect(db, isolation_level=None)
c.execute("create table customers (id integer primary key, email text)")
c.executemany("insert into customers values (?, ?)", [(i, "x%d@example.com" % i) for i in range(1, 6)])
c.execute("update customers set email = '%s' where id >= 4" % secret)
assert len(c.execute("select id from customers where email = '%s'" % secret).fetchall()) == 2
assert len(c.execute("select * from customers").fetchall()) == 5
c.close()
"""


def test_db_sqlite(t):
    """python's sqlite3 and the sqlite3 CLI: db.namespace is the database
    file, rows returned are counted (a statement executed many times by
    executemany is one event per execution), literals redacted; with
    sqlite_rows false each statement is reported once, as it is prepared
    (executemany's five inserts are one event), without returned_rows, and
    SQLite's own reads of its schema show up too."""
    a, norows = start(t, [cfg(t, tables=["customers"]), cfg(t, tables=["customers"], sqlite_rows=False)])
    db = t.path("crm.db")
    r_py = sysrun(SQLITE_PY.replace("SECRET", SECRET), db)
    r_cli = run(["sqlite3", db], stdin=("select id, email from customers where id <= 3;\n"
                                       "select count(*) from customers where email = '%s';\n"
                                       "select * from missing_table;\n" % SECRET).encode(), check=False)
    expect("missing_table" in r_cli.err.decode(), "sqlite3 did not fail on the missing table", repr(r_cli))
    evs_norows = norows.stop()
    evs = a.stop()

    # (text, operation, rows returned, rows changed: custos.db.affected_rows)
    py_work = [("create table customers (id integer primary key, email text)", "CREATE", 0)] + \
        [("insert into customers values (?, ?)", "INSERT", 0, 1)] * 5 + [
        ("update customers set email = ? where id >= ?", "UPDATE", 0, 2),
        ("select id from customers where email = ?", "SELECT", 2),
        ("select * from customers", "SELECT", 5)]
    cli_work = [("select id, email from customers where id <= ?;", "SELECT", 3),
                ("select count(*) from customers where email = ?;", "SELECT", 1),
                ("select * from missing_table;", "SELECT", None)]
    for r, work, name, exe in ((r_py, py_work, "python3", os.path.realpath(SYS_PY)),
                               (r_cli, cli_work, "sqlite3", os.path.realpath(shutil.which("sqlite3")))):
        mine = [e for e in db_events(evs, pid=r.pid) if get(e, "db.operation.name", None) not in
                ("BEGIN", "COMMIT")]
        expect_texts(mine, [w[0] for w in work], "SQLite statements of %s" % name)
        for e, (txt, op, rows, *affected) in zip(mine, work):
            if rows is None:  # refused by sqlite3_prepare: no such table
                check_statement(e, "sqlite", txt, op, ["missing_table"], outcome="failure")
                expect_field(e, "error.message", "SQL logic error")
                check_untagged(e)
            else:
                check_statement(e, "sqlite", txt, op, ["customers"], rows=rows,
                                affected=affected[0] if affected else None)
                check_tagged(e)
            check_who(e, r, name, exe)
            expect_field(e, "db.namespace", db)
            for f in ("server", "custos.db.user", "custos.db.socket"):
                expect(not has(e, f), "%s for SQLite" % f, e)
    no_secret(a)
    no_secret(norows)
    py_prepared = py_work[:2] + py_work[6:]
    for r, work, name in ((r_py, py_prepared, "python3"), (r_cli, cli_work, "sqlite3")):
        mine = [e for e in db_events(evs_norows, pid=r.pid) if get(e, "db.operation.name", None) not in
                ("BEGIN", "COMMIT") and get(e, "custos.db.tables", []) != ["main.sqlite_master"]]
        expect_texts(mine, [w[0] for w in work], "SQLite statements of %s with sqlite_rows false" % name)
        for e, (txt, op, rows, *_) in zip(mine, work):
            check_statement(e, "sqlite", txt, op, ["customers" if rows is not None else "missing_table"],
                            rows=None, outcome="success" if rows is not None else "failure")


AFFECTED_PY = r"""
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("update customers set email = email || 'x' where id > 7")
c.execute("delete from customers where id > 8")
c.commit()
"""


def test_db_sqlite_affected_rows(t):
    """SQLite INSERT, UPDATE and DELETE report custos.db.affected_rows:
    sqlite3_changes() as it was after the step that finished each, read from
    the library's connection where its own sqlite3_changes64 reads it; a
    SELECT has none, nor a DELETE that failed; the sqlite3 CLI and python's
    sqlite3 (which resets its statements later, after other statements ran)."""
    a, = start(t, [cfg(t)])
    db = t.path("crm.db")
    run(["sqlite3", db, "create table customers (id integer primary key, email text unique)"])
    r_cli = run(["sqlite3", db], stdin=b"insert into customers (email) values ('a'), ('b'), ('c'), ('d'), "
                b"('e'), ('f'), ('g'), ('h'), ('i'), ('j');\n"
                b"delete from customers where id <= 3;\n"
                b"update customers set email = email || '!' where id in (4, 5);\n"
                b"select * from customers;\n"
                b"delete from customers where id = 999;\n"
                b"insert into customers (email) values ('d!');\n", check=False)
    r_py = sysrun(AFFECTED_PY, db)
    evs = a.stop()
    mine = [e for e in db_events(evs, pid=r_cli.pid)]
    expect_eq([(get(e, "db.operation.name"), get(e, "custos.db.affected_rows", None), get(e, "event.outcome"))
               for e in mine],
              [("INSERT", 10, "success"), ("DELETE", 3, "success"), ("UPDATE", 2, "success"),
               ("SELECT", None, "success"), ("DELETE", 0, "success"), ("INSERT", None, "failure")],
              "(operation, affected rows, outcome) of the sqlite3 CLI's statements", mine)
    expect_field(mine[3], "db.response.returned_rows", 7)
    mine = [e for e in db_events(evs, pid=r_py.pid) if get(e, "db.operation.name") in ("UPDATE", "DELETE")]
    expect_eq([(get(e, "db.operation.name"), get(e, "custos.db.affected_rows", None)) for e in mine],
              [("UPDATE", 3), ("DELETE", 2)], "(operation, affected rows) of python's statements", mine)
    for e in mine:
        expect_field(e, "db.system.name", "sqlite")
        expect_field(e, "db.namespace", db)


# ---------------------------------------------------------- customer data


TABLES_SETUP = """
create schema crm;
create table customers (id int);
create table crm.orders (id int);
create table orders (id int);
create table payments_2024 (id int);
create table products (id int);
insert into customers values (1), (2);
insert into products values (1), (3);
"""

# (statement, tables, tagged)
TABLES_WORK = [
    ("select * from customers;", ["customers"], True),
    ("select * from public.customers;", ["public.customers"], True),
    ("select * from crm.orders;", ["crm.orders"], True),
    ("select * from orders;", ["orders"], False),
    ("select * from payments_2024;", ["payments_2024"], True),
    ("select * from products;", ["products"], False),
    ("select p.id from products p join customers c on c.id = p.id;", ["products", "customers"], True),
    ("select * from public.products;", ["public.products"], False),
    ("select * from \"CRM\".orders;", ["CRM.orders"], True),
]


@needs("postgresql")
def test_db_customer_tables(t):
    """databases.tables: a schema-qualified name also matches the table named
    without its schema, "crm.*" every table of schema crm (not an unqualified
    name), a glob ("pay*") and a join that touches one; other tables are not
    tagged. Tagged events carry custos.db.customer_data and the configured
    tags. A second agent with only_tables emits the tagged statements only and
    counts the others in custos.stats.db_untagged."""
    pg = dbservers.Postgres(t)
    tables = ["public.customers", "crm.*", "pay*"]
    tags = ["pii", "db-audit"]
    a, only = start(t, [cfg(t, tables=tables, tags=tags),
                        cfg(t, tables=tables, tags=tags, only_tables=True)], [pg], sequential=True)
    pg.sql(TABLES_SETUP)
    r = run(pg.psql(), stdin="\n".join(w[0] for w in TABLES_WORK).encode(), check=False)
    evs_only = only.stop()
    evs = a.stop()
    mine = db_events(evs, pid=r.pid)
    expect_texts(mine, [w[0] for w in TABLES_WORK], "statements")
    for e, (txt, tbls, tagged) in zip(mine, TABLES_WORK):
        expect_field(e, "custos.db.tables", tbls)
        check_collection(e, tbls)
        if tagged:
            check_tagged(e, tags)
        else:
            check_untagged(e)
        check_common(e, "postgresql", "failure" if "CRM" in txt else "success")

    tagged = [w[0] for w in TABLES_WORK if w[2]]
    mine_only = db_events(evs_only, pid=r.pid)
    expect_texts(mine_only, tagged, "statements with only_tables")
    for e in mine_only:
        check_tagged(e, tags)
    untagged_all = [e for e in db_events(evs) if not has(e, "custos.db.customer_data")]
    n = get(stats(evs_only), "db_untagged")
    expect(len(TABLES_WORK) - len(tagged) <= n <= len(untagged_all),
           "custos.stats.db_untagged is %d: expected at least the %d untagged statements of psql and at most "
           "the %d untagged statements the agent without only_tables saw" % (
               n, len(TABLES_WORK) - len(tagged), len(untagged_all)), stats(evs_only))
    expect_eq(get(stats(evs), "db_untagged"), 0, "custos.stats.db_untagged without only_tables")


# -------------------------------------------------------------- API paths


@needs("postgresql", "mysql")
def test_db_api_paths(t):
    """tests/helpers/dbclient takes the paths the CLIs and Python modules do
    not: PQexecParams (placeholders in the text), PQprepare + PQexecPrepared
    (the event carries the prepared text and custos.db.prepared_name),
    PQsendQuery + PQgetResult (several results summed into one statement),
    PQsendQueryParams, PQsendPrepare + PQsendQueryPrepared; mysql_real_query
    with mysql_affected_rows, mysql_stmt_prepare + mysql_stmt_execute;
    sqlite3_prepare_v3 and a statement reset and stepped again (one event per
    execution, each with its rows), sqlite3_prepare_v2."""
    pg = dbservers.Postgres(t)
    my = dbservers.MariaDB(t)
    (a,) = start(t, [cfg(t)], [pg, my])
    pg.sql(PSQL_SETUP)
    my.sql(MY_SETUP)
    dbc = helper("dbclient")
    r_pg = run([dbc, "-k", "pg", pg.conninfo(),
                "exec", "select id from customers order by id",
                "params", "select id from customers where id >= $1", "1", "2",
                "prepare", "pick", "select id, email from customers where id = $1",
                "execprep", "pick", "1", "1",
                "execprep", "pick", "1", "2",
                "send", "select 1 as a; select g as b from generate_series(1, 4) g",
                "sendparams", "update customers set email = $1 where id = $2", "2", "p@example.com", "3",
                "sendprep", "del", "delete from customers where id = $1",
                "sendexecprep", "del", "1", "3",
                "exec", "select * from missing_table"])
    expect_eq(r_pg.out.decode().splitlines(), [
        "exec rows=3 affected=3", "params rows=2 affected=2", "prepare rows=-1 affected=-1",
        "execprep rows=1 affected=1", "execprep rows=1 affected=1", "send rows=5 affected=5",
        "sendparams rows=-1 affected=1", "sendprep rows=-1 affected=-1", "sendexecprep rows=-1 affected=1",
        'exec error=ERROR:  relation "missing_table" does not exist'], "dbclient pg output", repr(r_pg))
    r_my = run([dbc, "-k", "my", my.socket, "0", "root", "shop",
                "query", "select id from customers",
                "query", "update customers set email = 'y' where id <= 2",
                "stmt", "select id, email from customers where id > 1",
                "stmt", "update customers set email = 'z' where id = 2",
                "stmt", "select * from missing_table"])
    db = t.path("api.db")
    r_sq = run([dbc, "-k", "sqlite", db,
                "exec", "create table t (a)",
                "exec", "insert into t values (1), (2), (3)",
                "rerun", "select a from t where a >= 2", "3",
                "exec2", "select a from t",
                "exec", "create unique index ua on t (a)",
                "exec", "insert into t values (3)",
                "exec", "select * from missing_table"])
    evs = a.stop()

    pg_evs = db_events(evs, pid=r_pg.pid)
    pick = "select id, email from customers where id = $1"
    expect_texts(pg_evs, ["select id from customers order by id", "select id from customers where id >= $1",
                          pick, pick, "select ? as a; select g as b from generate_series(?, ?) g",
                          "update customers set email = $1 where id = $2",
                          "delete from customers where id = $1", "select * from missing_table"],
                 "libpq statements")
    check_statement(pg_evs[0], "postgresql", pg_evs[0]["db"]["query"]["text"], "SELECT", ["customers"], rows=3)
    check_statement(pg_evs[1], "postgresql", pg_evs[1]["db"]["query"]["text"], "SELECT", ["customers"], rows=2)
    for e in pg_evs[2:4]:
        check_statement(e, "postgresql", pick, "SELECT", ["customers"], rows=1)
        expect_field(e, "custos.db.prepared_name", "pick")
    check_statement(pg_evs[4], "postgresql", text(pg_evs[4]), "SELECT", [], rows=5)
    check_statement(pg_evs[5], "postgresql", text(pg_evs[5]), "UPDATE", ["customers"], affected=1)
    check_statement(pg_evs[6], "postgresql", text(pg_evs[6]), "DELETE", ["customers"], affected=1)
    expect_field(pg_evs[6], "custos.db.prepared_name", "del")
    check_statement(pg_evs[7], "postgresql", text(pg_evs[7]), "SELECT", ["missing_table"], outcome="failure")
    expect_field(pg_evs[7], "error.message", 'ERROR:  relation "?" does not exist')
    for e in pg_evs:
        check_who(e, r_pg, "dbclient", helper("dbclient"))
        expect_field(e, "db.namespace", "postgres")
        expect_field(e, "custos.db.user", "postgres")
        expect_field(e, "custos.db.socket", pg.sockdir)

    my_evs = db_events(evs, pid=r_my.pid)
    expect_texts(my_evs, ["select id from customers", "update customers set email = ? where id <= ?",
                          "select id, email from customers where id > ?",
                          "update customers set email = ? where id = ?", "select * from missing_table"],
                 "MySQL statements")
    check_statement(my_evs[0], "mysql", text(my_evs[0]), "SELECT", ["customers"], rows=3)
    check_statement(my_evs[1], "mysql", text(my_evs[1]), "UPDATE", ["customers"], affected=2)
    for e in my_evs[:2]:
        expect_field(e, "db.namespace", "shop")
        expect_field(e, "custos.db.socket", my.socket)
    for e, op in zip(my_evs[2:4], ("SELECT", "UPDATE")):
        check_common(e, "mysql")
        expect_field(e, "db.operation.name", op)
        expect_field(e, "custos.db.tables", ["customers"])
    check_common(my_evs[4], "mysql", "failure")  # refused by mysql_stmt_prepare
    expect_field(my_evs[4], "custos.db.tables", ["missing_table"])
    for e in my_evs:
        check_who(e, r_my, "dbclient", helper("dbclient"))

    sq_evs = db_events(evs, pid=r_sq.pid)
    expect_texts(sq_evs, ["create table t (a)", "insert into t values (?), (?), (?)"] +
                 ["select a from t where a >= ?"] * 3 + ["select a from t", "create unique index ua on t (a)",
                                                        "insert into t values (?)", "select * from missing_table"],
                 "SQLite statements")
    check_statement(sq_evs[-2], "sqlite", text(sq_evs[-2]), "INSERT", ["t"], rows=0, outcome="failure")
    expect_field(sq_evs[-2], "error.message", "constraint failed")  # failed in sqlite3_step
    check_statement(sq_evs[-1], "sqlite", text(sq_evs[-1]), "SELECT", ["missing_table"], outcome="failure")
    expect_field(sq_evs[-1], "error.message", "SQL logic error")  # refused by sqlite3_prepare_v3
    check_common(sq_evs[-3], "sqlite")
    sq_evs = sq_evs[:-3]
    for e, rows, affected in zip(sq_evs, (0, 0, 2, 2, 2, 3), (None, 3, None, None, None, None)):
        check_statement(e, "sqlite", text(e), get(e, "db.operation.name"), ["t"], rows=rows,
                        affected=affected)
        check_who(e, r_sq, "dbclient", helper("dbclient"))
        expect_field(e, "db.namespace", db)
    expect_eq([get(e, "db.operation.name") for e in sq_evs], ["CREATE", "INSERT"] + ["SELECT"] * 4,
              "SQLite operations", sq_evs)
    starts = [get(e, "@timestamp") for e in sq_evs[2:5]]
    expect(len(set(starts)) == 3, "the three executions of one statement have the same @timestamp", sq_evs[2:5])


# ------------------------------------------------------------ concurrency


CONCURRENT = r"""
import json, sqlite3, sys, threading
system, where, port, workers, queries = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])

def k_of(w, q):
    return 1 + (w * 7 + q * 5) % 23

def connect():
    if system == "postgresql":
        import psycopg2
        c = psycopg2.connect(host=where, port=port, user="postgres", dbname="postgres")
        c.autocommit = True
        return c
    if system == "mysql":
        import MySQLdb
        return MySQLdb.connect(unix_socket=where, user="root", db="mysql", autocommit=True)
    return sqlite3.connect(where, isolation_level=None, check_same_thread=False)

def sql(w, q, k):
    alias = "w%d_q%d_k%d" % (w, q, k)
    if system == "postgresql":
        return "select g as %s from generate_series(1, %d) g" % (alias, k)
    if system == "mysql":
        return "select seq as %s from seq_1_to_%d" % (alias, k)
    return ("with recursive c(x) as (select 1 union all select x + 1 from c where x < %d) "
            "select x as %s from c" % (k, alias))

tids = {}
errors = []
barrier = threading.Barrier(workers)

def work(w):
    try:
        tids[w] = threading.get_native_id()
        c = connect()
        cur = c.cursor()
        barrier.wait()
        for q in range(queries):
            k = k_of(w, q)
            cur.execute(sql(w, q, k))
            got = len(cur.fetchall())
            assert got == k, (w, q, k, got)
        c.close()
    except BaseException as e:
        errors.append(repr(e))

threads = [threading.Thread(target=work, args=(w,)) for w in range(workers)]
for th in threads:
    th.start()
for th in threads:
    th.join()
if errors:
    sys.exit("errors: %s" % errors)
print(json.dumps(tids))
"""


def test_db_sqlite_prepare_paths(t):
    """Every sqlite3_prepare* ends in one internal function, which custos
    probes in their place when it finds it: the legacy sqlite3_prepare and
    the sqlite3_exec of a second connection are seen too. A statement the
    first step prepares again after that connection changed the schema is
    one event, not two, with sqlite_rows on (reported at its reset) and off
    (reported as it is prepared). With sqlite_rows off the steps are not
    probed, so the statements SQLite runs itself inside a step (reading the
    schema again after a CREATE) are reported too; with it on they are
    nested in the step and left out."""
    rows_on, rows_off = start(t, [cfg(t), cfg(t, sqlite_rows=False)])
    db = t.path("paths.db")
    r = run([helper("dbclient"), "sqlite", db,
             "exec1", "create table t (a)",
             "exec1", "insert into t values (1), (2)",
             "stale", "select a from t where a > 0", "create index ia on t (a)",
             "exec", "select a from t"])
    expect_eq(r.out.decode().splitlines(), ["exec1 rows=0 affected=0", "exec1 rows=0 affected=2",
                                            "stale rows=2 affected=2", "exec rows=2 affected=2"],
              "dbclient output", repr(r))
    texts = ["create table t (a)", "insert into t values (?), (?)", "select a from t where a > ?",
             "create index ia on t (a)", "select a from t"]
    for agent, rows_counted in ((rows_off, False), (rows_on, True)):
        evs = db_events(agent.stop(), pid=r.pid)
        internal = [e for e in evs if get(e, "custos.db.tables") == ["main.sqlite_master"]]
        expect(rows_counted != bool(internal), "SQLite's own schema statements reported only with "
               "sqlite_rows off (%s)" % rows_counted, internal)
        evs = [e for e in evs if e not in internal]
        got = [text(e) for e in evs]
        if rows_counted:  # reported at the end of each execution: the index is made in the middle
            texts_here = texts[:2] + [texts[3], texts[2], texts[4]]
        else:
            texts_here = texts
        expect_eq(got, texts_here, "statements with sqlite_rows %s" % rows_counted, evs)
        for e in evs:
            check_common(e, "sqlite")
            check_who(e, r, "dbclient", helper("dbclient"))
            expect_field(e, "db.namespace", db)
        if rows_counted:
            expect_eq([get(e, "db.response.returned_rows") for e in evs], [0, 0, 0, 2, 2],
                      "rows with sqlite_rows on", evs)
        else:
            expect(all(get(e, "db.response.returned_rows", None) is None for e in evs),
                   "no rows with sqlite_rows off", evs)


@needs("postgresql", "mysql")
def test_db_concurrent(t):
    """Three processes at once (psycopg2, MySQLdb, python sqlite3), each with
    8 threads on connections of their own running 20 queries of k rows, k in
    the query's alias: every statement is reported exactly once, by the
    thread that ran it, with its own rows (returned_rows = k)."""
    pg = dbservers.Postgres(t)
    my = dbservers.MariaDB(t)
    (a,) = start(t, [cfg(t)], [pg, my])
    workers, queries = 8, 20
    db = t.path("conc.db")
    procs = {}
    for system, where, port in (("postgresql", pg.sockdir, pg.port), ("mysql", my.socket, my.port),
                                ("sqlite", db, 0)):
        p = subprocess.Popen([SYS_PY, "-", system, where, str(port), str(workers), str(queries)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        p.stdin.write(CONCURRENT.encode())
        p.stdin.close()
        p.stdin = None
        procs[system] = p
    tids = {}
    for system, p in procs.items():
        out, err = p.communicate(timeout=60)
        expect(p.returncode == 0, "the %s workload failed: %s" % (system, err.decode("utf-8", "replace")))
        tids[system] = {int(w): tid for w, tid in json.loads(out).items()}
    evs = a.stop()
    check_sane_stats(evs)
    alias_re = re.compile(r" as w(\d+)_q(\d+)_k(\d+)\b")
    for system, p in procs.items():
        seen = {}
        for e in db_events(evs, pid=p.pid):
            m = alias_re.search(text(e) or "")
            if not m:
                continue
            w, q, k = map(int, m.groups())
            check_common(e, system)
            expect((w, q) not in seen, "%s: statement w%d q%d reported twice" % (system, w, q), seen.get((w, q)), e)
            seen[(w, q)] = e
            expect_eq(k, 1 + (w * 7 + q * 5) % 23, "k of the alias", e)
            expect_field(e, "db.response.returned_rows", k, "%s w%d q%d" % (system, w, q))
            expect_field(e, "process.thread.id", tids[system][w], "%s w%d q%d" % (system, w, q))
        missing = sorted(set((w, q) for w in range(workers) for q in range(queries)) - set(seen))
        expect(not missing, "%s: %d statements not reported, e.g. %s" % (system, len(missing), missing[:10]),
               db_events(evs, pid=p.pid)[:20])


# ---------------------------------------------------------------- hostile


def hostile_statements(system):
    """[(statement bytes, redacted text bytes)] for a dialect: literals and
    identifiers that hold newlines, control characters, quotes and braces
    shaped like JSON, backslashes, invalid UTF-8, bidi controls."""
    q = "`" if system == "mysql" else '"'

    def ident(body):
        return q + body.replace(q, q + q) + q

    def redacted_ident(body):
        return "".join("?" if ord(c) < 0x20 or c == "\x7f" else c for c in ident(body))
    forge = '"}\n{"event":{"action":"forgedlit"},"x":"'
    idbody = 'nl\n}{"event":{"action":"forgedid"}}'
    out = [
        ("select '%s' as forge1" % forge.replace("'", "''"), "select ? as forge1"),
        ("select 1 as %s" % ident(idbody), "select ? as %s" % redacted_ident(idbody)),
        (b"select 'badlit\xff\xfe' as inv1", b"select ? as inv1"),
        (b"select * from " + ident("t\xffx").encode("latin-1"), b"select * from " +
         ident("t\xffx").encode("latin-1")),
        ("select 'ctllit\x01\x1b[31m\t\x7f\r' as ctl1", "select ? as ctl1"),
        ("select 1 as %s" % ident("c\x01\x1bd"), "select ? as %s" % redacted_ident("c\x01\x1bd")),
        ("select 'backlit\\\\slash\\x41\\u0000' as bs1", "select ? as bs1"),
        ("select 'cafélit😀\u202e' as %s" % ident("ünï\u202e"), "select ? as %s" % ident("ünï\u202e")),
    ]
    return [(s if isinstance(s, bytes) else s.encode(), r if isinstance(r, bytes) else r.encode())
            for s, r in out]


def valid_utf8(b):
    try:
        b.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def check_lines(a, evs):
    """Every line of the raw output is one event: no line was forged or split."""
    raw = a.raw()
    expect_eq(raw.count(b"\n"), len(evs), "lines in the raw output")
    check_seq(evs)
    for e in evs:
        expect(action(e) in ("agent-start", "agent-stop", "query") or
               get(e, "event.category", None) == "file", "an event that no statement should make", e)


@needs("postgresql", "mysql")
def test_db_hostile_text(t):
    """Statements whose literals and identifiers hold newlines, control
    characters, JSON-shaped quotes and braces, backslashes, invalid UTF-8
    and bidi controls, from libpq, libmariadb and libsqlite3: every output
    line is one valid JSON event (none forged, none split), with and without
    raw_text. Raw: db.query.text gives back the exact bytes sent (listed in
    custos.escaped when not UTF-8). Redacted: no literal left, no control
    character, identifiers kept (their control characters as ?), a table
    named in invalid UTF-8 escaped in custos.db.tables and
    db.collection.name."""
    pg = dbservers.Postgres(t)
    my = dbservers.MariaDB(t)
    a, raw = start(t, [cfg(t), cfg(t, raw_text=True)], [pg, my])
    my.sql("create database shop;")
    dbc = helper("dbclient")
    runs = {}
    for system in ("sqlite", "postgresql", "mysql"):
        stmts = hostile_statements(system)
        files = []
        for i, (s, _) in enumerate(stmts):
            files.append("@" + t.write("%s-%d.sql" % (system, i), s))
        ops = [x for f in files for x in (("query" if system == "mysql" else "exec"), f)]
        if system == "sqlite":
            db = t.path("hostile.db")
            run([dbc, "sqlite", db, "exec", '@' + t.write("mk.sql", b'create table "t\xffx" (a)')])
            argv = [dbc, "-k", "sqlite", db] + ops
        elif system == "postgresql":
            argv = [dbc, "-k", "pg", pg.conninfo()] + ops
        else:
            argv = [dbc, "-k", "my", my.socket, "0", "root", "shop"] + ops
        runs[system] = (run(argv), stmts)
    evs_raw = raw.stop()
    evs = a.stop()
    check_lines(a, evs)
    check_lines(raw, evs_raw)
    for marker in (b"forgedlit", b"badlit", b"ctllit", b"backlit", "cafélit".encode()):
        expect(marker not in a.raw(), "literal %r in the output of the agent that redacts" % marker)

    for system, (r, stmts) in runs.items():
        mine, mine_raw = db_events(evs, pid=r.pid), db_events(evs_raw, pid=r.pid)
        expect_eq(len(mine), len(stmts), "%s: statements reported" % system, mine)
        expect_eq(len(mine_raw), len(stmts), "%s: statements reported with raw_text" % system, mine_raw)
        for e, er, (s, red) in zip(mine, mine_raw, stmts):
            what = "%s: %r" % (system, s)
            expect_eq(field_bytes(er, "db.query.text"), s, what + ": raw db.query.text", er)
            expect_eq("db.query.text" in get(er, "custos.escaped", []), not valid_utf8(s),
                      what + ": db.query.text in custos.escaped (raw)", er)
            expect_eq(field_bytes(e, "db.query.text"), red, what + ": redacted db.query.text", e)
            expect_eq("db.query.text" in get(e, "custos.escaped", []), not valid_utf8(red),
                      what + ": db.query.text in custos.escaped", e)
            expect(not re.search(r"[\x00-\x1f\x7f]", text(e)), what + ": control character in redacted text", e)
            if b"from" in s:
                for ev in (e, er):
                    expect_eq(set(get(ev, "custos.escaped", [])) >= {"custos.db.tables", "db.collection.name"},
                              True, what + ": escaped tables listed in custos.escaped", ev)
                    from itlib import unescape
                    expect_eq([unescape(x) for x in get(ev, "custos.db.tables")], [b"t\xffx"],
                              what + ": custos.db.tables decoded", ev)
                    expect_eq(unescape(get(ev, "db.collection.name")), b"t\xffx",
                              what + ": db.collection.name decoded", ev)


# ------------------------------------------------------------------- huge


@needs("postgresql", "mysql")
def test_db_sql_in_arguments(t):
    """A statement given on the command line (sqlite3 FILE "SQL", and
    --option=SQL) has its literals redacted in process.args too, marked by
    custos.process.args_redacted; other arguments are kept as they are; with
    raw_text the arguments stay whole."""
    a, raw = start(t, [cfg(t), cfg(t, raw_text=True)])
    db = t.path("crm.db")
    run(["sqlite3", db, "create table customers (id integer, email text)"])
    q = "select id from customers where email = '%s' and id in (1, 2)" % SECRET
    r = run(["sqlite3", "-cmd", "--init=SELECT 7", db, q])
    evs_raw = raw.stop()
    evs = a.stop()
    e = one(db_events(evs, pid=r.pid), "statement of sqlite3 with the SQL in its arguments", evs)
    check_statement(e, "sqlite", "select id from customers where email = ? and id in (?)", "SELECT",
                    ["customers"], rows=0)
    expect_field(e, "process.args", ["sqlite3", "-cmd", "--init=SELECT ?", db,
                                     "select id from customers where email = ? and id in (?)"])
    expect_field(e, "custos.process.args_redacted", True)
    no_secret(a)
    e = one(db_events(evs_raw, pid=r.pid), "statement of sqlite3 with raw_text", evs_raw)
    expect_field(e, "process.args", ["sqlite3", "-cmd", "--init=SELECT 7", db, q])
    expect(not has(e, "custos.process.args_redacted"), "args_redacted with raw_text", e)


ARGS_PY = r"""
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("create table if not exists customers (id integer, email text)")
c.execute("select id from customers where email = 'SECRET' and id = 4242").fetchall()
open(sys.argv[2]).read()
"""

# A script that builds its statement from its arguments; its first event is that statement's.
ARGS_BY_ARG_PY = r"""
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("select id from customers where email = '%s'" % sys.argv[3]).fetchall()
open(sys.argv[4]).read()
"""


def test_db_args_scrubbed(t):
    """The literals of a statement leave process.args, wherever they stand.
    python -c with statements in its script: redacted (as MySQL text: both
    quotes are literals) from the first statement on, before any statement
    ran. A script that takes the customer's address as an argument: once
    its statement ran, that argument is ? in its events and in those of the
    same process after it (an open of a watched file). sqlite3 with a
    statement after a comment: the statement whole gives way to its
    redacted text. psql -c"..." (the statement glued to its option):
    redacted from the statement on. custos.process.args_redacted true; with
    raw_text the arguments stay whole."""
    secret2 = "other-77@example.org"
    pg = dbservers.Postgres(t)
    a, raw = start(t, [cfg(t), cfg(t, raw_text=True)], [pg])
    f = t.write("crm/export.csv", "id,email\n")
    db = t.path("crm.db")
    code = ARGS_PY.replace("SECRET", SECRET)
    run(["sqlite3", db, "create table customers (id integer, email text)"])
    r_py = run([SYS_PY, "-c", code, db, f])
    r_arg = run([SYS_PY, "-c", ARGS_BY_ARG_PY, db, "--email", secret2, f])
    q = "/* nightly */ select count(*) from customers where email = '%s'" % SECRET
    r_cli = run(["sqlite3", db, q])
    q_pg = "SELECT count(*) FROM pg_class WHERE relname = '%s'" % SECRET
    psql = pg.psql()[:-2]  # no -f -
    r_pg = run(psql + ["-c" + q_pg])
    evs_raw = raw.stop()
    evs = a.stop()

    script = code[:code.index("select id")] + "select id from customers where email = ? and id = ??"
    want_py = [SYS_PY, "-c", script, db, f]
    mine = [e for e in db_events(evs, pid=r_py.pid) if "customers where" in text(e)]
    expect_texts(mine, ["select id from customers where email = ? and id = ?"], "statements of python")
    o = the_open(evs, f, pid=r_py.pid)
    for e in mine + [o]:
        expect_field(e, "process.args", want_py)
        expect_field(e, "process.args_count", 5)
        expect_field(e, "custos.process.args_redacted", True)

    script = ARGS_BY_ARG_PY[:ARGS_BY_ARG_PY.index("select id")] + "select id from customers where email = ??"
    want_arg = [SYS_PY, "-c", script, db, "--email", "?", f]
    mine = [e for e in db_events(evs, pid=r_arg.pid) if "customers where" in text(e)]
    expect_texts(mine, ["select id from customers where email = ?"], "statements of the script")
    o = the_open(evs, f, pid=r_arg.pid)
    for e in mine + [o]:
        expect_field(e, "process.args", want_arg)
        expect_field(e, "custos.process.args_redacted", True)

    e = one(db_events(evs, pid=r_cli.pid), "statement of sqlite3", evs)
    expect_field(e, "db.query.text", "select count(*) from customers where email = ?")
    expect_field(e, "process.args", ["sqlite3", db, "select count(*) from customers where email = ?"])
    expect_field(e, "custos.process.args_redacted", True)
    e = one(db_events(evs, pid=r_pg.pid), "statement of psql", evs)
    expect_field(e, "db.query.text", "SELECT count(*) FROM pg_class WHERE relname = ?")
    # pg_wrapper execs the psql of the server's version: its path differs.
    expect_field(e, "process.args", [get(e, "process.args")[0]] + psql[1:] +
                 ["-cSELECT count(*) FROM pg_class WHERE relname = ?"])
    expect(get(e, "process.args")[0].endswith("/psql"), "process.args[0] is not psql's", e)
    expect_field(e, "custos.process.args_redacted", True)
    no_secret(a, SECRET, secret2)
    for r, argv in ((r_py, [SYS_PY, "-c", code, db, f]), (r_cli, ["sqlite3", db, q]), (r_pg, None),
                    (r_arg, [SYS_PY, "-c", ARGS_BY_ARG_PY, db, "--email", secret2, f])):
        for e in db_events(evs_raw, pid=r.pid):
            if argv is None:
                argv = [get(e, "process.args")[0]] + psql[1:] + ["-c" + q_pg]
            expect_field(e, "process.args", argv, "raw_text")
            expect(not has(e, "custos.process.args_redacted"), "args_redacted with raw_text", e)


def test_db_huge_query(t):
    """A 3 MB statement through libpq, libmariadb and libsqlite3: reported
    with custos.db.query_truncated and at most 4096 bytes of text (raw: a
    prefix of the statement), its rows; the agent goes on with the next
    statement. A query naming 300 tables lists the first 16 with
    custos.db.tables_truncated."""
    pg = dbservers.Postgres(t)
    my = dbservers.MariaDB(t)
    a, raw = start(t, [cfg(t, tables=["customers"]), cfg(t, tables=["customers"], raw_text=True)], [pg, my])
    pg.sql(PSQL_SETUP + "do $$ begin for i in 1..300 loop execute format('create table t%s (a int)', i); "
           "end loop; end $$;")
    my.sql(MY_SETUP)
    inlist = ",".join("'m%07d@example.com'" % i for i in range(150000))
    big = ("select count(*) from customers where email in (%s)" % inlist).encode()
    expect(len(big) > 3 << 20, "the big statement is not big")
    big_sq = ("select count(*) from customers where id in (%s)" % ",".join(str(i) for i in range(500000))).encode()
    expect(len(big_sq) > 3 << 20, "the big SQLite statement is not big")
    union = " union all ".join("select a from t%d" % i for i in range(1, 301))
    dbc = helper("dbclient")
    f_big = "@" + t.write("big.sql", big)
    db = t.path("big.db")
    runs = [
        ("postgresql", run([dbc, "pg", pg.conninfo(), "exec", f_big, "exec", union,
                            "exec", "select 1 as after_big"])),
        ("mysql", run([dbc, "my", my.socket, "0", "root", "shop", "query", f_big,
                       "query", "select 1 as after_big"])),
        ("sqlite", run([dbc, "sqlite", db, "exec", "create table customers (id, email)",
                        "exec", "@" + t.write("big-sq.sql", big_sq), "exec", "select 1 as after_big"])),
    ]
    evs_raw = raw.stop()
    evs = a.stop()
    check_sane_stats(evs)
    check_sane_stats(evs_raw)
    for system, r in runs:
        mine = [e for e in db_events(evs, pid=r.pid) if get(e, "db.operation.name") != "CREATE"]
        mine_raw = [e for e in db_events(evs_raw, pid=r.pid) if get(e, "db.operation.name") != "CREATE"]
        expect_eq(len(mine), 3 if system == "postgresql" else 2, "%s: statements" % system, mine)
        stmt = big_sq if system == "sqlite" else big
        for e, whole in ((mine[0], False), (mine_raw[0], True)):
            check_common(e, system)
            expect_field(e, "custos.db.query_truncated", True, system)
            expect_field(e, "db.response.returned_rows", 1, system)
            expect_field(e, "db.operation.name", "SELECT", system)
            expect_field(e, "custos.db.tables", ["customers"], system)
            check_tagged(e)
            n = len(text(e).encode())
            expect((4000 if whole else 100) < n <= 4096,
                   "%s: %d bytes of text (expected at most 4096, and %s)" % (
                       system, n, "the first 4 KiB" if whole else "its first 4 KiB redacted"), e)
            if whole:
                expect(stmt.startswith(text(e).encode()), "%s: raw text is not a prefix of the statement" % system,
                       e)
        expect(SECRET not in text(mine[0]), "literal in the redacted text")
        if system == "postgresql":
            e = mine[1]
            check_common(e, system)
            expect_field(e, "custos.db.tables", ["t%d" % i for i in range(1, 17)])
            expect_field(e, "custos.db.tables_truncated", True)
            expect_field(e, "db.response.returned_rows", 0)
        e = mine[-1]
        check_statement(e, system, "select ? as after_big", "SELECT", [], rows=1)
        expect(not has(e, "custos.db.query_truncated"), "a short statement flagged truncated", e)
    no_secret(a, "m0000001@example.com")


# ------------------------------------------------------ clients that die


def reuse_pid(pid, argv):
    """Runs argv in a process given the id pid (free again: its process was
    reaped), through /proc/sys/kernel/ns_last_pid; returns its Run."""
    for _ in range(200):
        with open("/proc/sys/kernel/ns_last_pid", "w") as f:
            f.write(str(pid - 1))
        child = os.fork()
        if child == 0:
            if os.getpid() != pid:
                os._exit(99)
            fd = os.open(os.devnull, os.O_RDWR)
            os.dup2(fd, 0)
            os.dup2(fd, 1)
            os.execv(argv[0], argv)
        _, status = os.waitpid(child, 0)
        if child == pid:
            expect_eq(os.waitstatus_to_exitcode(status), 0, "%s in the reused pid" % argv)
            return child
        time.sleep(0.01)
    fail("could not get pid %d again (the system makes processes too fast)" % pid)


@needs("postgresql", "mysql")
def test_db_client_dies(t):
    """Clients killed in the middle of a statement (libpq, libmariadb) and
    clients that close the connection with a statement in flight: the agent
    goes on, reports the closed ones' statements once (without rows), and
    keeps no state that hides later statements, even of a new process that
    gets the killed one's pid. Statistics stay clean."""
    pg = dbservers.Postgres(t)
    my = dbservers.MariaDB(t)
    (a,) = start(t, [cfg(t)], [pg, my])
    dbc = helper("dbclient")
    victims = [subprocess.Popen([dbc, "pg", pg.conninfo(), "exec", "select pg_sleep(30) as victim_pg"]),
               subprocess.Popen([dbc, "my", my.socket, "0", "root", "", "query", "select sleep(30) as victim_my"])]
    deadline = time.time() + 10
    while time.time() < deadline:
        active = pg.sql("select count(*) from pg_stat_activity where query like '%victim_pg%' "
                        "and pid <> pg_backend_pid();")
        listed = my.sql("select count(*) from information_schema.processlist where info like '%victim_my%' "
                        "and id <> connection_id();")
        if active.split()[-1] != "0" and listed.split()[-1] != "0":
            break
        time.sleep(0.1)
    else:
        fail("the victims' statements never ran")
    for p in victims:
        p.kill()
        p.wait()
    ab_pg = run([dbc, "pg", pg.conninfo(), "abandon", "select pg_sleep(2) as abandoned_pg"])
    ab_my = run([dbc, "my", my.socket, "0", "root", "", "abandon", "select sleep(2) as abandoned_my"])
    reused = [reuse_pid(victims[0].pid, [dbc, "pg", pg.conninfo(), "exec", "select 1 as reused_pg"]),
              reuse_pid(victims[1].pid, [dbc, "my", my.socket, "0", "root", "", "query", "select 1 as reused_my"])]
    after = run([dbc, "pg", pg.conninfo(), "exec", "select 2 as after_pg"])
    evs = a.stop()
    check_sane_stats(evs)
    for p in victims:
        expect_eq([text(e) for e in db_events(evs, pid=p.pid) if "victim" in (text(e) or "")], [],
                  "events of the statement whose client was killed")
    for r, system, txt in ((ab_pg, "postgresql", "select pg_sleep(?) as abandoned_pg"),
                           (ab_my, "mysql", "select sleep(?) as abandoned_my")):
        e = one(db_events(evs, pid=r.pid), "event of the abandoned statement", db_events(evs))
        expect_field(e, "db.query.text", txt)
        expect(not has(e, "db.response.returned_rows"), "rows for a statement whose result was never read", e)
    for pid, system, txt in ((reused[0], "postgresql", "select ? as reused_pg"),
                             (reused[1], "mysql", "select ? as reused_my")):
        e = one(db_events(evs, pid=pid), "statement of the process that got a killed client's pid (%d)" % pid,
                db_events(evs))
        check_statement(e, system, txt, "SELECT", [], rows=1)
    e = one(db_events(evs, pid=after.pid), "statement after the deaths", db_events(evs))
    check_statement(e, "postgresql", "select ? as after_pg", "SELECT", [], rows=1)


test_db_client_dies.timeout = 120


# -------------------------------------------------- libraries found late


def test_db_library_from_elsewhere(t):
    """A copy of libsqlite3 in a directory of the test's, loaded through
    LD_LIBRARY_PATH by a client started after the agent: the agent looks at
    what a new process maps about 100 ms after its exec, probes the copy,
    and the query the client makes a second later is reported."""
    (a,) = start(t, [cfg(t)])
    libdir = t.mkdir("lib")
    copy = os.path.join(libdir, "libsqlite3.so.0")
    shutil.copy(lib_path("libsqlite3.so.0"), copy)
    db = t.path("late.db")
    env = dict(os.environ, LD_LIBRARY_PATH=libdir)
    p = subprocess.Popen([helper("dbclient"), "-w", "1000", "sqlite", db, "exec", "select 5 as late_one"],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.5)
    with open("/proc/%d/maps" % p.pid) as f:
        maps = f.read()
    out, err = p.communicate(timeout=30)
    expect(p.returncode == 0, "dbclient failed: %r" % err)
    expect(copy in maps, "the client does not map the copy of libsqlite3", maps)
    evs = a.stop()
    start_ev = start_event(evs)
    expect(copy not in [p["path"] for p in get(probes(start_ev), "probed")],
           "the copy was probed before the client ran", probes(start_ev))
    e = one(db_events(evs, pid=p.pid), "statement of the client with its own libsqlite3", db_events(evs))
    check_statement(e, "sqlite", "select ? as late_one", "SELECT", [], rows=1)
    expect_field(e, "db.namespace", db)
