"""Summaries: what was read through an open file, reported when the process
lets go of it (close, exit, exec), periodically while it stays open (flush),
and split correctly when a dup, a child or another process shares it."""

import os
import subprocess
import time

from itlib import (PY, PY_REAL, action, agent_events, check_summaries, expect, expect_eq, expect_field, get,
                   one, opens, py, run, summaries, the_open)


def cfg(d, **extra):
    c = {"watch": [{"name": "crm", "paths": [d]}]}
    c.update(extra)
    return c


def setup(t, size=4096, **extra):
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", os.urandom(size))
    a = t.start_agent(cfg(d, **extra))
    return a, f


def test_close_reason_exit(t):
    """A process reads 1234 bytes and exits without closing (os._exit): one
    final summary, reason "exit", 1234 bytes, 1 read call."""
    a, f = setup(t)
    r = py("import os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); os.read(fd, 1234); os._exit(0)", f)
    evs = a.stop()
    o = the_open(evs, f, pid=r.pid)
    s = check_summaries(evs, get(o, "custos.open_id"), 1234, 1, final_reason="exit")
    expect_eq(len(s), 1, "summaries", s)
    expect_field(s[0], "event.action", "close")
    expect_field(s[0], "process.pid", r.pid)


def test_close_reason_exec(t):
    """A file opened with O_CLOEXEC, read, then the process execs: one final
    summary, reason "exec", by the process as it was before the exec."""
    a, f = setup(t)
    r = py("import os, sys\n"
           "fd = os.open(sys.argv[1], os.O_RDONLY | os.O_CLOEXEC); os.read(fd, 777)\n"
           "os.execv('/bin/true', ['true'])", f)
    evs = a.stop()
    o = the_open(evs, f, pid=r.pid)
    s = check_summaries(evs, get(o, "custos.open_id"), 777, 1, final_reason="exec")
    expect_eq(len(s), 1, "summaries", s)
    expect_field(s[0], "process.pid", r.pid)
    expect_field(s[0], "process.name", "python3")
    expect_field(s[0], "process.executable", PY_REAL)


def test_inherited_across_exec(t):
    """A file opened without O_CLOEXEC stays open across exec and the new
    program reads the rest through the inherited fd: the summaries of the one
    open_id add up to the whole file."""
    a, f = setup(t, size=10000)
    r = py("import os, sys\n"
           "fd = os.open(sys.argv[1], os.O_RDONLY); os.set_inheritable(fd, True); os.read(fd, 1000)\n"
           "os.dup2(fd, 0); os.close(fd)\n"
           "os.execv('/bin/cat', ['cat'])", f)
    expect_eq(len(r.out), 9000, "bytes cat copied (test set-up)")
    evs = a.stop()
    o = the_open(evs, f, pid=r.pid)
    s = check_summaries(evs, get(o, "custos.open_id"), 10000)
    expect_field(s[-1], "process.name", "cat")


def test_dup_non_final_close(t):
    """Close one fd while a dup still holds the file: a non-final close with
    what was read so far, then the final close with the rest."""
    a, f = setup(t)
    r = py("import os, sys\n"
           "fd = os.open(sys.argv[1], os.O_RDONLY); fd2 = os.dup(fd)\n"
           "os.read(fd, 10); os.close(fd)\n"
           "os.read(fd2, 20); os.read(fd2, 30); os.close(fd2)", f)
    evs = a.stop()
    o = the_open(evs, f, pid=r.pid)
    s = check_summaries(evs, get(o, "custos.open_id"), 60, 3, final_reason="close")
    got = [(action(e), get(e, "custos.io.bytes_read"), get(e, "custos.io.read_calls"),
            get(e, "custos.close.reason"), get(e, "custos.close.final")) for e in s]
    expect_eq(got, [("close", 10, 1, "close", False), ("close", 50, 2, "close", True)],
              "summaries (action, bytes, calls, reason, final)", s)


def test_fork_shares_file(t):
    """Open, read, fork: the child's first read is an open of its own
    (custos.open.shared, same open_id), its exit summary carries exactly what
    it read (non-final), the parent's close what the parent read (final):
    the summaries add up to everything read, each attributed to its reader."""
    a, f = setup(t)
    r = py("import os, sys\n"
           "fd = os.open(sys.argv[1], os.O_RDONLY); os.read(fd, 100)\n"
           "pid = os.fork()\n"
           "if pid == 0:\n    os.read(fd, 200); os._exit(0)\n"
           "os.waitpid(pid, 0); os.read(fd, 300); os.close(fd); print(pid)", f)
    child = int(r.out)
    evs = a.stop()
    o = the_open(evs, f, pid=r.pid)
    s = check_summaries(evs, get(o, "custos.open_id"), 600, 3, final_reason="close")
    expect_eq(len(s), 2, "summaries (the child's exit, the parent's close)", s)
    expect_field(s[0], "process.pid", child)
    expect_field(s[0], "process.parent.pid", r.pid)
    expect_field(s[0], "custos.close.reason", "exit")
    expect_field(s[0], "custos.close.final", False)
    expect_field(s[0], "custos.io.bytes_read", 200)
    expect_field(s[0], "process.executable", PY_REAL)
    expect_field(s[1], "process.pid", r.pid)
    expect_field(s[1], "custos.io.bytes_read", 400)
    shared = one([e for e in opens(evs, f, pid=child)], "the child's open event", evs)
    expect_field(shared, "custos.open.shared", True)
    expect_field(shared, "custos.open.opener.pid", r.pid)
    expect_field(shared, "custos.open_id", get(o, "custos.open_id"))


