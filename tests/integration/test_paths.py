"""What is watched: directories and everything below them, files, and the
many names that lead to the same inode; what is not watched stays silent."""

import os

from itlib import (check_summaries, expect, expect_eq, expect_field, file_events, get, one, opens, py, run,
                   sh, summaries, the_open)


def cfg(*rules, **extra):
    c = {"watch": [{"name": n, "tags": [n], "paths": list(p)} for n, p in rules]}
    c.update(extra)
    return c


def check_path(ev, path):
    expect_field(ev, "file.path", path)
    expect_field(ev, "file.name", os.path.basename(path))
    expect_field(ev, "file.directory", os.path.dirname(path))
    expect_field(ev, "file.inode", str(os.stat(path).st_ino))


def test_nested_and_created_later(t):
    """A file 5 levels below the watched directory, a file created in it after
    the agent started, and one in a subdirectory created after: all reported
    with exact path, name and directory; creating one is an open with O_CREAT."""
    d = t.mkdir("crm")
    deep = t.write("crm/a/b/c/d/e/deep.csv", "1" * 11)
    a = t.start_agent(cfg(("crm", [d])))
    new = os.path.join(d, "new.csv")
    newer = os.path.join(d, "later", "sub", "newer.csv")
    # created by a workload, so the creation is its own process
    w = py("import os, sys\n"
           "open(sys.argv[1], 'w').write('2' * 22)\n"
           "os.makedirs(os.path.dirname(sys.argv[2]))\n"
           "open(sys.argv[2], 'w').write('3' * 33)\n", new, newer)
    reads = {p: run(["cat", p]) for p in (deep, new, newer)}
    evs = a.stop()
    for p, n in ((deep, 11), (new, 22), (newer, 33)):
        o = the_open(evs, p, pid=reads[p].pid)
        check_path(o, p)
        expect_field(o, "custos.rule", "crm")
        s = check_summaries(evs, get(o, "custos.open_id"), n, 1)
        check_path(s[-1], p)
    for p in (new, newer):
        c = the_open(evs, p, pid=w.pid)
        expect("O_CREAT" in get(c, "custos.open.flags"), "creating %s: no O_CREAT in the flags" % p, c)
        expect_field(c, "file.size", 0)
        check_summaries(evs, get(c, "custos.open_id"), 0, 0)


def test_unwatched_stay_silent(t):
    """Files next to the watched directory are silent: a sibling directory,
    names sharing its prefix (crm2/, crm-other/, crm.csv), the parent."""
    d = t.mkdir("crm")
    inside = t.write("crm/in.csv", "in\n")
    others = [t.write(p, "out\n") for p in ("crm2/a.csv", "crm-other/a.csv", "crm.csv", "other/crm/a.csv",
                                            "top.csv")]
    a = t.start_agent(cfg(("crm", [d])))
    for p in others:
        run(["cat", p])
    r = run(["cat", inside])
    evs = a.stop()
    expect_eq(file_events(evs, path=None, under=t.workdir),
              file_events(evs, inside), "file events other than those of %s" % inside)
    the_open(evs, inside, pid=r.pid)


def test_single_file_watch(t):
    """A rule naming a file watches that file only, not its neighbours."""
    one_ = t.write("data/one.csv", "1\n")
    two = t.write("data/two.csv", "2\n")
    a = t.start_agent(cfg(("one", [one_])))
    r1 = run(["cat", one_])
    run(["cat", two])
    evs = a.stop()
    o = the_open(evs, one_, pid=r1.pid)
    expect_field(o, "custos.rule", "one")
    check_summaries(evs, get(o, "custos.open_id"), 2, 1)
    expect_eq(file_events(evs, two), [], "events of the unwatched neighbour %s" % two)


def test_other_names_same_file(t):
    """A symlink from outside, a relative name, openat() with a directory fd,
    a "..", and /proc/self/fd/N all reach the watched file: each open is
    reported with the file's real path, and counts its own reads."""
    d = t.mkdir("crm")
    t.mkdir("crm", "sub")
    f = t.write("crm/a.csv", os.urandom(4096))
    link = os.path.join(t.workdir, "link.csv")
    os.symlink(f, link)
    a = t.start_agent(cfg(("crm", [d])))
    code = r"""
import os, sys
f, link, d = sys.argv[1:4]
def use(fd, n):
    os.read(fd, n); os.close(fd)
use(os.open(link, os.O_RDONLY), 1)                            # symlink
os.chdir(d); use(os.open("a.csv", os.O_RDONLY), 2)            # relative
dfd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
use(os.open("a.csv", os.O_RDONLY, dir_fd=dfd), 3)             # openat(dirfd)
use(os.open(d + "/sub/../a.csv", os.O_RDONLY), 4)             # ..
fd = os.open(f, os.O_RDONLY); os.read(fd, 5)                  # and through /proc:
use(os.open("/proc/self/fd/%d" % fd, os.O_RDONLY), 6)
os.close(fd)
"""
    r = py(code, f, link, d)
    evs = a.stop()
    got = sorted(opens(evs, pid=r.pid), key=lambda e: get(e, "custos.open_id"))
    expect_eq(len(got), 6, "opens (symlink, relative, dirfd, .., fd, /proc/self/fd)", got)
    for o, n in zip(got, (1, 2, 3, 4, 5, 6)):
        check_path(o, f)
        check_summaries(evs, get(o, "custos.open_id"), n, 1)


