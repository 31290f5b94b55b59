"""docs/o2ims-query.md runs as written: its cassette, `o2replay serve` and every curl example with its output.

The server is a real ``o2replay serve`` subprocess on 127.0.0.1 (port 0); curl commands are replayed with
``requests`` (curl itself may be absent), translating the few curl options the document uses.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

DOC = Path(__file__).resolve().parents[2] / "docs" / "o2ims-query.md"
DOC_ORIGIN = "http://127.0.0.1:30205"
PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.S)


@dataclass(frozen=True)
class Example:
    command: str
    expected: str
    line: int


def _files(text: str) -> dict[str, str]:
    return dict(re.findall(r"<!-- save as (\S+) -->\n```\w*\n(.*?)```", text, re.S))


def _examples(text: str) -> Iterator[Example]:
    for block in re.finditer(r"```console\n(.*?)```", text, re.S):
        first_line = text.count("\n", 0, block.start()) + 2
        lines = block.group(1).splitlines()
        i = 0
        while i < len(lines):
            start = i
            command = lines[i][2:]
            while command.endswith("\\"):
                i += 1
                command = command[:-1] + lines[i].strip()
            i += 1
            out: list[str] = []
            while i < len(lines) and not lines[i].startswith("$ "):
                out.append(lines[i])
                i += 1
            yield Example(command, "\n".join(out), first_line + start)


TEXT = DOC.read_text(encoding="utf-8")
EXAMPLES = list(_examples(TEXT))
CURLS = [e for e in EXAMPLES if e.command.startswith("curl ")]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("o2ims-query-doc")
    for name, content in _files(TEXT).items():
        (workdir / name).write_text(content, encoding="utf-8")
    (serve,) = [e for e in EXAMPLES if e.command.startswith("o2replay serve")]
    argv = [sys.executable, "-m", "replayer", *shlex.split(serve.command)[1:], "--port", "0"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(argv, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        yield _wait_for_banner(proc)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _wait_for_banner(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # bounded: readline returns at EOF when the process dies
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        found = re.search(r"(http://127\.0\.0\.1:\d+)", line)
        if found and "o2replay serve" in line:
            return found.group(1)
    raise AssertionError("o2replay serve printed no banner:\n" + "".join(seen))


def _request(command: str, origin: str) -> tuple[requests.Response, bool]:
    args = shlex.split(command.replace(DOC_ORIGIN, origin))[1:]
    params: list[tuple[str, str]] = []
    url, include = "", False
    it = iter(args)
    for arg in it:
        if arg == "--data-urlencode":
            name, sep, value = next(it).partition("=")
            params.append((name, value) if sep else (name, ""))
        elif arg == "-i":
            include = True
        elif arg in ("-s", "-G"):
            continue
        elif arg.startswith("-"):
            raise AssertionError(f"curl option {arg} is not understood by this test")
        else:
            url = arg
    response = requests.get(url, params=params or None, timeout=10)
    return response, include


def _check(example: Example, origin: str) -> None:
    response, include = _request(example.command, origin)
    expected = example.expected.replace(DOC_ORIGIN, origin)
    if include:
        head, _, body = expected.partition("\n\n")
        status_line, *header_lines = head.splitlines()
        assert status_line == f"HTTP/1.1 {response.status_code} {response.reason}"
        for header in header_lines:
            name, _, value = header.partition(": ")
            assert response.headers.get(name) == value, name
        if not any(h.lower().startswith("link:") for h in header_lines):
            assert "Link" not in response.headers
        expected = body
    assert json.loads(response.text) == json.loads(expected), response.text


@pytest.mark.parametrize("example", CURLS, ids=[f"line{e.line}" for e in CURLS])
def test_curl_example(server: str, example: Example) -> None:
    _check(example, server)


def test_the_document_has_examples() -> None:
    assert len(CURLS) >= 12
    assert "pools.yaml" in _files(TEXT)


@pytest.mark.parametrize("block", PYTHON_BLOCK.findall(TEXT))
def test_python_example(block: str) -> None:
    exec(compile(block, str(DOC), "exec"), {})  # noqa: S102 (our own documentation)


def test_error_table_matches_the_library() -> None:
    from replayer.o2ims.query import QueryError, parse_query, select

    rows = re.findall(r"^\| `([^`]+)` \| `(.+)` \|$", TEXT, re.M)
    checked = 0
    for request, detail in rows:
        if "=" not in request and "&" not in request:
            continue
        params = [tuple(p.partition("=")[::2]) for p in request.split("&")]
        with pytest.raises(QueryError) as info:
            select([{"name": "x", "extensions": {"site": "edge1"}}], parse_query(params))
        assert str(info.value) == detail
        checked += 1
    assert checked >= 14