def test_fd_passed_to_other_process(t):
    """An fd sent to another process over a unix socket (SCM_RIGHTS): the
    sender's close is non-final, the receiver's reads are counted under the
    same open_id and its close is final."""
    a, f = setup(t)
    code = r"""
import os, socket, sys
s1, s2 = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
pid = os.fork()
if pid == 0:
    s1.close()
    _, fds, _, _ = socket.recv_fds(s2, 10, 1)
    s2.recv(2)                      # the sender has closed its fd
    os.read(fds[0], 20); os.read(fds[0], 22); os.close(fds[0]); os._exit(0)
s2.close()
fd = os.open(sys.argv[1], os.O_RDONLY); os.read(fd, 10)
socket.send_fds(s1, [b"x"], [fd]); os.close(fd); s1.send(b"go")
os.waitpid(pid, 0); print(pid)
"""
    r = py(code, f)
    child = int(r.out)
    evs = a.stop()
    o = the_open(evs, f, pid=r.pid)
    s = check_summaries(evs, get(o, "custos.open_id"), 52, 3, final_reason="close")
    got = [(get(e, "process.pid"), get(e, "custos.io.bytes_read"), get(e, "custos.close.final")) for e in s]
    expect_eq(got, [(r.pid, 10, False), (child, 42, True)], "summaries (pid, bytes, final)", s)


IMPLICIT_CLOSE = r"""
import os, sys, time
f, how, other = sys.argv[1:4]
fd = os.open(f, os.O_RDONLY); os.read(fd, 100)
if how == "dup2":
    null = os.open("/dev/null", os.O_RDONLY); os.dup2(null, fd)
else:
    os.closerange(fd, fd + 1)            # close_range(2)
# The struct file is free now; the next files opened here may reuse it.
for i in range(5):
    o = os.open(other, os.O_RDONLY); os.read(o, 1000); os.close(o)
time.sleep(0.3)
os._exit(0)
"""


def _implicit_close(t, how):
    a, f = setup(t)
    other = t.write("unwatched.bin", os.urandom(5000))
    r = py(IMPLICIT_CLOSE, f, how, other)
    time.sleep(0.3)
    evs = a.stop()
    o = the_open(evs, f, pid=r.pid)
    s = summaries(evs, get(o, "custos.open_id"))
    strangers = [e for e in s if get(e, "process.pid") != r.pid]
    expect(not strangers, "summaries of the watched file attributed to other processes (a reused struct file?)",
           strangers)
    total = sum(get(e, "custos.io.bytes_read") for e in s)
    expect(total <= 100, "%d bytes counted for the watched file, which was read 100 bytes before the %s: "
           "the rest are reads of the unwatched %s opened afterwards (its struct file reused the freed one)"
           % (total, how, other), s)
    check_summaries(evs, get(o, "custos.open_id"), 100, 1)


def test_dup2_over_watched_fd(t):
    """dup2() onto the fd of a watched file closes that file without a
    close(2). The process let go of it: a final summary with exactly what was
    read must follow, and reads of other (unwatched) files the process opens
    next must not be counted for it."""
    _implicit_close(t, "dup2")


def test_close_range_on_watched_fd(t):
    """The same with close_range(2) (Python's os.closerange)."""
    _implicit_close(t, "close_range")


def test_flush_interval(t):
    """flush_interval 1: a file read, held open 3 s, read again and closed
    gets interim "flush" summaries (non-final, bytes > 0, only when something
    was read since the last summary) before the close; the summaries add up."""
    a, f = setup(t, flush_interval=1)
    r = py("import os, sys, time\n"
           "fd = os.open(sys.argv[1], os.O_RDONLY); os.read(fd, 100)\n"
           "time.sleep(3); os.read(fd, 200); os.close(fd)", f)
    evs = a.stop()
    o = the_open(evs, f, pid=r.pid)
    s = check_summaries(evs, get(o, "custos.open_id"), 300, 2, final_reason="close")
    flushes = [e for e in s if action(e) == "flush"]
    expect(flushes, "no flush event while the file was held open 3 s", s)
    for e in flushes:
        expect_field(e, "custos.close.final", False)
        expect_field(e, "custos.close.reason", "flush")
        expect(get(e, "custos.io.bytes_read") > 0, "a flush without bytes read since the last summary", e)
        expect_field(e, "process.pid", r.pid)
        expect_field(e, "file.path", f)
    expect_eq(get(flushes[0], "custos.io.bytes_read"), 100, "bytes of the first flush", s)
    expect(get(s[-1], "custos.seq") > get(flushes[-1], "custos.seq"), "the close comes after the flushes", s)


