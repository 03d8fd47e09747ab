"""Helpers for the custos integration tests.

A test is a function test_NAME(t) in a tests/integration/test_*.py file; t is
a Context: a private temporary directory, the agents it started, and the
clean-ups to run whatever happens. run.py runs each test in its own process
group, so a test that hangs or crashes is killed without stopping the others.

The rule of these tests: real processes touch real files while a real agent
runs; the JSON that comes out is checked value by value, and a failure shows
the events it is about.
"""

import ctypes
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
# CUSTOS_IT_BIN runs the suite against another build of the agent.
CUSTOS = os.environ.get("CUSTOS_IT_BIN") or os.path.join(ROOT, "build", "custos")
HELPERS = os.path.join(ROOT, "build", "tests", "helpers")
PY = sys.executable
PY_REAL = os.path.realpath(PY)

START_TIMEOUT = 20
STOP_TIMEOUT = 20
# Time limits are multiplied by this where programs run slower than on the
# development machine (scripts/vmtest.sh sets it for kernels under QEMU).
TIME_SCALE = float(os.environ.get("CUSTOS_IT_TIME_SCALE") or 1)


def scaled(seconds):
    return seconds * TIME_SCALE
TIMESTAMP_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$")

_MISSING = object()


class Failure(AssertionError):
    """A test failed; the message says why and shows the relevant events."""


# ---------------------------------------------------------------- assertions


def show(x, limit=6000):
    """Events (or anything JSON-able) as text for a failure message."""
    if isinstance(x, (list, tuple)):
        text = "\n".join(json.dumps(e, ensure_ascii=False, sort_keys=True) for e in x)
        if not x:
            text = "(none)"
    else:
        text = json.dumps(x, ensure_ascii=False, sort_keys=True)
    if len(text) > limit:
        text = text[:limit] + "\n... (%d more characters)" % (len(text) - limit)
    return text


def fail(msg, *evidence):
    parts = [msg]
    for e in evidence:
        parts.append(e if isinstance(e, str) else show(e))
    raise Failure("\n".join(parts))


def expect(cond, msg, *evidence):
    if not cond:
        fail(msg, *evidence)


def expect_eq(actual, expected, what, *evidence):
    if actual != expected:
        fail("%s: expected %r, got %r" % (what, expected, actual), *evidence)


def get(ev, dotted, default=_MISSING):
    """ev["a"]["b"]["c"] for "a.b.c"; default (or a Failure) if absent."""
    cur = ev
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            if default is _MISSING:
                fail("field %s is missing" % dotted, ev)
            return default
        cur = cur[part]
    return cur


_ABSENT = object()


def has(ev, dotted):
    return get(ev, dotted, _ABSENT) is not _ABSENT


def expect_field(ev, dotted, expected, what=None):
    actual = get(ev, dotted, None) if has(ev, dotted) else "<missing>"
    if actual != expected:
        fail("%s: %s: expected %r, got %r" % (what or "event", dotted, expected, actual), ev)


def one(items, what, *context):
    if len(items) != 1:
        fail("expected exactly one %s, got %d" % (what, len(items)), items, *context)
    return items[0]


# ------------------------------------------------------------- event queries


def action(ev):
    return get(ev, "event.action", None)


def file_events(evs, path=None, action_=None, pid=None, open_id=None, outcome=None,
                under=None):
    """File events, optionally only those with this path / action / pid / open_id,
    or whose path is below the directory `under`."""
    out = []
    for e in evs:
        if get(e, "event.category", None) != "file":
            continue
        p = get(e, "file.path", None)
        if path is not None and p != path:
            continue
        if under is not None and not (isinstance(p, str) and p.startswith(under.rstrip("/") + "/")):
            continue
        if action_ is not None and action(e) != action_:
            continue
        if pid is not None and get(e, "process.pid", None) != pid:
            continue
        if open_id is not None and get(e, "custos.open_id", None) != open_id:
            continue
        if outcome is not None and get(e, "event.outcome", None) != outcome:
            continue
        out.append(e)
    return out


