"""Real database servers for the database probe tests: PostgreSQL and MariaDB
on loopback and on unix sockets in the test's own directory.

initdb and mariadb-install-db run once, into a cache directory
(/var/tmp/custos-it-dbcache, one template per server version); each test
copies the template into its directory and starts its own server on an
unusual port (never 5432 or 3306, never the system's own services), which
run.py's clean-up stops with everything else the test started. The servers
are started in the background (start()) so that they come up while the
agent starts; ready() waits for them.
"""

import fcntl
import glob
import os
import pwd
import random
import shutil
import signal
import socket
import subprocess
import time

from itlib import fail, sh

CACHE = "/var/tmp/custos-it-dbcache"
MARIADBD = "/usr/sbin/mariadbd"
MARIADB_INSTALL = "/usr/bin/mariadb-install-db"
PORTS = (41000, 48999)  # far from 5432/3306 and from the ephemeral range
READY_TIMEOUT = 30


def pg_bindir():
    """The newest installed PostgreSQL's bin directory, or None."""
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"),
                  key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    return os.path.dirname(dirs[-1]) if dirs else None


def missing_servers(*which):
    """Why the servers asked for ("postgresql", "mysql") cannot run, or None."""
    why = []
    if "postgresql" in which and not pg_bindir():
        why.append("the PostgreSQL server (/usr/lib/postgresql/*/bin/postgres, package postgresql)")
    if "mysql" in which and not (os.access(MARIADBD, os.X_OK) and os.access(MARIADB_INSTALL, os.X_OK)):
        why.append("the MariaDB server (%s, package mariadb-server)" % MARIADBD)
    for user in ("postgres",) * ("postgresql" in which) + ("mysql",) * ("mysql" in which):
        try:
            pwd.getpwnam(user)
        except KeyError:
            why.append("the system user %s (made by the server's package)" % user)
    return "; ".join(why) or None


def self_signed(d, owner):
    """A self-signed certificate and its key in d, readable by owner only: their paths."""
    cert, key = os.path.join(d, "server.crt"), os.path.join(d, "server.key")
    sh(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
        "/CN=localhost", "-keyout", key, "-out", cert])
    for f in (cert, key):
        shutil.chown(f, owner)
        os.chmod(f, 0o600)
    return cert, key


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    for _ in range(200):
        port = random.randint(*PORTS)
        s = socket.socket()
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    fail("no free TCP port in %d-%d" % PORTS)


def _version(argv):
    return sh(argv).stdout.decode().strip()


