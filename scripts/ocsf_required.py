#!/usr/bin/env python3
"""Derives tests/integration/ocsf_required.json, the digest of the OCSF
schema that test_ocsf.py checks the agent's OCSF lines against, from a git
clone of the OCSF schema (github.com/ocsf/ocsf-schema) at a release tag.

    scripts/ocsf_required.py SCHEMA_GIT_DIR [TAG] > tests/integration/ocsf_required.json

For each event class custos writes, and each object found in those lines,
it resolves what the schema server would: the class's parents ("extends"),
the files it includes ("$include": profiles, whose attributes count only when
the event names the profile in metadata.profiles), the attribute's type from
dictionary.json, and the requirement as overridden along the way; and for
objects, their constraints (at_least_one, just_one), inherited unless
redefined. Kept per attribute: its JSON type ("integer", "string",
"boolean", "number", "any", "timestamp" (an integer of ms), an object name,
a trailing "[]" for arrays), whether it is required, the captions of an
enumerated id and the name of its caption attribute (the "sibling").
"""

import json
import subprocess
import sys

# The classes custos writes (docs/schema.md, "OCSF") and the objects in them.
CLASSES = [
    "events/system/file_activity.json",
    "events/application/datastore_activity.json",
    "events/network/network_activity.json",
    "events/findings/detection_finding.json",
    "events/application/application_lifecycle.json",
    "events/application/application_error.json",
]
OBJECTS = [
    "metadata", "product", "extension", "actor", "process", "user", "group", "session",
    "container", "file", "device", "network_endpoint", "network_connection_info",
    "network_traffic", "database", "query_info", "table", "finding_info", "analytic",
    "attack", "tactic", "technique", "related_event",
]
# Extensions custos uses: an object of the extension patches the core object it extends.
EXTENSIONS = ["linux"]

SCALARS = {
    "integer_t": "integer", "long_t": "integer", "port_t": "integer", "timestamp_t": "timestamp",
    "float_t": "number", "boolean_t": "boolean", "json_t": "any", "object": "object",
}


