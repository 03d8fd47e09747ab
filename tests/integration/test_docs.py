"""The documentation says what the binary does: every command and option of
`custos --help` and `custos COMMAND --help` is in the man pages and the
bash completion, and the reverse; every config key the parser accepts
(the *_keys arrays of user/config/*.c) is in docs/config.md and in
custos.json(5), and the reverse; docs/schema-fields.json (against which
itlib.parse_lines checks every line of every test) is the table of
docs/schema.md, and its examples follow it. And these checks do catch a
page that drifts."""

import glob
import json
import os
import re
import shutil
import subprocess

from itlib import (CUSTOS, PY, ROOT, SCHEMA_FIELDS, Failure, expect, expect_eq, fail, parse_lines,
                   schema_problems)

MAN = os.path.join(ROOT, "man")
COMPLETION = os.path.join(ROOT, "dist", "custos.bash-completion")
CONFIG_REF = os.path.join(ROOT, "docs", "config.md")
CONFIG_MAN = os.path.join(MAN, "custos.json.5")


# ------------------------------------------------------------------ --help


def help_text(*cmd):
    r = subprocess.run([CUSTOS] + list(cmd) + ["--help"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=30)
    expect(r.returncode == 0, "custos %s --help: status %d" % (" ".join(cmd), r.returncode))
    return r.stdout.decode()


def help_section(text, name):
    """The lines of an upper-case section (OPTIONS, COMMANDS) of --help."""
    m = re.search(r"^%s\n(.*?)(?:\n\n|\Z)" % name, text, re.M | re.S)
    return m.group(1).splitlines() if m else []


def help_options(text):
    """{(short or None, long)} of the OPTIONS section."""
    opts = set()
    for line in help_section(text, "OPTIONS"):
        m = re.match(r"^  (?:(-[A-Za-z]), )?(--[a-z][a-z-]*)", line)
        if m:
            opts.add((m.group(1), m.group(2)))
    return opts


def help_commands(text):
    return {line.split()[0] for line in help_section(text, "COMMANDS") if re.match(r"^  [a-z]", line)}


# ---------------------------------------------------------------- man pages


def man_tags(path, section):
    """The tag lines (the line after each .TP) of a section of a man page."""
    with open(path) as f:
        lines = f.read().splitlines()
    tags, inside = [], False
    for i, line in enumerate(lines):
        if line.startswith(".SH "):
            inside = line[4:].strip('"') == section
        elif inside and line.startswith(".TP") and i + 1 < len(lines):
            tags.append(lines[i + 1])
    return tags


def roff_plain(line):
    """A roff line as text: the macro, font escapes and quotes gone, \\- as -."""
    line = re.sub(r"^\.[A-Z]+\s*", "", line)
    line = re.sub(r"\\f[BIRP]", "", line).replace("\\-", "-").replace('"', " ")
    return line


def man_options(path):
    """{(short or None, long)} of the OPTIONS section's tags."""
    opts = set()
    for tag in man_tags(path, "OPTIONS"):
        words = re.findall(r"(?:^|[\s,])(--?[A-Za-z][A-Za-z-]*)", roff_plain(tag))
        shorts = [w for w in words if not w.startswith("--")]
        longs = [w for w in words if w.startswith("--")]
        if len(longs) != 1 or len(shorts) > 1:
            fail("%s: OPTIONS tag %r does not name one long option (and at most one short)" % (path, tag))
        opts.add((shorts[0] if shorts else None, longs[0]))
    return opts


def man_commands(path):
    return {roff_plain(tag).split()[0] for tag in man_tags(path, "COMMANDS")}


def cli_problems(man_dir):
    """What differs between --help and the man pages in man_dir."""
    problems = []
    top = help_text()
    commands = help_commands(top)
    if not commands:
        return ["custos --help lists no COMMANDS"]
    page = os.path.join(man_dir, "custos.8")
    documented = man_commands(page)
    for c in sorted(commands - documented):
        problems.append("command %s of custos --help is not in COMMANDS of custos(8)" % c)
    for c in sorted(documented - commands):
        problems.append("command %s of custos(8) is not in custos --help" % c)
    pairs = [(top, page, "custos")]
    for c in sorted(commands - {"help", "version"}):
        p = os.path.join(man_dir, "custos-%s.8" % c)
        if not os.path.exists(p):
            problems.append("custos %s has no man page custos-%s.8" % (c, c))
            continue
        pairs.append((help_text(c), p, "custos " + c))
    for p in sorted(glob.glob(os.path.join(man_dir, "custos-*.8"))):
        c = os.path.basename(p)[len("custos-"):-2]
        if c not in commands:
            problems.append("%s documents a command custos --help does not have" % os.path.basename(p))
    for text, p, what in pairs:
        in_help, in_man = help_options(text), man_options(p)
        if not in_help:
            problems.append("%s --help lists no OPTIONS" % what)
        for o in sorted(in_help - in_man, key=str):
            problems.append("%s --help has %s, %s does not" % (what, ", ".join(filter(None, o)),
                                                               os.path.basename(p)))
        for o in sorted(in_man - in_help, key=str):
            problems.append("%s documents %s, %s --help does not have it" % (
                os.path.basename(p), ", ".join(filter(None, o)), what))
    return problems


def test_docs_help_and_man_pages(t):
    """Every command of custos --help is in custos(8) and has its page
    custos-COMMAND(8) (help and version are in custos(8)), and the reverse;
    every option of each --help is in that page's OPTIONS, with the same
    short form, and the reverse."""
    problems = cli_problems(MAN)
    expect(not problems, "the man pages and --help differ:\n" + "\n".join(problems))


def test_docs_detect_drift(t):
    """The comparison above fails when a man page loses an option or gains
    one --help lacks: it is checked on a copy of the pages with --json
    removed from custos-check(8) and a --bogus option added to
    custos-run(8)."""
    copy = t.path("man")
    shutil.copytree(MAN, copy)
    with open(os.path.join(copy, "custos-check.8")) as f:
        text = f.read()
    cut = re.sub(r"\.TP\n\.BR \\-j \", \" \\-\\-json\n", "", text)
    expect(cut != text, "custos-check.8 has no .TP for -j, --json to remove")
    with open(os.path.join(copy, "custos-check.8"), "w") as f:
        f.write(cut)
    with open(os.path.join(copy, "custos-run.8"), "a") as f:
        f.write(".SH OPTIONS\n.TP\n.B \\-\\-bogus\nNot an option.\n")
    problems = cli_problems(copy)
    expect(any("custos check --help has -j, --json" in p for p in problems),
           "a man page without --json went unnoticed:\n" + "\n".join(problems))
    expect(any("documents --bogus" in p for p in problems),
           "a man page with an option the binary lacks went unnoticed:\n" + "\n".join(problems))


# ----------------------------------------------------------- bash completion


def complete(*words):
    """What the bash completion offers for the command line words (the last
    is the word being completed)."""
    script = 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _custos; ' \
             'printf "%s\\n" "${COMPREPLY[@]}"'
    r = subprocess.run(["bash", "--norc", "-c", script, "bash", COMPLETION] + list(words),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    expect(r.returncode == 0 and not r.stderr, "bash completion failed: %r" % r.stderr)
    return set(r.stdout.decode().split())


def flat(opts):
    return {o for pair in opts for o in pair if o}


def test_docs_bash_completion(t):
    """The bash completion offers every command, and for each command every
    option of its --help, and nothing else; `custos help` completes
    commands, `--config` completes file names."""
    top = help_text()
    commands = help_commands(top)
    expect_eq(complete("custos", ""), commands | flat(help_options(top)), "completion of custos")
    for c in sorted(commands - {"help", "version"}):
        expect_eq(complete("custos", c, "-"), flat(help_options(help_text(c))),
                  "completion of custos %s -" % c)
    expect_eq(complete("custos", "help", ""), commands, "completion of custos help")
    d = t.mkdir("cfgs")
    t.write("cfgs/site.json", "{}")
    expect_eq(complete("custos", "check", "--config", d + "/s"), {d + "/site.json"},
              "completion of custos check --config DIR/s")


# ---------------------------------------------------------------- config keys


def parser_keys():
    """Every key the config parser accepts: the *_keys arrays of user/config/*.c."""
    keys = set()
    for path in glob.glob(os.path.join(ROOT, "user", "config", "*.c")):
        with open(path) as f:
            text = f.read()
        for body in re.findall(r"static const char \*const \w+_keys\[\]\s*=\s*\{(.*?)\};", text, re.S):
            keys |= set(re.findall(r'"([^"]+)"', body))
    expect(len(keys) > 10, "found only %s in the *_keys arrays of user/config/*.c" % sorted(keys))
    return keys


def leaf(path):
    return path.split(".")[-1].replace("[]", "")


def reference_keys():
    """The keys of docs/config.md's tables: first column `a.b[].c`."""
    with open(CONFIG_REF) as f:
        paths = re.findall(r"^\| `([a-z_\[\]\.]+)` \|", f.read(), re.M)
    expect(paths, "docs/config.md has no table rows of keys")
    return {leaf(p) for p in paths}, paths


def man_keys():
    keys = set()
    with open(CONFIG_MAN) as f:
        lines = f.read().splitlines()
    for i, line in enumerate(lines[:-1]):
        m = re.match(r"^\.B ([a-z_\[\]\.]+)$", lines[i + 1]) if line.startswith(".TP") else None
        if m:
            keys.add(leaf(m.group(1)))
    return keys


def test_docs_config_keys(t):
    """Every key of the parser's key lists is in docs/config.md and in
    custos.json(5); every key they document is one the parser accepts."""
    keys = parser_keys()
    ref, paths = reference_keys()
    man = man_keys()
    problems = ["key %s is not in docs/config.md" % k for k in sorted(keys - ref)]
    problems += ["docs/config.md documents %s, which the parser does not accept" % k for k in sorted(ref - keys)]
    problems += ["key %s is not in custos.json(5)" % k for k in sorted(keys - man)]
    problems += ["custos.json(5) documents %s, which the parser does not accept" % k for k in sorted(man - keys)]
    expect(not problems, "\n".join(problems))
    expect(len(paths) == len(set(paths)), "docs/config.md documents a key twice: %s" % sorted(paths))


def test_docs_linked(t):
    """README links every page of docs/, and every link to docs/ resolves."""
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    for p in sorted(glob.glob(os.path.join(ROOT, "docs", "*.md"))):
        name = "docs/" + os.path.basename(p)
        expect("(%s" % name in readme, "README.md does not link %s" % name)
    for target in re.findall(r"\]\((docs/[^)#]+)", readme):
        expect(os.path.exists(os.path.join(ROOT, target)), "README.md links %s, which does not exist" % target)


# ------------------------------------------------------------------ schema

SCHEMA_MD = os.path.join(ROOT, "docs", "schema.md")
ENCODE_H = os.path.join(ROOT, "user", "encode", "encode.h")
# Every event.action of the ECS lines: docs/schema.md shows a real one of each.
ACTIONS = ["agent-start", "open", "close", "flush", "mmap", "truncate", "chmod", "chown", "rename", "unlink",
           "connect", "query", "alert", "agent-heartbeat", "agent-reload", "agent-stop", "gap"]


def schema_examples():
    """The ECS lines among the ```json blocks of docs/schema.md."""
    with open(SCHEMA_MD) as f:
        blocks = re.findall(r"```json\n(.*?)\n```", f.read(), re.S)
    lines = []
    for b in blocks:
        try:
            v = json.loads(b)
        except ValueError:
            continue  # a config excerpt
        if isinstance(v, dict) and "@timestamp" in v and "class_uid" not in v:
            lines.append(v)
    return lines


def c_define(name):
    with open(ENCODE_H) as f:
        m = re.search(r"^#define %s\s+(\S+)" % name, f.read(), re.M)
    expect(m, "%s has no #define %s" % (ENCODE_H, name))
    return json.loads(m.group(1))


def test_docs_schema_fields(t):
    """docs/schema-fields.json: one entry per name, each with a JSON type,
    its source (ecs, otel, custos) and a description; its versions are the
    encoder's; docs/schema.md's table of every field is written from it; and
    docs/schema.md shows an example of every event.action, each of which
    follows the list."""
    with open(SCHEMA_FIELDS) as f:
        doc = json.load(f)
    expect_eq(doc["schema_version"], c_define("CUSTOS_SCHEMA_VERSION"), "schema_version of the list")
    expect_eq(doc["ecs_version"], c_define("ECS_VERSION"), "ecs_version of the list")
    names = [e["name"] for e in doc["fields"]]
    expect_eq(sorted(set(n for n in names if names.count(n) > 1)), [], "names listed twice")
    types = {"string", "integer", "number", "boolean", "array", "object", "string|null"}
    for e in doc["fields"]:
        expect(e["type"] in types and e["source"] in ("ecs", "otel", "custos") and e["description"],
               "a bad entry of docs/schema-fields.json", e)
        expect((e["source"] == "custos") == e["name"].startswith("custos."),
               "custos's own fields, and only they, are under custos.", e)
    r = subprocess.run([PY, os.path.join(ROOT, "scripts", "schema_fields.py"), "--check"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    expect(r.returncode == 0, "scripts/schema_fields.py --check: %s" % r.stdout.decode())
    examples = schema_examples()
    for ev in examples:
        expect_eq(schema_problems(ev), [], "docs/schema.md's example of %s" % ev.get("event", {}).get("action"), ev)
    shown = {ev.get("event", {}).get("action") for ev in examples}
    expect_eq(sorted(set(ACTIONS) - shown), [], "event.action without an example in docs/schema.md")


def test_docs_schema_check_catches(t):
    """The check of every line fails on a field the list does not have, on
    one of another JSON type, and on an object where the list has a value,
    naming the field; parse_lines fails such a line; a listed line passes;
    OCSF lines and other JSON are not ECS lines and are left alone."""
    good = {"@timestamp": "2026-12-06T00:00:00.000000000Z", "ecs": {"version": "8.17.0"},
            "event": {"kind": "event", "type": ["access"], "sequence": 1},
            "custos": {"rule": None, "seq": 1, "alert": {"group": [{"name": "user.id", "value": "0"}]}}}
    expect_eq(schema_problems(good), [], "a line of listed fields", good)
    bad = json.loads(json.dumps(good))
    bad["custos"]["alert"]["group"][0]["extra"] = 1
    bad["event"]["sequence"] = "1"
    bad["db"] = {"user": "app"}
    bad["ecs"]["version"] = {"major": 8}
    problems = schema_problems(bad)
    for name in ("custos.alert.group.extra", "event.sequence", "db.user", "ecs.version"):
        expect(any(p.startswith(name + " ") for p in problems), "the check does not name %s" % name, problems)
    expect_eq(len(problems), 4, "problems found", problems)
    try:
        parse_lines((json.dumps(bad) + "\n").encode())
    except Failure as e:
        expect("db.user" in str(e), "parse_lines fails without naming the field: %s" % e)
    else:
        fail("parse_lines took a line with a field docs/schema-fields.json does not list")
    expect_eq(schema_problems({"class_uid": 1001, "@timestamp": 1, "custos": {}, "x": 1}), [], "an OCSF line")
    expect_eq(schema_problems({"ok": True}), [], "other JSON")
