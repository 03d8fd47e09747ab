"""custos check: what this kernel offers the agent, the hook it would use
for each thing it watches, and exit statuses a script can use (0 ready,
1 config refused, 2 usage, 3 the kernel lacks something required, 4
degraded). Kernels that lack things are made by hiding them in a private
mount namespace: BTF, the uprobe PMU, tracefs."""

import json
import os
import subprocess

from itlib import CUSTOS, agent_events, expect, expect_eq, fail, get, run

FEATURES = ["btf", "ringbuf", "tracepoint", "tp_btf", "raw_tracepoint", "fentry", "lsm",
            "kprobe", "uprobe", "uprobe_multi", "iter"]
CAPABILITIES = ["bpf", "file-open", "file-read", "file-write", "file-mmap", "file-close", "file-change",
                "process-exit", "process-exec", "io_uring", "containers", "open-files", "databases",
                "network"]
REQUIRED = ["bpf", "file-open", "file-read", "file-close", "process-exit"]
NEEDS = ["bpf_rdonly_cast", "bpf_loop", "bpf_task_pt_regs", "bpf_get_current_task_btf", "bpf_get_attach_cookie",
         "task_storage", "cmpxchg"]


def check_json(args=(), hide=None, user=None, binary=CUSTOS):
    """(exit status, JSON) of custos check --json; with hide, a tmpfs is
    mounted over that path first, in a mount namespace of the check's own."""
    argv = [binary, "check", "--json"] + list(args)
    if hide:
        argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                'mount -t tmpfs custos-it "$0" && exec "$@"', hide] + argv
    if user:
        argv = ["runuser", "-u", user, "--"] + argv
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    try:
        out = json.loads(r.stdout)
    except ValueError:
        fail("%s: stdout is not one JSON object (status %d): %r\nstderr: %s" % (
            " ".join(argv), r.returncode, r.stdout[:2000], r.stderr.decode("utf-8", "replace")))
    expect_eq(out.get("exit_status"), r.returncode, "exit_status of %s" % " ".join(argv))
    return r.returncode, out


def caps(out):
    return {c["name"]: c for c in out["kernel"]["capabilities"]}


def test_check_kernel_report(t):
    """As root: every feature is probed and says yes or no with a reason;
    every capability lists its hooks, each available (with its program),
    missing or unused with a reason; the required ones are available or
    served by a fallback (the agent runs here); the hooks check calls
    available are the ones the agent attaches, and those it calls missing
    are in agent-start's hooks_unavailable with the same reason."""
    d = t.mkdir("crm")
    config = t.config_file({"watch": [{"name": "crm", "paths": [d]}]})
    rc, out = check_json(["--config", config])
    k = out["kernel"]
    expect(k["probed"] is True, "kernel not probed as root", k)
    expect_eq(sorted(k["features"]), sorted(FEATURES), "features reported")
    for name, f in k["features"].items():
        expect(f["probed"] is True and isinstance(f.get("available"), bool), "feature %s not probed" % name, f)
        if not f["available"]:
            expect(f.get("reason"), "feature %s unavailable without a reason" % name, f)
    expect_eq(k["features"]["btf"]["available"], os.path.exists("/sys/kernel/btf/vmlinux"), "btf available")
    if not os.path.exists("/sys/bus/event_source/devices/kprobe"):
        expect(not k["features"]["kprobe"]["available"] and "CONFIG_KPROBES" in k["features"]["kprobe"]["reason"],
               "kprobe without a kprobe PMU", k["features"]["kprobe"])
    c = caps(out)
    expect_eq(list(c), CAPABILITIES, "capabilities reported")
    for name in REQUIRED:
        expect(c[name]["required"] is True and c[name]["status"] in ("available", "fallback"),
               "required capability %s" % name, c[name])
    check_hooks_reported(c)
    statuses = {x["status"] for x in c.values()}
    expect_eq(rc, 4 if "missing" in statuses else 0, "exit status with capabilities %s" % statuses)
    expect_eq(k["verdict"], "degraded" if rc == 4 else "ready", "verdict")
    expect_eq(out["config"]["source"], config, "config.source")
    expect_eq(out["config"]["rules"][0]["watched"], [{"kind": "directory", "path": d}], "watched")

    # What check calls available, the agent attaches; what it calls missing, agent-start says why.
    a = t.start_agent(config)
    evs = a.stop()
    start = agent_events(evs, "agent-start")[0]
    hooks = set(get(start, "custos.agent.hooks"))
    unavailable = {h["hook"]: h for h in get(start, "custos.agent.hooks_unavailable")}
    expect_eq(get(start, "custos.agent.bpf_object"), k["object"], "agent-start bpf_object")
    for name, cap in c.items():
        for h in cap["hooks"]:
            if name == "bpf" or h["status"] == "unused":
                continue
            if name == "databases":  # uprobes attach as libraries are found
                expect(h["hook"] in hooks or h["hook"] in unavailable, "database hook %s" % h["hook"], start)
            elif h["status"] == "available":
                expect(h["hook"] in hooks, "check says %s is available, but the agent did not attach it" %
                       h["hook"], sorted(hooks))
            else:
                expect(h["hook"] in unavailable and unavailable[h["hook"]]["reason"] == h["reason"] and
                       unavailable[h["hook"]]["capability"] == name,
                       "check says %s is missing (%s): agent-start must say so, with the same reason" % (
                           h["hook"], h["reason"]), get(start, "custos.agent.hooks_unavailable"))

    r = run([CUSTOS, "check", "--config", config], check=False)
    text = r.out.decode()
    expect_eq(r.rc, rc, "exit status of the text form")
    for label in ("what the agent uses here (the %s object):" % k["object"], "syscall tracepoints",
                  "fentry/fexit (not used)", "tracefs on /sys/kernel/tracing", "(exit status %d)" % rc,
                  "tracepoint/syscalls/sys_exit_openat", "bpf_loop helper"):
        expect(label in text, "custos check does not print %r:\n%s" % (label, text))


