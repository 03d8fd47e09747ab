"""The agent takes orders only from a config file only root can change:
owned by root, writable neither by its group nor by others, in
directories that are the same (or sticky, like /tmp). Anything else is
refused by run, trace, check and a SIGHUP reload, with the file, its
owner, its mode and the fix."""

import json
import os
import subprocess

from itlib import CUSTOS, agent_events, expect, expect_eq, get, opens, run

NOBODY = 65534


def cfg(t, d):
    return {"watch": [{"name": "crm", "paths": [d]}]}


def expect_refused(t, path, words):
    """run, trace --config and check all refuse path, exit 1, and say each of words."""
    for mode in ("run", "trace", "check"):
        argv = [CUSTOS, mode, "--config", path]
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        err = r.stderr.decode("utf-8", "replace")
        expect_eq(r.returncode, 1, "exit status of %s" % " ".join(argv))
        for w in words:
            expect(w in err, "%s: stderr does not say %r:\n%s" % (" ".join(argv), w, err))
        if mode == "run":
            expect_eq(r.stdout, b"", "stdout of a refused run")
    r = subprocess.run([CUSTOS, "check", "--json", "--config", path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    out = json.loads(r.stdout)
    expect(r.returncode == 1 and out["config"]["valid"] is False and path in out["config"]["error"],
           "custos check --json of a refused config: %d %s" % (r.returncode, out["config"]))


def test_config_trust_group_writable(t):
    """A config writable by its group is refused, naming the file, its
    owner and mode, and chmod go-w."""
    d = t.mkdir("crm")
    p = t.config_file(cfg(t, d))
    os.chmod(p, 0o664)
    expect_refused(t, p, [p, "writable by group root (0)", "owner root (0)", "mode 0664", "chmod go-w " + p])


def test_config_trust_world_writable(t):
    """A config anyone can write is refused."""
    d = t.mkdir("crm")
    p = t.config_file(cfg(t, d))
    os.chmod(p, 0o646)
    expect_refused(t, p, [p, "writable by anyone", "mode 0646"])


def test_config_trust_not_root(t):
    """A config owned by another user (nobody), even 0644, is refused:
    its owner could change it."""
    d = t.mkdir("crm")
    p = t.config_file(cfg(t, d))
    os.chown(p, NOBODY, 0)
    expect_refused(t, p, [p, "not owned by root", "owner nobody (65534)", "mode 0644", "chown root " + p])


def test_config_trust_directory(t):
    """A root-owned 0644 config in a directory writable by its group, or
    owned by nobody, is refused: the file could be replaced. The message
    names the directory."""
    d = t.mkdir("crm")
    loose = t.mkdir("etc-loose", mode=0o775)
    p = t.config_file(cfg(t, d), name="etc-loose/custos.json")
    expect_refused(t, p, [p, "its directory %s is writable by group" % loose, "mode 0775", "chmod go-w " + loose])
    owned = t.mkdir("etc-owned")
    os.chown(owned, NOBODY, 0)
    q = t.config_file(cfg(t, d), name="etc-owned/custos.json")
    expect_refused(t, q, [q, "its directory %s is not owned by root" % owned, "nobody (65534)"])


def test_config_trust_symlink(t):
    """A root-owned link to a config nobody owns is refused, the fix naming
    the real file."""
    d = t.mkdir("crm")
    real = t.config_file(cfg(t, d), name="real.json")
    os.chown(real, NOBODY, 0)
    link = t.path("link.json")
    os.symlink(real, link)
    expect_refused(t, link, [link, "not owned by root", "chown root " + real])


def test_config_trust_accepted(t):
    """Root's 0644 config in a root 0755 directory, and one in a sticky
    world-writable directory like /tmp, are accepted: the agent starts and
    reports an open."""
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", "abc")
    sticky = t.mkdir("tmp", mode=0o1777)
    for path in (t.config_file(cfg(t, d)), t.config_file(cfg(t, d), name="tmp/custos.json")):
        r = subprocess.run([CUSTOS, "check", "--config", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=60)
        expect(r.returncode in (0, 4), "custos check --config %s: %d %s" % (path, r.returncode, r.stderr))
        a = t.start_agent(path)
        c = run(["cat", f])
        evs = a.stop()
        expect_eq(len(opens(evs, f, pid=c.pid)), 1, "open events of %s with config %s" % (f, path), evs)
    expect_eq(oct(os.stat(sticky).st_mode & 0o7777), oct(0o1777), "mode of the sticky directory")


def test_config_trust_reload(t):
    """SIGHUP with the config now writable by others: the reload is refused
    (agent-reload failure, the reason on stderr) and the running config
    still watches."""
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", "abc")
    p = t.config_file(cfg(t, d))
    a = t.start_agent(p)
    os.chmod(p, 0o666)
    ev = a.hup(expect_outcome="failure")
    expect("writable by anyone" in a.stderr() and p in a.stderr(),
           "stderr does not say why the reload was refused:\n" + a.stderr())
    c = run(["cat", f])
    evs = a.stop()
    expect_eq(len(opens(evs, f, pid=c.pid)), 1, "open events after the refused reload", evs)
    expect_eq(get(ev, "event.outcome"), "failure", "agent-reload outcome")
    expect(agent_events(evs, "agent-stop"), "no agent-stop", evs)
