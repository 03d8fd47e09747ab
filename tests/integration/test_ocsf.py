"""OCSF outputs ("format": "ocsf"): the real agent writes every event twice,
as ECS to one file and as OCSF to another (and to an http receiver, HEC
framed), while real processes read and change watched files, connect to a
watched loopback endpoint and run SQLite statements. Every OCSF line is
checked against the schema digest ocsf_required.json (derived from the
OCSF schema by scripts/ocsf_required.py: every attribute an OCSF one, of
its JSON type, the required ones there, ids with their captions, class and
category agreeing), and against the ECS line of the same seq, field by
field. Both files verify with the chain key; an edited OCSF line does not.
And a bad "format" is refused with its place in the file."""

import calendar
import json
import os
import re
import subprocess
import time

from itlib import CUSTOS, expect, expect_eq, fail, get, has, py, run, show
from test_config import pos
from test_net import CLIENT, Server, endpoint
from test_outputs import HttpReceiver, epoch, received, wait_until

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "ocsf_required.json")) as f:
    SCHEMA = json.load(f)

SECRET = "ocsf-secret-7@example.com"
SCALARS = {"integer": int, "timestamp": int, "string": str, "boolean": bool, "number": (int, float)}


# ------------------------------------------------------------ the validator


def check_value(line, where, kind, v, problems):
    if kind.endswith("[]"):
        if not isinstance(v, list):
            problems.append("%s: not an array" % where)
            return
        for i, e in enumerate(v):
            check_value(line, "%s[%d]" % (where, i), kind[:-2], e, problems)
        return
    if kind in SCALARS:
        ok = isinstance(v, SCALARS[kind]) and not (kind != "boolean" and isinstance(v, bool))
        if not ok:
            problems.append("%s: %r is not of type %s" % (where, v, kind))
        return
    if kind in ("object", "any"):
        return
    spec = SCHEMA["objects"].get(kind)
    if spec is None:
        problems.append("%s: object %s is not in ocsf_required.json" % (where, kind))
        return
    check_object(line, where, spec, v, problems)


def check_object(line, where, spec, obj, problems):
    """obj against a class or object of the digest; what is wrong goes to problems."""
    if not isinstance(obj, dict):
        problems.append("%s: not an object" % where)
        return
    profiles = get(line, "metadata.profiles", [])
    attrs = spec["attributes"]
    for name in spec["required"]:
        if name not in obj:
            problems.append("%s: required %s missing" % (where, name))
    if "at_least_one" in spec and not any(n in obj for n in spec["at_least_one"]):
        problems.append("%s: none of %s" % (where, spec["at_least_one"]))
    if "just_one" in spec and sum(n in obj for n in spec["just_one"]) != 1:
        problems.append("%s: not just one of %s" % (where, spec["just_one"]))
    for key, v in obj.items():
        at = "%s.%s" % (where, key)
        kind = attrs.get(key)
        if kind is None and key.endswith("_dt") and attrs.get(key[:-3]) == "timestamp":
            # The datetime profile: each timestamp also as an RFC 3339 string.
            if "datetime" not in profiles or not isinstance(v, str):
                problems.append("%s: a datetime without the datetime profile, or not a string" % at)
            continue
        if kind is None:
            problems.append("%s: not an attribute of OCSF %s" % (at, SCHEMA["version"]))
            continue
        profile = spec.get("profiles", {}).get(key)
        if profile and profile not in profiles:
            problems.append("%s: of profile %s, which metadata.profiles does not name" % (at, profile))
        if key == "unmapped":
            continue
        check_value(line, at, kind, v, problems)
        enum = spec.get("enums", {}).get(key)
        if enum is not None and isinstance(v, int):
            caption = enum.get(str(v))
            if caption is None:
                problems.append("%s: %d is not one of %s" % (at, v, sorted(enum, key=int)))
            sibling = spec.get("siblings", {}).get(key)
            if caption and sibling in obj and v != 99 and obj[sibling] != caption:
                problems.append("%s: %s is %r, the caption of %d is %r" % (at, sibling, obj[sibling], v, caption))