def agent_events(evs, act=None):
    return [e for e in evs if get(e, "event.category", None) != "file"
            and (act is None or action(e) == act)]


def opens(evs, path=None, pid=None):
    return file_events(evs, path=path, action_="open", pid=pid, outcome="success")


def summaries(evs, open_id):
    """Close and flush events of one open_id, in output order."""
    return [e for e in evs if get(e, "event.category", None) == "file"
            and action(e) in ("close", "flush") and get(e, "custos.open_id", None) == open_id]


def io_total(evs, open_id):
    """(bytes, read calls) summed over every summary of open_id."""
    s = summaries(evs, open_id)
    return (sum(get(e, "custos.io.bytes_read") for e in s),
            sum(get(e, "custos.io.read_calls") for e in s))


def the_open(evs, path, pid=None):
    return one(opens(evs, path=path, pid=pid), "open event of %s%s" % (
        path, "" if pid is None else " by pid %d" % pid), evs)


def check_summaries(evs, open_id, nbytes, calls=None, final_reason=None):
    """The summaries of open_id add up to nbytes (and calls); exactly one, the
    last, is final; returns them."""
    s = summaries(evs, open_id)
    expect(s, "no close/flush summary for open_id %s" % open_id, evs)
    b, c = io_total(evs, open_id)
    expect_eq(b, nbytes, "sum of custos.io.bytes_read over open_id %s" % open_id, s)
    if calls is not None:
        expect_eq(c, calls, "sum of custos.io.read_calls over open_id %s" % open_id, s)
    finals = [e for e in s if get(e, "custos.close.final", None) is True]
    expect(len(finals) == 1 and finals[0] is s[-1],
           "open_id %s: expected exactly one final summary, the last one" % open_id, s)
    if final_reason is not None:
        expect_field(s[-1], "custos.close.reason", final_reason, "final summary")
    return s


def unescape(s):
    """The bytes a custos string stands for: \\xNN is a byte, \\\\ a backslash
    (only in strings listed in custos.escaped)."""
    out = bytearray()
    i = 0
    while i < len(s):
        ch = s[i]
        if ch == "\\" and i + 1 < len(s) and s[i + 1] == "\\":
            out += b"\\"
            i += 2
        elif ch == "\\" and s[i + 1:i + 2] == "x" and re.fullmatch(r"[0-9a-f]{2}", s[i + 2:i + 4]):
            out.append(int(s[i + 2:i + 4], 16))
            i += 4
        else:
            out += ch.encode("utf-8")
            i += 1
    return bytes(out)


def field_bytes(ev, dotted):
    """A string field as the bytes it stands for, honouring custos.escaped."""
    v = get(ev, dotted)
    escaped = get(ev, "custos.escaped", [])
    field = dotted if not re.search(r"\.\d+$", dotted) else dotted.rsplit(".", 1)[0]
    return unescape(v) if field in escaped else v.encode("utf-8")


def parse_lines(raw, what="agent stdout"):
    """Every line of raw (bytes) as JSON; fails unless raw is strict UTF-8 and
    every line is exactly one JSON object."""
    try:
        text = raw.decode("utf-8", errors="strict")
    except UnicodeDecodeError as e:
        fail("%s is not valid UTF-8: %s (bytes around it: %r)" % (
            what, e, raw[max(0, e.start - 60):e.end + 60]))
    if text and not text.endswith("\n"):
        fail("%s does not end with a newline: ...%r" % (what, text[-200:]))
    evs = []
    for n, line in enumerate(text.split("\n")[:-1] if text else [], 1):
        try:
            ev = json.loads(line)
        except ValueError as e:
            fail("%s line %d is not valid JSON (%s): %r" % (what, n, e, line[:2000]))
        if not isinstance(ev, dict):
            fail("%s line %d is not a JSON object: %r" % (what, n, line[:2000]))
        problems = schema_problems(ev)
        if problems:
            fail("%s line %d does not follow docs/schema-fields.json: %s"
                 % (what, n, "; ".join(problems)), ev)
        evs.append(ev)
    return evs


