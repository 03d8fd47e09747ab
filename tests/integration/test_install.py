"""Installing: `make install` into a DESTDIR (files, modes, valid man pages,
the unit), `make deb` (control fields, Depends from the binary's libraries,
conffiles, owners), and the package installed on this machine with dpkg,
used, and purged without a trace."""

import json
import os
import re
import shutil
import signal
import subprocess
import time

from itlib import ROOT, expect, expect_eq, fail, sh

MAN_PAGES = ["man8/custos.8", "man8/custos-run.8", "man8/custos-trace.8", "man8/custos-check.8",
             "man8/custos-verify.8", "man8/custos-report.8", "man5/custos.json.5"]
CONFIG = "/etc/custos/custos.json"
KEY = "/etc/custos/chain.key"


def make(*args, timeout=300):
    r = subprocess.run(["make", "--no-print-directory", "-s"] + list(args), cwd=ROOT, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    if r.returncode != 0:
        fail("make %s failed (%d):\n%s%s" % (" ".join(args), r.returncode, r.stdout.decode(), r.stderr.decode()))
    return r.stdout.decode()


def makefile_version():
    with open(os.path.join(ROOT, "Makefile")) as f:
        m = re.search(r"^CUSTOS_VERSION\s*:?=\s*(\S+)", f.read(), re.M)
    expect(m, "the Makefile does not define CUSTOS_VERSION")
    return m.group(1)


def mode(path):
    return os.lstat(path).st_mode & 0o7777


def expect_file(path, want_mode):
    expect(os.path.isfile(path) and not os.path.islink(path), "%s is not installed (a regular file)" % path)
    expect_eq(oct(mode(path)), oct(want_mode), "mode of %s" % path)


def check_man_page(path):
    """groff and man-db read it without a warning."""
    for argv in (["groff", "-man", "-ww", "-z", path], ["man", "--warnings", "-l", path]):
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60,
                           env=dict(os.environ, MANWIDTH="80", MANPAGER="cat", PAGER="cat"))
        expect(r.returncode == 0 and not r.stderr.strip(),
               "%s: warnings or errors:\n%s" % (" ".join(argv), r.stderr.decode("utf-8", "replace")))
        if argv[0] == "man":
            expect(b"NAME" in r.stdout and len(r.stdout) > 500, "%s renders to almost nothing" % path)