def check_ocsf_line(line):
    """Problems of an OCSF event (empty when it is one of the classes it claims)."""
    problems = []
    cls = line.get("class_uid")
    spec = SCHEMA["classes"].get(str(cls))
    if spec is None:
        return ["class_uid %r is not a class custos writes" % cls]
    check_object(line, str(cls), spec, line, problems)
    if line.get("type_uid") != cls * 100 + line.get("activity_id", -1):
        problems.append("type_uid %r is not class_uid * 100 + activity_id" % line.get("type_uid"))
    if line.get("category_uid") != spec["category_uid"]:
        problems.append("category_uid %r, class %d is in category %d" % (
            line.get("category_uid"), cls, spec["category_uid"]))
    if line.get("category_name") != SCHEMA["categories"][str(spec["category_uid"])]:
        problems.append("category_name %r" % line.get("category_name"))
    if line.get("class_name") != spec["caption"]:
        problems.append("class_name %r, not %r" % (line.get("class_name"), spec["caption"]))
    caption = spec["enums"]["activity_id"].get(str(line.get("activity_id")))
    if line.get("type_name") != "%s: %s" % (spec["caption"], caption):
        problems.append("type_name %r" % line.get("type_name"))
    if get(line, "metadata.version", None) != SCHEMA["version"]:
        problems.append("metadata.version %r" % get(line, "metadata.version", None))
    return problems


def test_ocsf_validator_catches(t):
    """The validator fails what is not OCSF: a wrong type, an unknown
    attribute, a missing required one, a caption that does not match its id,
    a profile attribute without its profile, a type_uid that does not add up."""
    good = {"metadata": {"version": SCHEMA["version"], "product": {"name": "custos"}, "profiles": ["host"]},
            "time": 1, "class_uid": 6002, "class_name": "Application Lifecycle", "category_uid": 6,
            "category_name": "Application Activity", "activity_id": 3, "activity_name": "Start",
            "type_uid": 600203, "type_name": "Application Lifecycle: Start", "severity_id": 1,
            "severity": "Informational", "app": {"name": "custos"},
            "device": {"hostname": "h", "type_id": 0}}
    expect_eq(check_ocsf_line(good), [], "problems of a good line")
    bad = [("time", "1"), ("activity_name", "Stop"), ("type_uid", 600204), ("color", "red"),
           ("app", None), ("severity_id", 7), ("category_uid", 1)]
    for key, value in bad:
        line = json.loads(json.dumps(good))
        if value is None:
            del line[key]
        else:
            line[key] = value
        expect(check_ocsf_line(line), "the validator takes %s = %r" % (key, value))
    line = json.loads(json.dumps(good))
    line["metadata"]["profiles"] = []
    expect(check_ocsf_line(line), "the validator takes device without the host profile")
    line = json.loads(json.dumps(good))
    line["device"] = {"type_id": 0}
    expect(check_ocsf_line(line), "the validator takes a device with none of its at_least_one")


# ------------------------------------------------------------ the agent


SQL = """create table customers (id integer primary key, email text);
insert into customers values (1, '%s');
insert into customers values (2, 'b@example.com');
select id, email from customers where email = '%s';
update customers set email = 'x' where id = 2;
delete from customers where id = 2;
""" % (SECRET, SECRET)

# What each class is written for (ECS event.category, or event.action for the agent's own).
CLASS_OF = {"file": 1001, "database": 6005, "network": 4001}


def ocsf_class(ecs):
    if get(ecs, "event.category") in CLASS_OF:
        return CLASS_OF[get(ecs, "event.category")]
    return 6008 if get(ecs, "event.action") == "gap" else 6002


def read_lines(path):
    with open(path, "rb") as f:
        raw = f.read()
    expect(raw.endswith(b"\n"), "%s does not end with a newline" % path)
    return raw, [json.loads(line) for line in raw.split(b"\n")[:-1]]


