"""Reading a cassette one interaction at a time, for commands that walk very large files (validate, scan).

A 200k-interaction cassette parsed whole holds every interaction in memory at once (about 1 GB for
57 MB of YAML). Both layouts that write cassettes, ours and vcrpy's, put each interaction in a ``- ``
item at column 0 under a top-level ``interactions:`` key, so the file splits at those lines: each
item is parsed on its own (as a one-interaction cassette) and dropped after use, and the top-level
keys (version, metadata) are parsed once. Errors keep their file line and interaction index.

Anything else (comments or document markers at column 0, an ``interactions:`` that is not a block
list at column 0, a list item outside it) is read whole, with ``parse_cassette``, which also words
any error; the result is the same either way, only the memory differs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from replayer.cassettes.fastyaml import Memo
from replayer.cassettes.model import Cassette, Interaction
from replayer.cassettes.yaml import parse_cassette
from replayer.errors import CassetteError

__all__ = ["Piece", "StreamedCassette", "stream_cassette"]

#: Lines before an item's own first line in the one-interaction text it is parsed as.
_PREFIX = "version: 1\ninteractions:\n"
_PREFIX_LINES = 2
_COLUMN0 = re.compile(rb"^[^ \n\r]", re.M)
_LINE_IN_MESSAGE = re.compile(r"\bline (\d+)")


@dataclass(frozen=True, slots=True)
class Piece:
    """One interaction with its text: ``text`` is a one-interaction cassette whose line ``n`` is file line ``n + offset``."""

    index: int
    interaction: Interaction
    text: str
    offset: int


@dataclass(frozen=True, slots=True)
class StreamedCassette:
    """A cassette's metadata, and its interactions parsed on demand (iterate ``pieces`` once)."""

    path: Path
    metadata: Mapping[str, Any]
    _raw: bytes  # kept as bytes: each item is decoded on its own, so the whole text never exists as str
    _items: tuple[tuple[int, int, int], ...] | None  # (start, end, first line) of each item; None: read whole

    def pieces(self) -> Iterator[Piece]:
        """Each interaction with the text it was read from; CassetteError names file line and index."""
        if self._items is None:
            whole = parse_cassette(self._raw, self.path)
            for index, interaction in enumerate(whole.interactions):
                yield Piece(index, interaction, "", 0)
            return
        memo = Memo()
        for index, (start, end, line) in enumerate(self._items):
            text = _PREFIX + self._raw[start:end].decode("utf-8")  # checked whole in stream_cassette
            offset = line - 1 - _PREFIX_LINES
            try:
                one = parse_cassette(text, self.path, memo=memo)
            except CassetteError as e:
                # "first on line 4", "starts at line 5": lines named inside the message move too
                message = _LINE_IN_MESSAGE.sub(lambda m: f"line {int(m.group(1)) + offset}", e.message)
                raise CassetteError(self.path, message, line=None if e.line is None else e.line + offset,
                                    interaction=None if e.interaction is None else index) from None
            yield Piece(index, one.interactions[0], text, offset)

    @property
    def split(self) -> bool:
        """True when read one interaction at a time; False when the layout made it read whole."""
        return self._items is not None

    def outside_items(self) -> list[tuple[int, str]]:
        """The text before and after the interaction items, each with the file line it starts on."""
        raw = self._raw
        if self._items is None:
            return [(1, raw.decode("utf-8", "replace"))]
        first, last = self._items[0], self._items[-1]
        after_line = last[2] + raw.count(b"\n", last[0], last[1])
        return [(1, raw[:first[0]].decode("utf-8")), (after_line, raw[last[1]:].decode("utf-8"))]

    @property
    def interactions(self) -> Iterator[Interaction]:
        """The interactions, parsed one at a time."""
        return (p.interaction for p in self.pieces())


def stream_cassette(path: str | Path) -> StreamedCassette:
    """Open a cassette for reading one interaction at a time; CassetteError for a file that cannot be read."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise CassetteError(path, "no such file") from None
    except IsADirectoryError:
        raise CassetteError(path, "is a directory, expected a cassette file") from None
    except OSError as e:
        raise CassetteError(path, f"cannot read: {e.strerror}") from None
    try:
        raw.decode("utf-8")  # validity only; the decoded copy is dropped at once
    except UnicodeDecodeError:
        return _whole(path, raw)
    layout = _split(raw)
    if layout is None:
        return _whole(path, raw)
    head, items = layout
    try:
        top = parse_cassette(head, path)
    except CassetteError:
        return _whole(path, raw)  # the whole parse words the error with the file's own lines
    return StreamedCassette(path, top.metadata, raw, items)


def _whole(path: Path, raw: bytes) -> StreamedCassette:
    cassette: Cassette = parse_cassette(raw, path)
    return StreamedCassette(path, cassette.metadata, raw, None)


def _split(raw: bytes) -> tuple[bytes, tuple[tuple[int, int, int], ...]] | None:
    """The top-level keys as a cassette with no interactions, and each item's (start, end, line); None: no split."""
    head: list[bytes] = []
    items: list[tuple[int, int, int]] = []
    section = ""  # "items" while inside the interactions list, "key" inside any other top-level key
    starts = [m.start() for m in _COLUMN0.finditer(raw)] + [len(raw)]
    line, previous = 1, 0
    seen_interactions = False
    for start, end in zip(starts, starts[1:], strict=False):
        line += raw.count(b"\n", previous, start)
        previous = start
        if raw[start:start + 2] in (b"- ", b"-\n"):
            if section != "items":
                return None
            items.append((start, end, line))
            continue
        if raw[start] in b"#%&*!|>'\"[{?-." and not raw.startswith(b"interactions:", start) or \
                raw.startswith((b"---", b"..."), start):
            return None
        chunk = raw[start:end]
        if chunk.startswith(b"interactions:"):
            if seen_interactions or chunk.rstrip() != b"interactions:":
                return None  # a second key, or a value on the same line: read whole
            seen_interactions, section = True, "items"
            head.append(b"interactions: []\n")
            continue
        section = "key"
        head.append(chunk if chunk.endswith(b"\n") else chunk + b"\n")
    if not seen_interactions or not items:
        return None
    return b"".join(head), tuple(items)
