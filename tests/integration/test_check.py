"""custos check: what this kernel offers the agent, the hook it would use
for each thing it watches, and exit statuses a script can use (0 ready,
1 config refused, 2 usage, 3 the kernel lacks something required, 4
degraded). Kernels that lack things are made by hiding them in a private
mount namespace: BTF, the uprobe PMU, tracefs."""

import json
import os
import subprocess

from itlib import CUSTOS, agent_events, expect, expect_eq, fail, get, run

FEATURES = ["btf", "ringbuf", "bpf_rdonly_cast", "tracepoint", "tp_btf", "raw_tracepoint", "fentry", "lsm",
            "kprobe", "uprobe", "uprobe_multi", "iter"]
CAPABILITIES = ["bpf", "file-open", "file-io", "file-close", "file-change", "process", "io_uring", "containers",
                "open-files", "databases"]


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
    every capability has a hook; the required ones are ok (the agent runs
    here); and the hooks check calls ok are the ones the agent attaches."""
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
    for name in ("bpf", "file-open", "file-io", "file-close", "process"):
        expect(c[name]["required"] is True and c[name]["status"] == "ok", "required capability %s" % name, c[name])
    statuses = {x["status"] for x in c.values()}
    expect_eq(rc, 4 if "degraded" in statuses else 0, "exit status with capabilities %s" % statuses)
    expect_eq(k["verdict"], "degraded" if rc == 4 else "ready", "verdict")
    expect_eq(out["config"]["source"], config, "config.source")
    expect_eq(out["config"]["rules"][0]["watched"], [{"kind": "directory", "path": d}], "watched")

    # What check calls ok, the agent attaches.
    a = t.start_agent(config)
    evs = a.stop()
    start = agent_events(evs, "agent-start")[0]
    hooks = set(get(start, "custos.agent.hooks"))
    for name, cap in c.items():
        if cap["status"] != "ok" or name == "databases":  # uprobes attach as libraries are found
            continue
        for hook in cap["attach"]:
            expect(hook in hooks, "check says %s is ok, but the agent did not attach %s" % (name, hook),
                   sorted(hooks))

    r = run([CUSTOS, "check", "--config", config], check=False)
    text = r.out.decode()
    expect_eq(r.rc, rc, "exit status of the text form")
    for label in ("what the agent uses here:", "syscall tracepoints", "fentry/fexit (not used)",
                  "tracefs on /sys/kernel/tracing", "(exit status %d)" % rc):
        expect(label in text, "custos check does not print %r:\n%s" % (label, text))


def test_check_no_btf(t):
    """Without /sys/kernel/btf/vmlinux the agent cannot run: exit status 3,
    "bpf" missing, and why."""
    rc, out = check_json(hide="/sys/kernel/btf")
    expect_eq(rc, 3, "exit status without BTF")
    c = caps(out)
    expect(c["bpf"]["status"] == "missing" and "CONFIG_DEBUG_INFO_BTF" in c["bpf"]["reason"],
           "capability bpf without BTF", c["bpf"])
    expect(c["process"]["status"] == "missing", "process (tp_btf) without BTF", c["process"])
    expect_eq(out["kernel"]["verdict"], "missing", "verdict")


def test_check_degraded(t):
    """Without the uprobe PMU the agent runs but sees no SQL: exit status
    4, "databases" degraded with the cause and what is not seen."""
    rc, out = check_json(hide="/sys/bus/event_source/devices")
    expect_eq(rc, 4, "exit status without uprobes")
    db = caps(out)["databases"]
    expect(db["status"] == "degraded" and "uprobe PMU" in db["reason"] and "SQL" in db["not_seen"],
           "capability databases without uprobes", db)
    others = [n for n, c in caps(out).items() if c["status"] != "ok" and n != "databases"]
    expect_eq(others, [], "capabilities not ok besides databases")


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
