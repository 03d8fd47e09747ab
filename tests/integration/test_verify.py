"""Tamper evidence: the agent seals every line into a hash chain
(custos.chain) with a root-only key, and `custos verify` names the first
record edited, missing, reordered or cut in what it wrote, across rotated
gzip files, and refuses keys others could read."""

import glob
import gzip
import hashlib
import hmac
import json
import os
import re
import subprocess
import time

from itlib import CUSTOS, action, cat, check_seq, expect, expect_eq, fail, file_events, get, one, show

CHAIN_RE = re.compile(rb'"chain":"([0-9a-f]{64})"')


def key_file(t, name="chain.key", data=None, mode=0o600):
    return t.write(name, os.urandom(32) if data is None else data, mode=mode)


def chained(d, key):
    return {"watch": [{"name": "crm", "tags": ["pii"], "paths": [d]}], "chain": {"key_file": key}}


def record(t, reads=("a", "b", "c")):
    """Runs the agent with a chain key while cat reads watched files; returns
    (key file, the lines it wrote (bytes, no newline), {name: path read})."""
    key = key_file(t)
    d = t.mkdir("crm")
    files = {n: t.write("crm/%s.csv" % n, "row of %s\n" % n) for n in reads}
    a = t.start_agent(chained(d, key))
    for f in files.values():
        cat(f)
    evs = a.stop()
    check_seq(evs)
    for f in files.values():
        expect(file_events(evs, path=f, action_="close"), "no close event of %s" % f, evs)
    expect_eq(action(evs[-1]), "agent-stop", "last event")
    return key, a.raw().split(b"\n")[:-1], files


def save(t, name, lines, end=b"\n"):
    p = t.path(name)
    with open(p, "wb") as f:
        f.write(b"\n".join(lines) + end)
    return p