def test_hardlink_to_watched_file(t):
    """A hard link made elsewhere to a watched file (a rule naming the file)
    is the same inode: reading through it is reported."""
    f = t.write("crm/a.csv", "hard\n")
    hl = os.path.join(t.mkdir("elsewhere"), "copy.csv")
    os.link(f, hl)
    a = t.start_agent(cfg(("crm", [f])))
    r = run(["cat", hl])
    evs = a.stop()
    os_ = opens(evs, pid=r.pid)
    o = one(os_, "open through the hard link", evs)
    expect_field(o, "file.inode", str(os.stat(f).st_ino))
    expect_field(o, "file.name", os.path.basename(hl))
    check_summaries(evs, get(o, "custos.open_id"), 5, 1)


def test_hardlink_out_of_watched_dir(t):
    """A hard link made outside a watched directory to a file in it: DESIGN.md
    says hard links cannot hide an access, so reading through it is reported."""
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", "hard\n")
    hl = os.path.join(t.mkdir("elsewhere"), "copy.csv")
    os.link(f, hl)
    a = t.start_agent(cfg(("crm", [d])))
    r = run(["cat", hl])
    evs = a.stop()
    o = one(opens(evs, pid=r.pid), "open through the hard link %s of %s" % (hl, f), evs)
    expect_field(o, "file.inode", str(os.stat(f).st_ino))
    check_summaries(evs, get(o, "custos.open_id"), 5, 1)


def _mount(t, argv, target):
    sh(argv + [target])
    t.on_cleanup(lambda: sh(["umount", "-l", target], check=False), rescue="umount -l '%s'" % target)


def test_bind_mount_of_watched_dir(t):
    """The watched directory bind-mounted elsewhere: reading through the bind
    mount is reported (the path is the one the process used)."""
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", "bind\n")
    b = t.mkdir("bind")
    _mount(t, ["mount", "--bind", d], b)
    a = t.start_agent(cfg(("crm", [d])))
    r = run(["cat", os.path.join(b, "a.csv")])
    evs = a.stop()
    o = one(opens(evs, pid=r.pid), "open through the bind mount", evs)
    expect_field(o, "file.inode", str(os.stat(f).st_ino))
    expect_field(o, "file.path", os.path.join(b, "a.csv"))
    check_summaries(evs, get(o, "custos.open_id"), 5, 1)


def test_mount_below_watched_dir(t):
    """A file system mounted below a watched directory is watched too: one
    mounted before the agent starts, and one mounted later (after SIGHUP)."""
    d = t.mkdir("crm")
    m1 = t.mkdir("crm", "m1")
    m2 = t.mkdir("crm", "m2")
    _mount(t, ["mount", "-t", "tmpfs", "-o", "size=1m", "custos-it"], m1)
    f1 = t.write(os.path.join(m1, "a.csv"), "tmpfs1\n")
    a = t.start_agent(cfg(("crm", [d])))
    _mount(t, ["mount", "-t", "tmpfs", "-o", "size=1m", "custos-it"], m2)
    f2 = t.write(os.path.join(m2, "b.csv"), "tmpfs22\n")
    a.hup()
    r1 = run(["cat", f1])
    r2 = run(["cat", f2])
    evs = a.stop()
    for p, r, n in ((f1, r1, 7), (f2, r2, 8)):
        o = the_open(evs, p, pid=r.pid)
        check_path(o, p)
        check_summaries(evs, get(o, "custos.open_id"), n, 1)


def test_deep_nesting(t):
    """A directory watches everything below it, also 40 levels down."""
    d = t.mkdir("crm")
    parts = ["d%d" % i for i in range(40)]
    f = t.write(os.path.join("crm", *parts, "deep.csv"), "deep\n")
    a = t.start_agent(cfg(("crm", [d])))
    r = run(["cat", f])
    evs = a.stop()
    o = the_open(evs, f, pid=r.pid)
    check_path(o, f)
    check_summaries(evs, get(o, "custos.open_id"), 5, 1)


