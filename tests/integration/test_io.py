"""Byte counting: every read syscall is counted exactly, per open file."""

import os

from itlib import (check_summaries, dd_path, expect, expect_eq, expect_field, fail, file_events, get,
                   helper, opens, py, run, summaries, the_open, check_seq, agent_events, one)


def watch(d, name="crm", tags=("pii",), **extra):
    cfg = {"watch": [{"name": name, "tags": list(tags), "paths": [d]}]}
    cfg.update(extra)
    return cfg


def test_dd_exact_bytes(t):
    """dd of a 1 MiB file in 4 KiB blocks: 1048576 bytes in 256 read calls,
    with who did it (name, executable, args, parent) and what file it was."""
    d = t.mkdir("crm")
    f = t.write("crm/export.bin", os.urandom(1 << 20))
    a = t.start_agent(watch(d))
    r = run(["dd", "if=" + f, "of=/dev/null", "bs=4096"])
    evs = a.stop()

    o = the_open(evs, f, pid=r.pid)
    expect_field(o, "process.name", "dd")
    expect_field(o, "process.executable", dd_path())
    expect_field(o, "process.args", ["dd", "if=" + f, "of=/dev/null", "bs=4096"])
    expect_field(o, "process.args_count", 4)
    expect_field(o, "process.thread.id", r.pid)
    expect_field(o, "process.parent.pid", os.getpid())
    expect_field(o, "custos.rule", "crm")
    expect_field(o, "custos.tags", ["pii"])
    expect_field(o, "custos.open.flags", ["O_RDONLY"])
    st = os.stat(f)
    expect_field(o, "file.path", f)
    expect_field(o, "file.name", "export.bin")
    expect_field(o, "file.directory", d)
    expect_field(o, "file.inode", str(st.st_ino))
    expect_field(o, "file.device", "%d:%d" % (os.major(st.st_dev), os.minor(st.st_dev)))
    expect_field(o, "file.type", "file")
    expect_field(o, "file.mode", "0644")
    expect_field(o, "file.uid", "0")
    expect_field(o, "file.gid", "0")
    expect_field(o, "file.owner", "root")
    expect_field(o, "file.size", 1 << 20)
    expect_field(o, "event.type", ["access"])
    expect_field(o, "event.outcome", "success")
    oid = get(o, "custos.open_id")
    # dd opens on fd 3, dup2()s it to 0 and closes 3: a non-final close, then
    # the reads through fd 0, then the final close.
    s = check_summaries(evs, oid, 1 << 20, 256)
    for e in s:
        expect_field(e, "process.pid", r.pid)
        expect_field(e, "file.path", f)
        expect_field(e, "file.inode", str(st.st_ino))
        expect(get(e, "custos.io.total_bytes_read") >= get(e, "custos.io.bytes_read"),
               "total_bytes_read smaller than bytes_read", e)
    expect_field(s[-1], "custos.io.total_bytes_read", 1 << 20)
    expect_eq(len(file_events(evs, under=d)), 1 + len(s), "file events (one open and its summaries)",
              file_events(evs, under=d))


def test_read_family_python(t):
    """os.read, os.pread, os.readv, os.preadv and os.preadv with flags
    (preadv2): each call and byte counted, totals exact."""
    d = t.mkdir("crm")
    f = t.write("crm/data.bin", os.urandom(16384))
    a = t.start_agent(watch(d))
    code = r"""
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
n = [len(os.read(fd, 100)),                                    # read
     len(os.pread(fd, 200, 1000)),                             # pread64
     os.readv(fd, [bytearray(300), bytearray(400)]),           # readv
     os.preadv(fd, [bytearray(500)], 5000),                    # preadv(2)
     os.preadv(fd, [bytearray(250), bytearray(350)], 6000, os.RWF_NOWAIT),  # preadv2
     len(os.pread(fd, 1000, 16384))]                           # at EOF: 0, not a read call
os.close(fd)
print(" ".join(map(str, n)))
"""
    r = py(code, f)
    expect_eq(r.out.decode().split(), ["100", "200", "700", "500", "600", "0"], "bytes the workload read")
    evs = a.stop()
    o = the_open(evs, f, pid=r.pid)
    check_summaries(evs, get(o, "custos.open_id"), 2100, 5, final_reason="close")


