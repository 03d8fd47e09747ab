"""No way around it: every path by which a watched file's data can be read
(or changed) is seen and counted, attributed to the process that actually
does it, with exact bytes and the file's path.

Each test watches a directory (or a file) of its own, has real processes
reach the data by one more indirect route (other names, other mounts,
changes of the tree, descriptors handed around, data paths other than
read(2), writes and changes), stops the agent and checks the events field
by field: the process (process.pid, process.name), the bytes (summed over
the summaries of the open_id, or the exact summary) and file.path.
"""

import ctypes
import os
import shutil
import subprocess
import time

from itlib import (PY, action, check_summaries, expect, expect_eq, expect_field, fail, file_events, get,
                   has, helper, io_total, libc, one, opens, py, run, sh, summaries, the_open)


# ------------------------------------------------------------------ helpers


def watch(*paths, name="crm"):
    return {"watch": [{"name": name, "tags": ["pii"], "paths": list(paths)}]}


def setup(t, size=4096, name="a.csv", data=None):
    """A watched directory crm/ with one file of `size` random bytes, and a
    running agent watching the directory: (agent, directory, file, data)."""
    d = t.mkdir("crm")
    data = os.urandom(size) if data is None else data
    f = t.write("crm/" + name, data)
    a = t.start_agent(watch(d))
    return a, d, f, data


def ino(path):
    return str(os.stat(path).st_ino)


def by_pid(evs, open_id, pid):
    """(bytes read, bytes written) by process pid over the summaries of open_id."""
    s = [e for e in summaries(evs, open_id) if get(e, "process.pid") == pid]
    return (sum(get(e, "custos.io.bytes_read") for e in s),
            sum(get(e, "custos.io.bytes_written", 0) for e in s))


def check_read(evs, path, pid, name, nbytes, calls=None, final_reason=None):
    """The one open of `path` by pid: the process is `name`, file.path is
    path, the summaries of its open_id add up to nbytes read (and calls) and
    are all by pid, with the same path. Returns the open event."""
    o = the_open(evs, path, pid=pid)
    expect_field(o, "process.name", name)
    expect_field(o, "file.path", path)
    s = check_summaries(evs, get(o, "custos.open_id"), nbytes, calls, final_reason=final_reason)
    for e in s:
        expect_field(e, "process.pid", pid, "summary")
        expect_field(e, "file.path", path, "summary")
    return o


def mount(t, argv, target):
    """Runs a mount command onto target and unmounts it at the end."""
    sh(argv + [target])
    t.on_cleanup(lambda: sh(["umount", "-l", target], check=False), rescue="umount -l '%s'" % target)