class Schema:
    def __init__(self, git_dir, tag):
        self.git_dir, self.tag = git_dir, tag
        self.dictionary = self.load("dictionary.json")["attributes"]
        self.types = self.load("dictionary.json")["types"]["attributes"]
        self.patches = {}
        for ext in EXTENSIONS:
            for path in self.ls("extensions/%s/objects" % ext):
                obj = self.load(path)
                self.patches.setdefault(obj["extends"], []).append((ext, obj))

    def load(self, path):
        out = subprocess.run(["git", "-C", self.git_dir, "show", "%s:%s" % (self.tag, path)],
                             check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
        return json.loads(out)

    def ls(self, folder):
        out = subprocess.run(["git", "-C", self.git_dir, "ls-tree", "--name-only", self.tag, folder + "/"],
                             check=True, stdout=subprocess.PIPE).stdout.decode()
        return [line for line in out.splitlines() if line.endswith(".json")]

    def json_type(self, name, attr):
        t = attr.get("type") or self.dictionary.get(name, {}).get("type", "string_t")
        if t in SCALARS:
            kind = SCALARS[t]
        elif t.endswith("_t"):
            base = self.types.get(t, {}).get("type", t)
            kind = SCALARS.get(base, "string")
        else:
            kind = t  # an object
        if attr.get("is_array", self.dictionary.get(name, {}).get("is_array")):
            kind += "[]"
        return kind

    def merge(self, into, attrs, profile, folder):
        """Merges the attributes of a file; those of an included profile are tagged with it."""
        for name, attr in attrs.items():
            if name == "$include":
                for inc in attr if isinstance(attr, list) else [attr]:
                    if not inc.startswith(("profiles/", "includes/")):
                        inc = folder + "/" + inc
                    data = self.load(inc)
                    tag = data["name"] if data.get("meta") == "profile" else profile
                    self.merge(into, data.get("attributes", {}), tag, folder)
                continue
            cur = dict(into.get(name, {}))
            had = name in into
            enum = dict(cur.get("enum") or self.dictionary.get(name, {}).get("enum") or {})
            cur.update(attr)
            if "enum" in attr:  # enumerations add to what the parent and dictionary define
                cur["enum"] = dict(enum, **attr["enum"])
            if profile and not had:
                cur["profile"] = profile
            elif "profile" in attr and attr["profile"] is None:
                cur.pop("profile", None)
            into[name] = cur

    def resolve(self, data, find_parent):
        if data.get("extends") and data["extends"] not in ("object",):
            parent = find_parent(data["extends"])
            attrs = {k: dict(v) for k, v in parent["attrs"].items()}
            constraints = parent["constraints"]
        else:
            attrs, constraints = {}, {}
        self.merge(attrs, data.get("attributes", {}), None, "")
        if "constraints" in data:
            constraints = data["constraints"]
        return {"attrs": attrs, "constraints": constraints}

    def obj(self, name, cache={}):
        if name not in cache:
            data = self.load("objects/%s.json" % name)
            res = self.resolve(data, self.obj)
            for ext, patch in self.patches.get(name, []):
                for prof in patch.get("profiles", []):
                    pdata = self.load("extensions/%s/profiles/%s.json" % (ext, prof.split("/")[-1]))
                    for a, v in pdata["attributes"].items():
                        if a not in res["attrs"]:
                            res["attrs"][a] = dict(v, profile=prof)
            cache[name] = res
        return cache[name]

    def event(self, path):
        data = self.load(path)
        if data.get("extends"):
            folder = "events/" + path.split("/")[1]
            cand = [folder + "/" + data["extends"] + ".json", "events/" + data["extends"] + ".json"]
            for c in cand:
                try:
                    parent = self.event(c)
                    break
                except subprocess.CalledProcessError:
                    continue
        else:
            parent = {"attrs": {}, "constraints": {}, "category": None}
        attrs = {k: dict(v) for k, v in parent["attrs"].items()}
        self.merge(attrs, data.get("attributes", {}), None, "")
        return {"attrs": attrs, "constraints": data.get("constraints", parent["constraints"]),
                "category": data.get("category", parent["category"]), "uid": data.get("uid"),
                "caption": data.get("caption"), "name": data.get("name")}

    def digest(self, attrs, constraints):
        out = {"attributes": {}, "required": [], "profiles": {}, "enums": {}, "siblings": {}}
        for name in sorted(attrs):
            attr = attrs[name]
            out["attributes"][name] = self.json_type(name, attr)
            req = attr.get("requirement") or self.dictionary.get(name, {}).get("requirement")
            if req == "required" and not attr.get("profile"):
                out["required"].append(name)
            if attr.get("profile"):
                out["profiles"][name] = attr["profile"]
            enum = attr.get("enum") or self.dictionary.get(name, {}).get("enum")
            if enum and name.endswith("_id"):
                out["enums"][name] = {k: v.get("caption") for k, v in enum.items()}
            sibling = attr.get("sibling") or self.dictionary.get(name, {}).get("sibling")
            if sibling:
                out["siblings"][name] = sibling
        for kind in ("at_least_one", "just_one"):
            if constraints.get(kind):
                out[kind] = constraints[kind]
        for key in ("profiles", "enums", "siblings"):
            if not out[key]:
                del out[key]
        return out


def main():
    git_dir = sys.argv[1]
    tag = sys.argv[2] if len(sys.argv) > 2 else "1.8.0"
    s = Schema(git_dir, tag)
    cats = s.load("categories.json")["attributes"]
    version = s.load("version.json")["version"]
    out = {
        "_about": ("The OCSF %s schema as custos's OCSF lines use it: derived by scripts/ocsf_required.py "
                   "from github.com/ocsf/ocsf-schema at tag %s (events/, objects/, profiles/, "
                   "extensions/linux/, dictionary.json, categories.json). Per class and object: every "
                   "attribute's JSON type, the required ones, enumerated ids with their captions, "
                   "profile attributes (valid when metadata.profiles names the profile) and "
                   "constraints. Types: integer, string, boolean, number, any, timestamp (integer ms), "
                   "an object name; [] for arrays." % (version, tag)),
        "version": version,
        "categories": {str(v["uid"]): v["caption"] for v in cats.values()},
        "classes": {},
        "objects": {},
    }
    for path in CLASSES:
        ev = s.event(path)
        cat = cats[ev["category"]]["uid"]
        uid = cat * 1000 + ev["uid"]
        d = s.digest(ev["attrs"], ev["constraints"])
        out["classes"][str(uid)] = dict({"caption": ev["caption"], "category_uid": cat}, **d)
    for name in OBJECTS:
        out["objects"][name] = s.digest(*s.obj(name).values())
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