def test_read_syscalls_each(t):
    """read, pread64, readv, preadv, preadv2 made as raw syscalls, one per
    open, so a hook that misses one syscall is named; a read at EOF (0 bytes)
    is not a read call."""
    fileops = helper("fileops")
    d = t.mkdir("crm")
    f = t.write("crm/data.bin", os.urandom(10000))
    a = t.start_agent(watch(d))
    steps = [
        ("read", ["openat", f, "read", "1000", "close"], 1000, 1),
        ("pread64", ["openat", f, "pread", "300", "50", "close"], 300, 1),
        ("readv", ["openat", f, "readv", "10,20,30", "close"], 60, 1),
        ("preadv", ["openat", f, "preadv", "40,50", "7", "close"], 90, 1),
        ("preadv2", ["openat", f, "preadv2", "60,70", "9", "0", "close"], 130, 1),
        ("read until EOF", ["openat", f, "readall", "close"], 10000, 3),
        ("pread at EOF", ["openat", f, "pread", "100", "10000", "close"], 0, 0),
    ]
    argv = [fileops]
    for _, ops, _, _ in steps:
        argv += ops
    r = run(argv)
    evs = a.stop()
    os_ = opens(evs, f, pid=r.pid)
    expect_eq(len(os_), len(steps), "open events of the helper", os_)
    os_.sort(key=lambda e: get(e, "custos.open_id"))
    for (what, _, nbytes, calls), o in zip(steps, os_):
        s = summaries(evs, get(o, "custos.open_id"))
        b = sum(get(e, "custos.io.bytes_read") for e in s)
        c = sum(get(e, "custos.io.read_calls") for e in s)
        if (b, c) != (nbytes, calls):
            fail("%s: expected %d bytes in %d calls, got %d bytes in %d calls" % (what, nbytes, calls, b, c), o, s)
        check_summaries(evs, get(o, "custos.open_id"), nbytes, calls, final_reason="close")


def test_open_syscalls_reported(t):
    """open(2), openat(2), openat2(2) and creat(2) of a watched file are each
    reported with the flags they were given; O_PATH opens and opens of the
    watched directories themselves are not."""
    fileops = helper("fileops")
    d = t.mkdir("crm")
    sub = t.mkdir("crm", "sub")
    f = t.write("crm/a.csv", "x" * 10)
    g = os.path.join(d, "created.csv")
    a = t.start_agent(watch(d))
    r = run([fileops, "open", f, "read", "4", "close", "openat", f, "close", "openat2", f, "close",
             "creat", g, "close", "opath", f, "close", "opath", d, "close"])
    r2 = py("import os, sys\n"
            "for p in sys.argv[1:]:\n"
            "    fd = os.open(p, os.O_RDONLY | os.O_DIRECTORY); os.close(fd); os.listdir(p)\n", d, sub)
    evs = a.stop()
    got = sorted(opens(evs, pid=r.pid), key=lambda e: get(e, "custos.open_id"))
    flags = [(get(e, "file.path"), sorted(get(e, "custos.open.flags"))) for e in got]
    want = [(f, ["O_RDONLY"]), (f, ["O_RDONLY"]), (f, sorted(["O_RDONLY", "O_CLOEXEC"])),
            (g, sorted(["O_WRONLY", "O_CREAT", "O_TRUNC"]))]
    expect_eq(flags, want, "opens of the helper (open, openat, openat2, creat; not O_PATH)", got)
    check_summaries(evs, get(got[0], "custos.open_id"), 4, 1)
    expect_field(got[3], "file.size", 0)
    expect_eq(file_events(evs, pid=r2.pid), [], "events for opening the watched directories")
    for e in file_events(evs):
        expect(get(e, "file.type", "file") == "file", "a directory was reported", e)