class Holder:
    """A Python process that runs `code` alongside the test: line() reads a
    line of its output, send() writes one to its stdin, finish() closes its
    stdin and waits for it."""

    def __init__(self, t, code, *args):
        self.p = subprocess.Popen([PY, "-c", code] + list(args), stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.pid = self.p.pid
        t.on_cleanup(self.kill)

    def line(self):
        out = self.p.stdout.readline()
        if not out:
            fail("holder %d exited early: %s" % (self.pid, self.p.stderr.read().decode("utf-8", "replace")))
        return out.decode().strip()

    def send(self, text):
        self.p.stdin.write(text.encode() + b"\n")
        self.p.stdin.flush()

    def finish(self, timeout=20):
        self.p.stdin.close()
        out = self.p.stdout.read().decode().strip()
        rc = self.p.wait(timeout)
        if rc != 0:
            fail("holder %d failed (%d): %s" % (self.pid, rc, self.p.stderr.read().decode("utf-8", "replace")))
        return out

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


# A process that opens argv[1], prints its fd and waits for commands on
# stdin: "read N" reads N bytes, "close" closes; exits at EOF.
HOLD = r"""
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
print(fd, flush=True)
for line in sys.stdin:
    cmd = line.split()
    if cmd[0] == "read":
        print(len(os.read(fd, int(cmd[1]))), flush=True)
    elif cmd[0] == "close":
        os.close(fd); print("closed", flush=True)
"""


# -------------------------------------------------------------------- names


def test_evasion_symlink(t):
    """cat through a symlink made outside the watched tree: reported with
    the real path of the file, cat's pid and the exact bytes."""
    a, d, f, data = setup(t, 3000)
    link = os.path.join(t.mkdir("elsewhere"), "innocent.txt")
    os.symlink(f, link)
    r = run(["cat", link])
    evs = a.stop()
    expect_eq(r.out, data, "what cat read (test set-up)")
    o = check_read(evs, f, r.pid, "cat", 3000, 1, final_reason="close")
    expect_field(o, "file.inode", ino(f))


def test_evasion_hardlink_outside(t):
    """Hard links outside the watched directory: one made before the agent
    started, one made (by ln) while it runs; cat through each is reported
    with the link's path, the watched inode and the exact bytes."""
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", os.urandom(2500))
    out = t.mkdir("elsewhere")
    before = os.path.join(out, "before.csv")
    os.link(f, before)
    a = t.start_agent(watch(d))
    during = os.path.join(out, "during.csv")
    run(["ln", f, during])
    r1 = run(["cat", before])
    r2 = run(["cat", during])
    evs = a.stop()
    for p, r in ((before, r1), (during, r2)):
        o = check_read(evs, p, r.pid, "cat", 2500, 1)
        expect_field(o, "file.inode", ino(f))
        expect_field(o, "custos.rule", "crm")


def test_evasion_relative_dirfd_dotdot(t):
    """Other spellings of the same name: a relative name (cat a.csv in the
    watched directory), openat() with directory fds (Python os.open(name,
    dir_fd=fd), from the watched directory and from its parent), and names
    with ".." components (from a sibling subdirectory, from outside the tree,
    relative): each reported with the full real path and exact bytes."""
    a, d, f, data = setup(t, 1000)
    t.mkdir("crm", "sub")
    other = t.mkdir("other")
    r1 = run(["cat", "a.csv"], cwd=d)
    code = r"""
import os, sys
d, parent = sys.argv[1:3]
dfd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
fd = os.open("a.csv", os.O_RDONLY, dir_fd=dfd); n1 = len(os.read(fd, 111)); os.close(fd)
pfd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY)
fd = os.open("crm/a.csv", os.O_RDONLY, dir_fd=pfd); n2 = len(os.read(fd, 222)); os.close(fd)
print(n1, n2)
"""
    r2 = py(code, d, t.workdir)
    expect_eq(r2.out.split(), [b"111", b"222"], "bytes the workload read (test set-up)")
    names = [os.path.join(d, "sub", "..", "a.csv"),
             os.path.join(other, "..", "crm", "a.csv"),
             os.path.join(d, "sub", "..", "..", "other", "..", "crm", "sub", "..", "a.csv")]
    dots = [run(["cat", n]) for n in names] + [run(["cat", "../crm/a.csv"], cwd=other)]
    evs = a.stop()
    for r in [r1] + dots:
        check_read(evs, f, r.pid, "cat", 1000, 1)
    got = sorted(opens(evs, f, pid=r2.pid), key=lambda e: get(e, "custos.open_id"))
    expect_eq(len(got), 2, "opens through openat(dirfd)", got)
    for o, n in zip(got, (111, 222)):
        expect_field(o, "process.name", "python3")
        expect_field(o, "file.path", f)
        check_summaries(evs, get(o, "custos.open_id"), n, 1, final_reason="close")


def test_evasion_proc_pid_fd(t):
    """Another process reopens the file through /proc/PID/fd/N of a process
    that holds it open: cat's open is reported with the real path and cat's
    bytes; the holder's own open is reported too, with nothing read."""
    a, d, f, data = setup(t, 5000)
    h = Holder(t, HOLD, f)
    fd = int(h.line())
    r = run(["cat", "/proc/%d/fd/%d" % (h.pid, fd)])
    h.finish()
    evs = a.stop()
    expect_eq(r.out, data, "what cat read (test set-up)")
    check_read(evs, f, r.pid, "cat", 5000, final_reason="close")
    check_read(evs, f, h.pid, "python3", 0, 0)


def test_evasion_proc_pid_root(t):
    """cat /proc/PID/root/<path> (through another process's root): reported
    with the real path and cat's bytes."""
    a, d, f, data = setup(t, 1234)
    h = Holder(t, "print('up', flush=True)\nimport sys; sys.stdin.read()")
    h.line()
    r = run(["cat", "/proc/%d/root%s" % (h.pid, f)])
    h.finish()
    evs = a.stop()
    expect_eq(r.out, data, "what cat read (test set-up)")
    check_read(evs, f, r.pid, "cat", 1234, 1)


def test_evasion_opath_reopen(t):
    """An O_PATH open (not reported: it reads nothing) then a reopen through
    /proc/self/fd/N: exactly one open, the reopen, with O_RDONLY, and its
    exact bytes."""
    a, d, f, data = setup(t, 3000)
    code = r"""
import os, sys
p = os.open(sys.argv[1], os.O_PATH)
fd = os.open("/proc/self/fd/%d" % p, os.O_RDONLY)
n = len(os.read(fd, 777)); os.close(fd); os.close(p); print(fd, n)
"""
    r = py(code, f)
    fd, n = map(int, r.out.split())
    expect_eq(n, 777, "bytes the workload read (test set-up)")
    evs = a.stop()
    o = check_read(evs, f, r.pid, "python3", 777, 1, final_reason="close")
    expect_field(o, "custos.open.fd", fd)
    expect_eq(sorted(get(o, "custos.open.flags")), ["O_CLOEXEC", "O_RDONLY"], "flags of the reopen", o)
    expect_eq(len(file_events(evs, under=d, action_="open")), 1, "open events (the O_PATH open is not one)",
              file_events(evs, under=d))


HANDLE = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
class FileHandle(ctypes.Structure):
    _fields_ = [("handle_bytes", ctypes.c_uint), ("handle_type", ctypes.c_int),
                ("f_handle", ctypes.c_ubyte * 128)]
"""


def test_evasion_open_by_handle_at(t):
    """open_by_handle_at(): the handle is taken (name_to_handle_at) before
    the agent starts, then a process opens the file by handle alone, with no
    name at all, and reads it: reported with the real path and exact bytes."""
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", os.urandom(4000))
    handle = _take_handle(f)
    a = t.start_agent(watch(d))
    r = py(OPEN_BY_HANDLE, handle, t.workdir)
    fd, n = map(int, r.out.split())
    expect_eq(n, 4000, "bytes the workload read (test set-up)")
    evs = a.stop()
    o = check_read(evs, f, r.pid, "python3", 4000, 2, final_reason="close")
    expect_field(o, "custos.open.fd", fd)
    expect_field(o, "file.inode", ino(f))


def _private_fs(t):
    """A small ext4 file system of the test's own (a loop-mounted image), so
    that its dentry cache can be emptied (by remounting it) without touching
    the rest of the machine: (image, mount point)."""
    img = t.path("fs.img")
    with open(img, "wb") as fh:
        fh.truncate(16 << 20)
    sh(["mkfs.ext4", "-q", "-F", img])
    mnt = t.mkdir("fs")
    mount(t, ["mount", "-o", "loop", img], mnt)
    return img, mnt


def _remount(t, img, mnt):
    """Unmounts the image and mounts a copy of it in its place: the same
    files (inode numbers, generations) on a new superblock, none of whose
    names is in the dentry cache yet."""
    sh(["umount", mnt])
    fresh = img + ".fresh"
    shutil.copyfile(img, fresh)
    mount(t, ["mount", "-o", "loop", fresh], mnt)


def _take_handle(path):
    g = {}
    exec(HANDLE, g)
    fh = g["FileHandle"]()
    fh.handle_bytes = 128
    mount_id = ctypes.c_int()
    lc = libc()
    if lc.name_to_handle_at(-100, os.fsencode(path), ctypes.byref(fh), ctypes.byref(mount_id), 0) != 0:
        fail("name_to_handle_at: errno %d (test set-up)" % ctypes.get_errno())
    return "%d:%s" % (fh.handle_type, bytes(fh.f_handle[:fh.handle_bytes]).hex())


OPEN_BY_HANDLE = HANDLE + r"""
htype, hexbytes = sys.argv[1].split(":")
raw = bytes.fromhex(hexbytes)
fh = FileHandle(); fh.handle_bytes = len(raw); fh.handle_type = int(htype)
ctypes.memmove(fh.f_handle, raw, len(raw))
mfd = os.open(sys.argv[2], os.O_RDONLY | os.O_DIRECTORY)   # any fd on the file system
fd = libc.open_by_handle_at(mfd, ctypes.byref(fh), os.O_RDONLY)
if fd < 0:
    raise OSError(ctypes.get_errno(), "open_by_handle_at")
n = len(os.read(fd, 3000)); n += len(os.read(fd, 3000)); os.close(fd); print(fd, n)
"""


def test_evasion_hardlink_uncached(t):
    """A hard link outside the watched directory, used when the watched name
    is not in the dentry cache (as after memory pressure or drop_caches;
    here the file system is swapped for a fresh copy of itself while the
    agent runs, then SIGHUP): cat through the link must still be reported,
    with the watched inode and exact bytes. A cat of the file by name
    afterwards is the control."""
    img, mnt = _private_fs(t)
    d = os.path.join(mnt, "crm")
    os.mkdir(d)
    f = t.write(os.path.join(d, "a.csv"), os.urandom(2500))
    os.mkdir(os.path.join(mnt, "elsewhere"))
    hl = os.path.join(mnt, "elsewhere", "copy.csv")
    os.link(f, hl)
    inode = ino(f)
    a = t.start_agent(watch(d))
    _remount(t, img, mnt)
    a.hup()  # the watched directory, resolved again on the fresh copy
    r = run(["cat", hl])
    control = run(["cat", f])  # by name, afterwards: the watch on this file system works
    evs = a.stop()
    expect_eq(len(r.out), 2500, "what cat read (test set-up)")
    check_read(evs, f, control.pid, "cat", 2500, 1)
    o = one(opens(evs, pid=r.pid), "open through the hard link %s of the watched %s" % (hl, f), evs)
    expect_field(o, "file.inode", inode)
    expect_field(o, "file.path", hl)
    check_summaries(evs, get(o, "custos.open_id"), 2500, 1, final_reason="close")


# ------------------------------------------------------------------- mounts


def test_evasion_bind_mount(t):
    """The watched directory bind-mounted elsewhere while the agent runs:
    cat through the bind mount is reported (file.path is the bind mount's
    path, the inode the watched one), with exact bytes."""
    a, d, f, data = setup(t, 2222)
    b = t.mkdir("bind")
    mount(t, ["mount", "--bind", d], b)
    p = os.path.join(b, "a.csv")
    r = run(["cat", p])
    evs = a.stop()
    o = check_read(evs, p, r.pid, "cat", 2222, 1)
    expect_field(o, "file.inode", ino(f))


def test_evasion_mount_namespace(t):
    """A read from another mount namespace: unshare -m, bind-mount the
    watched directory there, and cat through that mount (which the host
    never sees): reported with cat's pid, the path in that namespace and
    exact bytes."""
    a, d, f, data = setup(t, 3333)
    b = t.mkdir("nsbind")
    p = os.path.join(b, "a.csv")
    r = run(["unshare", "-m", "sh", "-c", "mount --bind '%s' '%s' && exec cat '%s'" % (d, b, p)])
    evs = a.stop()
    expect_eq(r.out, data, "what cat read (test set-up)")
    o = check_read(evs, p, r.pid, "cat", 3333, 1)
    expect_field(o, "file.inode", ino(f))


def _minimal_root(t, root):
    """A root directory with /bin/cat and the libraries it needs."""
    cat = os.path.realpath(shutil.which("cat"))
    os.makedirs(os.path.join(root, "bin"), exist_ok=True)
    shutil.copy2(cat, os.path.join(root, "bin", "cat"))
    for line in sh(["ldd", cat]).stdout.decode().splitlines():
        parts = line.split()
        lib = parts[2] if "=>" in parts and len(parts) > 2 else parts[0]
        if lib.startswith("/"):
            dst = os.path.join(root, lib.lstrip("/"))
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy2(os.path.realpath(lib), dst)


def test_evasion_chroot(t):
    """chroot ROOT /bin/cat /crm/a.csv, where ROOT/crm is the watched
    directory: reported with cat's pid and the real path (from the root of
    the mount namespace, not the chroot), exact bytes."""
    root = t.mkdir("root")
    _minimal_root(t, root)
    d = t.mkdir("root", "crm")
    data = os.urandom(1500)
    f = t.write("root/crm/a.csv", data)
    a = t.start_agent(watch(d))
    r = run(["chroot", root, "/bin/cat", "/crm/a.csv"])
    evs = a.stop()
    expect_eq(r.out, data, "what cat read (test set-up)")
    check_read(evs, f, r.pid, "cat", 1500, 1)


def _overlay(t, d):
    up, wk, m = t.mkdir("upper"), t.mkdir("work"), t.mkdir("merged")
    mount(t, ["mount", "-t", "overlay", "overlay", "-o", "lowerdir=%s,upperdir=%s,workdir=%s" % (d, up, wk)], m)
    return m


def test_evasion_overlay_lower(t):
    """An overlay mounted (while the agent runs) with the watched directory
    as its lower layer: cat of the merged file is reported with the overlay
    path, cat's pid and exact bytes."""
    a, d, f, data = setup(t, 4321)
    m = _overlay(t, d)
    p = os.path.join(m, "a.csv")
    r = run(["cat", p])
    evs = a.stop()
    expect_eq(r.out, data, "what cat read (test set-up)")
    check_read(evs, p, r.pid, "cat", 4321, 1)
    expect_eq(len(file_events(evs, pid=r.pid, action_="open")), 1, "open events of cat (the overlay file only)",
              file_events(evs, pid=r.pid))


