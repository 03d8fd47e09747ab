#!/usr/bin/python3
"""The kernel matrix of scripts/vmtest.sh: reads each kernel's result stream,
prints kernel x test, writes matrix.json, and rewrites the supported-kernels
tables of the docs from it.

    vmtest_matrix.py matrix DIR KERNEL... -- TEST...
    vmtest_matrix.py docs DIR FILE...

A result stream holds "@@kernel RELEASE", `custos check --json` between
"@@check-begin" and "@@check-end RC", and the output of
tests/integration/run.py -v between "@@tests-begin" and "@@tests-end RC".
A cell is "ok", "n/a" (the test needs a capability the agent reported
missing on that kernel, with the reason), or red: "FAIL", or "-" when the
test never ran (the guest died, timed out or could not boot).
"""

import json
import os
import re
import sys

BEGIN = "<!-- kernel-matrix:begin (scripts/vmtest.sh --docs) -->"
END = "<!-- kernel-matrix:end -->"
RED = ("FAIL", "-")


def parse(path):
    """{"release", "check": dict or None, "check_rc", "tests": {name: (cell, detail)}}"""
    r = {"release": None, "check": None, "check_rc": None, "check_error": None, "tests": {}}
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().replace("\r\n", "\n").split("\n")
    except OSError:
        return r
    section, check_text, current, detail = None, [], None, []

    def close_test():
        if current:
            cell = r["tests"][current][0]
            r["tests"][current] = (cell, "\n".join(detail).strip())

    for line in lines:
        if line.startswith("@@kernel "):
            r["release"] = line.split(None, 1)[1].strip()
        elif line == "@@check-begin":
            section = "check"
        elif line.startswith("@@check-end"):
            section = None
            r["check_rc"] = int(line.split()[1]) if len(line.split()) > 1 else None
            text = "\n".join(check_text)
            try:
                r["check"] = json.loads(text[text.index("{"):])
            except ValueError:
                r["check_error"] = text.strip()[-2000:]
        elif line == "@@tests-begin":
            section = "tests"
        elif line.startswith("@@tests-end"):
            close_test()
            current = None
            section = None
        elif section == "check":
            check_text.append(line)
        elif section == "tests":
            m = re.match(r"^(ok  |FAIL|n/a ) (test_\w+)", line)
            if m:
                close_test()
                current, detail = m.group(2), []
                r["tests"][current] = (m.group(1).strip(), "")
            elif current and line.startswith("     "):
                detail.append(line[5:])
    return r


def degraded(check):
    """What runs degraded on that kernel, from its `custos check --json`, in
    short phrases: the object and the helpers it does without, hooks the
    kernel lacks, capabilities served by a fallback of their own or missing."""
    if not check:
        return []
    k = kernel(check)
    out = []
    caps = k.get("capabilities", [])
    for c in caps:
        if c["name"] == "bpf" and c.get("status") != "available":
            lacking = [h["hook"] for h in c.get("hooks", []) if h.get("status") != "available"]
            if "CUSTOS_BPF_OBJECT" in c.get("reason", ""):
                out.append("compat object (CUSTOS_BPF_OBJECT=compat)")
            else:
                out.append("compat object (no %s)" % ", ".join(lacking))
    for c in caps:
        if c["name"] == "bpf":
            continue
        missing = [h["hook"].split("/")[-1] for h in c.get("hooks", []) if h.get("status") == "missing"]
        if c.get("status") == "missing":
            out.append("%s missing: %s" % (c["name"], c.get("reason", "")))
        elif c.get("status") == "fallback" and "(see bpf)" not in c.get("reason", ""):
            out.append("%s: %s" % (c["name"], c.get("reason", "")))
        if missing and c.get("status") != "missing":
            out.append("%s without %s (not in this kernel)" % (c["name"], ", ".join(missing)))
    multi = k.get("features", {}).get("uprobe_multi", {})
    if multi.get("probed") and not multi.get("available"):
        out.append("databases: one uprobe link per probe (no uprobe_multi)")
    return out


def kernel(check):
    return (check or {}).get("kernel") or {}