def test_open_flags_and_fd(t):
    """custos.open.flags names the flags given and custos.open.fd is the fd
    the process got; writing is not reading (bytes_read 0)."""
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", "hello world\n")
    new = os.path.join(d, "new.csv")
    a = t.start_agent(watch(d))
    code = r"""
import os, sys
keep = [os.open("/dev/null", os.O_RDONLY) for _ in range(4)]   # push the fds up
fd1 = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600)
os.write(fd1, b"0123456789")
fd2 = os.open(sys.argv[1], os.O_RDWR | os.O_NOFOLLOW | os.O_NOATIME)
n = len(os.read(fd2, 5))
fd3 = os.open(sys.argv[1], os.O_RDONLY | os.O_EXCL | os.O_NONBLOCK)
print(fd1, fd2, fd3, n)
os.close(fd1); os.close(fd2); os.close(fd3)
"""
    r = py(code, f, new)
    fd1, fd2, fd3, n = map(int, r.out.split())
    evs = a.stop()
    o1 = the_open(evs, new, pid=r.pid)
    expect_eq(sorted(get(o1, "custos.open.flags")),
              sorted(["O_WRONLY", "O_CREAT", "O_TRUNC", "O_APPEND", "O_CLOEXEC"]), "flags of the create", o1)
    expect_field(o1, "custos.open.fd", fd1)
    expect_field(o1, "file.mode", "0600")
    check_summaries(evs, get(o1, "custos.open_id"), 0, 0)
    o23 = sorted(opens(evs, f, pid=r.pid), key=lambda e: get(e, "custos.open_id"))
    expect_eq(len(o23), 2, "opens of %s" % f, o23)
    expect_eq(sorted(get(o23[0], "custos.open.flags")),
              sorted(["O_RDWR", "O_NOFOLLOW", "O_NOATIME", "O_CLOEXEC"]), "flags of the O_RDWR open", o23[0])
    expect_field(o23[0], "custos.open.fd", fd2)
    check_summaries(evs, get(o23[0], "custos.open_id"), n, 1)
    expect_eq(sorted(get(o23[1], "custos.open.flags")),
              sorted(["O_RDONLY", "O_EXCL", "O_NONBLOCK", "O_CLOEXEC"]), "flags of the third open", o23[1])
    expect_field(o23[1], "custos.open.fd", fd3)


def test_thread_reads(t):
    """A thread other than the main one opens and reads: process.pid is the
    process, process.thread.id the thread."""
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", "y" * 3000)
    a = t.start_agent(watch(d))
    code = r"""
import os, sys, threading
res = {}
def work():
    fd = os.open(sys.argv[1], os.O_RDONLY)
    res["n"] = len(os.read(fd, 1234))
    os.close(fd)
    res["tid"] = threading.get_native_id()
th = threading.Thread(target=work); th.start(); th.join()
print(res["tid"], res["n"])
"""
    r = py(code, f)
    tid, n = map(int, r.out.split())
    expect(tid != r.pid, "the thread id equals the pid: the test is broken")
    evs = a.stop()
    o = the_open(evs, f, pid=r.pid)
    expect_field(o, "process.thread.id", tid)
    s = check_summaries(evs, get(o, "custos.open_id"), n, 1)
    expect_field(s[-1], "process.thread.id", tid)
    expect_field(s[-1], "process.pid", r.pid)


def test_many_opens_no_drops(t):
    """5000 open/read/close cycles in a burst: 5000 opens, 5000 final closes
    with the right bytes, unique open_ids, consecutive seq, no ring drops."""
    n = 5000
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", "z" * 777)
    a = t.start_agent(watch(d))
    code = r"""
import os, sys
for i in range(int(sys.argv[2])):
    fd = os.open(sys.argv[1], os.O_RDONLY)
    os.read(fd, 4096)
    os.close(fd)
"""
    r = py(code, f, str(n))
    evs = a.stop()
    check_seq(evs)
    stop = one(agent_events(evs, "agent-stop"), "agent-stop event")
    expect_field(stop, "custos.stats.ringbuf_drops", 0)
    os_ = opens(evs, f, pid=r.pid)
    expect_eq(len(os_), n, "open events")
    ids = [get(e, "custos.open_id") for e in os_]
    expect_eq(len(set(ids)), n, "distinct open_ids")
    closes = file_events(evs, f, action_="close", pid=r.pid)
    expect_eq(len(closes), n, "close events")
    bad = [e for e in closes if (get(e, "custos.io.bytes_read"), get(e, "custos.io.read_calls"),
                                 get(e, "custos.close.final")) != (777, 1, True)]
    expect(not bad, "%d close events without bytes_read 777, read_calls 1, final true" % len(bad), bad[:3])
    expect_eq(sorted(get(e, "custos.open_id") for e in closes), sorted(ids), "open_ids of the closes")