def test_evasion_overlay_copy_up(t):
    """The same overlay after a copy-up (an append through the merged path
    copies the file to the unwatched upper layer): the append and a later
    cat are still reported, with bytes written and read exact."""
    a, d, f, data = setup(t, 1000)
    m = _overlay(t, d)
    p = os.path.join(m, "a.csv")
    w = run(["sh", "-c", "exec printf 'appended' >> '%s'" % p])
    r = run(["cat", p])
    evs = a.stop()
    expect_eq(r.out, data + b"appended", "what cat read (test set-up)")
    expect_eq(os.path.getsize(f), 1000, "the lower file (test set-up: copy-up left it alone)")
    o = the_open(evs, p, pid=w.pid)
    expect("O_APPEND" in get(o, "custos.open.flags"), "the append's flags have no O_APPEND", o)
    s = summaries(evs, get(o, "custos.open_id"))
    expect_eq(sum(get(e, "custos.io.bytes_written") for e in s), 8, "bytes written by the append", s)
    check_read(evs, p, r.pid, "cat", 1008, 1)
    expect_eq(len(file_events(evs, pid=r.pid, action_="open")), 1, "open events of cat (the overlay file only)",
              file_events(evs, pid=r.pid))


# ------------------------------------------------------------------ changes


def test_evasion_renamed_within_tree(t):
    """A watched file renamed (mv) to another name and subdirectory of the
    watched tree: a later cat shows the new path and exact bytes."""
    a, d, f, data = setup(t, 999)
    t.mkdir("crm", "archive")
    new = os.path.join(d, "archive", "renamed.txt")
    run(["mv", f, new])
    r = run(["cat", new])
    evs = a.stop()
    o = check_read(evs, new, r.pid, "cat", 999, 1)
    expect_field(o, "file.name", "renamed.txt")
    expect_field(o, "file.directory", os.path.join(d, "archive"))


def test_evasion_created_after_start(t):
    """A file created in the watched directory after the agent started, by
    one process, and read by another: both reported, exact bytes. The open
    that created it is event.type "creation"; the same open of the file that
    exists now (O_CREAT again) and cat's are "access"."""
    a, d, _, _ = setup(t, 10)
    new = os.path.join(d, "new.csv")
    w = py("import sys; open(sys.argv[1], 'wb').write(b'n' * 4444)", new)
    w2 = py("import sys; open(sys.argv[1], 'ab').close()", new)
    r = run(["cat", new])
    evs = a.stop()
    check_read(evs, new, r.pid, "cat", 4444, 1)
    c = the_open(evs, new, pid=w.pid)
    expect("O_CREAT" in get(c, "custos.open.flags"), "the creating open has no O_CREAT", c)
    expect_field(c, "event.type", ["creation"])
    c2 = the_open(evs, new, pid=w2.pid)
    expect("O_CREAT" in get(c2, "custos.open.flags"), "the second open has no O_CREAT", c2)
    expect_field(c2, "event.type", ["access"])
    expect_field(the_open(evs, new, pid=r.pid), "event.type", ["access"])