def check_hooks_reported(c):
    """Every capability lists its hooks; each hook is available with the
    program that serves it, or missing or unused with a reason; a missing
    capability says why and what is not seen."""
    for name, cap in c.items():
        expect(cap["hooks"], "capability %s lists no hook" % name, cap)
        for h in cap["hooks"]:
            expect(h["status"] in ("available", "fallback", "missing", "unused"), "hook status", h)
            if h["status"] == "available" and name != "bpf":
                expect(h.get("program", "").startswith(("tp", "iter", "uprobe", "uretprobe")),
                       "available hook without its program", h)
            if h["status"] != "available":
                expect(h.get("reason"), "%s hook %s without a reason" % (h["status"], h["hook"]), h)
        if cap["status"] == "missing":
            expect(cap.get("reason") and cap.get("not_seen"), "missing capability %s: why, what" % name, cap)
    expect_eq(sorted(h["hook"] for h in c["bpf"]["hooks"]), sorted(NEEDS), "helpers of the modern object")


def test_check_compat_object(t):
    """CUSTOS_BPF_OBJECT=compat makes the kernel load the compat object, as
    on Linux 5.10: bpf is "fallback" with every helper's fallback named, the
    other capabilities are served by it, and check still exits 0."""
    env = dict(os.environ, CUSTOS_BPF_OBJECT="compat")
    r = subprocess.run([CUSTOS, "check", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60, env=env)
    out = json.loads(r.stdout)
    c = caps(out)
    expect_eq(out["kernel"]["object"], "compat", "object")
    expect(c["bpf"]["status"] == "fallback" and "CUSTOS_BPF_OBJECT" in c["bpf"]["reason"], "bpf", c["bpf"])
    for h in c["bpf"]["hooks"]:
        expect(h["status"] == "fallback" and h.get("fallback"), "helper %s without its fallback" % h["hook"], h)
    check_hooks_reported(c)
    for name in REQUIRED[1:]:
        expect_eq(c[name]["status"], "fallback", "capability %s with the compat object" % name)
    db = [h for h in c["databases"]["hooks"] if h["hook"] == "uprobe"][0]
    expect_eq(db.get("program"), "uprobe__db_entry_<function>", "database programs without cookies")
    expect_eq(r.returncode, 0, "exit status")


def test_check_no_btf(t):
    """Without /sys/kernel/btf/vmlinux the agent cannot run: exit status 3,
    "bpf" missing, and why."""
    rc, out = check_json(hide="/sys/kernel/btf")
    expect_eq(rc, 3, "exit status without BTF")
    c = caps(out)
    expect(c["bpf"]["status"] == "missing" and "CONFIG_DEBUG_INFO_BTF" in c["bpf"]["reason"],
           "capability bpf without BTF", c["bpf"])
    expect(c["process-exit"]["status"] == "missing", "process-exit (tp_btf) without BTF", c["process-exit"])
    expect_eq(out["kernel"]["verdict"], "missing", "verdict")


def test_check_degraded(t):
    """Without the uprobe PMU the agent runs but sees no SQL: exit status
    4, "databases" missing with the cause and what is not seen."""
    rc, out = check_json(hide="/sys/bus/event_source/devices")
    expect_eq(rc, 4, "exit status without uprobes")
    db = caps(out)["databases"]
    expect(db["status"] == "missing" and "uprobe PMU" in db["reason"] and "SQL" in db["not_seen"],
           "capability databases without uprobes", db)
    others = [n for n, c in caps(out).items() if c["status"] == "missing" and n != "databases"]
    expect_eq(others, [], "capabilities missing besides databases")


def test_check_private_tracefs(t):
    """With tracefs not mounted, check mounts it where only it sees it:
    tracepoints are still probed, tracefs is reported unmounted, and the
    namespace it ran in has no tracefs afterwards."""
    script = ('mount -t tmpfs custos-it /sys/kernel/tracing && "$0" check --json > "$1"; '
              'echo "status $?"; stat -f -c %T /sys/kernel/tracing')
    outp = t.path("check.json")
    r = run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script, CUSTOS, outp])
    lines = r.out.decode().split()
    with open(outp) as f:
        out = json.load(f)
    expect_eq(lines[-1], "tmpfs", "filesystem on /sys/kernel/tracing after the check")
    expect_eq(int(lines[1]), out["exit_status"], "exit status")
    k = out["kernel"]
    expect(k["filesystems"]["tracefs"]["mounted"] is False, "tracefs reported mounted", k["filesystems"])
    expect(k["features"]["tracepoint"]["available"] is True, "tracepoints not probed", k["features"])


