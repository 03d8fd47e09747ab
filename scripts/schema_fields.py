#!/usr/bin/env python3
"""Writes the table of every field in docs/schema.md ("Every field") from
docs/schema-fields.json, the machine-readable list of the schema that the
integration tests check every line against.

    scripts/schema_fields.py          # rewrites the table in docs/schema.md
    scripts/schema_fields.py --check  # exit 1 if the table is not the list's

tests/integration/test_docs.py runs the check, so the two cannot drift.
"""

import json
import os
import sys

ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
FIELDS = os.path.join(ROOT, "docs", "schema-fields.json")
SCHEMA_MD = os.path.join(ROOT, "docs", "schema.md")
BEGIN = "<!-- every field: written by scripts/schema_fields.py from schema-fields.json -->"
END = "<!-- end of every field -->"


def table(fields):
    rows = ["| field | type | from | meaning |", "|---|---|---|---|"]
    for f in fields:
        rows.append("| `%s` | %s | %s | %s |" % (f["name"], f["type"].replace("|", " or "), f["source"],
                                               f["description"].replace("|", "\\|")))
    return "\n".join(rows)


def main():
    with open(FIELDS) as f:
        fields = json.load(f)["fields"]
    with open(SCHEMA_MD) as f:
        md = f.read()
    start, end = md.find(BEGIN), md.find(END)
    if start < 0 or end < start:
        sys.exit("%s: no %r ... %r" % (SCHEMA_MD, BEGIN, END))
    new = md[:start] + BEGIN + "\n\n" + table(fields) + "\n\n" + md[end:]
    if "--check" in sys.argv[1:]:
        if new != md:
            sys.exit("docs/schema.md's table of every field is not docs/schema-fields.json's: "
                     "run scripts/schema_fields.py")
        return
    with open(SCHEMA_MD, "w") as f:
        f.write(new)


if __name__ == "__main__":
    main()