def test_evasion_deleted_while_open(t):
    """A process opens a watched file, unlinks it, reads it, and reopens the
    deleted file through /proc/self/fd/N and reads again: both opens are
    reported with the original path and exact summary bytes; the first open
    (before the unlink) is not marked deleted, the reopen carries
    custos.file.deleted true; the unlink itself is a deletion event."""
    a, d, f, data = setup(t, 6000)
    code = r"""
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
os.unlink(sys.argv[1])
n1 = len(os.read(fd, 1000)) + len(os.read(fd, 2000))
fd2 = os.open("/proc/self/fd/%d" % fd, os.O_RDONLY)
n2 = len(os.read(fd2, 1500))
os.close(fd); os.close(fd2); print(n1, n2)
"""
    r = py(code, f)
    expect_eq(r.out.split(), [b"3000", b"1500"], "bytes the workload read (test set-up)")
    evs = a.stop()
    got = sorted(opens(evs, f, pid=r.pid), key=lambda e: get(e, "custos.open_id"))
    expect_eq(len(got), 2, "opens (before the unlink, and the reopen after it)", evs)
    first, reopen = got
    expect(get(first, "custos.file.deleted", False) is False, "the open before the unlink is marked deleted",
           first)
    expect_field(reopen, "custos.file.deleted", True, "reopen of the deleted file")
    for o, n in ((first, 3000), (reopen, 1500)):
        s = check_summaries(evs, get(o, "custos.open_id"), n, final_reason="close")
        expect_eq([get(e, "custos.io.bytes_read") for e in s], [n], "the one summary's bytes", s)
        expect_field(s[-1], "file.path", f)
        expect_field(s[-1], "process.pid", r.pid)
    u = one(file_events(evs, f, action_="unlink", pid=r.pid), "unlink event", evs)
    expect_field(u, "event.type", ["deletion"])


def test_evasion_replaced_file(t):
    """A rule naming a FILE: the file is replaced by a new inode with
    rename(tmp, path) (how editors and atomic writers save); half a second
    later a cat of the path is reported (the agent re-resolves the name),
    with the new inode and exact bytes."""
    d = t.mkdir("data")
    f = t.write("data/customers.csv", b"old" * 100)
    a = t.start_agent(watch(f))
    tmp = os.path.join(d, ".customers.csv.tmp")
    py("import os, sys\nopen(sys.argv[1], 'wb').write(b'N' * 2345)\nos.rename(sys.argv[1], sys.argv[2])", tmp, f)
    time.sleep(0.5)
    r = run(["cat", f])
    evs = a.stop()
    expect_eq(len(r.out), 2345, "what cat read (test set-up)")
    o = check_read(evs, f, r.pid, "cat", 2345, 1)
    expect_field(o, "file.inode", ino(f))


# -------------------------------------------------------------- descriptors


def test_evasion_shell_opens_child_reads(t):
    """The shell opens, another program reads: sh -c 'cat < FILE' (the
    redirection is opened by sh, cat reads: the bytes are reported for cat),
    and sh -c 'exec < FILE; cat; true' (the shell itself holds the file and
    a child cat reads it: a shared open by cat, whose summary has the bytes,
    and nothing read by the shell)."""
    a, d, f, data = setup(t, 5555)
    r1 = run(["sh", "-c", "cat < '%s'" % f])
    r2 = run(["sh", "-c", "exec < '%s'; cat; true" % f])
    evs = a.stop()
    for r in (r1, r2):
        expect_eq(r.out, data, "what cat read (test set-up)")
    # 1: whoever opens the redirection (dash: the shell itself, as fd 3, then
    # dup2 onto the child's stdin), the bytes are cat's.
    o1 = one([e for e in opens(evs, f) if get(e, "process.pid") == r1.pid and
              not get(e, "custos.open.shared", False)] or
             [e for e in opens(evs, f) if get(e, "process.parent.pid") == r1.pid and
              not get(e, "custos.open.shared", False)], "open of the redirection", evs)
    oid1 = get(o1, "custos.open_id")
    s1 = check_summaries(evs, oid1, 5555)
    readers = [e for e in s1 if get(e, "custos.io.bytes_read") > 0]
    expect(readers, "no summary with bytes", s1)
    for e in readers:
        expect_field(e, "process.name", "cat", "summary with bytes")
        expect_field(e, "file.path", f, "summary with bytes")
        expect(get(e, "process.pid") == r1.pid or get(e, "process.parent.pid") == r1.pid,
               "the reader is not the shell's cat", e)
    for e in file_events(evs, open_id=oid1, action_="open"):
        if get(e, "process.pid") != get(o1, "process.pid"):
            expect_field(e, "custos.open.shared", True, "cat's open")
            expect_field(e, "custos.open.opener.pid", get(o1, "process.pid"), "cat's open")
    # 2: the shell opens (fd 0), its child cat reads.
    o2 = the_open(evs, f, pid=r2.pid)
    expect_field(o2, "process.name", "sh")
    oid = get(o2, "custos.open_id")
    shared = one([e for e in opens(evs, f) if get(e, "custos.open_id") == oid and
                  get(e, "custos.open.shared", False)], "shared open by cat", evs)
    expect_field(shared, "process.name", "cat")
    expect_field(shared, "process.parent.pid", r2.pid)
    expect_field(shared, "custos.open.opener.pid", r2.pid)
    cat_pid = get(shared, "process.pid")
    expect_eq(by_pid(evs, oid, cat_pid), (5555, 0), "bytes (read, written) by cat", summaries(evs, oid))
    expect_eq(by_pid(evs, oid, r2.pid), (0, 0), "bytes (read, written) by the shell", summaries(evs, oid))
    check_summaries(evs, oid, 5555)


def test_evasion_fork_after_open(t):
    """Open, fork: the child's first read gives an open event of its own
    (custos.open.shared, custos.open.opener.pid the parent, same open_id)
    and its summaries carry exactly its bytes; the parent's, its own."""
    a, d, f, data = setup(t, 4096)
    r = py("import os, sys\n"
           "fd = os.open(sys.argv[1], os.O_RDONLY)\n"
           "pid = os.fork()\n"
           "if pid == 0:\n    os.read(fd, 1000); os.read(fd, 234); os._exit(0)\n"
           "os.waitpid(pid, 0); os.read(fd, 55); os.close(fd); print(pid)", f)
    child = int(r.out)
    evs = a.stop()
    o = the_open(evs, f, pid=r.pid)
    oid = get(o, "custos.open_id")
    shared = the_open(evs, f, pid=child)
    expect_field(shared, "custos.open.shared", True)
    expect_field(shared, "custos.open.opener.pid", r.pid)
    expect_field(shared, "custos.open_id", oid)
    expect_field(shared, "process.name", "python3")
    expect_field(shared, "file.path", f)
    expect_eq(by_pid(evs, oid, child), (1234, 0), "bytes (read, written) by the child", summaries(evs, oid))
    expect_eq(by_pid(evs, oid, r.pid), (55, 0), "bytes (read, written) by the parent", summaries(evs, oid))
    check_summaries(evs, oid, 1289, 3, final_reason="close")


