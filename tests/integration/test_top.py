"""custos top: who reads customer data right now. From a stored stream
(--file --batch: one screen on stdout) its rows are checked against sums
computed here from the same events; live, it runs full screen in an 80x24
tmux pane, shows a login user's reads, and q quits and gives the terminal
back."""

import os
import subprocess
import time

from itlib import CUSTOS, expect, expect_eq, fail, get, run, sh
from test_report import SIZES, fmt_bytes, fmt_count, record, save

UTF8 = dict(os.environ, LANG="C.UTF-8", LC_ALL="C.UTF-8")


def human_of(e):
    for f in ("user.audit.name", "user.name", "user.id"):
        v = get(e, f, None)
        if isinstance(v, str) and v:
            return v
    return "?"


def expected_rows(evs):
    """{(human, program): [files, rows, bytes, statements]} by top's definitions (top.h)."""
    rows = {}
    for e in evs:
        cat, act = get(e, "event.category", None), get(e, "event.action", None)
        if get(e, "event.kind", None) != "event" or cat not in ("file", "network", "database"):
            continue
        c = rows.setdefault((human_of(e), get(e, "process.name", None) or "?"), [0, 0, 0, 0])
        summary = act in ("close", "flush")
        if cat == "file":
            c[0] += act == "open" and get(e, "event.outcome", None) != "failure"
            c[2] += get(e, "custos.io.bytes_read", 0) if summary else 0
        elif cat == "network":
            c[2] += get(e, "custos.io.bytes_received", 0) if summary else 0
        else:
            c[3] += act == "query"
            c[1] += get(e, "db.response.returned_rows", 0)
    return rows


def screen_row(human, program, c, wide=True):
    """The line of a row in an 80-column screen: names in 12 columns each, then the counts."""
    def cut(s, n):
        return s.replace("\x1b", "\\x1b")[:n].ljust(n)
    counts = "%6s%7s%9s%6s" % (fmt_count(c[0], 5), fmt_count(c[1], 6), fmt_bytes(c[2]), fmt_count(c[3], 5))
    return cut(human, 11) + " " + cut(program, 12) + counts + (counts if wide else "")