def _cached(name, version, make):
    """CACHE/name-<version hash>: made by make(dir) once, under a lock, reused after."""
    os.makedirs(CACHE, mode=0o755, exist_ok=True)
    os.chmod(CACHE, 0o755)
    key = "%s-%08x" % (name, abs(hash_str(version)))
    final = os.path.join(CACHE, key)
    with open(os.path.join(CACHE, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.isfile(os.path.join(final, ".complete")):
            shutil.rmtree(final, ignore_errors=True)
            tmp = final + ".tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            os.makedirs(tmp)
            make(tmp)
            with open(os.path.join(tmp, ".complete"), "w") as f:
                f.write(version + "\n")
            os.rename(tmp, final)
    return final


def hash_str(s):
    h = 1469598103934665603
    for b in s.encode():
        h = ((h ^ b) * 1099511628211) & 0xFFFFFFFF
    return h


def _copy(template, dest):
    """cp -a: owners and modes kept (the servers refuse a data directory that is not theirs)."""
    sh(["cp", "-a", template, dest])


def _drop_to(user):
    pw = pwd.getpwnam(user)

    def fn():
        os.setgid(pw.pw_gid)
        os.initgroups(user, pw.pw_gid)
        os.setuid(pw.pw_uid)
    return fn


def _stop(proc, sig, what):
    if proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def log_tail(path):
    """The end of a server's log, for a failure message."""
    try:
        with open(path, "rb") as f:
            return f.read()[-3000:].decode("utf-8", "replace")
    except OSError:
        return ""


class Postgres:
    """A PostgreSQL server of this test: unix socket in self.sockdir, TCP on
    127.0.0.1:self.port, trust authentication, superuser postgres."""

    system = "postgresql"

    def __init__(self, t):
        self.t = t
        self.bindir = pg_bindir()
        self.port = free_port()
        self.sockdir = t.mkdir("pg-run", mode=0o755)
        self.datadir = t.path("pg-data")
        self.log = t.path("pg.log")
        self.proc = None

    def start(self, ssl=False):
        """Starts the server; with ssl, TLS is offered with a self-signed certificate."""
        version = _version([os.path.join(self.bindir, "postgres"), "--version"])

        def make(d):
            os.chown(d, pwd.getpwnam("postgres").pw_uid, -1)
            sh(["runuser", "-u", "postgres", "--", os.path.join(self.bindir, "initdb"), "-A", "trust",
                "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync", "-D", os.path.join(d, "data")])
        template = _cached("pg", version, make)
        _copy(os.path.join(template, "data"), self.datadir)
        shutil.chown(self.sockdir, "postgres")
        extra = []
        if ssl:
            cert, key = self_signed(self.datadir, "postgres")
            extra = ["-c", "ssl=on", "-c", "ssl_cert_file=" + cert, "-c", "ssl_key_file=" + key]
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [os.path.join(self.bindir, "postgres"), "-D", self.datadir, "-k", self.sockdir,
                 "-p", str(self.port), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
                 "-c", "max_connections=60", "-c", "shared_buffers=16MB"] + extra,
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                preexec_fn=_drop_to("postgres"))
        self.t.on_cleanup(lambda: _stop(self.proc, signal.SIGQUIT, "postgres"),
                          rescue="pkill -QUIT -f -- '-D %s '" % self.datadir)
        return self

    def ready(self):
        """Waits until it accepts connections (postmaster.pid says "ready")."""
        pidfile = os.path.join(self.datadir, "postmaster.pid")
        deadline = time.time() + READY_TIMEOUT
        while time.time() < deadline:
            if self.proc.poll() is not None:
                fail("postgres exited with status %s:\n%s" % (self.proc.returncode, self.log_text()))
            try:
                with open(pidfile) as f:
                    lines = f.read().splitlines()
                if len(lines) >= 8 and lines[7].strip() == "ready" and \
                        os.path.exists(os.path.join(self.sockdir, ".s.PGSQL.%d" % self.port)):
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        fail("postgres not ready within %d s:\n%s" % (READY_TIMEOUT, self.log_text()))

    def log_text(self):
        return log_tail(self.log)

    def psql(self, tcp=False, db="postgres", user="postgres"):
        """psql's argv (SQL on stdin: literals stay out of the process's arguments)."""
        return ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=0", "-h", "127.0.0.1" if tcp else self.sockdir,
                "-p", str(self.port), "-U", user, "-d", db, "-f", "-"]

    def conninfo(self, tcp=False, db="postgres"):
        return "host=%s port=%d user=postgres dbname=%s" % (
            "127.0.0.1" if tcp else self.sockdir, self.port, db)

    def sql(self, text, db="postgres"):
        """Runs SQL as set-up (before the agent starts, or from a process the test ignores)."""
        r = subprocess.run(self.psql(db=db) + ["-v", "ON_ERROR_STOP=1"], input=text.encode(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        if r.returncode:
            fail("set-up SQL failed: %s\n%s" % (text, r.stderr.decode("utf-8", "replace")))
        return r.stdout.decode()


class MariaDB:
    """A MariaDB server of this test: unix socket self.socket, TCP on
    127.0.0.1:self.port, user root without a password."""

    system = "mysql"

    def __init__(self, t):
        self.t = t
        self.port = free_port()
        self.rundir = t.mkdir("my-run", mode=0o755)
        self.socket = os.path.join(self.rundir, "sock")
        self.datadir = t.path("my-data")
        self.log = t.path("my-run", "err.log")
        self.proc = None

    def start(self, ssl=False):
        """Starts the server; with ssl, TLS is offered with a self-signed certificate."""
        version = _version([MARIADBD, "--version"])

        def make(d):
            data = os.path.join(d, "data")
            os.makedirs(data)
            shutil.chown(data, "mysql", "mysql")
            sh([MARIADB_INSTALL, "--no-defaults", "--user=mysql", "--datadir=" + data,
                "--auth-root-authentication-method=normal", "--skip-test-db",
                "--innodb-log-file-size=4M"])
        template = _cached("mariadb", version, make)
        _copy(os.path.join(template, "data"), self.datadir)
        shutil.chown(self.rundir, "mysql", "mysql")
        extra = []
        if ssl:
            cert, key = self_signed(self.rundir, "mysql")
            extra = ["--ssl-cert=" + cert, "--ssl-key=" + key]
        self.proc = subprocess.Popen(
            [MARIADBD, "--no-defaults", "--user=mysql", "--datadir=" + self.datadir,
             "--socket=" + self.socket, "--port=%d" % self.port, "--bind-address=127.0.0.1",
             "--pid-file=" + os.path.join(self.rundir, "pid"), "--log-error=" + self.log,
             "--innodb-log-file-size=4M", "--innodb-buffer-pool-size=16M", "--skip-log-bin",
             "--innodb-flush-log-at-trx-commit=0", "--max-connections=60",
             "--max-allowed-packet=64M"] + extra,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        self.t.on_cleanup(lambda: _stop(self.proc, signal.SIGKILL, "mariadbd"),
                          rescue="pkill -KILL -f -- '--datadir=%s '" % self.datadir)
        return self

    def ready(self):
        deadline = time.time() + READY_TIMEOUT
        while time.time() < deadline:
            if self.proc.poll() is not None:
                fail("mariadbd exited with status %s:\n%s" % (self.proc.returncode, self.log_text()))
            if os.path.exists(self.socket) and "ready for connections" in self.log_text():
                return self
            time.sleep(0.05)
        fail("mariadbd not ready within %d s:\n%s" % (READY_TIMEOUT, self.log_text()))

    def log_text(self):
        return log_tail(self.log)

    def cli(self, tcp=False, db=None):
        """The mariadb CLI's argv (SQL on stdin)."""
        argv = ["mariadb", "--no-defaults", "-u", "root", "--batch"]
        argv += ["-h", "127.0.0.1", "-P", str(self.port), "--protocol=TCP"] if tcp else ["-S", self.socket]
        return argv + ([db] if db else [])

    def sql(self, text, db=None):
        r = subprocess.run(self.cli(db=db), input=text.encode(), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        if r.returncode:
            fail("set-up SQL failed: %s\n%s" % (text, r.stderr.decode("utf-8", "replace")))
        return r.stdout.decode()