def test_evasion_dup_family(t):
    """dup, dup2, dup3 and fcntl F_DUPFD / F_DUPFD_CLOEXEC, the original fd
    closed first: reads through each duplicate are counted under the one
    open_id, exactly, with one final summary."""
    a, d, f, data = setup(t, 4096)
    code = r"""
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
fds = [os.dup(fd),                                   # dup
       os.dup2(fd, 50),                              # dup2
       os.dup2(fd, 60, inheritable=False),           # dup3(O_CLOEXEC)
       fcntl.fcntl(fd, fcntl.F_DUPFD, 70),
       fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 80)]
os.close(fd)
n = [len(os.read(x, 10 * (i + 1))) for i, x in enumerate(fds)]
for x in fds:
    os.close(x)
print(sum(n))
"""
    r = py(code, f)
    expect_eq(int(r.out), 150, "bytes the workload read (test set-up)")
    evs = a.stop()
    check_read(evs, f, r.pid, "python3", 150, 5, final_reason="close")


def test_evasion_scm_rights(t):
    """An fd passed over a unix socket (SCM_RIGHTS) to an unrelated process:
    the sender opens and reads nothing, the receiver reads: a shared open by
    the receiver (opener.pid the sender), its summaries carry its exact
    bytes, the sender's none."""
    a, d, f, data = setup(t, 8000)
    sock = t.path("pass.sock")
    recv = Holder(t, r"""
import os, socket, sys
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); srv.bind(sys.argv[1]); srv.listen(1)
print("listening", flush=True)
c, _ = srv.accept()
_, fds, _, _ = socket.recv_fds(c, 10, 1)
c.recv(10)                                  # the sender is done
n = len(os.read(fds[0], 3000)) + len(os.read(fds[0], 3000))
os.close(fds[0]); print(n, flush=True)
""", sock)
    recv.line()
    s = py(r"""
import os, socket, sys
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); c.connect(sys.argv[1])
fd = os.open(sys.argv[2], os.O_RDONLY)
socket.send_fds(c, [b"x"], [fd]); os.close(fd); c.send(b"done")
""", sock, f)
    expect_eq(recv.finish(), "6000", "bytes the receiver read (test set-up)")
    evs = a.stop()
    o = the_open(evs, f, pid=s.pid)
    oid = get(o, "custos.open_id")
    shared = the_open(evs, f, pid=recv.pid)
    expect_field(shared, "custos.open.shared", True)
    expect_field(shared, "custos.open.opener.pid", s.pid)
    expect_field(shared, "custos.open_id", oid)
    expect_field(shared, "file.path", f)
    expect_eq(by_pid(evs, oid, recv.pid), (6000, 0), "bytes (read, written) by the receiver", summaries(evs, oid))
    expect_eq(by_pid(evs, oid, s.pid), (0, 0), "bytes (read, written) by the sender", summaries(evs, oid))
    check_summaries(evs, oid, 6000, 2)


def test_evasion_pidfd_getfd(t):
    """pidfd_getfd(2): a process takes a copy of another process's fd of the
    watched file and reads through it: a shared open by the taker (opener.pid
    the holder), the taker's summaries have its exact bytes, the holder's none."""
    a, d, f, data = setup(t, 5000)
    h = Holder(t, HOLD, f)
    target = int(h.line())
    r = py(r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
pidfd = os.pidfd_open(int(sys.argv[1]))
fd = libc.syscall(438, pidfd, int(sys.argv[2]), 0)          # pidfd_getfd
if fd < 0:
    raise OSError(ctypes.get_errno(), "pidfd_getfd")
n = len(os.read(fd, 321)); os.close(fd); print(fd, n)
""", str(h.pid), str(target))
    fd, n = map(int, r.out.split())
    expect_eq(n, 321, "bytes the taker read (test set-up)")
    h.finish()
    evs = a.stop()
    o = the_open(evs, f, pid=h.pid)
    oid = get(o, "custos.open_id")
    shared = the_open(evs, f, pid=r.pid)
    expect_field(shared, "custos.open.shared", True)
    expect_field(shared, "custos.open.opener.pid", h.pid)
    expect_field(shared, "custos.open_id", oid)
    expect_field(shared, "custos.open.fd", fd)
    expect_field(shared, "process.name", "python3")
    expect_eq(by_pid(evs, oid, r.pid), (321, 0), "bytes (read, written) by the taker", summaries(evs, oid))
    expect_eq(by_pid(evs, oid, h.pid), (0, 0), "bytes (read, written) by the holder", summaries(evs, oid))
    check_summaries(evs, oid, 321, 1)


def test_evasion_already_open(t):
    """A file opened (and partly read) before the agent starts, read after:
    the agent reports it at start as an open with custos.open.existing true
    (the holder's pid, fd and the file's path), and counts the reads made
    after the start exactly (not those before)."""
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", os.urandom(5000))
    h = Holder(t, HOLD, f)
    fd = int(h.line())
    h.send("read 100")
    expect_eq(h.line(), "100", "bytes read before the agent (test set-up)")
    a = t.start_agent(watch(d))
    o = a.wait_for(lambda e: action(e) == "open" and get(e, "file.path", None) == f, "open of the held file")
    expect_field(o, "custos.open.existing", True)
    h.send("read 700")
    expect_eq(h.line(), "700", "bytes read after the agent started (test set-up)")
    h.send("read 800")
    h.line()
    h.send("close")
    h.line()
    h.finish()
    evs = a.stop()
    o = check_read(evs, f, h.pid, "python3", 1500, 2, final_reason="close")
    expect_field(o, "custos.open.existing", True)
    expect_field(o, "custos.open.fd", fd)
    expect_field(o, "file.inode", ino(f))


# ----------------------------------------------------- data paths beyond read


def test_evasion_pread_readv_preadv_preadv2(t):
    """pread64, readv, preadv and preadv2, each as a raw syscall on its own
    open: the exact bytes of each."""
    fileops = helper("fileops")
    a, d, f, data = setup(t, 10000)
    steps = [("pread64", ["pread", "300", "50"], 300),
             ("readv", ["readv", "10,20,30"], 60),
             ("preadv", ["preadv", "400,500", "7"], 900),
             ("preadv2", ["preadv2", "60,70", "9", "0"], 130)]
    argv = [fileops]
    for _, ops, _ in steps:
        argv += ["openat", f] + ops + ["close"]
    r = run(argv)
    evs = a.stop()
    got = sorted(opens(evs, f, pid=r.pid), key=lambda e: get(e, "custos.open_id"))
    expect_eq(len(got), len(steps), "opens of the helper", got)
    for (what, _, n), o in zip(steps, got):
        expect_field(o, "process.name", "fileops")
        s = summaries(evs, get(o, "custos.open_id"))
        b = sum(get(e, "custos.io.bytes_read") for e in s)
        if b != n:
            fail("%s: expected %d bytes, got %d" % (what, n, b), o, s)
        check_summaries(evs, get(o, "custos.open_id"), n, 1, final_reason="close")


def test_evasion_sendfile(t):
    """sendfile(2) from a watched file to a socket and to an (unwatched)
    file, no read(2) at all: bytes_read exact for each open."""
    a, d, f, data = setup(t, 20000)
    out = t.path("out.bin")
    code = r"""
import os, socket, sys
a, b = socket.socketpair()
fd = os.open(sys.argv[1], os.O_RDONLY)
n1 = 0
while n1 < 20000:
    k = os.sendfile(a.fileno(), fd, n1, 20000 - n1)
    if k == 0: break
    n1 += k
os.close(fd)
got = b""
while len(got) < n1:
    got += b.recv(65536)
fd = os.open(sys.argv[1], os.O_RDONLY)
o = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT, 0o644)
n2 = os.sendfile(o, fd, 100, 12345)
os.close(fd); os.close(o)
print(n1, n2, len(got))
"""
    r = py(code, f, out)
    expect_eq(r.out.split(), [b"20000", b"12345", b"20000"], "bytes sent (test set-up)")
    evs = a.stop()
    got = sorted(opens(evs, f, pid=r.pid), key=lambda e: get(e, "custos.open_id"))
    expect_eq(len(got), 2, "opens (to the socket, to the file)", got)
    for o, n in zip(got, (20000, 12345)):
        expect_field(o, "process.name", "python3")
        check_summaries(evs, get(o, "custos.open_id"), n, final_reason="close")


def test_evasion_splice(t):
    """splice(2) from the watched file into a pipe, then out of it: the
    bytes spliced out of the file are bytes_read, exactly, one call each."""
    a, d, f, data = setup(t, 20000)
    code = r"""
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
r, w = os.pipe()
total = calls = 0
while True:
    n = os.splice(fd, w, 6000)
    if n == 0: break
    total += n; calls += 1
    os.read(r, n)