def check_config_valid(custos, path, *args):
    r = subprocess.run([custos, "check", "--json", "--config", path] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    try:
        out = json.loads(r.stdout)
    except ValueError:
        fail("custos check --json --config %s: not JSON (status %d): %r %r" % (path, r.returncode, r.stdout,
                                                                             r.stderr))
    expect(out["config"]["valid"], "%s is refused by custos check: %s" % (path, out["config"]))
    expect_eq(r.returncode, out["exit_status"], "custos check exit status against its JSON")
    expect(r.returncode in (0, 4), "custos check --config %s: status %d" % (path, r.returncode), out)


def installed_config_here(t, dest):
    """A copy of DESTDIR's config naming DESTDIR's chain key (it names
    /etc/custos/chain.key, this host's), to check it as the agent would."""
    with open(dest + CONFIG) as f:
        text = f.read()
    expect('"key_file": "%s"' % KEY in text and '"path": "/var/log/custos/events.ndjson"' in text,
           "the installed config does not name the chain key and the events file:\n" + text)
    return t.write("installed.json", text.replace('"%s"' % KEY, '"%s"' % (dest + KEY)), mode=0o600)


def test_install_destdir(t):
    """make install DESTDIR=...: the binary (0755), man pages (0644, read by
    groff and man without a warning), the unit (0644, ExecStart at PREFIX),
    bash completion, the example, a valid config (0600, kept when it exists)
    writing events to /var/log/custos/events.ndjson and sealing them with a
    chain key made for it (32 bytes, 0600, kept when it exists), an empty
    conf.d; make uninstall removes all but the config and the key."""
    dest = t.mkdir("root")
    make("install", "DESTDIR=" + dest)
    prefix = dest + "/usr/local"
    expect_file(prefix + "/sbin/custos", 0o755)
    for page in MAN_PAGES:
        expect_file(prefix + "/share/man/" + page, 0o644)
        check_man_page(prefix + "/share/man/" + page)
    unit = prefix + "/lib/systemd/system/custos.service"
    expect_file(unit, 0o644)
    with open(unit) as f:
        text = f.read()
    expect("ExecStart=/usr/local/sbin/custos run --config /etc/custos/custos.json\n" in text and
           not re.search(r"@[A-Z]+@", text), "the unit's ExecStart is not filled in:\n" + text)
    expect_file(prefix + "/share/bash-completion/completions/custos", 0o644)
    expect_file(prefix + "/share/doc/custos/examples/custos.json", 0o644)
    expect_file(prefix + "/share/doc/custos/schema.md", 0o644)
    expect_file(dest + CONFIG, 0o600)
    expect_eq(oct(mode(dest + "/etc/custos")), oct(0o755), "mode of /etc/custos")
    expect_file(dest + KEY, 0o600)
    expect_eq(os.path.getsize(dest + KEY), 32, "size of the chain key")
    expect_eq(os.listdir(dest + "/etc/custos/conf.d"), [], "conf.d")
    custos = prefix + "/sbin/custos"
    check_config_valid(custos, installed_config_here(t, dest))
    check_config_valid(custos, prefix + "/share/doc/custos/examples/custos.json", "--no-host")

    # A changed config and an existing key survive a second install.
    with open(dest + CONFIG, "a") as f:
        f.write("\n")
    with open(dest + KEY, "rb") as f:
        key = f.read()
    out = make("install", "DESTDIR=" + dest)
    expect("keeping %s" % (dest + CONFIG) in out and "keeping %s" % (dest + KEY) in out,
           "make install does not say it keeps the config and the key:\n" + out)
    with open(dest + CONFIG) as f:
        expect(f.read().endswith("}\n\n"), "make install replaced a changed config")
    with open(dest + KEY, "rb") as f:
        expect(f.read() == key, "make install replaced an existing chain key")

    make("uninstall", "DESTDIR=" + dest)
    left = sorted(os.path.join(d, n) for d, _, files in os.walk(dest) for n in files)
    expect_eq(left, sorted([dest + CONFIG, dest + KEY]), "files left by make uninstall")


def needed_packages(binary):
    """The Debian packages of the libraries the binary names in DT_NEEDED."""
    out = sh(["objdump", "-p", binary]).stdout.decode()
    sonames = re.findall(r"^\s*NEEDED\s+(\S+)", out, re.M)
    expect(sonames, "objdump -p %s lists no NEEDED library" % binary)
    cache = sh(["ldconfig", "-p"]).stdout.decode()
    pkgs = set()
    for so in sonames:
        m = re.search(r"^\s*%s \(libc6,x86-64\) => (\S+)" % re.escape(so), cache, re.M) or \
            re.search(r"^\s*%s \(.*\) => (\S+)" % re.escape(so), cache, re.M)
        expect(m, "ldconfig does not know %s" % so)
        owner = sh(["dpkg", "-S", os.path.realpath(m.group(1))], check=False).stdout.decode() or \
            sh(["dpkg", "-S", m.group(1)]).stdout.decode()
        pkgs.add(owner.split(":")[0].strip())
    return pkgs


def control_fields(deb):
    text = sh(["dpkg-deb", "-f", deb]).stdout.decode()
    return dict(re.findall(r"^([A-Za-z-]+): (.*)$", text, re.M))


def deb_entries(deb):
    """{path: (mode string, owner/group)} of the package's files."""
    entries = {}
    for line in sh(["dpkg-deb", "-c", deb]).stdout.decode().splitlines():
        perms, owner, _size, _date, _time, path = line.split(None, 5)
        entries[path.split(" -> ")[0].lstrip(".")] = (perms, owner)
    return entries


def build_deb(t):
    out = make("deb").strip().splitlines()
    deb = os.path.join(ROOT, out[-1] if out else "")
    expect(out and os.path.isfile(deb), "make deb did not name the package it built: %r" % out)
    return deb


def test_install_deb_contents(t):
    """make deb: version from the Makefile, Depends naming the package of
    every library in the binary's DT_NEEDED, /etc/custos/custos.json a
    conffile, every file owned by root with the right mode."""
    deb = build_deb(t)
    fields = control_fields(deb)
    expect_eq(fields.get("Package"), "custos", "Package")
    expect_eq(fields.get("Version"), makefile_version(), "Version (CUSTOS_VERSION of the Makefile)")
    arch = sh(["dpkg", "--print-architecture"]).stdout.decode().strip()
    expect_eq(fields.get("Architecture"), arch, "Architecture")
    depends = {d.split()[0] for d in fields.get("Depends", "").split(", ") if d}
    binary = os.path.join(ROOT, "build", "custos")
    missing = needed_packages(binary) - depends
    expect(not missing, "Depends (%s) lacks the packages of the binary's libraries: %s" % (
        fields.get("Depends"), sorted(missing)))
    info = t.mkdir("control")
    sh(["dpkg-deb", "-e", deb, info])
    with open(os.path.join(info, "conffiles")) as f:
        expect_eq(f.read().split(), [CONFIG], "conffiles")
    for script in ("postinst", "prerm", "postrm"):
        expect_eq(oct(mode(os.path.join(info, script))), oct(0o755), "mode of " + script)
        sh(["sh", "-n", os.path.join(info, script)])

    entries = deb_entries(deb)
    bad_owner = sorted(p for p, (_, owner) in entries.items() if owner != "root/root")
    expect(not bad_owner, "files not owned by root/root: %s" % bad_owner)
    want = {
        "/usr/sbin/custos": "-rwxr-xr-x",
        CONFIG: "-rw-------",
        "/lib/systemd/system/custos.service": "-rw-r--r--",
        "/usr/share/bash-completion/completions/custos": "-rw-r--r--",
        "/usr/share/doc/custos/copyright": "-rw-r--r--",
        "/usr/share/doc/custos/examples/custos.json": "-rw-r--r--",
    }
    for page in MAN_PAGES:
        want["/usr/share/man/%s.gz" % page] = "-rw-r--r--"
    for path, perms in want.items():
        expect(path in entries, "%s is not in the package" % path, "\n".join(sorted(entries)))
        expect_eq(entries[path][0], perms, "mode of %s in the package" % path)
    expect(KEY not in entries, "the package holds a chain key: each host must make its own")
    expect("/etc/custos/conf.d/" in entries, "the package has no /etc/custos/conf.d/")
    stray = sorted(p for p in entries if not p.endswith("/") and not re.match(
        r"^/(usr/sbin|usr/share/(man|doc|bash-completion)|lib/systemd/system|etc/custos)/", p))
    expect(not stray, "unexpected files in the package: %s" % stray)


def existing(paths):
    return [p for p in paths if os.path.lexists(p)]


def test_install_deb_dpkg(t):
    """dpkg -i of the package: it makes the chain key the config names
    (root's, 0600), a reinstallation keeps an existing one;
    /usr/sbin/custos check accepts the installed config, the unit passes
    systemd-analyze verify, the man pages are found; dpkg -r removes all but
    the config and the service's enablement links, dpkg -P the rest and
    dpkg's records, but keeps the events in /var/log/custos and the key
    that verifies them, and says so."""
    deb = build_deb(t)
    status = sh(["dpkg-query", "-W", "-f=${Status}", "custos"], check=False).stdout.decode()
    if "installed" in status and "not-installed" not in status:
        fail("a custos package is installed on this machine already (%s): this test would replace it; "
             "remove it first" % status)
    # Anything in the way is moved aside, and put back whatever happens.
    aside = t.mkdir("aside")
    for p in existing(["/usr/sbin/custos", "/etc/custos", "/lib/systemd/system/custos.service",
                       "/var/log/custos"]):
        dst = os.path.join(aside, p.strip("/").replace("/", "%"))
        shutil.move(p, dst)
        t.on_cleanup(lambda p=p, dst=dst: shutil.move(dst, p), rescue="mv '%s' '%s'" % (dst, p))
    t.on_cleanup(lambda: sh(["dpkg", "-P", "custos"], check=False), rescue="dpkg -P custos")

    files = sorted(p for p in deb_entries(deb) if not p.endswith("/"))
    r = sh(["dpkg", "-i", deb], check=False)
    expect(r.returncode == 0, "dpkg -i failed: %s %s" % (r.stdout.decode(), r.stderr.decode()))
    for p in files:
        expect(os.path.exists(p), "%s is not installed" % p)
    t.on_cleanup(lambda: shutil.rmtree("/etc/custos", ignore_errors=True))
    t.on_cleanup(lambda: shutil.rmtree("/var/log/custos", ignore_errors=True))
    expect_file(KEY, 0o600)
    st = os.stat(KEY)
    expect((st.st_uid, st.st_gid, st.st_size) == (0, 0, 32), "owner and size of %s: %s" % (KEY, st))
    expect("made the chain key" in r.stdout.decode(), "dpkg -i does not say it made the key", r.stdout)
    # An existing key is kept by a reinstallation (configure of an upgrade).
    with open(KEY, "wb") as f:
        f.write(b"k" * 40)
    r = sh(["dpkg", "-i", deb], check=False)
    expect(r.returncode == 0, "dpkg -i again failed: %s %s" % (r.stdout.decode(), r.stderr.decode()))
    with open(KEY, "rb") as f:
        expect_eq(f.read(), b"k" * 40, "the chain key after a reinstallation")

    # The installed config as the unit runs it: events sealed into /var/log/custos/events.ndjson,
    # which custos verify checks without --key: with the key the config names, or the default one.
    events = "/var/log/custos/events.ndjson"
    agent = subprocess.Popen(["/usr/sbin/custos", "run", "--config", CONFIG], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    t.on_cleanup(lambda: agent.poll() is None and agent.kill())
    deadline = time.time() + 30
    while not (os.path.exists(events) and b"agent-start" in open(events, "rb").read()):
        expect(time.time() < deadline and agent.poll() is None, "no agent-start in %s within 30 s (status %s)" % (
            events, agent.poll()))
        time.sleep(0.1)
    agent.send_signal(signal.SIGINT)
    out, err = agent.communicate(timeout=60)
    expect(agent.returncode == 0 and out == b"", "the installed agent: status %d, stdout %r, stderr %s" % (
        agent.returncode, out[:200], err.decode()))
    expect_eq(oct(mode(events)), oct(0o600), "mode of " + events)
    r = sh(["/usr/sbin/custos", "verify", events], check=False)
    expect(r.returncode == 0 and r.stdout.startswith(b"OK: files 1"), "custos verify %s (the config's key): %r" % (
        events, r))
    os.rename(CONFIG, CONFIG + ".aside")
    r = sh(["/usr/sbin/custos", "verify", events], check=False)
    os.rename(CONFIG + ".aside", CONFIG)
    expect(r.returncode == 0, "custos verify %s without a config (the default key %s): %r" % (events, KEY, r))
    os.unlink(events)

    r = subprocess.run(["/usr/sbin/custos", "check", "--config", CONFIG], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    expect(r.returncode in (0, 4) and (CONFIG + ": valid").encode() in r.stdout,
           "/usr/sbin/custos check --config %s: status %d\n%s%s" % (CONFIG, r.returncode, r.stdout.decode(),
                                                                   r.stderr.decode()))
    r = sh(["man", "-w", "custos-check"], check=False)
    expect_eq(r.stdout.decode().strip(), "/usr/share/man/man8/custos-check.8.gz", "man -w custos-check")

    if shutil.which("systemd-analyze"):
        r = sh(["systemd-analyze", "verify", "/lib/systemd/system/custos.service"], check=False)
        expect(r.returncode == 0 and not r.stderr.strip() and not r.stdout.strip(),
               "systemd-analyze verify custos.service: status %d\n%s%s" % (
                   r.returncode, r.stdout.decode(), r.stderr.decode()))
    else:
        print("systemd-analyze is not installed: the unit was not verified")

    # Enabled by hand (systemctl edits the links without a running systemd): purging disables it.
    wants = "/etc/systemd/system/multi-user.target.wants/custos.service"
    if shutil.which("systemctl"):
        sh(["systemctl", "enable", "custos.service"])
        expect(os.path.lexists(wants), "systemctl enable made no link %s" % wants)

    # dpkg -r: everything but the conffile goes, and the enablement links.
    r = sh(["dpkg", "-r", "custos"], check=False)
    expect(r.returncode == 0, "dpkg -r failed: %s %s" % (r.stdout.decode(), r.stderr.decode()))
    left = existing([p for p in files if p != CONFIG] + [wants])
    expect(not left, "left after dpkg -r: %s" % left)
    expect(os.path.exists(CONFIG), "dpkg -r removed the conffile %s" % CONFIG)
    status = sh(["dpkg-query", "-W", "-f=${Status}", "custos"], check=False).stdout.decode()
    expect_eq(status, "deinstall ok config-files", "dpkg status after dpkg -r")

    # Events collected: purging keeps them, and the key, and says how to delete them.
    os.makedirs("/var/log/custos", exist_ok=True)
    with open("/var/log/custos/events.ndjson", "w") as f:
        f.write("{}\n")
    r = sh(["dpkg", "-P", "custos"], check=False)
    expect(r.returncode == 0, "dpkg -P failed: %s %s" % (r.stdout.decode(), r.stderr.decode()))
    said = r.stdout.decode()
    expect("kept the events collected in /var/log/custos" in said and "rm -rf /var/log/custos " + KEY in said,
           "dpkg -P does not say it kept the events and how to delete them:\n" + said)
    expect(os.path.exists("/var/log/custos/events.ndjson") and os.path.exists(KEY),
           "dpkg -P removed the events or the key")
    left = existing(files + [wants, "/var/lib/custos", "/etc/custos/conf.d"])
    expect(not left, "left after dpkg -P: %s" % left)
    expect_eq(os.listdir("/etc/custos"), ["chain.key"], "/etc/custos after dpkg -P")
    records = [n for n in os.listdir("/var/lib/dpkg/info") if n.startswith("custos.")]
    expect(not records, "dpkg still has records of custos: %s" % records)
    status = sh(["dpkg-query", "-W", "-f=${Status}", "custos"], check=False).stdout.decode()
    expect("installed" not in status or "not-installed" in status, "dpkg status after purge: %r" % status)


def test_install_version(t):
    """custos --version and custos version: the Makefile's version, the git
    commit built from, the build date (SOURCE_DATE_EPOCH when set), the
    compiler, libbpf (linked and built against) and the running kernel."""
    outs = [subprocess.run([os.path.join(ROOT, "build", "custos")] + argv, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30) for argv in (["--version"], ["version"])]
    for r in outs:
        expect_eq(r.returncode, 0, "exit status of custos --version / version")
    expect_eq(outs[0].stdout, outs[1].stdout, "custos version against custos --version")
    lines = outs[0].stdout.decode().splitlines()
    fields = dict(line.split(":", 1) for line in lines[1:])
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    expect_eq(lines[0], "custos " + makefile_version(), "first line")
    head = sh(["git", "-C", ROOT, "rev-parse", "--short=12", "HEAD"], check=False).stdout.decode().strip()
    if head:
        expect(re.fullmatch(re.escape(head) + "(-dirty)?", fields.get("commit", "")),
               "commit %r, expected %s" % (fields.get("commit"), head))
    expect(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", fields.get("built", "")), "built: %r" % fields)
    expect(re.match(r"(gcc|clang) \d", fields.get("compiler", "")), "compiler: %r" % fields)
    expect(re.match(r"\d+\.\d+ \(built against \d+\.\d+\)$", fields.get("libbpf", "")), "libbpf: %r" % fields)
    expect(os.uname().release in fields.get("kernel", ""), "kernel: %r" % fields)
    r = subprocess.run([os.path.join(ROOT, "scripts", "version.sh"), "9.9"], stdout=subprocess.PIPE,
                       env=dict(os.environ, SOURCE_DATE_EPOCH="86400"), timeout=30)
    text = r.stdout.decode()
    expect('#define CUSTOS_BUILD_DATE "1970-01-02T00:00:00Z"' in text and '"9.9"' in text,
           "scripts/version.sh ignores SOURCE_DATE_EPOCH:\n" + text)


def test_install_unit_verify(t):
    """The unit as make install fills it in passes systemd-analyze verify
    (its man pages found), sends stdout (events) nowhere and stderr (the
    agent's messages) to the journal with their priorities; the config it
    runs writes events to /var/log/custos/events.ndjson, rotated."""
    analyze = shutil.which("systemd-analyze")
    expect(analyze, "systemd-analyze is not installed (apt-get install systemd): the unit cannot be verified")
    with open(os.path.join(ROOT, "dist", "custos.service")) as f:
        unit = f.read().replace("@SBINDIR@", os.path.join(ROOT, "build")).replace("@SYSCONFDIR@", "/etc")
    for line in ("StandardOutput=null\n", "StandardError=journal\n", "SyslogLevelPrefix=yes\n"):
        expect(line in unit, "the unit lacks %r" % line.strip())
    path = t.write("unit/custos.service", unit)
    for sec in ("5", "8"):
        for page in os.listdir(os.path.join(ROOT, "man")):
            if page.endswith("." + sec):
                os.makedirs(t.path("man", "man" + sec), exist_ok=True)
                shutil.copy(os.path.join(ROOT, "man", page), t.path("man", "man" + sec, page))
    r = subprocess.run([analyze, "verify", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60,
                       env=dict(os.environ, MANPATH=t.path("man")))
    expect(r.returncode == 0 and not r.stderr.strip() and not r.stdout.strip(),
           "systemd-analyze verify %s: status %d\n%s%s" % (path, r.returncode, r.stdout.decode(), r.stderr.decode()))
    with open(os.path.join(ROOT, "dist", "custos.json")) as f:
        text = "".join(line for line in f if not line.lstrip().startswith("//"))
    cfg = json.loads(text)
    expect_eq(cfg.get("outputs"), [{"type": "file", "path": "/var/log/custos/events.ndjson",
                                    "rotate_bytes": 104857600, "rotate_seconds": 86400, "keep": 10}],
              "outputs of the installed config")
    expect_eq(cfg.get("chain"), {"key_file": "@SYSCONFDIR@/custos/chain.key"}, "chain of the installed config")


def test_journal_priorities(t):
    """With stderr the journal's stream (JOURNAL_STREAM is its device and
    inode, as systemd sets it), every line the agent writes on stderr starts
    with its priority: <4> a warning, <6> information, <3> an error, <7>
    libbpf's debug output (-v); events stay on stdout, without any. With
    JOURNAL_STREAM naming another file, no prefix."""
    d = t.mkdir("crm")
    path = t.config_file({"watch": [{"name": "crm", "paths": [d, t.path("missing")]}],
                          "state_dir": t.path("state")})
    a = t.agent(path, args=["-v"])
    with open(a.err_path, "w"):
        pass
    st = os.stat(a.err_path)
    a.env = dict(os.environ, JOURNAL_STREAM="%d:%d" % (st.st_dev, st.st_ino))
    a.start()
    a.hup()
    with open(path, "w") as f:
        f.write('{"watch": [{"name": "crm", "paths": ["%s"]}], "flush_interval": "x"}\n' % d)
    a.hup(expect_outcome="failure")
    a.stop()
    expect_eq(os.stat(a.err_path).st_ino, st.st_ino, "inode of the agent's stderr file")
    lines = a.stderr().splitlines()
    bad = [line for line in lines if not re.match(r"^<[3-7]>", line)]
    expect(not bad, "stderr lines without a priority prefix: %s" % bad[:5])
    for prio, words in (("<4>", "custos: warning: "), ("<6>", "custos: info: configuration reloaded"),
                        ("<3>", "custos: error: %s:1:" % path)):
        expect(any(line.startswith(prio + words) for line in lines),
               "no stderr line starting with %r:\n%s" % (prio + words, "\n".join(lines[-30:])))
    expect(any(line.startswith("<7>libbpf: ") for line in lines), "no libbpf debug line with <7>")
    expect(not a.raw().startswith(b"<"), "stdout (events) starts with a priority prefix")

    b = t.agent(t.config_file({"watch": [{"name": "crm", "paths": [d, t.path("missing")]}]}))
    b.env = dict(os.environ, JOURNAL_STREAM="%d:%d" % (st.st_dev, st.st_ino))
    b.start()
    b.stop()
    lines = b.stderr().splitlines()
    expect(lines and all(line.startswith("custos: ") for line in lines),
           "stderr (not the journal's stream) with prefixes: %s" % lines[:5])


def test_stdout_discarded(t):
    """Under the unit stdout is /dev/null: a config whose events go to
    stdout only (no outputs) is refused (exit 1, saying why and what to
    add), on SIGHUP too; a stdout output beside a file output is a warning;
    a file output alone, nothing."""
    d = t.mkdir("crm")
    binary = os.path.join(ROOT, "build", "custos")
    events = t.path("events.ndjson")
    base = {"watch": [{"name": "crm", "paths": [d]}], "state_dir": t.path("state")}
    path = t.config_file(base)
    r = subprocess.run([binary, "run", "--config", path], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       timeout=60)
    err = r.stderr.decode()
    expect(r.returncode == 1 and "events go to stdout only, and stdout is /dev/null" in err and
           '"type": "file"' in err, "run with events to /dev/null only: status %d\n%s" % (r.returncode, err))

    for outputs, warned in (([{"type": "file", "path": events}, {"type": "stdout"}], True),
                            ([{"type": "file", "path": events}], False)):
        path = t.config_file(dict(base, outputs=outputs))
        err_path = t.path(t.unique("stderr"))

        def starts():
            return open(events).read().count('"agent-start"') if os.path.exists(events) else 0
        before = starts()
        with open(err_path, "w") as err:
            p = subprocess.Popen([binary, "run", "--config", path], stdout=subprocess.DEVNULL, stderr=err)
        t.on_cleanup(lambda p=p: p.poll() is None and p.kill())
        deadline = time.time() + 30
        while time.time() < deadline and p.poll() is None and starts() == before:
            time.sleep(0.2)
        expect(starts() > before, "no agent-start in %s" % events)
        if not warned:
            # SIGHUP with events to stdout only: refused, the file output kept.
            with open(path, "w") as f:
                json.dump(base, f)
            p.send_signal(signal.SIGHUP)
            while time.time() < deadline and p.poll() is None and '"failure"' not in open(events).read():
                time.sleep(0.2)
        p.send_signal(signal.SIGINT)
        p.wait(timeout=60)
        text = open(err_path).read()
        expect_eq("the stdout output's events are lost: stdout is /dev/null" in text, warned,
                  "the warning with outputs %s:\n%s" % (outputs, text))
        expect_eq(p.returncode, 0, "exit status")
        if not warned:
            expect("events go to stdout only" in text and "agent-reload" in open(events).read(),
                   "the reload to stdout only was not refused:\n" + text)