# ---------------------------------------------------------------- the schema

SCHEMA_FIELDS = os.path.join(ROOT, "docs", "schema-fields.json")
_schema = None


def schema_fields():
    """docs/schema-fields.json: {dotted name: its entry}."""
    global _schema
    if _schema is None:
        with open(SCHEMA_FIELDS) as f:
            _schema = {e["name"]: e for e in json.load(f)["fields"]}
    return _schema


def json_type(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    return {float: "number", str: "string", list: "array", dict: "object"}[type(v)]


def _type_fits(value, listed):
    t = json_type(value)
    allowed = listed.split("|")
    return t in allowed or (t == "integer" and "number" in allowed)


def _schema_walk(obj, prefix, fields, problems):
    for key, value in obj.items():
        name = prefix + key
        entry = fields.get(name)
        if isinstance(value, dict) and (entry is None or entry["type"] != "object"):
            if entry is not None:
                problems.append("%s is an object, listed as %s" % (name, entry["type"]))
            else:
                _schema_walk(value, name + ".", fields, problems)
            continue
        if entry is None:
            problems.append("%s (%s) is not listed" % (name, json_type(value)))
            continue
        if not _type_fits(value, entry["type"]):
            problems.append("%s is %s, listed as %s" % (name, json_type(value), entry["type"]))
        if isinstance(value, list):
            # Arrays of objects: their members go by the array's name, as in Elasticsearch.
            for element in value:
                if isinstance(element, dict):
                    _schema_walk(element, name + ".", fields, problems)


def is_ecs_line(ev):
    """An event line of the ECS schema (not an OCSF line, not other JSON)."""
    return isinstance(ev, dict) and "@timestamp" in ev and "custos" in ev and "class_uid" not in ev


def schema_problems(ev):
    """What in an ECS line docs/schema-fields.json does not list, or lists
    with another JSON type; [] for lines of other kinds."""
    if not is_ecs_line(ev):
        return []
    problems = []
    _schema_walk(ev, "", schema_fields(), problems)
    return problems


def by_name(items, what, *evidence):
    """An array of objects with a "name" (heartbeat outputs, an alert's group)
    as {name: the object}; fails unless it is one, names unique."""
    expect(isinstance(items, list) and all(isinstance(i, dict) and isinstance(i.get("name"), str)
                                           for i in items), "%s is not an array of named objects" % what,
           *evidence)
    named = {i["name"]: i for i in items}
    expect_eq(len(named), len(items), "%s: names are unique" % what, *evidence)
    return named


def outputs_stats(h):
    """custos.stats.outputs of a heartbeat as {name: figures}."""
    return by_name(get(h, "custos.stats.outputs"), "custos.stats.outputs", h)


def alert_group(a):
    """custos.alert.group of an alert as {field: value}."""
    return {k: v["value"] for k, v in by_name(get(a, "custos.alert.group"), "custos.alert.group", a).items()}


def check_seq(evs):
    seqs = [get(e, "custos.seq", None) for e in evs]
    expect(seqs == list(range(1, len(evs) + 1)),
           "custos.seq is not 1, 2, 3... (got %s)" % seqs[:50])


# ------------------------------------------------------------------- context


class Context:
    """One test's resources. Everything registered here is undone at the end,
    in reverse order, even when the test fails."""

    def __init__(self, workdir, name):
        self.name = name
        self.workdir = workdir
        os.makedirs(workdir, exist_ok=True)
        os.chmod(workdir, 0o755)  # other users (nobody) traverse it
        self._cleanups = []
        self._agents = []
        self._rescue = os.path.join(workdir, ".rescue")
        self._n = 0

    # -- temporary files
    def path(self, *parts):
        return os.path.join(self.workdir, *parts)

    def custos_for_anyone(self):
        """A copy of the binary other users can run: the checkout may sit in a
        directory only root can enter (mktemp -d makes them 0700)."""
        p = self.path("custos-bin")
        if not os.path.exists(p):
            shutil.copy(CUSTOS, p)
            os.chmod(p, 0o755)
        return p

    def control_socket(self):
        """The control socket of this test's agents (custos run makes its directory)."""
        return self.path("control", "agent.sock")

    def mkdir(self, *parts, mode=0o755):
        p = self.path(*parts)
        os.makedirs(p, exist_ok=True)
        os.chmod(p, mode)
        return p

    def write(self, path, data=b"", mode=0o644):
        """Writes data (bytes or str) to path (absolute, or relative to the
        test directory); returns the absolute path."""
        p = path if os.path.isabs(path if isinstance(path, str) else os.fsdecode(path)) \
            else os.path.join(os.fsencode(self.workdir) if isinstance(path, bytes) else self.workdir, path)
        if isinstance(data, str):
            data = data.encode()
        d = os.path.dirname(p)
        if d:
            os.makedirs(d, exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
        os.chmod(p, mode)
        return p

    def unique(self, prefix="x"):
        self._n += 1
        return "%s%d" % (prefix, self._n)

    # -- clean-ups
    def on_cleanup(self, fn, rescue=None):
        """Runs fn() at the end. rescue is a shell command run by run.py if the
        test process is killed before it could run fn (a mount, a user)."""
        self._cleanups.append(fn)
        if rescue:
            with open(self._rescue, "a") as f:
                f.write(rescue + "\n")

    def cleanup(self):
        errors = []
        for a in self._agents:
            try:
                a.kill()
            except Exception as e:  # noqa: BLE001
                errors.append("killing agent: %s" % e)
        for fn in reversed(self._cleanups):
            try:
                fn()
            except Exception as e:  # noqa: BLE001
                errors.append("clean-up: %s" % e)
        self._cleanups = []
        return errors

    # -- the agent
    def agent(self, config=None, **kw):
        """An Agent (not started) on config: a dict written to a file in the
        test directory, a path, or None for the built-in config."""
        a = Agent(self, config, **kw)
        self._agents.append(a)
        return a

    def start_agent(self, config=None, **kw):
        return self.agent(config, **kw).start()

    def config_file(self, config, name=None):
        p = self.path(name or self.unique("config") + ".json")
        if isinstance(config, (dict, list)):
            config = json.dumps(config, indent=2) + "\n"
        self.write(p, config)
        return p

    # -- users
    def login_user(self):
        """(uid, name) of an ordinary user to act as the human who logged in:
        an existing one (uid >= 1000), else one created for this test."""
        for pw in sorted(pwd.getpwall(), key=lambda p: p.pw_uid):
            if 1000 <= pw.pw_uid < 60000:
                return pw.pw_uid, pw.pw_name
        name = "custos-it"
        sh(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name])
        self.on_cleanup(lambda: sh(["userdel", name], check=False),
                        rescue="userdel %s" % name)
        return pwd.getpwnam(name).pw_uid, name


def require_root():
    if os.geteuid() != 0:
        fail("the integration tests must run as root: they load BPF programs "
             "(run `sudo make check`)")
    if not os.access(CUSTOS, os.X_OK):
        fail("%s is missing: build it with `make`" % CUSTOS)


def helper(name):
    p = os.path.join(HELPERS, name)
    if not os.access(p, os.X_OK):
        fail("test helper %s is missing: build it with `make tests-build`" % p)
    return p


# --------------------------------------------------------------------- agent


class Agent:
    """build/custos run (or trace) with stdout and stderr in files."""

    def __init__(self, t, config=None, mode="run", args=(), env=None, user=None,
                 json_out=None):
        self.t = t
        self.mode = mode
        self.config_path = None
        if isinstance(config, dict) and "state_dir" not in config:
            # What first_seen rules learn stays with the test, not in /var/lib/custos.
            config = dict(config, state_dir=t.path("state"))
        if isinstance(config, dict) and "control_socket" not in config:
            # custos status and trace of this test talk to this test's agent only.
            config = dict(config, control_socket=t.control_socket())
        if isinstance(config, (dict, list)):
            self.config_path = t.config_file(config)
        elif isinstance(config, str):
            self.config_path = config
        self.args = list(args)
        self.env = env
        self.user = user
        self.json_out = (mode == "run") if json_out is None else json_out
        n = t.unique("agent")
        self.out_path = t.path(n + ".stdout")
        self.err_path = t.path(n + ".stderr")
        self.proc = None
        self.pid = None
        self.rc = None
        self.started_at = None
        self.stopped_at = None
        self._events = None

    def argv(self):
        argv = [CUSTOS, self.mode]
        if self.config_path:
            argv += ["--config", self.config_path]
        argv += self.args
        if self.mode == "trace" and "--socket" not in argv and "--standalone" not in argv:
            # Attached only to an agent of this test (and when none runs, its own hooks).
            argv += ["--socket", self.t.control_socket()]
        if self.user:
            argv = ["runuser", "-u", self.user, "--"] + argv
        return argv

    def start(self, timeout=START_TIMEOUT):
        require_root()
        self.started_at = time.time()
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(self.argv(), stdout=out, stderr=err,
                                         stdin=subprocess.DEVNULL, env=self.env, cwd=self.t.workdir)
        self.pid = self.proc.pid
        timeout = scaled(timeout)
        deadline = time.time() + timeout
        while time.time() < deadline:
            raw = self.raw()
            if b"\n" in raw:
                first = raw.split(b"\n", 1)[0]
                if self.json_out:
                    try:
                        ev = json.loads(first)
                    except ValueError:
                        self.kill()
                        fail("agent's first line is not JSON: %r\nstderr:\n%s" % (first[:2000], self.stderr()))
                    if action(ev) != "agent-start":
                        self.kill()
                        fail("agent's first line is not agent-start\nstderr:\n%s" % self.stderr(), ev)
                else:
                    if re.sub(rb"\x1b\[[0-9;]*m", b"", first) != b"# agent-start":  # --color always
                        self.kill()
                        fail("trace's first line is not '# agent-start': %r\nstderr:\n%s" % (first, self.stderr()))
                return self
            if self.proc.poll() is not None:
                fail("agent exited with status %s before agent-start\ncommand: %s\nstderr:\n%s\nstdout:\n%s" % (
                    self.proc.returncode, " ".join(self.argv()), self.stderr(), raw[:3000].decode("utf-8", "replace")))
            time.sleep(0.05)
        self.kill()
        fail("agent-start not seen within %d s\ncommand: %s\nstderr:\n%s" % (
            timeout, " ".join(self.argv()), self.stderr()))

    def raw(self):
        with open(self.out_path, "rb") as f:
            return f.read()

    def stderr(self):
        try:
            with open(self.err_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def events_now(self, grep=None):
        """Events written so far (complete lines only), without stopping.
        With grep (bytes), only the lines that contain it are parsed: a test
        that makes 100000 events waits for one without parsing them all."""
        raw = self.raw()
        raw = raw[:raw.rfind(b"\n") + 1]
        if grep is not None:
            raw = b"".join(line + b"\n" for line in raw.split(b"\n") if grep in line)
        return parse_lines(raw)

    def wait_for(self, pred, what, timeout=10, grep=None):
        """The first event (so far or within timeout s) for which pred is
        true; grep as for events_now."""
        timeout = scaled(timeout)
        deadline = time.time() + timeout
        while True:
            for e in self.events_now(grep):
                if pred(e):
                    return e
            if time.time() > deadline:
                fail("%s: not seen within %s s\nstderr:\n%s" % (what, timeout, self.stderr()),
                     self.events_now(grep))
            if not self.alive():
                fail("%s: the agent exited (status %s)\nstderr:\n%s" % (what, self.proc.returncode, self.stderr()),
                     self.events_now())
            time.sleep(0.1)

    def hup(self, expect_outcome="success", timeout=10):
        """SIGHUP and wait for the resulting (new) agent-reload event."""
        before = len(agent_events(self.events_now(), "agent-reload"))
        self.proc.send_signal(signal.SIGHUP)
        timeout = scaled(timeout)
        deadline = time.time() + timeout
        while True:
            reloads = agent_events(self.events_now(), "agent-reload")
            if len(reloads) > before:
                ev = reloads[before]
                break
            if not self.alive():
                fail("the agent exited after SIGHUP (status %s)\nstderr:\n%s" % (self.proc.returncode, self.stderr()))
            if time.time() > deadline:
                fail("no agent-reload within %s s of SIGHUP\nstderr:\n%s" % (timeout, self.stderr()),
                     self.events_now())
            time.sleep(0.05)
        if expect_outcome:
            expect_field(ev, "event.outcome", expect_outcome, "agent-reload")
        return ev

    def stop(self, sig=signal.SIGINT, timeout=STOP_TIMEOUT, expect_rc=0):
        """Signals the agent, waits for it, and returns every event it wrote
        (for run/--json), checking that each line is valid JSON."""
        if self.proc is None:
            fail("agent was never started")
        if self.proc.poll() is not None:
            fail("the agent died before the test stopped it (status %s)\nstderr:\n%s" % (
                self.proc.returncode, self.stderr()))
        self.proc.send_signal(sig)
        timeout = scaled(timeout)
        try:
            self.rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            fail("agent did not exit within %d s of signal %d\nstderr:\n%s" % (timeout, sig, self.stderr()))
        self.stopped_at = time.time()
        if expect_rc is not None and self.rc != expect_rc:
            fail("agent exited with status %s after signal %d (expected %s)\nstderr:\n%s" % (
                self.rc, sig, expect_rc, self.stderr()))
        if not self.json_out:
            return self.raw().decode("utf-8", "replace").splitlines()
        self._events = parse_lines(self.raw())
        return self._events

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


# ----------------------------------------------------------------- workloads


def sh(argv, check=True, **kw):
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, **kw)
    if check and r.returncode != 0:
        fail("command %s failed with status %d\nstdout: %s\nstderr: %s" % (
            argv, r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")))
    return r


class Run:
    """What a workload did: pid, status, output, and when."""

    def __init__(self, argv, pid, rc, out, err, t0, t1):
        self.argv, self.pid, self.rc, self.out, self.err = argv, pid, rc, out, err
        self.t0, self.t1 = t0, t1

    def __repr__(self):
        return "Run(%r, pid=%d, rc=%d, out=%r, err=%r)" % (self.argv, self.pid, self.rc, self.out[:500], self.err[:500])


def _preexec(loginuid, setsid, cgroup, extra):
    def fn():
        if loginuid is not None:
            with open("/proc/self/loginuid", "w") as f:
                f.write(str(loginuid))
        if cgroup is not None:
            with open(os.path.join(cgroup, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))
        if setsid:
            os.setsid()
        if extra:
            extra()
    return fn


def run(argv, user=None, loginuid=None, cwd=None, stdin=None, check=True, timeout=60,
        env=None, cgroup=None, preexec=None, pass_fds=()):
    """Runs argv as a real process (as user, via runuser, and with this login
    uid written to /proc/self/loginuid first); returns a Run."""
    if user is not None:
        argv = ["runuser", "-u", user, "--"] + list(argv)
    t0 = time.time()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                         cwd=cwd, env=env, pass_fds=pass_fds,
                         preexec_fn=_preexec(loginuid, False, cgroup, preexec))
    try:
        out, err = p.communicate(stdin, timeout=scaled(timeout))
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        fail("workload %s timed out after %d s" % (argv, timeout))
    r = Run(argv, p.pid, p.returncode, out, err, t0, time.time())
    if check and p.returncode != 0:
        fail("workload failed: %r" % r)
    return r


def py(code, *args, **kw):
    """Runs a Python program (this interpreter) with -c code."""
    return run([PY, "-c", code] + [a for a in args], **kw)


def cat(path, **kw):
    return run(["cat", path], **kw)


def libc():
    return ctypes.CDLL(None, use_errno=True)


def hostname():
    return socket.gethostname()


def dd_path():
    return os.path.realpath(shutil.which("dd"))


def which(prog):
    p = shutil.which(prog)
    if not p:
        fail("%s is not installed" % prog)
    return p