os.close(fd); print(total, calls)
"""
    r = py(code, f)
    total, calls = map(int, r.out.split())
    expect_eq(total, 20000, "bytes spliced (test set-up)")
    evs = a.stop()
    check_read(evs, f, r.pid, "python3", 20000, calls, final_reason="close")


def test_evasion_copy_file_range_and_cp(t):
    """copy_file_range(2) from a watched file to an unwatched one, and cp of
    a watched file (coreutils cp copies with copy_file_range): bytes_read
    exact, attributed to the copying process."""
    a, d, f, data = setup(t, 100000)
    out1, out2 = t.path("copy1.bin"), t.path("copy2.bin")
    code = r"""
import os, sys
src = os.open(sys.argv[1], os.O_RDONLY)
dst = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT, 0o644)
total = 0
while True:
    n = os.copy_file_range(src, dst, 30000)
    if n == 0: break
    total += n
os.close(src); os.close(dst); print(total)
"""
    r1 = py(code, f, out1)
    r2 = run(["cp", f, out2])
    evs = a.stop()
    expect_eq(int(r1.out), 100000, "bytes copied (test set-up)")
    for p in (out1, out2):
        with open(p, "rb") as fh:
            expect(fh.read() == data, "%s is not a copy (test set-up)" % p)
    check_read(evs, f, r1.pid, "python3", 100000, final_reason="close")
    check_read(evs, f, r2.pid, "cp", 100000, final_reason="close")


def test_evasion_mmap(t):
    """mmap(PROT_READ) of a watched file, every page then read through the
    mapping: an "mmap" event (process, path, open_id of the open,
    custos.mmap.length and custos.io.mapped_bytes the mapped length, prot
    PROT_READ); the page reads are not counted as bytes_read."""
    size = 3 * 4096 + 100
    a, d, f, data = setup(t, size)
    code = r"""
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
m = mmap.mmap(fd, 0, prot=mmap.PROT_READ)
data = m[:]
m.close(); os.close(fd); print(len(data))
"""
    r = py(code, f)
    expect_eq(int(r.out), size, "bytes read through the mapping (test set-up)")
    evs = a.stop()
    o = check_read(evs, f, r.pid, "python3", 0, 0)
    m = one(file_events(evs, f, action_="mmap"), "mmap event", evs)
    expect_field(m, "process.pid", r.pid)
    expect_field(m, "process.name", "python3")
    expect_field(m, "file.path", f)
    expect_field(m, "custos.open_id", get(o, "custos.open_id"))
    expect_field(m, "custos.mmap.length", size)
    expect_field(m, "custos.io.mapped_bytes", size)
    expect_field(m, "custos.mmap.offset", 0)
    expect("PROT_READ" in get(m, "custos.mmap.prot") and "PROT_WRITE" not in get(m, "custos.mmap.prot"),
           "custos.mmap.prot is not read-only", m)
    expect_field(m, "custos.mmap.flags", ["MAP_SHARED"])
    expect_field(m, "custos.rule", "crm")


def _uring(args):
    r = run([helper("uring")] + args, check=False)
    if r.rc == 77:
        fail("io_uring is not available here: %r" % r)
    if r.rc != 0:
        fail("uring failed: %r" % r)
    kv = dict(x.split("=", 1) for x in r.out.decode().split())
    expect_eq(int(kv["pid"]), r.pid, "pid uring printed (test set-up)")
    return r, kv


def test_evasion_io_uring_read(t):
    """IORING_OP_READ and IORING_OP_READV, inline, forced to io-wq workers
    (-a) and submitted by an SQPOLL kernel thread (-s): bytes and calls
    exact, attributed to the uring process (process.name "uring", even from
    the io-wq workers and the SQPOLL thread). With SQPOLL the ring may still
    hold the file when the program closes it (its last request not yet
    freed): that close is then not final, and no hook sees the ring let go;
    only if the struct file is reused before the agent stops does a final
    summary follow, released unobserved, with nothing more read."""
    a, d, f, data = setup(t, 20000)
    runs = [(_uring(["read", f, "4096", "5"]), 5, True),
            (_uring(["readv", f, "4096", "5"]), 5, True),
            (_uring(["-a", "read", f, "3000", "7"]), 7, True),
            (_uring(["-a", "readv", f, "8192", "3"]), 3, True),
            (_uring(["-s", "read", f, "4096", "5"]), 5, False)]
    evs = a.stop()
    for (r, kv), calls, final_at_close in runs:
        expect_eq(int(kv["bytes"]), 20000, "bytes uring read (test set-up)")
        if final_at_close:
            o = check_read(evs, f, r.pid, "uring", 20000, calls, final_reason="close")
        else:
            o = the_open(evs, f, pid=r.pid)
            s = summaries(evs, get(o, "custos.open_id"))
            expect_eq(io_total(evs, get(o, "custos.open_id")), (20000, calls), "bytes and calls", s)
            if s and get(s[-1], "custos.close.reason") == "unobserved":
                expect(get(s[-1], "custos.close.final") is True and
                       get(s[-1], "custos.io.bytes_read") == 0,
                       "SQPOLL: a summary after the close is the final release, unobserved, "
                       "with nothing read", s)
                s = s[:-1]
            expect(s and get(s[-1], "custos.close.reason") == "close" and
                   all(get(e, "custos.close.final") is False for e in s[:-1]),
                   "SQPOLL: the last summary is the close (or, after it, its release)", s)
        expect_field(o, "custos.open.fd", int(kv["fd"]))
        for e in file_events(evs, open_id=get(o, "custos.open_id")):
            expect_field(e, "process.name", "uring")


def test_evasion_io_uring_openat(t):
    """IORING_OP_OPENAT and IORING_OP_OPENAT2 (inline and through io-wq
    workers): an open with custos.open.via "io_uring", by the uring process
    (pid, name "uring"), the fd it got, and its io_uring reads exact."""
    a, d, f, data = setup(t, 20000)
    runs = [_uring(["openat-read", f, "4096"]),
            _uring(["openat2-read", f, "5000"]),
            _uring(["-a", "openat-read", f, "4096"])]
    evs = a.stop()
    for r, kv in runs:
        expect_eq(int(kv["bytes"]), 20000, "bytes uring read (test set-up)")
        o = check_read(evs, f, r.pid, "uring", 20000, final_reason="close")
        expect_field(o, "custos.open.via", "io_uring")
        expect_field(o, "custos.open.fd", int(kv["fd"]))
        expect("O_RDONLY" in get(o, "custos.open.flags"), "an io_uring open without O_RDONLY", o)


# ------------------------------------------------------- writes and changes


def test_evasion_write_open_flags(t):
    """Opens for writing: custos.open.flags has O_WRONLY / O_RDWR, O_CREAT,
    O_TRUNC, O_APPEND exactly as used (Python adds O_CLOEXEC)."""
    a, d, f, data = setup(t, 100)
    new = os.path.join(d, "new.csv")
    code = r"""
