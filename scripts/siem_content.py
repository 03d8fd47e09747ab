#!/usr/bin/env python3
"""The Elasticsearch index template in dist/elasticsearch, made from the
schema's machine-readable list (docs/schema-fields.json), so that the
template and the stream cannot drift apart.

  scripts/siem_content.py           rewrite dist/elasticsearch/custos-template.json
  scripts/siem_content.py --check   exit 1 if it is not what the list makes

A field's mapping comes from its JSON type: string -> keyword (date for the
times below), integer -> long, number -> double, boolean -> boolean, object
(a map of counts keyed by names) -> flattened; an array maps as its
elements do: strings (keyword) unless listed below, objects when its
description shows them ("[{...}]"), their members being the list's fields
below it.
"""

import json
import os
import sys

ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
FIELDS = os.environ.get("CUSTOS_SCHEMA_FIELDS") or os.path.join(ROOT, "docs", "schema-fields.json")
TEMPLATE = os.path.join(ROOT, "dist", "elasticsearch", "custos-template.json")

# Strings that are RFC 3339 times.
DATES = {"@timestamp", "event.start", "event.end", "process.start", "custos.egress_after.read_at"}
# Arrays of numbers (the other arrays hold strings or objects).
NUMBER_ARRAYS = {"custos.alert.evidence.seq": "long", "custos.gap.per_cpu": "long"}
# What the ingest pipeline (custos-pipeline.json) adds.
PIPELINE_FIELDS = [{"name": "event.ingested", "type": "string", "description": "when Elasticsearch took it in"}]
DATES.add("event.ingested")
SCALARS = {"string": "keyword", "string|null": "keyword", "integer": "long", "number": "double",
           "boolean": "boolean"}


def mapping_of(field):
    name, kind = field["name"], field["type"]
    if name in DATES:
        return {"type": "date", "format": "strict_date_optional_time_nanos"}
    if kind == "object":
        return {"type": "flattened"}
    if kind == "array":
        if name in NUMBER_ARRAYS:
            return {"type": NUMBER_ARRAYS[name]}
        if "[{" in field["description"]:
            return {"type": "object"}
        return {"type": "keyword"}
    if kind not in SCALARS:
        raise SystemExit("%s: %s has type %r, which this script cannot map" % (FIELDS, name, kind))
    return {"type": SCALARS[kind]}


def properties(fields):
    """The fields' mappings as nested "properties" objects, by the dots of their names."""
    root = {}
    for f in sorted(fields, key=lambda f: f["name"]):
        node = root
        parts = f["name"].split(".")
        for part in parts[:-1]:
            parent = node.setdefault(part, {"properties": {}})
            if "properties" not in parent:  # a field with members: an array of objects
                parent["properties"] = {}
            node = parent["properties"]
        leaf = node.setdefault(parts[-1], {})
        leaf.update(mapping_of(f))
    return root


def template():
    with open(FIELDS) as f:
        schema = json.load(f)
    return {
        "index_patterns": ["logs-custos-*"],
        "data_stream": {},
        "priority": 200,
        "_meta": {"description": "custos events (ECS %s), schema version %d; made by "
                                 "scripts/siem_content.py from docs/schema-fields.json"
                                 % (schema["ecs_version"], schema["schema_version"]),
                  "custos_schema_version": schema["schema_version"]},
        "template": {
            "settings": {"index": {"default_pipeline": "custos"}},
            "mappings": {
                # Fields the schema does not list are kept in _source, not indexed:
                # a new agent's fields do not break an older template.
                "dynamic": False,
                "date_detection": False,
                "properties": properties(schema["fields"] + PIPELINE_FIELDS),
            },
        },
    }


def main(argv):
    text = json.dumps(template(), indent=2, sort_keys=True) + "\n"
    if argv[1:] == ["--check"]:
        with open(TEMPLATE) as f:
            if f.read() != text:
                print("%s is not what docs/schema-fields.json makes: run scripts/siem_content.py"
                      % os.path.relpath(TEMPLATE, ROOT), file=sys.stderr)
                return 1
        return 0
    if argv[1:]:
        print(__doc__, file=sys.stderr)
        return 2
    with open(TEMPLATE, "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
