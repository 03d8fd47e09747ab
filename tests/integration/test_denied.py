"""Refused opens of watched files: reported as failures, with who and why."""

import os

from itlib import (PY, expect, expect_eq, expect_field, file_events, get, has, one, run)


def cfg(d, name="crm"):
    return {"watch": [{"name": name, "tags": ["pii"], "paths": [d]}]}


def denied(evs, path=None):
    return [e for e in file_events(evs, path=path) if get(e, "event.outcome", None) == "failure"]


def check_denied(ev, path, code, user="nobody", uid="65534", comm="cat"):
    expect_field(ev, "event.action", "open")
    expect_field(ev, "event.outcome", "failure")
    expect_field(ev, "event.type", ["access", "denied"])
    expect_field(ev, "event.category", "file")
    expect_field(ev, "error.code", code)
    expect(isinstance(get(ev, "error.message", None), str) and get(ev, "error.message"),
           "error.message is missing or empty", ev)
    expect_field(ev, "file.path", path)
    expect_field(ev, "file.name", os.path.basename(path))
    expect_field(ev, "file.directory", os.path.dirname(path))
    expect(not has(ev, "file.inode") and not has(ev, "file.device"),
           "a refused open has no inode or device to report", ev)
    expect(not has(ev, "custos.open_id"), "a refused open has no open_id", ev)
    expect_field(ev, "user.name", user)
    expect_field(ev, "user.id", uid)
    expect_field(ev, "process.name", comm)
    expect_field(ev, "custos.rule", "crm")
    expect_field(ev, "custos.tags", ["pii"])


def test_denied_file_mode(t):
    """nobody runs cat on a 0600 root file: open, failure, EACCES, nobody;
    no summary follows."""
    d = t.mkdir("crm")
    f = t.write("crm/secret.csv", "secret\n", mode=0o600)
    a = t.start_agent(cfg(d))
    r = run(["runuser", "-u", "nobody", "--", "cat", f], check=False)
    expect(r.rc != 0 and b"Permission denied" in r.err, "cat as nobody was not refused (test set-up): %r" % r)
    evs = a.stop()
    e = one(denied(evs, f), "refused open of %s" % f, evs)
    check_denied(e, f, "EACCES")
    expect_field(e, "custos.open.flags", ["O_RDONLY"])
    expect_eq(len(file_events(evs, f)), 1, "events of %s (only the refused open)" % f, file_events(evs, f))


def test_denied_dir_mode(t):
    """The watched directory is 0700: nobody opening a 0644 file inside is
    refused (EACCES), by absolute name."""
    d = t.mkdir("crm", mode=0o700)
    f = t.write("crm/world.csv", "w\n", mode=0o644)
    a = t.start_agent(cfg(d))
    r = run(["runuser", "-u", "nobody", "--", "cat", f], check=False)
    expect(r.rc != 0, "cat as nobody was not refused (test set-up): %r" % r)
    evs = a.stop()
    check_denied(one(denied(evs, f), "refused open of %s" % f, evs), f, "EACCES")


def test_denied_relative_names(t):
    """Refused opens by relative name (from the working directory, and from
    a directory fd with openat) are reported with the absolute path."""
    d = t.mkdir("crm")
    f = t.write("crm/secret.csv", "s\n", mode=0o600)
    g = t.write("crm/sub/secret2.csv", "s\n", mode=0o600)
    a = t.start_agent(cfg(d))
    r1 = run(["runuser", "-u", "nobody", "--", "cat", "secret.csv"], cwd=d, check=False)
    r2 = run(["runuser", "-u", "nobody", "--", PY, "-c",
              "import os, sys\n"
              "dfd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)\n"
              "try:\n    os.open('secret2.csv', os.O_RDONLY, dir_fd=dfd)\n"
              "except PermissionError:\n    print('refused')\n", os.path.dirname(g)])
    expect(r1.rc != 0 and r2.out.strip() == b"refused", "the opens were not refused (test set-up): %r %r" % (r1, r2))
    evs = a.stop()
    check_denied(one(denied(evs, f), "refused open of %s" % f, evs), f, "EACCES")
    e = one(denied(evs, g), "refused open of %s" % g, evs)
    check_denied(e, g, "EACCES", comm="python3")


def test_denied_eperm(t):
    """O_NOATIME on someone else's file is refused with EPERM: reported as
    error.code EPERM."""
    d = t.mkdir("crm")
    f = t.write("crm/world.csv", "w\n", mode=0o644)
    a = t.start_agent(cfg(d))
    r = run(["runuser", "-u", "nobody", "--", PY, "-c",
             "import os, sys\n"
             "try:\n    os.open(sys.argv[1], os.O_RDONLY | os.O_NOATIME)\n"
             "except PermissionError as e:\n    print(e.errno)\n", f])
    expect_eq(r.out.strip(), b"1", "errno of the O_NOATIME open (test set-up)")
    evs = a.stop()
    e = one(denied(evs, f), "refused open of %s" % f, evs)
    check_denied(e, f, "EPERM", comm="python3")
    expect("O_NOATIME" in get(e, "custos.open.flags"), "O_NOATIME missing from custos.open.flags", e)


def test_denied_unwatched_silent(t):
    """Refused opens of unwatched files, and missing files, are not reported."""
    d = t.mkdir("crm")
    t.write("crm/ok.csv", "ok\n")
    other = t.write("other/secret.csv", "s\n", mode=0o600)
    a = t.start_agent(cfg(d))
    run(["runuser", "-u", "nobody", "--", "cat", other], check=False)
    run(["runuser", "-u", "nobody", "--", "cat", os.path.join(d, "missing.csv")], check=False)
    run(["cat", os.path.join(d, "missing.csv")], check=False)
    evs = a.stop()
    expect_eq(file_events(evs), [], "file events")


def test_denied_create(t):
    """nobody trying to create a file in a watched directory it cannot write
    (touch) is a refused open of that (non-existent) path, with O_CREAT."""
    d = t.mkdir("crm")
    f = os.path.join(d, "new.csv")
    a = t.start_agent(cfg(d))
    r = run(["runuser", "-u", "nobody", "--", "touch", f], check=False)
    expect(r.rc != 0 and not os.path.exists(f), "touch as nobody was not refused (test set-up): %r" % r)
    evs = a.stop()
    e = one(denied(evs, f), "refused creation of %s" % f, evs)
    check_denied(e, f, "EACCES", comm="touch")
    expect("O_CREAT" in get(e, "custos.open.flags"), "O_CREAT missing from custos.open.flags", e)


def test_denied_path_normalized(t):
    """A refused open by a relative name with ".." (from a sibling directory)
    is reported with the file's real path, as a successful open of the same
    name would be: file.path, file.name and file.directory without ".."."""
    d = t.mkdir("crm")
    other = t.mkdir("other")
    f = t.write("crm/secret.csv", "s\n", mode=0o600)
    a = t.start_agent(cfg(d))
    r = run(["runuser", "-u", "nobody", "--", "cat", "../crm/secret.csv"], cwd=other, check=False)
    expect(r.rc != 0, "cat as nobody was not refused (test set-up): %r" % r)
    r2 = run(["cat", "../crm/secret.csv"], cwd=other)
    evs = a.stop()
    ok = one([e for e in file_events(evs, pid=r2.pid) if get(e, "event.action") == "open"],
             "open of ../crm/secret.csv by root", evs)
    expect_field(ok, "file.path", f)
    e = one([e for e in file_events(evs) if get(e, "event.outcome") == "failure"], "refused open", evs)
    check_denied(e, f, "EACCES")