def verify(*args):
    """(exit status, stdout, stderr) of custos verify args."""
    r = subprocess.run([CUSTOS, "verify"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120)
    return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")


def verify_json(*args, rc):
    code, out, err = verify("--json", *args)
    if code != rc:
        fail("custos verify --json %s: exit status %d, expected %d\nstdout: %s\nstderr: %s" % (
            " ".join(args), code, rc, out, err))
    try:
        return json.loads(out)
    except ValueError:
        fail("custos verify --json printed no JSON: %r" % out)


def expect_problem(res, kind, path, line, seq, message):
    p = res.get("problem")
    expect(p, "no problem reported", res)
    expect_eq((p["kind"], p["file"], p["line"], p["seq"], p["message"]), (kind, path, line, seq, message),
              "problem (kind, file, line, seq, message)", res)
    expect_eq(res["intact"], False, "intact", res)


def expect_text(args, rc, *lines):
    """custos verify args exits rc and prints each of lines (a whole line of its output)."""
    code, out, err = verify(*args)
    printed = out.splitlines()
    for want in lines:
        expect(want in printed, "custos verify %s: no line %r in its output\nstdout:\n%s\nstderr:\n%s" % (
            " ".join(args), want, out, err))
    expect_eq(code, rc, "exit status of custos verify %s (stdout: %s, stderr: %s)" % (" ".join(args), out, err))
    return out, err


def seq_of(line):
    return json.loads(line)["custos"]["seq"]


def line_of(lines, path, act):
    """Index of the one line about path with event.action act."""
    found = [i for i, ln in enumerate(lines)
             if json.loads(ln).get("file", {}).get("path") == path and json.loads(ln)["event"]["action"] == act]
    return one(found, "%s line of %s" % (act, path), [json.loads(ln) for ln in lines])


def test_verify_intact(t):
    """Every line carries one chain value, HMAC-SHA-256 over the previous one
    and the line with zeros in its place (recomputed here with Python's
    hmac); custos verify says the stream is intact and counts it."""
    key, lines, files = record(t)
    with open(key, "rb") as f:
        secret = f.read()
    prev = bytes(32)
    for n, line in enumerate(lines, 1):
        values = CHAIN_RE.findall(line)
        expect_eq(line.count(b'"chain":'), 1, "occurrences of \"chain\": in line %d" % n, line.decode())
        expect_eq(len(values), 1, "chain values in line %d" % n, line.decode())
        if seq_of(line) == 1:
            prev = bytes(32)
        zeroed = line.replace(values[0], b"0" * 64)
        mac = hmac.new(secret, prev + zeroed, hashlib.sha256).digest()
        expect_eq(values[0].decode(), mac.hex(), "custos.chain of line %d" % n, line.decode())
        prev = mac
    path = save(t, "events.ndjson", lines)
    n = len(lines)
    res = verify_json("--key", key, path, rc=0)
    expect_eq((res["intact"], res["files"], res["lines"], res["runs"], res["records_verified"],
               res["duplicates_skipped"], res["problem"], res["warnings"]),
              (True, 1, n, 1, n, 0, None, []), "summary", res)
    expect_eq(res["last_run"], {"seq": n, "agent_stop": True, "file": path, "line": n}, "last run", res)
    expect_text(["--key", key, path], 0,
                "OK: files 1, lines %d, runs 1, records verified %d, duplicates skipped 0" % (n, n),
                "last run ends with agent-stop at seq %d" % n)


def test_verify_tampered_records(t):
    """One byte of a path edited, a line deleted, two lines swapped, another
    key: each named with its file, line and seq."""
    key, lines, files = record(t)
    i = line_of(lines, files["b"], "open")
    expect(2 <= i <= len(lines) - 3, "the open of b.csv is not in the middle (line %d of %d)" % (i + 1, len(lines)))
    s = seq_of(lines[i])

    edited = list(lines)
    edited[i] = lines[i].replace(b"/crm/b.csv", b"/crm/x.csv", 1)
    expect(edited[i] != lines[i], "the path of b.csv is not in its line")
    p = save(t, "edited.ndjson", edited)
    expect_problem(verify_json("--key", key, p, rc=1), "edited", p, i + 1, s, "edited (HMAC mismatch)")
    expect_text(["--key", key, p], 1, "%s:%d: seq %d: edited (HMAC mismatch)" % (p, i + 1, s),
                "FAILED: files 1, lines %d, runs 1, records verified %d, duplicates skipped 0" % (i + 1, i))

    p = save(t, "deleted.ndjson", lines[:i] + lines[i + 1:])
    res = verify_json("--key", key, p, rc=1)
    expect_problem(res, "missing", p, i + 1, s + 1, "missing records seq %d..%d" % (s, s))
    expect_eq((res["problem"]["first_missing"], res["problem"]["last_missing"]), (s, s), "missing", res)
    expect_text(["--key", key, p], 1, "%s:%d: seq %d: missing records seq %d..%d" % (p, i + 1, s + 1, s, s))

    swapped = list(lines)
    swapped[i], swapped[i + 1] = lines[i + 1], lines[i]
    p = save(t, "swapped.ndjson", swapped)
    res = verify_json("--key", key, p, rc=1)
    expect_problem(res, "reordered", p, i + 2, s, "reordered or duplicated (seq %d after %d)" % (s, s + 1))
    expect_eq(res["problem"]["after_seq"], s + 1, "after_seq", res)

    other = key_file(t, "other.key")
    p = save(t, "events.ndjson", lines)
    res = verify_json("--key", other, p, rc=1)
    expect_problem(res, "edited", p, 1, 1, "edited (HMAC mismatch), or not sealed with this key")
    expect_eq(res["records_verified"], 0, "records verified", res)


def test_verify_cut_and_repeated(t):
    """The last line cut mid-way is a truncated line; the agent-stop cut off
    is a warning (exit 0); a line delivered twice is skipped and counted."""
    key, lines, files = record(t)
    n = len(lines)

    p = save(t, "truncated.ndjson", lines[:-1] + [lines[-1][:len(lines[-1]) // 2]], end=b"")
    expect_problem(verify_json("--key", key, p, rc=1), "truncated", p, n, None, "truncated line")
    expect_text(["--key", key, p], 1, "%s:%d: truncated line" % (p, n))

    p = save(t, "tail.ndjson", lines[:-1])
    warning = "last run ends without agent-stop at seq %d: cut off, or the agent is still running" % (n - 1)
    res = verify_json("--key", key, p, rc=0)
    expect_eq((res["intact"], res["records_verified"], res["warnings"]), (True, n - 1, [warning]), "result", res)
    expect_eq((res["last_run"]["seq"], res["last_run"]["agent_stop"]), (n - 1, False), "last run", res)
    expect_text(["--key", key, p], 0, "warning: " + warning)

    i = line_of(lines, files["a"], "close")
    p = save(t, "repeated.ndjson", lines + [lines[i]])
    res = verify_json("--key", key, p, rc=0)
    expect_eq((res["intact"], res["lines"], res["records_verified"], res["duplicates_skipped"], res["warnings"]),
              (True, n + 1, n, 1, []), "result", res)
    expect_text(["--key", key, p], 0,
                "OK: files 1, lines %d, runs 1, records verified %d, duplicates skipped 1" % (n + 1, n))

    # Not byte for byte the same: a record again, changed.
    p = save(t, "replayed.ndjson", lines + [lines[i].replace(b'"seq"', b' "seq"', 1)])
    expect_problem(verify_json("--key", key, p, rc=1), "reordered", p, n + 1, seq_of(lines[i]),
                   "reordered or duplicated (seq %d after %d)" % (seq_of(lines[i]), n))


def test_verify_rotated_gzip(t):
    """A stream rotated into three files, the older two gzipped: verified
    oldest first as one stream; in another order it fails where it breaks."""
    key, lines, files = record(t, reads=("a", "b", "c", "d"))
    n = len(lines)
    cut1, cut2 = n // 3, 2 * n // 3
    oldest, older = t.path("events.ndjson.2.gz"), t.path("events.ndjson.1.gz")
    with gzip.open(oldest, "wb") as f:
        f.write(b"".join(ln + b"\n" for ln in lines[:cut1]))
    with gzip.open(older, "wb") as f:
        f.write(b"".join(ln + b"\n" for ln in lines[cut1:cut2]))
    current = save(t, "events.ndjson", lines[cut2:])

    res = verify_json("--key", key, oldest, older, current, rc=0)
    expect_eq((res["intact"], res["files"], res["lines"], res["runs"], res["records_verified"]),
              (True, 3, n, 1, n), "result", res)
    expect_eq((res["last_run"]["file"], res["last_run"]["line"], res["last_run"]["agent_stop"]),
              (current, n - cut2, True), "last run", res)

    res = verify_json("--key", key, older, oldest, current, rc=1)
    expect_problem(res, "missing", older, 1, cut1 + 1,
                   "missing records seq 1..%d (the stream begins inside a run: give its earlier files first, or --partial if they are gone)"
                   % cut1)
    res = verify_json("--key", key, oldest, current, older, rc=1)
    expect_problem(res, "missing", current, 1, cut2 + 1, "missing records seq %d..%d" % (cut1 + 1, cut2))

    # Both gzip files at once on stdin, as two members of one gzip stream.
    r = subprocess.run("cat %s %s | %s verify --key %s - %s" % (oldest, older, CUSTOS, key, current),
                       shell=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    expect(r.returncode == 0 and b"OK: files 2, lines %d, runs 1" % n in r.stdout,
           "verify - (gzip members on stdin): status %d\n%s%s" % (r.returncode, r.stdout.decode(), r.stderr.decode()))


def edit_timestamp(line):
    """line with the last digit of its @timestamp changed: one byte, still JSON."""
    ts = json.loads(line)["@timestamp"].encode()
    expect(ts[-2:-1].isdigit(), "@timestamp %r does not end with a digit before Z" % ts)
    edited = line.replace(b'"@timestamp":"%s"' % ts, b'"@timestamp":"%s%dZ"' % (ts[:-2], (int(ts[-2:-1]) + 1) % 10), 1)
    expect(edited != line and len(edited) == len(line), "no @timestamp edited in %r" % line)
    return edited


def gunzip_lines(path):
    with gzip.open(path, "rb") as f:
        return f.read().split(b"\n")[:-1]


def test_verify_partial_rotation(t):
    """A file output rotating small (rotate_bytes 8192, keep 2) deletes its
    oldest files: what is left begins inside a run. Without --partial verify
    says seq 1.. is missing; with it the rotated files (by name) and the live
    file are intact, the first record named as not checked; a byte edited in
    the middle of the second file is still found, with its file and line."""
    key = key_file(t)
    d = t.mkdir("crm")
    logs = t.mkdir("logs", mode=0o700)
    live = os.path.join(logs, "events.ndjson")
    cfg = chained(d, key)
    cfg["outputs"] = [{"type": "stdout"},
                      {"type": "file", "path": live, "rotate_bytes": 8192, "keep": 2}]
    files = [t.write("crm/r%d.csv" % i, "row %d\n" % i) for i in range(8)]
    a = t.start_agent(cfg)
    for i in range(60):
        cat(files[i % len(files)])
        time.sleep(0.01)  # rotations milliseconds apart: their names sort oldest first
    a.stop()
    rotated = sorted(glob.glob(live + ".*.gz"))
    expect_eq(len(rotated), 2, "rotated files left with keep 2", sorted(os.listdir(logs)))
    stream = rotated + [live]
    parts = [gunzip_lines(p) for p in rotated]
    with open(live, "rb") as f:
        parts.append(f.read().split(b"\n")[:-1])
    lines = [ln for part in parts for ln in part]
    n, s0 = len(lines), seq_of(lines[0])
    expect(s0 > 1, "the oldest rotated file left begins with seq %d: nothing was deleted" % s0)
    expect(len(parts[1]) >= 2, "the second file has %d lines" % len(parts[1]))
    expect_eq(action(json.loads(lines[-1])), "agent-stop", "last line of the live file")

    res = verify_json("--key", key, *stream, rc=1)
    expect_problem(res, "missing", rotated[0], 1, s0,
                   "missing records seq 1..%d (the stream begins inside a run: give its earlier files first, or --partial if they are gone)"
                   % (s0 - 1))
    expect_eq(res["partial_start"], None, "partial_start without --partial", res)

    res = verify_json("--partial", "--key", key, *stream, rc=0)
    expect_eq((res["intact"], res["files"], res["lines"], res["runs"], res["records_verified"], res["problem"],
               res["warnings"]), (True, 3, n, 1, n - 1, None, []), "result with --partial", res)
    expect_eq(res["partial_start"], {"seq": s0, "file": rotated[0], "line": 1}, "partial_start", res)
    expect_eq((res["last_run"]["file"], res["last_run"]["seq"], res["last_run"]["agent_stop"]),
              (live, seq_of(lines[-1]), True), "last run", res)
    started = "started inside a run at seq %d (%s:1): that record's MAC is not checked" % (s0, rotated[0])
    expect_text(["--partial", "--key", key] + stream, 0,
                "OK: files 3, lines %d, runs 1, records verified %d, duplicates skipped 0" % (n, n - 1), started)

    # A byte in the middle of the second file: found there.
    i = len(parts[1]) // 2
    second = os.path.join(t.mkdir("edited"), os.path.basename(rotated[1]))
    with gzip.open(second, "wb") as f:
        f.write(b"".join(ln + b"\n" for ln in parts[1][:i] + [edit_timestamp(parts[1][i])] + parts[1][i + 1:]))
    edited = [rotated[0], second, live]
    res = verify_json("--partial", "--key", key, *edited, rc=1)
    s = seq_of(parts[1][i])
    expect_problem(res, "edited", second, i + 1, s, "edited (HMAC mismatch)")
    expect_eq(res["partial_start"], {"seq": s0, "file": rotated[0], "line": 1}, "partial_start", res)
    expect_text(["--partial", "--key", key] + edited, 1, "%s:%d: seq %d: edited (HMAC mismatch)" % (second, i + 1, s),
                started)

    # The first line itself cannot be checked: an edit there goes unnoticed, as said.
    first = t.path("first.gz")
    with gzip.open(first, "wb") as f:
        f.write(b"".join(ln + b"\n" for ln in [edit_timestamp(parts[0][0])] + parts[0][1:]))
    res = verify_json("--partial", "--key", key, first, rotated[1], live, rc=0)
    expect_eq((res["records_verified"], res["partial_start"]), (n - 1, {"seq": s0, "file": first, "line": 1}),
              "first line edited, with --partial", res)


test_verify_partial_rotation.timeout = 120


def expect_refused_key(t, key, *needles):
    """The agent does not start with this key, and verify refuses it (exit 2),
    both saying why (each of needles)."""
    d = t.mkdir("crm")
    cfg = t.config_file(chained(d, key))
    r = subprocess.run([CUSTOS, "run", "--config", cfg], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL, timeout=60)
    err = r.stderr.decode("utf-8", "replace")
    expect(r.returncode != 0, "the agent ran with key %s\nstderr:\n%s" % (key, err))
    expect_eq(r.stdout, b"", "agent output with a refused key")
    for needle in (key,) + needles:
        expect(needle in err, "the agent's refusal does not say %r:\n%s" % (needle, err))
    events = save(t, "empty.ndjson", [b"{}"])
    code, out, verr = verify("--key", key, events)
    expect_eq(code, 2, "exit status of verify with key %s (stdout: %s, stderr: %s)" % (key, out, verr))
    for needle in (key,) + needles:
        expect(needle in verr, "verify's refusal does not say %r:\n%s" % (needle, verr))
    code, out, verr = verify("--config", cfg, events)
    expect_eq(code, 2, "exit status of verify --config (key %s) (stdout: %s, stderr: %s)" % (key, out, verr))
    expect(key in verr, "verify --config does not name the key:\n%s" % verr)


def test_verify_key_refused(t):
    """A chain key others can read, owned by another user, or too short: the
    agent refuses to start and verify to check, naming file, owner and mode."""
    expect_refused_key(t, key_file(t, "world.key", mode=0o644), "owner root (0), mode 0644")
    expect_refused_key(t, key_file(t, "group.key", mode=0o640), "mode 0640")
    nobody = key_file(t, "nobody.key")
    os.chown(nobody, 65534, 65534)
    expect_refused_key(t, nobody, "not owned by root", "owner nobody (65534), mode 0600")
    short = key_file(t, "short.key", data=os.urandom(16))
    expect_refused_key(t, short, "16 bytes, too short (at least 32)",
                       "head -c 32 /dev/urandom > %s && chmod 600 %s" % (short, short))


def test_verify_config_chain_wrong_type(t):
    """"chain" of the wrong type is refused with file, line and column, by
    the agent and by verify."""
    cfg = t.write("bad.json", '{"watch": [{"name": "crm", "paths": ["%s"]}],\n "chain": "/etc/custos/chain.key"}\n'
                  % t.mkdir("crm"))
    want = '%s:2:11: "chain" must be an object, not a string (expected {"key_file": "/etc/custos/chain.key"})' % cfg
    r = subprocess.run([CUSTOS, "run", "--config", cfg], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL, timeout=60)
    err = r.stderr.decode("utf-8", "replace")
    expect(r.returncode != 0 and want in err, "the agent did not refuse with %r\nstatus %d, stderr:\n%s" % (
        want, r.returncode, err))
    code, out, err = verify("--config", cfg, cfg)
    expect(code == 2 and want in err, "verify did not refuse with %r\nstatus %d, stderr:\n%s" % (want, code, err))
    cfg = t.write("bad2.json", '{"watch": [{"name": "crm", "paths": ["/srv"]}],\n "chain": {"key_file": 1}}\n')
    code, out, err = verify("--config", cfg, cfg)
    want = '%s:2:24: "key_file" of chain must be a string, not a number' % cfg
    expect(code == 2 and want in err, "verify did not refuse with %r\nstatus %d, stderr:\n%s" % (want, code, err))


def test_verify_reload_key(t):
    """SIGHUP with a new key: the chain goes on under it (verify needs both
    keys); SIGHUP with a key others can read is refused and the running key
    kept."""
    key = key_file(t)
    d = t.mkdir("crm")
    f = t.write("crm/a.csv", "abc\n")
    a = t.start_agent(chained(d, key))
    cat(f)
    old = t.path("old.key")
    os.link(key, old)
    new_key = key_file(t, "new.key")
    os.rename(new_key, key)
    reload_ev = a.hup()
    cat(f)
    os.chmod(key, 0o644)
    a.hup(expect_outcome="failure")
    os.chmod(key, 0o600)
    evs = a.stop()
    check_seq(evs)
    expect("chain key %s" % key in a.stderr(), "no word of the refused key on stderr:\n%s" % a.stderr())
    lines = a.raw().split(b"\n")[:-1]
    p = save(t, "events.ndjson", lines)
    res = verify_json("--key", old, "--key", key, p, rc=0)
    expect_eq((res["records_verified"], res["last_run"]["agent_stop"]), (len(lines), True), "result", res)
    s = get(reload_ev, "custos.seq")
    expect_problem(verify_json("--key", old, p, rc=1), "edited", p, s, s, "edited (HMAC mismatch)")


def test_verify_hostile_input(t):
    """Garbage, NUL bytes, invalid UTF-8, a line of 100 MB: a clear problem,
    no crash; unreadable input is exit status 2."""
    key = key_file(t)
    big = t.path("big.bin")
    with open(big, "wb") as f:
        for _ in range(100):
            f.write(os.urandom(1 << 20).replace(b"\n", b" "))
    expect_problem(verify_json("--key", key, big, rc=1), "too_long", big, 1, None, "line longer than 16 MiB")
    p = t.write("nul.ndjson", b'{"custos":\x00{"seq":1}}\n')
    expect_problem(verify_json("--key", key, p, rc=1), "not_json", p, 1, None, "not JSON: a NUL byte (byte 11)")
    p = t.write("latin1.ndjson", b'{"file":{"path":"/srv/caf\xe9"}}\n')
    res = verify_json("--key", key, p, rc=1)
    expect_eq(res["problem"]["kind"], "not_json", "invalid UTF-8", res)
    expect("0xe9" in res["problem"]["message"], "the message names the byte", res)
    p = t.write("garbage.ndjson", os.urandom(1 << 20))
    res = verify_json("--key", key, p, rc=1)
    expect(res["problem"]["kind"] in ("not_json", "truncated"), "garbage: %s" % show(res))
    p = t.write("nochain.ndjson", b'{"custos":{"seq":1}}\n')
    expect_problem(verify_json("--key", key, p, rc=1), "no_chain", p, 1, 1, "no chain field (custos.chain)")
    p = t.write("empty.ndjson", b"")
    res = verify_json("--key", key, p, rc=0)
    expect_eq((res["lines"], res["warnings"]), (0, ["no records"]), "empty stream", res)
    res = verify_json("--key", key, t.workdir, rc=2)
    expect("Is a directory" in res.get("error", ""), "a directory", res)
    res = verify_json("--key", key, t.path("missing.ndjson"), rc=2)
    expect("missing.ndjson: cannot open: No such file or directory" in res.get("error", ""), "missing file", res)
    code, out, err = verify("--key", key)
    expect(code == 2 and "USAGE" in err, "verify without a file: status %d, stderr %s" % (code, err))


test_verify_hostile_input.timeout = 180
