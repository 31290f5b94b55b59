"""replayer.fastyaml never disagrees with libyaml: it returns the same value or raises Unsupported.

Every check compares against ``yaml.load(text, CSafeLoader)`` with exact types and key order:
hand-picked snippets, generated documents dumped our way and vcrpy's way, generated cassettes,
randomly mutated cassette text, CRLF copies, and every YAML cassette in the repository.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.bench_load import make_interactions
from replayer.cassettes import fastyaml
from replayer.cassettes.model import Cassette, Interaction, InteractionKind, InteractionMeta, Request, Response, normalise_message
from replayer.cassettes.yaml import dump_cassette, dump_yaml
from replayer.cassettes.fastyaml import Unsupported

REPO = Path(__file__).resolve().parents[2]
#: ``O2REPLAY_FUZZ_EXAMPLES=5000`` for a long run (``make fuzz`` sets it).
EXAMPLES = int(os.environ.get("O2REPLAY_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def shape(value: Any) -> Any:
    """A comparable form keeping exact types, key order and NaN (1 != 1.0 != True here)."""
    if isinstance(value, dict):
        return ("map", [(shape(k), shape(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("seq", [shape(v) for v in value])
    if isinstance(value, float):
        return ("float", "nan" if math.isnan(value) else repr(value))
    return (type(value).__name__, value)


def libyaml(text: str | bytes) -> Any:
    return yaml.load(text, Loader=yaml.CSafeLoader)  # noqa: S506 - a SafeLoader


def agrees(text: str | bytes) -> bool:
    """Assert the fast reader agrees with libyaml; True when it handled the text itself."""
    try:
        expected = libyaml(text)
    except (yaml.YAMLError, ValueError, OverflowError):
        with pytest.raises(Unsupported):
            fastyaml.load(text)
        return False
    try:
        got = fastyaml.load(text)
    except Unsupported:
        return False
    assert shape(got) == shape(expected), text
    return True


# --------------------------------------------------------------------------- hand-picked snippets

HANDLED = [
    "a: 1\n", "a: 1\nb: two\n", "a:\n  b:\n    c: d\n", "a:\n- 1\n- 2\nb: x\n", "a:\n  - 1\n  - 2\n",
    "- a\n- b\n", "- a: 1\n  b: 2\n- c: 3\n", "a: []\nb: {}\n", "a:\nb:\n", "a: ~\nb: null\nc: Null\n",
    "a: yes\nb: No\nc: on\nd: OFF\ne: true\n", "a: 0x1f\nb: 0o17\nc: 017\nd: 1_000\ne: -5\nf: +3\ng: 0b101\n",
    "a: 1.5\nb: 1e3\nc: .inf\nd: -.Inf\ne: .nan\nf: 1.0e+3\ng: 6.8523015e+5\n",
    "a: 2025-11-26\nb: 2025-11-26T01:00:00Z\nc: 2025-11-26 01:00:00.5 +02:00\n",
    "a: '1'\nb: 'it''s'\nc: ''\nd: ' lead'\ne: 'yes'\n",
    'a: "x\\ty\\n\\u00e9\\x41\\U0001F600 \\" \\\\ \\/ \\0 \\e \\N \\_"\nb: ""\n',
    "a: |\n  line1\n  line2\n", "a: |-\n  x\n\n  y\n", "a: |+\n  x\n\n\nb: 1\n", "a: |2\n    lead\n  x\n",
    "a: |2-\n\n  x\n", "- |\n  in a list\n- |-\n  two\n", "- s: |2+\n\n...\n", "a: !!binary |\n  AP/+\n",
    "k: http://x/y?a=b&c=(eq,d,e)#frag\n", "k: a#b\n", "k: Wed, 26 Nov 2025 01:00:00 GMT\n", "k: -x\n",
    "k: a:b\n", "'quoted key': 1\n\"dq key\": 2\n", "200: ok\n1.5: f\nnull: n\n", "a: 1\r\nb: |\r\n  x\r\n",
    "a:\n  b: 1\n\n\n  c: 2\n", "k: x[y]\n", "k: café ☕ \U0001F600\n", "version: 1\ninteractions: []\n",
    "a: 'multi\n  line'\n", "- 'a\n\n\n  b  '\n- c\n", "a: 'x  \n\n   \n  y'\n",
    "a: |\n  tab\there\n", "- - a\n  - b\n- - c\n", "a: '\\'\n", 'a: "x\\\n  y"\n', 'a: "x\\ \n  y"\n',
    'a: "x\\\\\n  y"\n', 'a: "x\\\n\n  y\\u00e9"\n', '- "\\\n  y"\n- "a\n\n\n  b"\n',
]

FALLS_BACK = [
    "a: 1\nb: 2\na: 3\n",  # a duplicate key: libyaml's path refuses it with its line
    "", "# comment\na: 1\n", "a: 1 # comment\n", "a: &x 1\nb: *x\n", "a: [1, 2]\n", "a: {b: 1}\n",
    "a: >\n  folded\n", "a: 'multi\nline'\n", "a: 'x\ty\n  z'\n", "a: \"x\n y\" z\n", "a: plain\n  continued\n",
    "---\na: 1\n", "%YAML 1.1\n---\na: 1\n",
    "a:\n\tb: 1\n", "a: 1", "<<: {a: 1}\n", "a: !!str 1\n", "a: !custom x\n", "? a\n: b\n", "a: 1\n...\nb: 2\n",
    "a: |\n  trailing \n", "a: b: c\n", "a: \x85\n", "\ufeffa: 1\n", "a: 1\rb: 2\n", "a:\n  - x\n  b: y\n",
    "a: -\n", "a: 2025-13-45\n", "a: =\n", "a: x:\n", "a:\n  value on its own line\n",
    "- \n", "  a: 1\n", "a:\n- 1\n b: 2\n", "a: |-\n   \t {\n  }\n",
]


@pytest.mark.parametrize("text", HANDLED)
def test_handled_snippets_match_libyaml(text: str) -> None:
    assert agrees(text), "expected the fast path to handle this"
    assert agrees(text.encode("utf-8"))


@pytest.mark.parametrize("text", FALLS_BACK)
def test_other_yaml_falls_back(text: str) -> None:
    assert not agrees(text)


def test_nested_compact_sequences_match_when_handled() -> None:
    for text in ["- - a\n", "a:\n-\n  b: 1\n", "-\n  - x\n", "- a:\n  - 1\n  b: 2\n"]:
        agrees(text)


# --------------------------------------------------------------------------- generated documents

AWKWARD = st.sampled_from([
    "", " ", "null", "Null", "~", "yes", "no", "on", "off", "true", "y", "n", "1", "-1", "0x1f", "1e3", "1.5",
    ".inf", ".nan", "1_000", "0o7", "2025-11-26", "2025-11-26T01:00:00Z", "12:30:00", "1:20", "<<", "=", "-",
    "- a", "? x", ": y", "a: b", "a #b", "#x", "x#", "'q'", '"dq"', "it's", "|", ">", "|-", "!tag", "&a", "*a",
    "%x", "@x", "`x`", "[a]", "{a}", "a, b", "...", "---", " lead", "trail ", "\t", "a\tb", "\n", "a\n", "\na",
    "a\n\n", "a\n  b\n", " a\nb", "x\r\ny", "\r", "é", "☕", "\U0001F600", "\x85", "\u2028", "\ufeff", "\x00",
    "\x7f", "a" * 5000, ("word " * 1000).strip(), "{\n  \"a\": [\n    1\n  ]\n}", "a\\b", "\\n",
])
TEXT = st.one_of(AWKWARD, st.text(max_size=60),
                 st.text(alphabet=" \n\t#:-'\"|>!&*%@`,[]{}?~ab01.\\é", max_size=40))
SCALAR = st.one_of(TEXT, st.integers(), st.floats(allow_nan=True), st.booleans(), st.none(), st.binary(max_size=40))
KEY = st.one_of(TEXT, st.integers(min_value=-10**6, max_value=10**6), st.booleans())
DOC = st.recursive(SCALAR, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                   st.dictionaries(KEY, inner, max_size=4)), max_leaves=20)


@FUZZ
@given(DOC)
def test_documents_dumped_our_way(doc: Any) -> None:
    agrees(dump_yaml({"doc": doc}))


@FUZZ
@given(DOC)
def test_documents_dumped_vcrpy_way(doc: Any) -> None:
    # vcrpy: yaml.dump(data, Dumper=CDumper) with PyYAML's defaults (block style, width 80)
    agrees(yaml.dump({"doc": doc}, Dumper=yaml.CSafeDumper))


@FUZZ
@given(DOC)
def test_documents_with_crlf_line_ends(doc: Any) -> None:
    agrees(dump_yaml([doc]).replace("\n", "\r\n"))


# --------------------------------------------------------------------------- cassettes

SAMPLE = dump_cassette(Cassette(tuple(make_interactions(40)), {"upstream": "https://o2ims.example", "n": 1}))


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3), max_leaves=12)


@st.composite
def awkward_interactions(draw: st.DrawFn) -> Interaction:
    headers = draw(st.dictionaries(st.text(alphabet="abcXYZ-_", min_size=1, max_size=8),
                                   st.lists(TEXT, min_size=1, max_size=2), max_size=3))
    body = draw(st.one_of(st.binary(max_size=50), TEXT.map(lambda t: t.encode("utf-8", "surrogatepass"))))
    resp_headers, resp_body = {"Content-Type": ["text/plain"]}, body
    if draw(st.booleans()):
        resp_headers, resp_body = normalise_message({"Content-Type": ["application/json"]},
                                                    json.dumps(draw(JSON)).encode())
    meta = draw(st.sampled_from([InteractionMeta(), InteractionMeta(InteractionKind.NOTIFICATION, "2025-11-26", 1.5)]))
    return Interaction(Request(draw(st.sampled_from(["GET", "POST"])), "http://h/" + draw(TEXT), headers, body),
                       Response(draw(st.integers(100, 599)), draw(TEXT), resp_headers, resp_body), meta)


@FUZZ
@given(st.lists(awkward_interactions(), max_size=4), st.dictionaries(TEXT, TEXT, max_size=2))
def test_awkward_cassettes(items: list[Interaction], metadata: dict[str, str]) -> None:
    agrees(dump_cassette(Cassette(tuple(items), metadata)))


def test_realistic_cassettes_take_the_fast_path() -> None:
    assert agrees(SAMPLE)
    assert agrees(SAMPLE.encode("utf-8"))
    assert agrees(SAMPLE.replace("\n", "\r\n"))


EDIT = st.tuples(st.integers(min_value=0, max_value=len(SAMPLE)), st.integers(min_value=0, max_value=3),
                 st.sampled_from([" ", "  ", "\n", "\t", "#", ":", ": ", "- ", "-", "'", '"', "|", "|-", "x", "\\",
                                  "!!binary ", "&", "[", "{}", "...", "\r", "~", "1", "\\\n", '"\n', "'\n", ""]))


@settings(max_examples=EXAMPLES * 3, deadline=None, database=None)
@given(st.lists(EDIT, min_size=1, max_size=3))
def test_mutated_cassettes(edits: list[tuple[int, int, str]]) -> None:
    """Random edits of a real cassette: the fast reader agrees with libyaml or steps aside."""
    text = SAMPLE
    for at, drop, insert in edits:
        at = min(at, len(text))
        text = text[:at] + insert + text[at + drop:]
    agrees(text)


def _repo_yaml_files() -> list[Path]:
    found = []
    for folder in ("cassettes", "tests"):
        found += [p for p in (REPO / folder).rglob("*.y*ml") if ".o2replay-cache" not in p.parts]
    return sorted(found)


def test_every_yaml_file_in_the_repository() -> None:
    files = _repo_yaml_files()
    assert files, "the broken corpus at least is there"
    for path in files:
        agrees(path.read_bytes())


def test_a_long_quoted_body_is_read_in_linear_memory() -> None:
    """vcrpy's double-quoted bodies: memory in proportion to the text, not ~140 bytes per byte."""
    import tracemalloc

    from bench.bench_fastyaml import make_text

    text = make_text(2_000_000)
    expected = yaml.load(text, Loader=yaml.CSafeLoader)
    tracemalloc.start()
    try:
        loaded = fastyaml.load(text)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert loaded == expected
    # the parsed body and its pieces while joining them: a few times the text, never a hundred
    assert peak < 8 * len(text), f"peak {peak} bytes for a {len(text)}-byte text"