def same_custos(o, e, what):
    a, b = dict(get(o, "unmapped.custos")), dict(e["custos"])
    expect_eq(sorted(a.pop("escaped", [])), sorted(b.pop("escaped", [])), "%s: escaped fields" % what, o, e)
    # Each line its own chain value (its own stream): both there, verified below.
    chains = (a.pop("chain", ""), b.pop("chain", ""))
    expect(all(re.fullmatch("[0-9a-f]{64}", c) for c in chains), "%s: chain values" % what, chains)
    expect_eq(a, b, "%s: unmapped.custos is the ECS custos" % what, o, e)


def check_twin(o, e):
    """The OCSF line o says what its ECS twin e says."""
    what = "seq %d (%s)" % (get(e, "custos.seq"), get(e, "event.action"))
    expect_eq(o["class_uid"], ocsf_class(e), "%s: class" % what, o)
    expect_eq(get(o, "metadata.sequence"), get(e, "custos.seq"), "%s: metadata.sequence" % what)
    expect_eq(get(o, "metadata.event_code"), get(e, "event.action"), "%s: event_code" % what)
    expect_eq(o["time_dt"], e["@timestamp"], "%s: time_dt" % what)
    expect_eq(o["time"], epoch_ms(e["@timestamp"]), "%s: time (ms)" % what)
    expect_eq(get(o, "device.hostname"), get(e, "host.name"), "%s: host" % what)
    same_custos(o, e, what)
    status = {"success": 1, "failure": 2}.get(get(e, "event.outcome", None), 0)
    if o["class_uid"] != 2004:
        expect_eq(o.get("status_id"), status, "%s: status_id" % what, o)
    if has(e, "error.code"):
        expect_eq(o.get("status_code"), get(e, "error.code"), "%s: status_code" % what, o)
    expect_eq(get(o, "unmapped.agent"), get(e, "agent"), "%s: unmapped.agent" % what, o)
    if get(e, "event.dataset") == "custos.agent":
        # The agent's own events have no actor: their process, the agent, is unmapped.
        expect_eq(get(o, "unmapped.process"), get(e, "process"), "%s: the agent's process" % what, o)
        expect(not has(o, "actor"), "%s: an actor on an agent event" % what, o)
    elif has(e, "process.pid"):
        expect_eq(get(o, "actor.process.pid"), get(e, "process.pid"), "%s: pid" % what, o)
        expect_eq(get(o, "actor.process.uid", None), get(e, "process.entity_id", None), "%s: entity_id" % what, o)
        expect_eq(get(o, "actor.process.parent_process.file.path", None), get(e, "process.parent.executable", None),
                  "%s: parent's executable" % what, o)
        expect_eq(get(o, "actor.process.name"), get(e, "process.name"), "%s: process name" % what, o)
        expect_eq(get(o, "actor.user.uid"), get(e, "user.id"), "%s: user" % what, o)
        expect_eq(get(o, "actor.user.name", None), get(e, "user.name", None), "%s: user name" % what, o)
        expect_eq(get(o, "actor.process.file.path", None), get(e, "process.executable", None),
                  "%s: executable" % what, o)
        expect_eq(get(o, "actor.process.cmd_line", None),
                  " ".join(get(e, "process.args")) if has(e, "process.args") else None, "%s: cmd_line" % what, o)
        expect_eq(get(o, "actor.process.auid", None),
                  int(get(e, "user.audit.id")) if has(e, "user.audit.id") else None, "%s: auid" % what, o)
    if get(e, "event.category") == "file":
        if get(e, "event.action") == "rename":
            expect_eq(get(o, "file_result.path"), get(e, "file.path"), "%s: new path" % what, o)
            expect_eq(get(o, "file.path"), get(e, "custos.rename.from"), "%s: old path" % what, o)
        else:
            expect_eq(get(o, "file.path"), get(e, "file.path"), "%s: path" % what, o)
            expect_eq(get(o, "file.uid", None), get(e, "file.inode", None), "%s: inode" % what, o)
    if get(e, "event.category") == "database":
        expect_eq(get(o, "query_info.query_string", None), get(e, "db.query.text", None),
                  "%s: statement text" % what, o)
        expect_eq(get(o, "database.name", None), get(e, "db.namespace", None), "%s: database" % what, o)
        expect_eq(get(o, "table.name", None), get(e, "db.collection.name", None), "%s: table" % what, o)
        expect_eq(get(o, "unmapped.db.response.returned_rows", None), get(e, "db.response.returned_rows", None),
                  "%s: rows" % what, o)
    if get(e, "event.category") == "network":
        for side, ecs_side in (("src_endpoint", "source"), ("dst_endpoint", "destination")):
            expect_eq(get(o, side, None), get(e, ecs_side, None), "%s: %s" % (what, side), o, e)
        expect_eq(get(o, "connection_info.direction_id"), 1 if get(e, "network.direction") == "ingress" else 2,
                  "%s: direction" % what, o)
        if has(e, "custos.io.bytes_sent"):
            expect_eq(get(o, "traffic.bytes_out"), get(e, "custos.io.bytes_sent"), "%s: bytes out" % what, o)
            expect_eq(get(o, "traffic.bytes_in"), get(e, "custos.io.bytes_received"), "%s: bytes in" % what, o)


