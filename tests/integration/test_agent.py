"""The agent's own life: start, stop, signals, the fields every event has,
the clock, statistics, and never reporting itself."""

import datetime
import os
import re
import signal
import subprocess
import time

from itlib import (CUSTOS, TIMESTAMP_RE, action, agent_events, check_seq, check_summaries, expect, expect_eq,
                   expect_field, fail, file_events, get, hostname, run, summaries, the_open)

HOOKS_REQUIRED = [
    "tracepoint/syscalls/sys_exit_openat",
    "tracepoint/syscalls/sys_exit_read",
    "tracepoint/syscalls/sys_enter_close",
]


def cfg(d, **extra):
    c = {"watch": [{"name": "crm", "tags": ["pii"], "paths": [d]}]}
    c.update(extra)
    return c


def ts(s):
    """Seconds since the epoch of an RFC 3339 "...T..:..:..<9 digits>Z"."""
    base = datetime.datetime.strptime(s[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return base.timestamp() + int(s[20:29]) / 1e9


UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def check_common(evs):
    """Every event: its time, ECS's event.* and agent.* (one agent.id and one
    agent.ephemeral_id for the run), host.name, the sequence in
    event.sequence and custos.seq."""
    host = hostname()
    for e in evs:
        stamp = get(e, "@timestamp")
        expect(isinstance(stamp, str) and TIMESTAMP_RE.match(stamp),
               "@timestamp is not RFC 3339 UTC with 9 fractional digits and Z", e)
        for k in ("event.kind", "event.category", "event.action", "event.outcome"):
            expect(isinstance(get(e, k, None), str) and get(e, k), "%s missing or empty" % k, e)
        expect_field(e, "event.kind", "metric" if action(e) == "agent-heartbeat" else "event")
        expect(isinstance(get(e, "event.type", None), list) and get(e, "event.type"), "event.type is not a list", e)
        expect_field(e, "host.name", host)
        expect_field(e, "custos.schema_version", 2)
        expect_field(e, "ecs.version", "8.17.0")
        expect_field(e, "event.module", "custos")
        expect_field(e, "event.sequence", get(e, "custos.seq"))
        expect_field(e, "event.dataset", "custos.agent" if action(e).startswith("agent-")
                     else "custos." + get(e, "event.category"))
        expect_field(e, "agent.type", "custos")
        expect(UUID_RE.match(get(e, "agent.id")) and UUID_RE.match(get(e, "agent.ephemeral_id")),
               "agent.id and agent.ephemeral_id are not random UUIDs", e)
        expect_field(e, "agent.version", get(evs[0], "custos.agent.version"))
    expect_eq(len({(get(e, "agent.id"), get(e, "agent.ephemeral_id")) for e in evs}), 1,
              "one agent.id and agent.ephemeral_id in a run", evs)
    check_seq(evs)


def _lifecycle(t, sig):
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", "0123456789")
    a = t.start_agent(cfg(d))
    start = agent_events(a.events_now())[0]
    r = run(["cat", f])
    evs = a.stop(sig=sig)
    expect_eq(a.rc, 0, "exit status after signal %d" % sig)
    expect_eq(evs[0], start, "first event")
    expect_field(start, "event.action", "agent-start")
    expect_field(start, "event.category", "process")
    expect_field(start, "event.type", ["start"])
    expect_field(start, "event.outcome", "success")
    # The process that starts is the agent: its own process.* (no other process field).
    expect_eq(get(start, "process"), {"pid": a.pid, "name": "custos", "executable": os.path.realpath(CUSTOS)},
              "agent-start's process.*", start)
    expect_field(start, "custos.agent.pid", a.pid)
    expect_field(start, "custos.agent.mode", "run")
    expect_field(start, "custos.agent.config", a.config_path)
    expect_field(start, "custos.agent.rules", 1)
    expect_field(start, "custos.agent.watched_inodes", 1)
    hooks = get(start, "custos.agent.hooks")
    for h in HOOKS_REQUIRED:
        expect(h in hooks, "custos.agent.hooks does not list %s" % h, start)
    stop = evs[-1]
    expect_field(stop, "event.action", "agent-stop")
    expect_field(stop, "event.type", ["end"])
    expect_field(stop, "event.outcome", "success")
    expect_field(stop, "process.pid", a.pid)
    expect_field(stop, "custos.stats.ringbuf_drops", 0)
    expect_field(stop, "custos.stats.malformed_records", 0)
    expect_field(stop, "custos.stats.open_files", 0)
    expect_field(stop, "custos.stats.records.file_open", 1)
    expect_field(stop, "custos.stats.records.file_close", 1)
    record_types = ["file_open", "file_close", "file_denied", "proc_exec", "proc_exit",
                    "cgroup_mkdir", "file_shared", "file_mmap", "file_change", "path_change",
                    "db_call", "net_connect", "wire", "net_connected"]
    expect_eq(sorted(get(stop, "custos.stats.records")), sorted(record_types),
              "custos.stats.records names every record type", stop)
    expect_eq(sorted(get(stop, "custos.stats.ringbuf_drops_by_type")),
              sorted(record_types + ["unknown"]), "ringbuf_drops_by_type names every type", stop)
    expect_field(stop, "custos.stats.events", len(evs) - 1)
    check_common(evs)
    o = the_open(evs, f, pid=r.pid)
    check_summaries(evs, get(o, "custos.open_id"), 10, 1)
    expect_eq(len(evs), 4, "events (agent-start, open, close, agent-stop)", evs)


def test_start_and_sigint(t):
    """The first line is agent-start (hooks listed, with sys_exit_openat);
    SIGINT: exit 0, the last line agent-stop with no ring drops; every event
    has the common fields, seq 1, 2, 3..., host.name the host name."""
    _lifecycle(t, signal.SIGINT)


def test_sigterm(t):
    """SIGTERM stops the agent the same way."""
    _lifecycle(t, signal.SIGTERM)


def test_timestamps_follow_the_clock(t):
    """@timestamp of each event is when it happened (within 1 s of the
    wall clock around the workload), process.start when the process
    started, and a summary never precedes its open."""
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", "abc")
    a = t.start_agent(cfg(d))
    seen_start = time.time()
    time.sleep(1.2)
    r = run(["cat", f])
    time.sleep(1.2)
    stop_at = time.time()
    evs = a.stop()
    done = time.time()
    start, stop = evs[0], evs[-1]
    expect(a.started_at - 1 <= ts(get(start, "@timestamp")) <= seen_start + 1,
           "agent-start @timestamp is not when the agent started (%.3f..%.3f)" % (a.started_at, seen_start), start)
    expect(stop_at - 1 <= ts(get(stop, "@timestamp")) <= done + 1,
           "agent-stop @timestamp is not when the agent stopped (%.3f..%.3f)" % (stop_at, done), stop)
    for e in file_events(evs, f, pid=r.pid):
        expect(r.t0 - 1 <= ts(get(e, "@timestamp")) <= r.t1 + 1,
               "@timestamp is not when cat ran (%.3f..%.3f)" % (r.t0, r.t1), e)
        expect(r.t0 - 1 <= ts(get(e, "process.start")) <= r.t1 + 1,
               "process.start is not when cat started (%.3f..%.3f)" % (r.t0, r.t1), e)
    o = the_open(evs, f, pid=r.pid)
    for s in summaries(evs, get(o, "custos.open_id")):
        expect(ts(get(s, "@timestamp")) >= ts(get(o, "@timestamp")), "a summary is dated before its open", o, s)


def test_agent_never_reports_itself(t):
    """The agent reads its config file (in a watched directory) at start and
    on SIGHUP, and the user and group databases (watched) to name users: none
    of it is reported; other processes reading them are."""
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", "abc")
    c = cfg(d)
    c["watch"][0]["paths"] += ["/etc/passwd", "/etc/group"]
    path = t.config_file(c, name="crm/custos.json")
    a = t.start_agent(path)
    r1 = run(["cat", f])
    a.hup()
    a.hup()
    r2 = run(["cat", f])
    r3 = run(["cat", "/etc/passwd"])
    evs = a.stop()
    # Its own events (agent-start...) have its process.*: no other event has.
    mine = [e for e in evs if get(e, "process.pid", None) == a.pid and get(e, "event.dataset") != "custos.agent"]
    expect_eq(mine, [], "events of the agent itself")
    expect_eq(file_events(evs, path), [], "events of the config file (only the agent read it)")
    for r in (r1, r2):
        the_open(evs, f, pid=r.pid)
    the_open(evs, "/etc/passwd", pid=r3.pid)


def test_heartbeat_interval(t):
    """heartbeat_interval 1: agent-heartbeat events with the counters come while
    the agent runs."""
    d = t.mkdir("crm")
    a = t.start_agent(cfg(d, heartbeat_interval=1))
    ev = a.wait_for(lambda e: action(e) == "agent-heartbeat", "agent-heartbeat event", timeout=5)
    expect_field(ev, "event.kind", "metric")
    expect_field(ev, "event.category", "process")
    expect_field(ev, "event.type", ["info"])
    expect_field(ev, "process.pid", a.pid)
    expect_field(ev, "custos.stats.ringbuf_drops", 0)
    expect_field(ev, "custos.stats.watched_inodes", 1)
    a.stop()


def test_stdout_closed(t):
    """When the reader of stdout goes away (custos run | head -1), the agent
    exits by itself, status 0, without hanging."""
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", "abc")
    p = subprocess.Popen([CUSTOS, "run", "--config", t.config_file(cfg(d))], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    t.on_cleanup(lambda: (p.poll() is None and p.kill(), p.wait()))
    first = p.stdout.readline()
    expect(b'"agent-start"' in first, "first line is not agent-start: %r" % first)
    p.stdout.close()
    deadline = time.time() + 10
    while p.poll() is None and time.time() < deadline:
        run(["cat", f])
        time.sleep(0.2)
    if p.poll() is None:
        p.kill()
        fail("the agent still runs 10 s after its stdout was closed")
    expect_eq(p.returncode, 0, "exit status after stdout closed (stderr: %r)" % p.stderr.read())


def test_compat_object(t):
    """With CUSTOS_BPF_OBJECT=compat the agent runs the compat object, as on
    Linux 5.10: agent-start says so and names every helper's fallback, and a
    read through a watched file is reported with its path and bytes (the
    kernel matrix runs the rest of the tests this way)."""
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", "x" * 5000)
    env = dict(os.environ, CUSTOS_BPF_OBJECT="compat")
    a = t.start_agent(cfg(d), env=env)
    r = run(["dd", "if=" + f, "of=/dev/null", "bs=1000"])
    evs = a.stop()
    start = agent_events(evs, "agent-start")[0]
    expect_field(start, "custos.agent.bpf_object", "compat")
    fallbacks = get(start, "custos.agent.fallbacks")
    expect_eq(sorted(x["helper"] for x in fallbacks),
              sorted(["bpf_rdonly_cast", "bpf_loop", "bpf_task_pt_regs", "bpf_get_current_task_btf",
                      "bpf_get_attach_cookie", "task_storage", "cmpxchg"]), "fallbacks", start)
    expect(all(x["instead"] for x in fallbacks), "a fallback without what it does instead", fallbacks)
    o = the_open(evs, f, pid=r.pid)
    expect_field(o, "file.path", f)
    expect_field(o, "process.name", "dd")
    check_summaries(evs, get(o, "custos.open_id"), 5000, 5)


def test_agent_id_kept_across_restarts(t):
    """agent.id is made once, a random UUID kept in STATE_DIR/agent-id (mode
    0644, the directory made if missing), and is the same after a restart;
    agent.ephemeral_id is new at each start."""
    d = t.mkdir("crm")
    state = t.path("state-id")
    a = t.start_agent(cfg(d, state_dir=state))
    first = a.stop()
    idfile = os.path.join(state, "agent-id")
    expect(os.path.exists(idfile), "%s was not made" % idfile)
    expect_eq(os.stat(idfile).st_mode & 0o777, 0o644, "mode of agent-id")
    with open(idfile) as f:
        kept = f.read()
    expect_eq(kept, get(first[0], "agent.id") + "\n", "agent-id holds agent.id", first[0])
    b = t.start_agent(cfg(d, state_dir=state))
    second = b.stop()
    expect_eq(get(second[0], "agent.id"), get(first[0], "agent.id"), "agent.id after a restart", first[0], second[0])
    expect(get(second[0], "agent.ephemeral_id") != get(first[0], "agent.ephemeral_id"),
           "agent.ephemeral_id is new at each start", first[0], second[0])
    check_common(second)