def test_flush_at_agent_stop(t):
    """A file still open when the agent stops: a "flush" summary with what
    was read, before agent-stop."""
    a, f = setup(t)
    p = subprocess.Popen([PY, "-c", "import os, sys, time\n"
                          "fd = os.open(sys.argv[1], os.O_RDONLY); os.read(fd, 123)\n"
                          "print('ready', flush=True); time.sleep(60)", f],
                         stdout=subprocess.PIPE)
    t.on_cleanup(lambda: (p.kill(), p.wait()))
    expect_eq(p.stdout.readline(), b"ready\n", "workload start (test set-up)")
    a.wait_for(lambda e: get(e, "file.path", None) == f and action(e) == "open", "open event")
    time.sleep(0.3)
    evs = a.stop()
    o = the_open(evs, f, pid=p.pid)
    s = summaries(evs, get(o, "custos.open_id"))
    fl = one(s, "summary of the file left open", evs)
    expect_field(fl, "event.action", "flush")
    expect_field(fl, "custos.io.bytes_read", 123)
    expect_field(fl, "custos.io.read_calls", 1)
    expect_field(fl, "custos.close.final", False)
    expect(get(fl, "custos.seq") < get(evs[-1], "custos.seq") and action(evs[-1]) == "agent-stop",
           "the flush must come before agent-stop, the last event", evs[-3:])
    stop = one(agent_events(evs, "agent-stop"), "agent-stop")
    expect_field(stop, "custos.stats.open_files", 1)


def test_tracked_count_follows_evictions(t):
    """The kernel keeps a count of tracked open files so that, with none
    open, reads and closes skip the table. 70000 descriptors of a watched
    file held open at once overflow the table (65536 entries): the LRU evicts
    entries without telling. Once they are closed, the agent's next flush
    brings the count back to 0 (agent-heartbeat's
    custos.stats.open_files_tracked), and the evicted opens were reported."""
    n = 70000
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", "x")
    a = t.start_agent({"watch": [{"name": "crm", "paths": [d]}], "flush_interval": 1,
                       "heartbeat_interval": 1, "ring_buffer_mb": 64})
    # Five processes of 14000 descriptors each (the hard limit here may be 20000), all open at once.
    code = r"""
import os, resource, sys
n, procs = int(sys.argv[2]), int(sys.argv[3])
resource.setrlimit(resource.RLIMIT_NOFILE, (n + 100, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
ready_r, ready_w = os.pipe()
go_r, go_w = os.pipe()
for _ in range(procs):
    if os.fork() == 0:
        os.close(go_w)
        fds = [os.open(sys.argv[1], os.O_RDONLY) for _ in range(n)]
        os.write(ready_w, b"x")
        os.read(go_r, 1)
        for fd in fds:
            os.close(fd)
        os._exit(0)
for _ in range(procs):
    os.read(ready_r, 1)
os.close(go_w)
for _ in range(procs):
    os.wait()
"""
    # From a file, so that the 140000 events do not each carry the program in process.args.
    run([PY, t.write("holder.py", code), f, str(n // 5), "5"])
    beats = a.events_now(grep=b"agent-heartbeat")
    last = max((get(e, "custos.seq") for e in beats), default=0)
    hb = a.wait_for(lambda e: get(e, "event.action", None) == "agent-heartbeat" and
                    get(e, "custos.seq") > last and
                    get(e, "custos.stats.open_files_tracked", None) == 0,
                    "a heartbeat with open_files_tracked 0 after the files were closed", timeout=90,
                    grep=b"agent-heartbeat")
    evs = a.stop()
    stop = evs[-1]
    expect(get(stop, "custos.stats.evicted") > 0,
           "70000 files open at once but no entry was evicted from the kernel's table", stop)
    expect_eq(get(stop, "custos.stats.ringbuf_drops"), 0, "records lost in the ring", stop)
    expect_field(hb, "custos.stats.open_files_tracked", 0)
    expect_field(stop, "custos.stats.open_files_tracked", 0)


# 140000 events to drain, on a CI host whose other core runs a kernel under QEMU.
test_tracked_count_follows_evictions.timeout = 240