def test_check_usage_and_errors(t):
    """Usage errors exit 2; an invalid config exits 1, with --json the
    error (file:line:column) in the object; as an ordinary user the kernel
    is not probed and a valid config exits 0."""
    for argv in (["check", "extra"], ["check", "--bogus"], ["check", "--config"]):
        r = run([CUSTOS] + argv, check=False)
        expect(r.rc == 2 and r.err and not r.out, "custos %s: %r" % (" ".join(argv), r))
    bad = t.write("bad.json", '{"watch": [{"name": "a", "paths": ["/tmp"]}],\n "bogus": 1}\n')
    rc, out = check_json(["--config", bad])
    expect(rc == 1 and out["config"]["valid"] is False and out["config"]["error"].startswith(bad + ":2:2: "),
           "check --json of an invalid config", out["config"])
    good = t.config_file({"watch": [{"name": "a", "paths": [t.workdir]}]})
    rc, out = check_json(["--config", good], user="nobody", binary=t.custos_for_anyone())
    expect(rc == 0 and out["config"]["valid"] and out["kernel"]["probed"] is False and
           out["kernel"]["verdict"] == "unknown", "check --json as nobody", out)


def test_kernel_without_a_core_hook(t):
    """A kernel without a hook of the core (here sys_exit_openat, hidden by
    a tracefs whose events/ lacks it): custos run exits 3 (the status the
    systemd unit will not restart after) and names the capability, the hook
    and why, never privileges; check says the same and exits 3; an
    optional hook hidden the same way (sys_exit_mmap) only leaves its
    capability missing, and the agent runs."""
    events = os.listdir("/sys/kernel/tracing/events/syscalls")
    config = t.config_file({"watch": [{"name": "crm", "paths": [t.mkdir("crm")]}]})

    def with_tracefs_without(hidden, argv):
        keep = " ".join(e for e in events if e != hidden)
        script = ('mount -t tmpfs custos-it /sys/kernel/tracing && cd /sys/kernel/tracing && '
                  'mkdir -p events/syscalls && cd events/syscalls && mkdir %s && exec "$@"' % keep)
        return subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh"] + argv,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)

    r = with_tracefs_without("sys_exit_openat", [CUSTOS, "run", "--config", config])
    err = r.stderr.decode()
    expect_eq(r.returncode, 3, "custos run's exit status without a core hook (stderr: %s)" % err)
    for said in ("this kernel cannot run the agent", "file-open", "tracepoint/syscalls/sys_exit_openat",
                 "tracepoint not present in this kernel"):
        expect(said in err, "custos run does not say %r:\n%s" % (said, err))
    expect("root" not in err, "custos run blames privileges it has:\n%s" % err)
    expect_eq(r.stdout, b"", "stdout of a run that could not start")

    r = with_tracefs_without("sys_exit_openat", [CUSTOS, "check", "--json", "--config", config])
    out = json.loads(r.stdout)
    expect_eq(r.returncode, 3, "check's exit status without a core hook")
    fo = caps(out)["file-open"]
    expect(fo["status"] == "missing" and "sys_exit_openat" in fo["reason"], "file-open in check", fo)
    expect_eq(out["kernel"]["verdict"], "missing", "verdict")

    r = with_tracefs_without("sys_exit_mmap", [CUSTOS, "check", "--json", "--config", config])
    out = json.loads(r.stdout)
    mm = caps(out)["file-mmap"]
    expect(r.returncode == 4 and mm["status"] == "missing" and "sys_exit_mmap" in mm["reason"],
           "check without the optional mmap hook (status %d)" % r.returncode, mm)