import os, sys
f, new = sys.argv[1:3]
for path, flags in ((new, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), (f, os.O_RDWR),
                    (f, os.O_WRONLY | os.O_APPEND), (f, os.O_RDWR | os.O_TRUNC)):
    os.close(os.open(path, flags, 0o640))
"""
    r = py(code, f, new)
    evs = a.stop()
    got = sorted(file_events(evs, action_="open", pid=r.pid, under=d), key=lambda e: get(e, "custos.open_id"))
    want = [(new, ["O_CLOEXEC", "O_CREAT", "O_TRUNC", "O_WRONLY"]), (f, ["O_CLOEXEC", "O_RDWR"]),
            (f, ["O_APPEND", "O_CLOEXEC", "O_WRONLY"]), (f, ["O_CLOEXEC", "O_RDWR", "O_TRUNC"])]
    expect_eq([(get(e, "file.path"), sorted(get(e, "custos.open.flags"))) for e in got], want,
              "(path, flags) of the opens", got)
    for e in got:
        expect_field(e, "process.name", "python3")


def test_evasion_write_family(t):
    """write, pwrite64, writev, pwritev and pwritev2 through one open:
    custos.io.bytes_written and write_calls exact, bytes_read 0."""
    a, d, f, data = setup(t, 100)
    code = r"""
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
n = [os.write(fd, b"a" * 100),                                # write
     os.pwrite(fd, b"b" * 200, 1000),                         # pwrite64
     os.writev(fd, [b"c" * 300, b"d" * 400]),                 # writev
     os.pwritev(fd, [b"e" * 50], 5000),                       # pwritev
     os.pwritev(fd, [b"f" * 25, b"g" * 35], 6000, os.RWF_DSYNC)]  # pwritev2
os.close(fd); print(sum(n))
"""
    r = py(code, f)
    expect_eq(int(r.out), 1110, "bytes written (test set-up)")
    evs = a.stop()
    o = check_read(evs, f, r.pid, "python3", 0, 0, final_reason="close")
    s = summaries(evs, get(o, "custos.open_id"))
    expect_eq((sum(get(e, "custos.io.bytes_written") for e in s), sum(get(e, "custos.io.write_calls") for e in s)),
              (1110, 5), "(bytes_written, write_calls)", s)
    expect_field(s[-1], "custos.io.total_bytes_written", 1110)


def test_evasion_write_copy_into(t):
    """sendfile, splice and copy_file_range INTO a watched file from an
    unwatched one (or a pipe): bytes_written exact on each open."""
    a, d, f, data = setup(t, 10)
    src = t.write("src.bin", os.urandom(30000))
    targets = [os.path.join(d, n) for n in ("sendfile.bin", "splice.bin", "cfr.bin")]
    code = r"""
import os, sys
src = sys.argv[1]
s = os.open(src, os.O_RDONLY)
o = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT, 0o644)
n1 = os.sendfile(o, s, 0, 11111); os.close(o)
o = os.open(sys.argv[3], os.O_WRONLY | os.O_CREAT, 0o644)
r, w = os.pipe(); os.write(w, b"p" * 22222)
n2 = 0
while n2 < 22222:
    n2 += os.splice(r, o, 22222 - n2)
os.close(o)
o = os.open(sys.argv[4], os.O_WRONLY | os.O_CREAT, 0o644)
n3 = os.copy_file_range(s, o, 3333, 0); os.close(o)
print(n1, n2, n3)
"""
    r = py(code, src, *targets)
    expect_eq(r.out.split(), [b"11111", b"22222", b"3333"], "bytes copied (test set-up)")
    evs = a.stop()
    for p, n in zip(targets, (11111, 22222, 3333)):
        o = the_open(evs, p, pid=r.pid)
        s = summaries(evs, get(o, "custos.open_id"))
        expect(s, "no summary of %s" % p, evs)
        expect_eq(sum(get(e, "custos.io.bytes_written") for e in s), n, "bytes written into %s" % p, s)
        expect_eq(sum(get(e, "custos.io.bytes_read") for e in s), 0, "bytes read from %s" % p, s)
    expect_eq(file_events(evs, src), [], "events of the unwatched source")


def _changes(evs, act, pid):
    return [e for e in file_events(evs, action_=act, pid=pid)]


def test_evasion_truncate(t):
    """truncate(2) by name and ftruncate(2) through an fd: event.action
    "truncate" with custos.change.length, the path and the process."""
    a, d, f, data = setup(t, 1000)
    r = py("import os, sys\nos.truncate(sys.argv[1], 600)\n"
           "fd = os.open(sys.argv[1], os.O_WRONLY); os.ftruncate(fd, 250); os.close(fd)", f)
    evs = a.stop()
    got = _changes(evs, "truncate", r.pid)
    expect_eq([get(e, "custos.change.length") for e in got], [600, 250], "lengths of the truncate events", got)
    for e in got:
        expect_field(e, "file.path", f)
        expect_field(e, "process.name", "python3")
        expect_field(e, "event.type", ["change"])
        expect_field(e, "custos.rule", "crm")
    o = the_open(evs, f, pid=r.pid)
    expect_field(got[1], "custos.open_id", get(o, "custos.open_id"))


def test_evasion_unlink(t):
    """rm of a watched file: event.action "unlink", event.type
    ["deletion"], file.path, rm's pid."""
    a, d, f, data = setup(t, 10)
    r = run(["rm", f])
    evs = a.stop()
    u = one(_changes(evs, "unlink", r.pid), "unlink event", evs)
    expect_field(u, "event.type", ["deletion"])
    expect_field(u, "file.path", f)
    expect_field(u, "process.name", "rm")
    expect_field(u, "custos.rule", "crm")


