"""Run the ```console blocks of a docs page: each ``$ command`` line (with ``\\`` continuations) runs in
bash from a given folder, with the test interpreter's ``bin/`` first on PATH, and its output must be
the lines shown below it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Example:
    """One documented command and the output the page shows for it."""

    command: str
    output: str


def section(doc: str, heading: str) -> str:
    """The text of the section starting at ``heading`` (a whole heading line), up to the next one of its level."""
    text = (ROOT / doc).read_text()
    start = text.index(heading + "\n")
    level = heading.split(" ", 1)[0]
    end = re.compile(rf"^{level} ", re.M).search(text, start + len(heading))
    return text[start:end.start() if end else len(text)]


def console_examples(text: str) -> list[Example]:
    """The ``$`` commands of every ```console block in ``text``."""
    out: list[Example] = []
    for block in re.findall(r"```console\n(.*?)```", text, re.S):
        command: list[str] = []
        output: list[str] = []
        lines = block.splitlines()
        i = 0
        while i < len(lines):
            line = lines[i]
            if line.startswith("$ "):
                if command:
                    out.append(Example(" ".join(command), "\n".join(output)))
                command, output = [line[2:].rstrip("\\").strip()], []
                while lines[i].endswith("\\"):
                    i += 1
                    command.append(lines[i].rstrip("\\").strip())
            else:
                output.append(line)
            i += 1
        if command:
            out.append(Example(" ".join(command), "\n".join(output)))
    return out


def run(example: Example, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run one example through bash (stderr merged, as a terminal shows it)."""
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.run(["bash", "-c", example.command], cwd=cwd, env=env, capture_output=False,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