def matrix(out, kernels, tests):
    names = [t.split(".", 1)[1] for t in tests]
    cols, red = [], False
    for k in kernels:
        r = parse(os.path.join(out, k + ".results"))
        distro = read(os.path.join(out, k + ".distro")) or k
        version = read(os.path.join(out, k + ".version"))
        verdict = kernel(r["check"]).get("verdict")
        check_cell = "ok" if verdict in ("ready", "degraded") and r["check_rc"] in (0, 4) else "FAIL"
        cells = {"check": (check_cell, r["check_error"] or "verdict: %s" % verdict)}
        for n in names:
            cells[n] = r["tests"].get(n, ("-", "did not run"))
        cols.append({"kernel": k, "release": r["release"], "distro": distro, "version": version,
                     "verdict": verdict, "object": kernel(r["check"]).get("object"),
                     "degraded": degraded(r["check"]),
                     "cells": {n: {"result": c[0], "detail": c[1]} for n, c in cells.items()}})
    rows = ["check"] + names
    head = ["test"] + ["%s %s" % (c["kernel"], c["release"] or "?") for c in cols]
    width = [max(len(head[0]), max(len(n) for n in rows))] + [max(len(h), 5) for h in head[1:]]
    print("kernel matrix: ok passed; n/a needs a capability the agent reports missing there; "
          "FAIL or - (did not run) are red")
    print("  ".join(h.ljust(w) for h, w in zip(head, width)))
    for n in rows:
        line = [n.ljust(width[0])]
        for c, w in zip(cols, width[1:]):
            cell = c["cells"][n]["result"]
            red |= cell in RED
            line.append(cell.ljust(w))
        print("  ".join(line).rstrip())
    for c in cols:
        for n in rows:
            cell = c["cells"][n]
            if cell["result"] in RED or cell["result"] == "n/a":
                print("\n%s %s: %s" % (c["kernel"], n, cell["result"]))
                print("\n".join("  " + l for l in (cell["detail"] or "(no output)").splitlines()[:60]))
    with open(os.path.join(out, "matrix.json"), "w") as f:
        json.dump({"tests": rows, "kernels": cols}, f, indent=1)
    cells = [c["cells"][n]["result"] for c in cols for n in rows]
    failed = sum(1 for x in cells if x in RED)
    print("\n%d kernels x %d tests: %s" % (len(cols), len(rows), "RED" if red else "green"))
    print("%d passed, %d failed" % (len(cells) - failed, failed))
    return 1 if red else 0


def read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def docs_table(m):
    lines = ["| kernel | distribution | matrix | degraded here (from `custos check`) |",
             "|---|---|---|---|"]
    for c in m["kernels"]:
        cells = [x["result"] for x in c["cells"].values()]
        ok = sum(1 for x in cells if x == "ok")
        na = sum(1 for x in cells if x == "n/a")
        bad = len(cells) - ok - na
        summary = "%d/%d ok" % (ok, len(cells)) + (", %d n/a" % na if na else "") + \
            (", **%d red**" % bad if bad else "")
        deg = "; ".join(d.replace("|", "\\|") for d in c["degraded"]) or "nothing"
        distro = c["distro"]
        lines.append("| %s | %s | %s | %s |" % (c["release"] or "?", distro, summary, deg))
    return "\n".join(lines)


def docs(out, files):
    with open(os.path.join(out, "matrix.json")) as f:
        m = json.load(f)
    table = docs_table(m)
    for path in files:
        with open(path) as f:
            text = f.read()
        if BEGIN not in text or END not in text:
            print("vmtest: %s has no %s ... %s section" % (path, BEGIN, END), file=sys.stderr)
            return 2
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        with open(path, "w") as f:
            f.write(head + BEGIN + "\n" + table + "\n" + END + tail)
        print("vmtest: rewrote the kernel table of %s" % path)
    return 0


def main(argv):
    if len(argv) >= 3 and argv[1] == "matrix" and "--" in argv:
        i = argv.index("--")
        return matrix(argv[2], argv[3:i], argv[i + 1:])
    if len(argv) >= 4 and argv[1] == "docs":
        return docs(argv[2], argv[3:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
