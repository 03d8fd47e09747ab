"""The documentation says what the binary does: every command and option of
`custos --help` and `custos COMMAND --help` is in the man pages and the
bash completion, and the reverse; every config key the parser accepts
(the *_keys arrays of user/config/*.c) is in docs/config.md and in
custos.json(5), and the reverse. And these checks do catch a page that
drifts."""

import glob
import os
import re
import shutil
import subprocess

from itlib import CUSTOS, ROOT, expect, expect_eq, fail

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