def _host_config(t, extra):
    """A valid config's text with extra top-level keys, one key per line so
    positions can be asserted; its path."""
    d = t.mkdir("crm")
    lines = ['{', '  "watch": [{"name": "crm", "paths": ["%s"]}]' % d]
    for k, v in extra:
        lines.append('  , "%s": %s' % (k, json.dumps(v)))
    return t.config_file("\n".join(lines) + "\n}\n")


def _at(config, needle):
    """"FILE:LINE:COLUMN" of the first needle in config's text."""
    with open(config) as f:
        text = f.read()
    off = text.index(needle)
    return "%s:%d:%d" % (config, text.count("\n", 0, off) + 1, off - (text.rfind("\n", 0, off) + 1) + 1)


def _expect_refused(t, config, where, words):
    """check (text and JSON) and run refuse config, naming where (FILE:LINE:COLUMN) and words."""
    r = subprocess.run([CUSTOS, "check", "--config", config], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120)
    err = r.stderr.decode("utf-8", "replace")
    expect_eq(r.returncode, 1, "exit status of custos check --config %s (%s)" % (config, err))
    for w in [where] + words:
        expect(w in err, "custos check: stderr does not say %r:\n%s" % (w, err))
    rc, out = check_json(["--config", config])
    expect(rc == 1 and out["config"]["valid"] is False and
           any(e.startswith(where) for e in out["config"]["errors"]), "check --json", out["config"])
    r = subprocess.run([CUSTOS, "run", "--config", config], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120)
    err = r.stderr.decode("utf-8", "replace")
    expect(r.returncode == 1 and where in err and not r.stdout,
           "custos run of a config check refuses: status %d, stderr:\n%s" % (r.returncode, err))