def test_very_long_path_truncated(t):
    """A path of more than 64 components is reported truncated at the root
    end: "..." then the leaf end, custos.file.path_truncated true, and the
    file name exact."""
    parts = ["p%d" % i for i in range(70)]
    d = t.mkdir(*parts)
    f = t.write(os.path.join(d, "leaf.csv"), "leaf\n")
    a = t.start_agent(cfg(("deep", [d])))
    r = run(["cat", f])
    evs = a.stop()
    os_ = opens(evs, pid=r.pid)
    o = one(os_, "open of the deep file", evs)
    expect_field(o, "custos.file.path_truncated", True)
    expect_field(o, "file.name", "leaf.csv")
    p = get(o, "file.path")
    expect(p.startswith("...") and f.endswith(p[3:]) and len(p) > 20,
           "file.path %r is not \"...\" followed by the end of %r" % (p, f), o)
    expect_field(o, "file.inode", str(os.stat(f).st_ino))
    check_summaries(evs, get(o, "custos.open_id"), 5, 1)


def test_nearest_rule_wins(t):
    """Rules on nested paths: a file takes the rule of the nearest watched
    path above it (or of itself), with that rule's tags."""
    d = t.mkdir("crm")
    hr = t.mkdir("crm", "hr")
    top = t.write("crm/top.csv", "t\n")
    pay = t.write("crm/hr/pay.csv", "p\n")
    special = t.write("crm/hr/special.csv", "s\n")
    a = t.start_agent(cfg(("outer", [d]), ("inner", [hr]), ("single", [special])))
    runs = {p: run(["cat", p]) for p in (top, pay, special)}
    evs = a.stop()
    for p, rule in ((top, "outer"), (pay, "inner"), (special, "single")):
        o = the_open(evs, p, pid=runs[p].pid)
        expect_field(o, "custos.rule", rule)
        expect_field(o, "custos.tags", [rule])
        s = summaries(evs, get(o, "custos.open_id"))
        for e in s:
            expect_field(e, "custos.rule", rule)


def test_configured_path_is_symlink(t):
    """A configured path that is a symlink to a directory watches that
    directory; events name the real path."""
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", "abc")
    link = os.path.join(t.workdir, "crm-link")
    os.symlink(d, link)
    a = t.start_agent(cfg(("crm", [link])))
    r1 = run(["cat", f])
    r2 = run(["cat", os.path.join(link, "a.csv")])
    evs = a.stop()
    for r in (r1, r2):
        o = the_open(evs, f, pid=r.pid)
        check_path(o, f)
        check_summaries(evs, get(o, "custos.open_id"), 3, 1)


def test_directory_moved_into_watched_tree(t):
    """The kernel caches, per directory, whether it is inside a watched tree.
    A directory first read outside (its verdict cached as unwatched), then
    moved into the watched tree, is reported at once; moved out again, it is
    silent again. A directory removed and another created (which may get the
    same inode number) inside the watched tree is reported too."""
    d = t.mkdir("crm")
    out = t.mkdir("outside/proj")
    f = t.write("outside/proj/data.csv", "1234")
    a = t.start_agent(cfg(("crm", [d])))
    r0 = run(["cat", f])
    moved = os.path.join(d, "proj")
    os.rename(out, moved)
    r1 = run(["cat", os.path.join(moved, "data.csv")])
    os.rename(moved, out)
    r2 = run(["cat", f])
    # Reuse: many directories removed outside, then created inside.
    for i in range(20):
        os.mkdir(os.path.join(t.workdir, "outside", "tmp%d" % i))
        run(["cat", f])  # any open outside keeps verdicts of outside directories warm
        os.rmdir(os.path.join(t.workdir, "outside", "tmp%d" % i))
        fresh = os.path.join(d, "fresh%d" % i)
        os.mkdir(fresh)
        with open(os.path.join(fresh, "x.csv"), "w") as fh:
            fh.write("x")
    r3 = run(["sh", "-c", "for f in %s/fresh*/x.csv; do cat $f; done" % d])
    evs = a.stop()
    expect_eq(file_events(evs, pid=r0.pid), [], "events of %s before it was moved in" % f)
    o = the_open(evs, os.path.join(moved, "data.csv"), pid=r1.pid)
    check_summaries(evs, get(o, "custos.open_id"), 4, 1)
    expect_eq(file_events(evs, pid=r2.pid), [], "events of %s after it was moved out" % f)
    cats = [e for e in opens(evs) if get(e, "process.name") == "cat" and
            get(e, "process.parent.pid") == r3.pid]
    expect_eq(len(cats), 20, "opens of the 20 files in directories created inside the watched tree",
              *cats[:3])