def top(*args, stdin=None, rc=0):
    r = subprocess.run([CUSTOS, "top"] + list(args), input=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60, env=UTF8)
    if r.returncode != rc:
        fail("custos top %s: exit status %d, expected %d\nstdout:\n%s\nstderr:\n%s" % (
            " ".join(args), r.returncode, rc, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")))
    return r.stdout.decode(), r.stderr.decode()


def check_screen(text, width=80, height=24):
    lines = text.split("\n")
    expect_eq(lines[-1], "", "the screen ends with a newline", text)
    expect_eq(len(lines) - 1, height, "lines of the screen", text)
    for line in lines:
        expect(len(line) <= width, "a line wider than %d columns: %r" % (width, line), text)
        expect(not any(ord(ch) < 0x20 or ord(ch) == 0x7f for ch in line),
               "a control character on the screen: %r" % line, text)
    return lines[:-1]


def test_top_batch_from_stored_stream(t):
    """The rows of a real run (a login user's cat, dd, a program named with
    an escape sequence, sqlite3; nobody's cat; the endpoint's client) are the
    sums computed here, the same for the plain file, its gzip copy and
    stdin; the busiest table and rule are listed; lines that are not events
    are skipped, counted on the screen and said on stderr (exit status 1)."""
    evs, raw, facts = record(t)
    plain = save(t, "events.ndjson", raw)
    out, err = top("--file", plain, "--batch")
    expect_eq(err, "", "stderr of a clean stream")
    lines = check_screen(out)
    rows = expected_rows(evs)
    expect(len(rows) >= 5, "rows expected from the run (test set-up)", rows)
    for (human, program), c in rows.items():
        line = screen_row(human, program, c)
        expect(line.rstrip() in [l.rstrip() for l in lines],
               "no row %r for %s/%s" % (line, human, program), out)
    accesses = sum(1 for e in evs if get(e, "event.kind", None) == "event"
                   and get(e, "event.category", None) in ("file", "network", "database"))
    expect(lines[1].startswith("accesses %d  alerts 0  lost 0  skipped 0" % accesses), "the totals line", out)
    expect_eq(lines[3].split(), ["HUMAN", "PROGRAM"] + ["FILES", "ROWS", "BYTES", "STMTS"] * 2, "column titles", out)
    # The table's name is cut to its half of the screen's columns.
    table = [l for l in lines if facts["table"][:16] in l]
    expect(len(table) == 1 and table[0].endswith("4 rows     4 rows"), "the table %s with its 4 rows" % facts["table"],
           out)
    crm = [l for l in lines if l.startswith("crm ")]
    read = fmt_bytes(sum(SIZES.values()))
    expect(len(crm) == 1 and crm[0][:40].endswith("%11s%11s" % (read, read)),
           "the rule crm with the bytes read from its files, %s" % read, out)
    expect("\x1b" not in out and "c\\x1b[2Jat" in out, "the program named with ESC, escaped", out)

    body = lines[:-1]
    zout, _ = top("--file", save(t, "events.ndjson.gz", raw, compress=True), "--batch")
    expect_eq(check_screen(zout)[:-1], body, "the screen of the gzip copy")
    sout, _ = top("--file", "-", stdin=raw)
    expect_eq(check_screen(sout)[:-1], body, "the screen of stdin (no --batch needed)")

    bad = raw + b"not json\n" + b'{"@timestamp": 5, "event": {"category": "file"}}\n' + b'["x"]\n'
    bout, berr = top("--file", save(t, "bad.ndjson", bad), "--batch", rc=1)
    expect(check_screen(bout)[1].rstrip().endswith("skipped 3"), "3 lines skipped, on the screen", bout)
    expect("3 lines were not events custos wrote: skipped" in berr, "the skip said on stderr", berr)


def test_top_usage_errors(t):
    """Bad options: a clear message and exit status 2; not a terminal without
    --batch. A source that fails: its reason and exit status 1."""
    for args, msg in ((["--interval", "0"], "--interval 0: 1 to 60 seconds"),
                      (["--interval", "x"], "--interval x: 1 to 60 seconds"),
                      (["--file", "f", "--path", "/tmp"], "--file shows the stored stream"),
                      (["extra"], 'unexpected argument "extra"'),
                      ([], "stdin and stdout are not a terminal: use --batch")):
        _, err = top(*args, rc=2)
        expect(msg in err, "custos top %s: message %r" % (" ".join(args), msg), err)
    _, err = top("--file", t.path("missing.ndjson"), "--batch", rc=1)
    expect("missing.ndjson" in err, "a missing file named", err)
    # trace cannot start (not root): its reason, status 1, and no screen of nothing.
    r = subprocess.run(["runuser", "-u", "nobody", "--", CUSTOS, "top", "--batch"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60, cwd="/")
    expect(r.returncode == 1 and r.stdout == b"" and b"custos trace exited (status 1)" in r.stderr
           and b"must run as root" in r.stderr, "top as nobody", repr(r))


class Tmux:
    """A private tmux server with one 80x24 session running argv; its exit
    status is written by the shell that runs it (tmux does not always keep a
    dead pane's)."""

    def __init__(self, t, argv):
        self.sock = "custos-it-%d" % os.getpid()
        self.status = t.path("pane.status")
        t.on_cleanup(lambda: self.tmux("kill-server", check=False))
        self.tmux("-f", "/dev/null", "new-session", "-d", "-s", "view", "-x", "80", "-y", "24",
                  "env", "LANG=C.UTF-8", "LC_ALL=C.UTF-8", "TERM=xterm",
                  # The shell outlives a Ctrl-C (a trap, which its child does not inherit) to write it.
                  "sh", "-c", 'trap : INT; "$@"; echo $? > "$0"', self.status, *argv)
        # Keep the pane to look at after its program ended (unless it has already).
        self.tmux("set-option", "-t", "view", "remain-on-exit", "on", check=False)

    def exit_status(self, timeout=10):
        """The program's exit status once it ended (None if it did not within timeout s)."""
        deadline = time.time() + timeout
        while time.time() < deadline and not os.path.exists(self.status):
            time.sleep(0.1)
        if not os.path.exists(self.status):
            return None
        with open(self.status) as f:
            return int(f.read())

    def tmux(self, *args, check=True):
        return sh(["tmux", "-L", self.sock] + list(args), check=check).stdout.decode()

    def screen(self, escapes=False):
        """The pane's lines (a line the terminal wrapped joined again), with its colours when escapes."""
        return self.tmux("capture-pane", "-p", "-J", "-t", "view", *(["-e"] if escapes else []))

    def wait(self, pred, what, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            s = self.screen()
            if pred(s):
                return s
            time.sleep(0.2)
        fail("%s: not on the screen within %d s" % (what, timeout), self.screen())


def test_top_live_under_tmux(t):
    """custos top --path DIR in an 80x24 tmux pane: a login user's cat of
    three 3000-byte files shows as a row (3 files, 8.8 KiB, in the last
    minute and since start) within a few seconds; the screen fits 80x24;
    q quits with status 0 and the terminal's screen is given back."""
    uid, login = t.login_user()
    d = t.mkdir("crm")
    files = [t.write("crm/%d.csv" % i, os.urandom(3000)) for i in range(3)]
    tm = Tmux(t, [CUSTOS, "top", "--path", d, "--socket", t.control_socket()])
    tm.wait(lambda s: "source: live" in s, "top reading custos trace's events")
    run(["cat"] + files, loginuid=uid)
    want = screen_row(login, "cat", [3, 0, 9000, 0]).rstrip()
    s = tm.wait(lambda s: want in s.split("\n"), "the row %r" % want)
    lines = s.rstrip("\n").split("\n")
    expect(len(lines) <= 24 and all(len(l) <= 80 for l in lines), "the screen fits 80x24", s)
    expect("accesses" in lines[1] and lines[3].split()[:2] == ["HUMAN", "PROGRAM"], "the header", s)
    tm.tmux("send-keys", "-t", "view", "q")
    expect_eq(tm.exit_status(), 0, "top's exit status after q")
    expect("HUMAN" not in tm.screen(), "the terminal's own screen is back after q", tm.screen())