def epoch_ms(ts):
    """"2026-11-28T08:09:19.123456789Z" as integer ms since the epoch."""
    return calendar.timegm(time.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S")) * 1000 + int(ts[20:23])


def verify(key, path):
    r = subprocess.run([CUSTOS, "verify", "--json", "--key", key, path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    try:
        return r.returncode, json.loads(r.stdout)
    except ValueError:
        fail("custos verify --json %s printed no JSON: %r %r" % (path, r.stdout, r.stderr))


def test_ocsf_output_twin_of_ecs(t):
    """Two file outputs, ECS and OCSF (and stdout, and OCSF over http with
    HEC framing), a chain key: cat reads a watched file, python writes one,
    chmods, renames and unlinks it, nobody is refused one; a client connects
    to a watched loopback endpoint and exchanges 1024/500 bytes; sqlite3
    runs statements on a watched table. The OCSF file has the same seqs, each
    line a valid OCSF event of its class that says what its ECS twin says;
    the secret literal is in neither; both files verify intact, and an edited
    OCSF line is found."""
    crm = t.mkdir("crm")
    data = t.write("crm/a.csv", b"0123456789" * 41)
    private = t.write("crm/private.csv", b"p", mode=0o600)
    key = t.write("chain.key", os.urandom(32), mode=0o600)
    ecs_path, ocsf_path = t.path("ecs.ndjson"), t.path("ocsf.ndjson")
    recv = HttpReceiver(t).start()
    srv = Server().start()
    db = t.path("crm.db")
    cfg = {"watch": [{"name": "crm", "tags": ["pii"], "paths": [crm]}],
           "endpoints": [endpoint("crm-api", "127.0.0.1", srv.port)],
           "databases": {"tables": ["customers"]},
           "heartbeat_interval": 0,
           "chain": {"key_file": key},
           "outputs": [{"type": "stdout"},
                       {"type": "file", "path": ecs_path},
                       {"type": "file", "path": ocsf_path, "format": "ocsf"},
                       {"type": "http", "url": recv.url(), "format": "ocsf", "framing": "hec"}]}
    a = t.start_agent(cfg)
    r_cat = run(["cat", data])
    r_py = py("import os, sys\n"
              "p = sys.argv[1] + '/b.csv'\n"
              "with open(p, 'w') as f: f.write('x' * 100)\n"
              "os.chmod(p, 0o640)\n"
              "os.rename(p, p + '.old')\n"
              "os.unlink(p + '.old')\n", crm)
    r_denied = run(["runuser", "-u", "nobody", "--", "cat", private], check=False)
    expect(r_denied.rc != 0, "nobody read a 0600 file of root", repr(r_denied))
    r_net = py(CLIENT, "127.0.0.1", str(srv.port), "tcp", "block")
    srv.close()
    r_sql = run(["sqlite3", db], stdin=SQL.encode())
    evs = a.stop()

    raw_ecs, ecs = read_lines(ecs_path)
    raw_ocsf, ocsf = read_lines(ocsf_path)
    expect_eq([get(e, "custos.seq") for e in ecs], [get(e, "custos.seq") for e in evs], "ECS file and stdout")
    expect_eq([get(o, "metadata.sequence") for o in ocsf], [get(e, "custos.seq") for e in ecs],
              "seqs of the OCSF file, line by line those of the ECS file")
    for o, e in zip(ocsf, ecs):
        problems = check_ocsf_line(o)
        if problems:
            fail("seq %s is not valid OCSF %s:\n  %s" % (get(e, "custos.seq"), SCHEMA["version"],
                                                         "\n  ".join(problems)), o)
        check_twin(o, e)
    for raw in (raw_ecs, raw_ocsf):
        expect(SECRET.encode() not in raw, "the SQL literal was written")

    by_class = {}
    for o in ocsf:
        by_class.setdefault(o["class_uid"], []).append(o)
    expect_eq(sorted(by_class), [1001, 4001, 6002, 6005], "classes written", [o["type_name"] for o in ocsf])

    def mine(cls, pid, act=None):
        return [o for o in by_class[cls] if get(o, "actor.process.pid", None) == pid
                and (act is None or get(o, "metadata.event_code") == act)]

    # cat: an Open and a Close with the bytes it read.
    op = mine(1001, r_cat.pid, "open")
    expect(len(op) == 1 and op[0]["activity_id"] == 14 and get(op[0], "file.path") == data,
           "cat's OCSF open of %s" % data, by_class[1001])
    close = mine(1001, r_cat.pid, "close")
    expect_eq(sum(get(o, "unmapped.custos.io.bytes_read") for o in close), 410, "bytes cat read", close)
    # python: write, chmod (Set Security), rename, unlink (Delete).
    acts = [(o["activity_id"], o["activity_name"]) for o in mine(1001, r_py.pid)]
    for want in ((14, "Open"), (7, "Set Security"), (5, "Rename"), (4, "Delete")):
        expect(want in acts, "python's %s in OCSF" % (want,), acts)
    denied = [o for o in by_class[1001] if get(o, "file.path") == private and o["status_id"] == 2]
    expect(denied and get(denied[0], "status_code") == "EACCES", "the refused open, status EACCES", by_class[1001])
    # The client's connection: Open, then Close with its bytes.
    conn = mine(4001, r_net.pid)
    expect(conn and conn[0]["activity_id"] == 1 and get(conn[0], "dst_endpoint.port") == srv.port,
           "the client's OCSF connect", by_class[4001])
    expect_eq(sum(get(o, "traffic.bytes_out", 0) for o in conn), 1024, "bytes sent", conn)
    expect_eq(sum(get(o, "traffic.bytes_in", 0) for o in conn), 500, "bytes received", conn)
    expect_eq(conn[-1]["activity_name"], "Close", "the connection's last event", conn)
    # sqlite3: each statement, redacted, of its activity.
    stmts = [(get(o, "query_info.query_string", None), o["activity_name"]) for o in mine(6005, r_sql.pid)]
    for want in (("insert into customers values (?, ?);", "Write"),
                 ("select id, email from customers where email = ?;", "Query"),
                 ("update customers set email = ? where id = ?;", "Update"),
                 ("delete from customers where id = ?;", "Delete")):
        expect(want in stmts, "sqlite3's %r in OCSF" % (want,), stmts)
    sel = [o for o in mine(6005, r_sql.pid) if get(o, "query_info.name", None) == "SELECT"]
    expect(sel and get(sel[0], "database.name") == db and get(sel[0], "unmapped.db.response.returned_rows") == 1,
           "the select's database and rows", sel)
    lifecycle = [o["activity_name"] for o in by_class[6002]]
    expect(lifecycle[0] == "Start" and lifecycle[-1] == "Stop", "agent start and stop", lifecycle)

    # The HEC receiver: the same OCSF events, time from time_dt.
    wait_until(lambda: len(received(recv, "hec", "ocsf hec")) >= len(ocsf), 15, "the hec receiver has them all")
    got = received(recv, "hec", "ocsf hec")
    expect_eq([get(o, "metadata.sequence") for o in got], [get(o, "metadata.sequence") for o in ocsf],
              "events at the hec receiver")
    for r in recv.delivered():
        for line in r["body"].decode().split("\n")[:-1]:
            h = json.loads(line)
            expect(abs(h["time"] - epoch(h["event"]["time_dt"])) < 0.002, "hec time is not time_dt", h)

    # Both streams are chained under the key; an edit of an OCSF line is found.
    for path in (ecs_path, ocsf_path):
        rc, res = verify(key, path)
        expect(rc == 0 and res["intact"] and res["records_verified"] == len(ecs),
               "custos verify %s" % path, res)
    lines = raw_ocsf.split(b"\n")
    n = next(i for i, line in enumerate(lines) if data.encode() in line)
    lines[n] = lines[n].replace(b'"activity_id":14', b'"activity_id":2')
    edited = t.write("edited.ndjson", b"\n".join(lines))
    rc, res = verify(key, edited)
    expect(rc == 1 and get(res, "problem.kind") == "edited" and get(res, "problem.line") == n + 1,
           "custos verify of an edited OCSF line", res)
    print("%d events, %s" % (len(ocsf), ", ".join("%d: %d" % (c, len(v)) for c, v in sorted(by_class.items()))))


# ------------------------------------------------------------ config


BAD_FORMATS = [
    # (text, needle marking where the error is, words the message must have)
    ('{"watch": [{"name": "a", "paths": ["/tmp"]}],\n "outputs": [{"type": "file", "path": "/x",\n'
     '   "format": "xml"}]}\n', '"xml"', ['"format" of outputs[0] (file) is "xml"', '"ecs", "ocsf"']),
    ('{"watch": [{"name": "a", "paths": ["/tmp"]}],\n "outputs": [{"type": "syslog", "url": "udp://h:1",'
     ' "format": "hec"}]}\n', '"hec"', ['"format" of outputs[0] (syslog) is "hec"']),
    ('{"watch": [{"name": "a", "paths": ["/tmp"]}],\n "outputs": [{"type": "http", "url": "http://h/",\n'
     '   "format": "hec", "framing": "bulk"}]}\n', '"hec"', ['a framing, and "framing" is given too']),
    ('{"watch": [{"name": "a", "paths": ["/tmp"]}],\n "outputs": [{"type": "http", "url": "http://h/",\n'
     '   "framing": "ocsf"}]}\n', '"ocsf"', ['"framing" of outputs[0] (http) is "ocsf"', '"ndjson", "hec", "bulk"']),
    ('{"watch": [{"name": "a", "paths": ["/tmp"]}],\n "outputs": [{"type": "file", "path": "/x",\n'
     '   "framing": "hec"}]}\n', '"framing"', ['"framing" does not apply to an output of type "file"']),
]


def test_ocsf_config_errors(t):
    """custos check refuses a bad "format" or "framing" with FILE:LINE:COLUMN
    and what it expected, and takes every good combination."""
    for n, (text, needle, words) in enumerate(BAD_FORMATS):
        path = t.write("bad%d.json" % n, text)
        line, col = pos(text, needle)
        r = subprocess.run([CUSTOS, "check", "--config", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=30)
        err = r.stderr.decode()
        expect_eq(r.returncode, 1, "custos check of %s: exit status" % show(text))
        expect("%s:%d:%d: " % (path, line, col) in err, "the place of the error in %r" % err, text)
        for w in words:
            expect(w in err, "stderr does not say %r: %r" % (w, err))
    good = {"watch": [{"name": "a", "paths": ["/tmp"]}],
            "outputs": [{"type": "stdout", "format": "ocsf"},
                        {"type": "file", "path": "/x/e", "format": "ecs"},
                        {"type": "syslog", "url": "udp://127.0.0.1:1", "format": "ocsf"},
                        {"type": "http", "url": "http://127.0.0.1:9/1", "format": "ocsf", "framing": "hec"},
                        {"type": "http", "url": "http://127.0.0.1:9/2", "format": "bulk"},
                        {"type": "http", "url": "http://127.0.0.1:9/3", "framing": "bulk"}]}
    path = t.write("good.json", json.dumps(good))
    r = subprocess.run([CUSTOS, "check", "--config", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=30)
    expect_eq(r.returncode, 0, "custos check of every good format: %r" % r.stderr)