def test_check_host_resources(t):
    """check fails (exit 1), and run refuses at start, on what the config
    needs of this host: a chain key others may read, or missing; a file
    output in a directory that cannot be made, or a path that is a
    directory; a spool directory that cannot be made; an http output's CA
    file without a certificate. Each names FILE:LINE:COLUMN of the key.
    A host name that does not exist fails check only (run spools until it
    resolves)."""
    key = t.write("chain.key", os.urandom(32), mode=0o644)
    c = _host_config(t, [("chain", {"key_file": key})])
    _expect_refused(t, c, _at(c, '"%s"' % key) + ": chain.key_file:", [
        "others than root may read it", "chmod go= " + key])
    c = _host_config(t, [("chain", {"key_file": t.path("no.key")})])
    _expect_refused(t, c, _at(c, '"%s"' % t.path("no.key")) + ": chain.key_file:", ["No such file"])

    c = _host_config(t, [("outputs", [{"type": "file", "path": "/nonexistent-custos/a/events.ndjson"}])])
    _expect_refused(t, c, _at(c, '"/nonexistent-custos') + ": outputs", ["does not exist", "/nonexistent-custos"])
    t.mkdir("adir")
    c = _host_config(t, [("outputs", [{"type": "file", "path": t.path("adir")}])])
    _expect_refused(t, c, _at(c, '"%s"' % t.path("adir")) + ": outputs", ["cannot write %s" % t.path("adir"), "Is a directory"])

    plain = t.write("plain", "x")
    c = _host_config(t, [("outputs", [{"type": "syslog", "url": "udp://127.0.0.1:514"}]),
                         ("spool", {"dir": plain + "/spool"})])
    _expect_refused(t, c, _at(c, '"%s/spool"' % plain) + ": spool.dir", ["Not a directory"])

    ca = t.write("ca.pem", "not a certificate\n")
    c = _host_config(t, [("outputs", [{"type": "http", "url": "https://127.0.0.1:9/x", "ca_file": ca}])])
    _expect_refused(t, c, _at(c, '"%s"' % ca) + ": outputs", ["ca_file %s has no certificate" % ca])
    c = _host_config(t, [("outputs", [{"type": "http", "url": "https://127.0.0.1:9/x",
                                       "ca_file": t.path("none.pem")}])])
    _expect_refused(t, c, _at(c, '"%s"' % t.path("none.pem")) + ": outputs",
                    ["ca_file %s: cannot read" % t.path("none.pem")])

    # A typo in a host name: check fails; run starts (the name may resolve later) and spools.
    spool = t.mkdir("spool")
    c = _host_config(t, [("outputs", [{"type": "http", "url": "https://custos-no-such-host.invalid/x"},
                                      {"type": "stdout"}]),
                         ("spool", {"dir": spool})])
    # Host names from /etc/hosts only (a mount namespace of the check's own): the answer that
    # the name does not exist comes without a DNS server, as it would from one.
    nss = t.write("nsswitch.conf", "hosts: files\n")
    argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
            'mount --bind "$0" /etc/nsswitch.conf && exec "$@"', nss, CUSTOS, "check", "--json", "--config", c]
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    out = json.loads(r.stdout)
    expect(r.returncode == 1 and any(
        e.startswith(_at(c, '"https://custos-no')) and "custos-no-such-host.invalid does not resolve" in e
        for e in out["config"]["errors"]), "check of an unresolvable host", out["config"], r.stderr)
    a = t.start_agent(c)
    a.stop()

    # All good: a key only root reads, a file output in a directory the output makes.
    os.chmod(key, 0o600)
    c = _host_config(t, [("chain", {"key_file": key}),
                         ("outputs", [{"type": "file", "path": t.path("new", "events.ndjson")}])])
    rc, out = check_json(["--config", c])
    expect(rc in (0, 4) and out["config"]["valid"] and out["config"]["host_checked"], "check of a good config",
           out["config"])
    expect(not os.path.exists(t.path("new")), "custos check made the output's directory")


def test_reload_refuses_host_problems(t):
    """SIGHUP with a config whose file output cannot be written (its
    directory cannot be made) is refused as at start: agent-reload failure,
    the key's FILE:LINE:COLUMN on stderr, the running outputs kept."""
    out1 = t.path("one.ndjson")
    c = _host_config(t, [("outputs", [{"type": "stdout"}, {"type": "file", "path": out1}])])
    a = t.start_agent(c)
    with open(c) as f:
        text = f.read()
    with open(c, "w") as f:
        f.write(text.replace(out1, "/nonexistent-custos/a/events.ndjson"))
    a.hup(expect_outcome="failure")
    evs = a.stop()
    where = _at(c, '"/nonexistent-custos')
    expect(where in a.stderr() and "does not exist" in a.stderr(),
           "stderr does not name %s:\n%s" % (where, a.stderr()))
    with open(out1, "rb") as f:
        expect_eq(f.read(), a.raw(), "the file output after the refused reload (vs stdout)")
    expect(agent_events(evs, "agent-stop"), "no agent-stop", evs)


def test_check_dns_unavailable(t):
    """A host name that cannot be looked up now (no DNS server answers: a
    resolv.conf naming a closed port, in a mount namespace of the check's
    own) is a warning, not a failure: check exits 0 or 4 and says it."""
    resolv = t.write("resolv.conf", "nameserver 127.0.0.2\noptions timeout:1 attempts:1\n")
    c = _host_config(t, [("outputs", [{"type": "http", "url": "https://siem.example.org/x"}]),
                         ("spool", {"dir": t.mkdir("spool")})])
    argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
            'mount --bind "$0" /etc/resolv.conf && exec "$@"', resolv, CUSTOS, "check", "--json", "--config", c]
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    out = json.loads(r.stdout)
    expect(r.returncode in (0, 4) and out["config"]["valid"], "check with DNS down: status %d" % r.returncode,
           out["config"], r.stderr)
    expect(any(w.startswith(_at(c, '"https://siem')) and "siem.example.org cannot be looked up now" in w
               for w in out["config"]["warnings"]), "no warning for the host", out["config"])
