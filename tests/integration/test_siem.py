"""The SIEM content in dist/ against real runs: the Elasticsearch template
is what docs/schema-fields.json makes, and maps every field of a real
stream with a type its values fit; the pipeline, the Splunk searches and
the starter queries name only fields of the schema and rules of the
built-in pack; Splunk's time and host extraction find @timestamp and
host.name on real lines, a file name made to look like a host included."""

import json
import os
import re
import subprocess
import sys

from itlib import CUSTOS, ROOT, expect, expect_eq, fail, get, run
from test_report import record

DIST = os.path.join(ROOT, "dist")
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
FIELD_RE = re.compile(r"(?<![\w.@=\"-])'?((?:user|process|file|custos|db|event|rule|host|agent|threat|ecs|group|"
                      r"source|destination|network|server|client)\.[a-z_][a-z_.]*[a-z_])(?:\{\})?")


def schema_names():
    with open(os.path.join(ROOT, "docs", "schema-fields.json")) as f:
        return {x["name"] for x in json.load(f)["fields"]}


def read(*path):
    with open(os.path.join(DIST, *path)) as f:
        return f.read()


def template_mapping(tmpl, path):
    """The template's mapping of a dotted path, or None; a flattened field covers what is below it."""
    node = {"properties": tmpl["template"]["mappings"]["properties"]}
    for part in path.split("."):
        if node.get("type") == "flattened":
            return node
        node = node.get("properties", {}).get(part)
        if node is None:
            return None
    return node


def leaves(value, path=""):
    """(dotted path, value) of every value that is not an object; array elements one by one."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from leaves(v, path + "." + k if path else k)
    elif isinstance(value, list):
        for v in value:
            yield from leaves(v, path)
    else:
        yield path, value


def fits(mapping, value):
    kind = mapping.get("type", "object")
    if value is None:
        return True
    if kind == "keyword":
        return isinstance(value, str)
    if kind == "date":
        return isinstance(value, str) and bool(RFC3339.match(value))
    if kind == "long":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "double":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    return kind == "flattened"


def real_stream(t):
    """record()'s run (files, dd, an endpoint, sqlite3, a program named with ESC), then a
    run with heartbeats and an alert, and a file whose name looks like a host in JSON."""
    evs, raw, _ = record(t)
    d = t.mkdir("crm2")
    forged = t.write('crm2/x"host":{"name":"forged"}.csv', "data")
    a = t.start_agent({"watch": [{"name": "crm2", "paths": [d]}], "heartbeat_interval": 1,
                       "rules": [{"name": "any-read", "kind": "match", "where": {"rule": "crm2"}}]})
    run(["cat", forged])
    a.wait_for(lambda e: get(e, "event.action", None) == "agent-heartbeat", "a heartbeat")
    evs2 = a.stop()
    expect(any(get(e, "event.kind", None) == "alert" for e in evs2), "the match rule's alert (test set-up)", evs2)
    return evs + evs2, raw + a.raw()


def test_siem_template_maps_a_real_stream(t):
    r = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "siem_content.py"), "--check"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    expect_eq(r.returncode, 0, "scripts/siem_content.py --check: " + r.stdout.decode())
    tmpl = json.loads(read("elasticsearch", "custos-template.json"))
    evs, _ = real_stream(t)
    unmapped, misfit, dates = set(), set(), set()
    for e in evs:
        for path, value in leaves(e):
            m = template_mapping(tmpl, path)
            if m is None:
                unmapped.add(path)
            elif not fits(m, value):
                misfit.add((path, m.get("type"), repr(value)[:60]))
            if isinstance(value, str) and RFC3339.match(value) and (m or {}).get("type") != "date":
                dates.add(path)
    expect_eq(sorted(unmapped), [], "fields of the stream the template does not map")
    expect_eq(sorted(misfit), [], "values that do not fit their mapping (field, type, value)")
    expect_eq(sorted(dates), [], "times mapped as something else than a date")
    # The template can fail: a field it does not know is seen.
    expect(template_mapping(tmpl, "custos.no_such_field") is None, "an unknown field is unmapped")


def test_siem_queries_name_schema_fields_and_builtin_rules(t):
    names = schema_names() | {"event.ingested"}
    texts = {"splunk/savedsearches.conf": read("splunk", "savedsearches.conf"),
             "splunk/props.conf": read("splunk", "props.conf"),
             "elasticsearch/README.md": read("elasticsearch", "README.md"),
             "elasticsearch/custos-pipeline.json": read("elasticsearch", "custos-pipeline.json")}
    seen = set()
    for where, text in texts.items():
        for m in FIELD_RE.finditer(text):
            field = m.group(1)
            seen.add(field)
            if field not in names:
                fail("%s names %s, which is not a field of docs/schema-fields.json" % (where, field))
    expect({"user.audit.name", "custos.io.bytes_read", "db.response.returned_rows", "agent.ephemeral_id",
            "event.sequence", "process.executable", "custos.rule"} <= seen, "the fields the queries need", sorted(seen))
    check = json.loads(run([CUSTOS, "check", "--json"], check=False).out)
    builtin = {r["name"] for r in check["config"]["detection"]}
    for where, text in texts.items():
        for name in re.findall(r'rule\.name(?: IN \(|=)"?([a-z-]+)', text) + \
                re.findall(r'"((?:bulk|new|many|read|copy|db)-[a-z-]+)"', text):
            expect(name in builtin, "%s names the rule %s, not in the built-in pack %s" % (where, name, sorted(builtin)))
    pipeline = json.loads(texts["elasticsearch/custos-pipeline.json"])
    expect_eq([p["set"]["field"] for p in pipeline["processors"]], ["_id", "event.ingested"], "the pipeline's processors")


def conf_value(text, key):
    m = re.search(r"^%s = (.*)$" % re.escape(key), text, re.M)
    return m.group(1) if m else fail("%s not set" % key, text)


def test_siem_splunk_time_and_host_on_real_lines(t):
    props, transforms = read("splunk", "props.conf"), read("splunk", "transforms.conf")
    prefix = re.compile(conf_value(props, "TIME_PREFIX"))
    expect_eq(conf_value(props, "TIME_FORMAT"), "%Y-%m-%dT%H:%M:%S.%9NZ", "TIME_FORMAT")
    when = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z")
    host = re.compile(conf_value(transforms, "REGEX"))
    evs, raw = real_stream(t)
    lines = raw.decode().splitlines()
    expect_eq(len(lines), len(evs), "lines and events (test set-up)")
    expect(any("forged" in get(e, "file.path", "") for e in evs), "the forged name was read (test set-up)")
    for line, e in zip(lines, evs):
        p = prefix.search(line)
        expect(p is not None, "TIME_PREFIX does not match", line[:300])
        ts = when.match(line, p.end())
        expect(ts is not None and ts.group(0) == get(e, "@timestamp"),
               "what follows TIME_PREFIX is not @timestamp in TIME_FORMAT", line[:300])
        expect(len(line) <= int(conf_value(props, "TRUNCATE")), "a line longer than TRUNCATE", line[:300])
        h = host.search(line)
        expect(h is not None and h.group(1) == get(e, "host.name"), "the host transform's match is not host.name",
               line[:300])