def test_drops_are_counted(t):
    """With a 1 MiB ring and a burst of 30000 opens, whatever the agent
    could not record is counted, once: opens reported + open records
    dropped = 30000; every open reported gets its final close unless that
    close record was dropped (and counted); nothing is lost as "unknown";
    drops, if any, are announced while the agent runs (agent-heartbeat) and on
    stderr; a summary whose open was lost never carries an empty or wrong
    path (it names the file, or says custos.file.path_unknown)."""
    n = 30000
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", "z" * 10)
    a = t.start_agent(watch(d, ring_buffer_mb=1))
    code = r"""
import os, sys
for i in range(int(sys.argv[2])):
    fd = os.open(sys.argv[1], os.O_RDONLY)
    os.read(fd, 100)
    os.close(fd)
"""
    r = py(code, f, str(n))
    evs = a.stop()
    check_seq(evs)
    stop = evs[-1]
    expect_field(stop, "event.action", "agent-stop")
    by_type = get(stop, "custos.stats.ringbuf_drops_by_type")
    total = get(stop, "custos.stats.ringbuf_drops")
    expect_eq(total, sum(by_type.values()), "ringbuf_drops is the sum of ringbuf_drops_by_type", stop)
    expect_eq(by_type.get("unknown"), 0, "records of unknown type dropped (every record here has a type)", stop)
    os_ = opens(evs, f, pid=r.pid)
    expect_eq(len(os_) + by_type["file_open"], n, "opens reported + open records dropped", stop)
    closed = {get(e, "custos.open_id") for e in file_events(evs, action_="close", pid=r.pid)
              if get(e, "custos.close.final", None) is True}
    unclosed = [e for e in os_ if get(e, "custos.open_id") not in closed]
    expect(len(unclosed) <= by_type["file_close"],
           "%d opens reported without their final close, but only %d close records dropped"
           % (len(unclosed), by_type["file_close"]), stop, unclosed[:2])
    if total:
        expect(agent_events(evs, "agent-heartbeat"), "%d drops but no agent-heartbeat event while running" % total)
        expect("lost" in a.stderr() or "full" in a.stderr(), "%d drops but nothing on stderr" % total)
    ino = str(os.stat(f).st_ino)
    bad = [e for e in file_events(evs, pid=r.pid) + [e for e in evs if get(e, "file.path", None) == ""]
           if not (get(e, "file.path", None) == f or
                   (get(e, "file.path", None) is None and get(e, "custos.file.path_unknown", None) is True
                    and get(e, "file.inode", None) == ino))]
    expect(not bad, "%d file events (summaries whose open record was dropped) neither name the file %s nor "
           "say custos.file.path_unknown with its inode" % (len(bad), f), bad[:2])


def test_queue_drops_are_gap_events(t):
    """With a large ring and the agent's record queue at its minimum (1 MiB),
    processes opening a watched file flat out overrun the queue: every
    record it could not hold is announced by a gap event (source agent,
    reason record_queue_full) while the agent runs, the gap counts add up to
    custos.stats.queue_drops, and opens reported + open records lost (ring
    or queue) = opens made."""
    n, procs = 40000, 2
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", "z" * 10)
    a = t.start_agent(watch(d, ring_buffer_mb=256, queue_mb=1))
    code = r"""
import os, sys
n, procs = int(sys.argv[2]), int(sys.argv[3])
for _ in range(procs):
    if os.fork() == 0:
        for i in range(n):
            os.close(os.open(sys.argv[1], os.O_RDONLY))
        os._exit(0)
for _ in range(procs):
    os.wait()
"""
    py(code, f, str(n), str(procs))
    evs = a.stop()
    check_seq(evs)
    stop = evs[-1]
    expect_field(stop, "event.action", "agent-stop")
    queued = get(stop, "custos.stats.queue_drops")
    by_type = get(stop, "custos.stats.queue_drops_by_type")
    expect(queued > 0, "no record was lost to the 1 MiB queue: the test did not overrun it", stop)
    expect_eq(sum(by_type.values()), queued, "queue_drops is the sum of queue_drops_by_type", stop)
    gaps = [e for e in agent_events(evs, "gap") if get(e, "custos.gap.reason") == "record_queue_full"]
    expect(gaps, "%d records lost to the queue but no gap event" % queued)
    for g in gaps:
        expect_field(g, "custos.gap.source", "agent")
        expect_field(g, "event.kind", "alert")
    expect_eq(sum(get(g, "custos.gap.count") for g in gaps), queued,
              "the gap events' counts add up to queue_drops", *gaps[:2])
    expect(get(gaps[0], "custos.seq") < get(stop, "custos.seq") - 1,
           "the first queue gap came only at the stop, not while running", gaps[0])
    ring = get(stop, "custos.stats.ringbuf_drops_by_type")["file_open"]
    made = len(opens(evs, f))
    expect_eq(made + ring + by_type["file_open"], n * procs,
              "opens reported + open records lost in the ring and the queue", stop)