def test_evasion_rename_events(t):
    """mv within the watched tree, then out of it: event.action "rename",
    file.path the new path, custos.rename.from the old one;
    custos.rename.left_watch true only for the move out."""
    a, d, f, data = setup(t, 10)
    t.mkdir("crm", "sub")
    inside = os.path.join(d, "sub", "b.csv")
    outside = os.path.join(t.mkdir("outside"), "c.csv")
    r1 = run(["mv", f, inside])
    r2 = run(["mv", inside, outside])
    evs = a.stop()
    e1 = one(_changes(evs, "rename", r1.pid), "rename event within the tree", evs)
    expect_field(e1, "file.path", inside)
    expect_field(e1, "custos.rename.from", f)
    expect_field(e1, "process.name", "mv")
    expect(not has(e1, "custos.rename.left_watch"), "a rename within the tree has left_watch", e1)
    e2 = one(_changes(evs, "rename", r2.pid), "rename event out of the tree", evs)
    expect_field(e2, "file.path", outside)
    expect_field(e2, "custos.rename.from", inside)
    expect_field(e2, "custos.rename.left_watch", True)
    expect_field(e2, "file.inode", ino(outside))


def test_evasion_rename_identity(t):
    """A rename's file.inode and file.device are the renamed file's, even
    when it is gone by the time the agent looks (renamed and removed at
    once): known from its open; custos.change.from is the old path, as
    custos.rename.from; the unlink that follows has the same identity and no
    custos.change. A file the agent knows nothing of, renamed and removed at
    once, has its real identity or none, never 0."""
    a, d, f, data = setup(t, 100)
    held = Holder(t, HOLD, f)
    held.line()
    f_ino, f_dev = os.stat(f).st_ino, os.stat(f).st_dev
    moved = os.path.join(d, "moved.csv")
    r1 = py("import os, sys\nos.rename(sys.argv[1], sys.argv[2]); os.unlink(sys.argv[2])", f, moved)
    other = t.write("crm/other.csv", "x" * 10)
    o_ino = str(os.stat(other).st_ino)
    gone = os.path.join(d, "gone.csv")
    r2 = py("import os, sys\nos.rename(sys.argv[1], sys.argv[2]); os.unlink(sys.argv[2])", other, gone)
    held.finish()
    evs = a.stop()
    dev = "%d:%d" % (os.major(f_dev), os.minor(f_dev))
    e = one(_changes(evs, "rename", r1.pid), "rename of the open file", evs)
    expect_field(e, "file.path", moved)
    expect_field(e, "file.inode", str(f_ino))
    expect_field(e, "file.device", dev)
    expect_field(e, "custos.change.from", f)
    expect_field(e, "custos.rename.from", f)
    expect_field(e, "custos.change", {"from": f})
    u = one(_changes(evs, "unlink", r1.pid), "unlink of the renamed file", evs)
    expect_field(u, "file.path", moved)
    expect_field(u, "file.inode", str(f_ino))
    expect_field(u, "file.device", dev)
    expect(not has(u, "custos.change"), "custos.change on an unlink", u)
    e = one(_changes(evs, "rename", r2.pid), "rename of a file the agent knew nothing of", evs)
    expect_field(e, "custos.change.from", other)
    expect(get(e, "file.inode", None) in (None, o_ino), "file.inode neither absent nor the file's", e)
    expect(get(e, "file.device", None) in (None, dev), "file.device neither absent nor the file's", e)
    for e in file_events(evs):
        expect(get(e, "custos.change", None) != {}, "an empty custos.change", e)
        expect(get(e, "file.inode", None) != "0", "file.inode 0", e)


def test_evasion_chmod(t):
    """chmod by name (os.chmod) and through an fd (os.fchmod): event.action
    "chmod" with custos.change.mode, the path and the process."""
    a, d, f, data = setup(t, 10)
    r = py("import os, sys\nos.chmod(sys.argv[1], 0o600)\n"
           "fd = os.open(sys.argv[1], os.O_RDONLY); os.fchmod(fd, 0o4751); os.close(fd)", f)
    evs = a.stop()
    got = _changes(evs, "chmod", r.pid)
    expect_eq([get(e, "custos.change.mode") for e in got], ["0600", "4751"], "modes of the chmod events", got)
    for e in got:
        expect_field(e, "file.path", f)
        expect_field(e, "process.name", "python3")
        expect_field(e, "event.type", ["change"])


def test_evasion_chown(t):
    """chown by name (os.chown) and through an fd (os.fchown) to nobody:
    event.action "chown" with custos.change.uid "65534" (and gid when given),
    strings as every other id."""
    a, d, f, data = setup(t, 10)
    r = py("import os, sys\nos.chown(sys.argv[1], 65534, -1)\n"
           "fd = os.open(sys.argv[1], os.O_RDONLY); os.fchown(fd, 65534, 65534); os.close(fd)", f)
    evs = a.stop()
    got = _changes(evs, "chown", r.pid)
    expect_eq([(get(e, "custos.change.uid", None), get(e, "custos.change.gid", None)) for e in got],
              [("65534", None), ("65534", "65534")], "(uid, gid) of the chown events", got)
    for e in got:
        expect_field(e, "file.path", f)
        expect_field(e, "process.name", "python3")


def test_evasion_unwatched_changes_silent(t):
    """unlink, rename, chmod, chown, truncate (by name and fd) in an
    unwatched directory give no event; the same sequence in the watched one
    gives its events (so the workload is seen)."""
    a, d, f, data = setup(t, 10)
    u = t.mkdir("plain")
    t.write("plain/a.csv", "x" * 10)
    code = r"""
import os, sys
d = sys.argv[1]
a, b, c = (os.path.join(d, n) for n in ("a.csv", "b.csv", "c.csv"))
open(b, "w").write("b")
os.rename(a, c); os.chmod(c, 0o600); os.chown(c, 65534, -1); os.truncate(c, 1)
fd = os.open(c, os.O_WRONLY); os.ftruncate(fd, 0); os.fchmod(fd, 0o644); os.close(fd)
os.unlink(b); os.unlink(c)
"""
    r1 = py(code, u)
    r2 = py(code, d)
    evs = a.stop()
    expect_eq(file_events(evs, pid=r1.pid), [], "events of the changes in the unwatched directory")
    expect_eq(file_events(evs, under=u), [], "events under the unwatched directory")
    acts = sorted(action(e) for e in file_events(evs, pid=r2.pid) if action(e) not in ("open", "close"))
    expect_eq(acts, sorted(["rename", "chmod", "chown", "truncate", "truncate", "chmod", "unlink", "unlink"]),
              "changes in the watched directory", file_events(evs, pid=r2.pid))
