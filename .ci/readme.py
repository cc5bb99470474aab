#!/usr/bin/env python3
"""Run the README, not a copy of it.

1. The Quick start's two commands, verbatim, from the first `sh` block under "## Quick start":
   the first (the demo) must exit 0 and its three tables must tell the truth (the first sync
   creates every record; the re-sync costs one request per user and writes nothing; the change
   updates exactly the changed records); the second (the test suite) runs last, so that its
   summary closes the log.
2. Every other `sh` block, in order, from the repository's root, with `bash -e`, except a block
   whose first line is a comment saying it needs Google or is a measurement. `cargo install`
   lines install into a scratch root (debug profile, the workspace's target directory, so nothing
   is compiled twice) that goes first on PATH for the blocks after them.
3. A `cargo run`/`cargo build`/`cargo bench` command quoted in the prose must be one a block
   runs (or sits in a skipped block): a documented command nobody runs rots.

Usage: .ci/readme.py [--no-tests]   (--no-tests: skip the Quick start's second command)
"""

import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")
SKIP = re.compile(r"^#\s*(Needs Google|Measurement)", re.IGNORECASE)


def blocks(text):
    """(heading, info, body) of every fenced block."""
    out, heading, i = [], "", 0
    lines = text.split("\n")
    while i < len(lines):
        line = lines[i]
        if line.startswith("#") and not line.startswith("#!"):
            heading = line.lstrip("#").strip()
        m = re.match(r"^```(\S*)", line)
        if m:
            info, body = m.group(1), []
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            out.append((heading, info, "\n".join(body)))
        i += 1
    return out


def prose(text):
    """The README without its fenced blocks."""
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


def fail(msg):
    print(f"readme: FAILED: {msg}", flush=True)
    sys.exit(1)


def run(cmd, env=None, capture=False, timeout=1800):
    print(f"\n--- README: {cmd}", flush=True)
    r = subprocess.run(
        ["bash", "-e", "-c", cmd],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE if capture else None,
        stderr=None,
        text=True,
        timeout=timeout,
    )
    if capture:
        sys.stdout.write(r.stdout)
        sys.stdout.flush()
    return r


def tables(out):
    """The summary tables of a run's output: a list of (title, {column: total})."""
    found, title, lines = [], "", out.split("\n")
    for i, line in enumerate(lines):
        if re.match(r"^\d+\. ", line):
            title = line
        if not line.startswith("user "):
            continue
        header = line.split()
        rows = []
        for row in lines[i + 1 :]:
            cells = row.split()
            if len(cells) != len(header) or not all(c.isdigit() for c in cells[1:]):
                break
            rows.append(cells)
        total = next((r for r in rows if r[0] == "total"), rows[-1] if rows else None)
        if total is None:
            fail(f"a table with no rows after: {line}")
        found.append(
            (title, len([r for r in rows if r[0] != "total"]), dict(zip(header[1:], map(int, total[1:]))))
        )
    return found


def check_demo(out):
    with open(os.path.join(ROOT, "cli/data/directory.csv"), encoding="utf-8") as f:
        records = sum(1 for l in f if l.strip()) - 1
    with open(os.path.join(ROOT, "cli/data/users.txt"), encoding="utf-8") as f:
        users = sum(1 for l in f if l.strip() and not l.startswith("#"))
    t = tables(out)
    if len(t) != 3:
        fail(f"the demo printed {len(t)} summary tables, not 3")
    (t1, u1, first), (t2, u2, again), (t3, u3, change) = t
    if (u1, u2, u3) != (users, users, users):
        fail(f"the demo's tables have {u1}, {u2}, {u3} user rows, not {users}")
    writes = ("updated", "deleted", "duplicates", "failed", "unknown")
    if first["created"] != records * users or any(first[c] for c in writes):
        fail(f"the first sync must create all {records * users} records and nothing else: {first}")
    if again["requests"] != users or any(again[c] for c in ("created",) + writes):
        fail(f"the re-sync must cost one request per user ({users}) and write nothing: {again}")
    if again["unchanged"] != records * users:
        fail(f"the re-sync must find every record unchanged: {again}")
    m = re.search(r"\((\d+) \w+\)", t3)
    if not m:
        fail(f"the third step does not say how many records change: {t3!r}")
    changed = int(m.group(1))
    if change["updated"] != changed * users or change["created"] or change["deleted"]:
        fail(f"the change must update exactly {changed} records per user: {change}")
    if change["unchanged"] != (records - changed) * users or change["failed"] or change["unknown"]:
        fail(f"the change must leave every other record unchanged: {change}")
    print(
        f"readme: demo checked: created {first['created']}; re-sync {again['requests']} requests, "
        f"0 writes; change updated {change['updated']} of {records * users}",
        flush=True,
    )


def main():
    no_tests = "--no-tests" in sys.argv[1:]
    with open(README, encoding="utf-8") as f:
        text = f.read()
    all_blocks = blocks(text)
    quick = [b for b in all_blocks if b[0] == "Quick start" and b[1] == "sh"]
    if not quick:
        fail("no sh block under '## Quick start'")
    commands = [l for l in quick[0][2].split("\n") if l.strip() and not l.lstrip().startswith("#")]
    if len(commands) != 2:
        fail(f"the Quick start block must hold two commands, not {len(commands)}: {commands}")
    demo_cmd, test_cmd = commands

    # Documented commands in the prose must be run by some block (or sit in a skipped one).
    block_text = "\n".join(b[2] for b in all_blocks if b[1] == "sh")
    for span in re.findall(r"`(cargo (?:run|build|bench)\b[^`]*)`", prose(text).replace("\n", " ")):
        span = re.sub(r"\s+", " ", span).strip()
        if "..." in span or span in ("cargo run", "cargo build", "cargo bench"):
            continue
        if span not in re.sub(r"[ \t]+", " ", block_text):
            fail(f"`{span}` is documented in the prose but no README block runs it")

    r = run(demo_cmd, capture=True)
    if r.returncode != 0:
        fail(f"{demo_cmd!r} exited {r.returncode}")
    check_demo(r.stdout)

    scratch = tempfile.mkdtemp(prefix="readme-ci-")
    env = dict(os.environ)
    env["PATH"] = os.path.join(scratch, "bin") + os.pathsep + env.get("PATH", "")
    env.setdefault("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    ran = skipped = 0
    for heading, info, body in all_blocks:
        if info != "sh" or body is quick[0][2]:
            continue
        first = next((l for l in body.split("\n") if l.strip()), "")
        if SKIP.match(first.strip()):
            print(f"\n--- README ({heading}): not run here: {first.strip()}", flush=True)
            skipped += 1
            continue
        body = re.sub(
            r"cargo install --path (\S+)",
            lambda m: f'cargo install --quiet --locked --debug --root "{scratch}" --path {m.group(1)}',
            body,
        )
        r = run(body, env=env)
        if r.returncode != 0:
            fail(f"a block under '{heading}' exited {r.returncode}")
        ran += 1
    print(f"\nreadme: {ran} blocks run, {skipped} marked as needing Google or as measurements", flush=True)

    if not no_tests:
        r = run(test_cmd, timeout=3600)
        if r.returncode != 0:
            fail(f"{test_cmd!r} exited {r.returncode}")


if __name__ == "__main__":
    main()
