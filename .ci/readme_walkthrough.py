#!/usr/bin/env python3
"""Runs the docs' shell examples against live servers and compares what
they print with the docs, so that the walkthrough never rots.

Usage: readme_walkthrough.py DOC.md [DOC.md ...] NUMBERING_BINARY

The documents are read as one, in the order given.

Every ```sh block of the sections in CHECKED runs, in order, in one bash
session (variables carry over). A block followed at once by a plain or json
block must print exactly that, once ids and times are masked. `cargo run
--release` lines run the given binary instead; one that starts the server
runs it in the background and waits for its port. Ports are moved to free
ones, and each run starts in an empty directory (a fresh SQLite database).
A grpcurl example outside the checked sections fails the check: every one
must be run. Blocks of kubectl or docker commands are left out: CI has no
cluster and no Docker engine (the manifests and the Dockerfile have their own
checks).
"""

import difflib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile

CHECKED = ["Walkthrough with grpcurl", "Authentication", "TLS", "Operating it"]
UNRUNNABLE = ("kubectl ", "docker ")
FENCE = re.compile(r"^```(\w*)\s*$")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
# Page tokens carry an id and a time: opaque, and new at every run.
TOKEN = re.compile(r'"nextPageToken": "[A-Za-z0-9_-]+"')
# Etags hash an id and a time: new at every run.
ETAG = re.compile(r'"etag": "[0-9a-f]{16}"')
# The bulk commands' timings: "in 0.3 s (812 rows/s)".
TIMING = re.compile(r"in \d+\.\d s( \(\d+ rows/s\))?")
PORT = re.compile(r"\b(localhost|127\.0\.0\.1|0\.0\.0\.0):(\d{4,5})\b")
SERVER = re.compile(r"^(\s*(?:\w+=\S+\s+)*)cargo run --release(?! -q)(?: --(.*))?$")
CARGO = re.compile(r"cargo run --release(?: -q)?(?: --)?")


def blocks(readme):
    """(section, lang, text, first line, last line) of every fenced block."""
    section, lang, lines, first, found = None, None, None, 0, []
    for number, line in enumerate(readme.splitlines()):
        if lines is None and line.startswith("## "):
            section = line[3:].strip()
        match = FENCE.match(line)
        if match and lines is None:
            lang, lines, first = match.group(1), [], number
        elif line.strip() == "```" and lines is not None:
            found.append((section, lang, "\n".join(lines), first, number))
            lines = None
        elif lines is not None:
            lines.append(line)
    return found


def steps_of(readme):
    """Each checked sh block, with the output block right after it if any."""
    lines = readme.splitlines()
    found = blocks(readme)
    steps = []
    for i, (section, lang, body, _, last) in enumerate(found):
        if lang != "sh" or body.lstrip().startswith(UNRUNNABLE):
            continue
        if section not in CHECKED:
            if "grpcurl" in body:
                sys.exit(f"README: a grpcurl example in '{section}' is not run; add the section to CHECKED")
            continue
        expected = None
        if i + 1 < len(found) and found[i + 1][1] in ("", "json"):
            between = lines[last + 1 : found[i + 1][3]]
            if not any(line.strip() for line in between):
                expected = found[i + 1][2]
        steps.append((section, body, expected))
    return steps


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def script(steps, ports, workdir):
    """One bash script running every step, each one's output to its file."""
    def move_ports(line):
        return PORT.sub(lambda m: f"{m.group(1)}:{ports.setdefault(m.group(2), free_port())}", line)

    out = [
        "set -u",
        'trap \'kill $(jobs -p) 2>/dev/null; wait\' EXIT',
        f"cd {workdir}",
        "wait_for_port() { for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return; sleep 0.1; done; echo \"no server on port $1\"; }",
    ]
    for i, (_, body, _) in enumerate(steps):
        lines = []
        for line in body.replace("\\\n", " ").splitlines():
            line = move_ports(line)
            server = SERVER.match(line)
            if server:
                args = server.group(2) or ""
                listen = re.search(r"--listen\s+\S*:(\d+)", args)
                port = listen.group(1) if listen else str(ports["50051"])
                lines.append(f'{server.group(1)}"$NUMBERING_BIN"{args} > {workdir}/server-{i}.log 2>&1 &')
                lines.append(f"wait_for_port {port}")
            else:
                lines.append(CARGO.sub('"$NUMBERING_BIN"', line))
        out.append("{\n" + "\n".join(lines) + f"\n}} > {workdir}/step-{i}.out 2>&1")
    return "\n".join(out) + "\n"


class Masker:
    """Replaces times, page tokens, and ids that the commands did not write,
    by stable placeholders: the same id gets the same placeholder everywhere."""

    def __init__(self, known):
        self.known, self.ids = known, {}

    def __call__(self, text):
        text = TOKEN.sub('"nextPageToken": "<token>"', TIME.sub("<time>", text))
        text = ETAG.sub('"etag": "<etag>"', text)
        text = TIMING.sub("in <secs>", text)
        def mask(m):
            if m.group(0) in self.known:
                return m.group(0)
            return self.ids.setdefault(m.group(0), f"<id-{len(self.ids) + 1}>")
        return [line.rstrip() for line in UUID.sub(mask, text).strip().splitlines()]


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: readme_walkthrough.py DOC.md [DOC.md ...] NUMBERING_BINARY")
    paths, binary = sys.argv[1:-1], os.path.abspath(sys.argv[-1])
    readme = "\n".join(open(path, encoding="utf-8").read() for path in paths)
    steps = steps_of(readme)
    ports = {"50051": free_port(), "9090": free_port()}
    workdir = tempfile.mkdtemp(prefix="readme-walkthrough-")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NUMBERING_", "OTEL_")) and k != "DATABASE_URL"}
    env.update(
        NUMBERING_BIN=binary,
        NUMBERING_LISTEN=f"127.0.0.1:{ports['50051']}",
        NUMBERING_METRICS_LISTEN=f"127.0.0.1:{ports['9090']}",
    )
    try:
        subprocess.run(["bash", "-c", script(steps, ports, workdir)], env=env, timeout=300)
        known = set(UUID.findall("\n".join(body for _, body, _ in steps)))
        expected_mask, actual_mask = Masker(known), Masker(known)
        failures = 0
        for i, (section, body, expected) in enumerate(steps):
            actual = open(f"{workdir}/step-{i}.out", encoding="utf-8", errors="replace").read()
            if expected is None:
                continue
            want, got = expected_mask(expected), actual_mask(actual)
            if want != got:
                failures += 1
                print(f"\n--- README ({section}) differs from what this prints:\n{body}\n")
                print("\n".join(difflib.unified_diff(want, got, "README", "server", lineterm="")))
        checked = sum(1 for step in steps if step[2] is not None)
        if failures:
            for log in sorted(f for f in os.listdir(workdir) if f.startswith("server-")):
                print(f"\n--- {log}:\n" + open(os.path.join(workdir, log)).read()[-3000:])
            sys.exit(f"README walkthrough: {failures} of {checked} answers differ")
        print(f"README walkthrough: {len(steps)} examples ran, {checked} answers match")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
