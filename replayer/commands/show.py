"""`o2replay show CASSETTE`: list a cassette's interactions, or inspect one, without reading YAML.

Read-only: the file is parsed directly (no ``.o2replay-cache/`` is written). Line numbers come from
the same locator that places diff findings (``replayer.cassettes.locate.LineIndex``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from replayer.cassettes.model import Headers, Interaction, header_value
from replayer.cassettes.yaml import parse_cassette
from replayer.cassettes.locate import LineIndex
from replayer.errors import CassetteError, UsageError

__all__ = ["register", "run", "Row", "rows_of", "detail_of"]

_HELP = """\
List the interactions of a cassette (index, kind, method, path, status, body sizes, file:line), or
show one interaction in full (headers and bodies) with --interaction N.

exit codes: 0 shown, 2 bad input (missing or malformed cassette, no such interaction)

examples:
  o2replay show cassettes/reference/inventory.yaml
  o2replay show cassettes/reference/inventory.yaml --interaction 3
  o2replay show cassettes/reference/inventory.yaml --format json | jq '.[].path'
"""


def register(subs: Any) -> None:
    """Add the `show` subcommand."""
    p = subs.add_parser("show", help="list or inspect the interactions of a cassette",
                        description=_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("cassette", metavar="CASSETTE", help="a cassette file (vcrpy YAML)")
    p.add_argument("--interaction", "-i", type=int, metavar="N",
                   help="show interaction N (0-based, as listed) in full")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format (default text)")
    p.set_defaults(func=run)


@dataclass(frozen=True, slots=True)
class Row:
    """One interaction as listed."""

    index: int
    kind: str
    method: str
    path: str
    status: int
    request_bytes: int
    response_bytes: int
    line: int | None

    def as_dict(self, file: str) -> dict[str, Any]:
        """The JSON form; ``source`` is ``file:line``."""
        return {"index": self.index, "kind": self.kind, "method": self.method, "path": self.path,
                "status": self.status, "request_bytes": self.request_bytes, "response_bytes": self.response_bytes,
                "source": f"{file}:{self.line}" if self.line else file}


def _target(uri: str) -> str:
    """Path and query of a recorded URI (the host is the same for a whole recording)."""
    rest = uri.split("://", 1)[-1]
    slash = rest.find("/")
    return rest[slash:] if slash >= 0 else "/"


def rows_of(interactions: tuple[Interaction, ...], lines: LineIndex) -> list[Row]:
    """One row per interaction."""
    rows = []
    for i, it in enumerate(interactions):
        span = lines.span(i)
        rows.append(Row(i, it.meta.kind.value, it.request.method, _target(it.request.uri), it.response.status,
                        len(it.request.body), len(it.response.body), span[0] if span else None))
    return rows


def _body(headers: Headers, body: bytes) -> Any:
    """A body for display: JSON parsed, text as text, anything else described."""
    if not body:
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return f"<{len(body)} bytes of {header_value(headers, 'Content-Type') or 'binary data'}>"
    try:
        return json.loads(text)
    except ValueError:
        return text


def detail_of(it: Interaction, row: Row, file: str) -> dict[str, Any]:
    """Everything about one interaction, JSON-ready."""
    meta: dict[str, Any] = {"kind": it.meta.kind.value}
    if it.meta.recorded_at:
        meta["recorded_at"] = it.meta.recorded_at
    if it.meta.duration is not None:
        meta["duration"] = it.meta.duration
    return {
        **row.as_dict(file),
        "request": {"method": it.request.method, "uri": it.request.uri, "headers": it.request.headers,
                    "body": _body(it.request.headers, it.request.body)},
        "response": {"status": it.response.status, "reason": it.response.reason, "headers": it.response.headers,
                     "body": _body(it.response.headers, it.response.body)},
        "meta": meta,
    }


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _size(n: int) -> str:
    return "-" if n == 0 else f"{n} B" if n < 10_000 else f"{n / 1024:.1f} KiB"


def render_list(file: str, metadata: Mapping[str, Any], rows: list[Row]) -> str:
    """The text listing: a head line, the metadata, one aligned line per interaction."""
    out = [f"{file}: {_plural(len(rows), 'interaction')}"]
    out += [f"  {k}: {v}" for k, v in metadata.items() if isinstance(v, (str, int, float))]
    if not rows:
        return "\n".join(out) + "\n"
    # The path goes last: it is the only long column, and nothing after it needs aligning.
    table = [("#", "LINE", "KIND", "METHOD", "STATUS", "REQUEST", "RESPONSE", "PATH")]
    table += [(str(r.index), str(r.line or ""), r.kind, r.method, str(r.status), _size(r.request_bytes),
               _size(r.response_bytes), r.path) for r in rows]
    widths = [max(len(row[c]) for row in table) for c in range(len(table[0]))]
    right = {0, 1, 4, 5, 6}
    for row in table:
        cells = [cell.rjust(w) if c in right else cell.ljust(w) for c, (cell, w) in enumerate(zip(row, widths))]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out) + "\n"


def _text_message(title: str, headers: Headers, body: Any) -> list[str]:
    out = [title]
    out += [f"  {name}: {value}" for name, values in headers.items() for value in values]
    if body is not None:
        text = body if isinstance(body, str) else json.dumps(body, indent=2, ensure_ascii=False)
        out += [""] + [f"  {line}" for line in text.splitlines()]
    return out


def render_detail(d: dict[str, Any]) -> str:
    """The text view of one interaction."""
    req, resp = d["request"], d["response"]
    out = [f"interaction {d['index']} ({d['kind']}) at {d['source']}", ""]
    out += _text_message(f"{req['method']} {req['uri']}", req["headers"], req["body"])
    out += [""] + _text_message(f"{resp['status']} {resp['reason']}".rstrip(), resp["headers"], resp["body"])
    extra = {k: v for k, v in d["meta"].items() if k != "kind"}
    if extra:
        out += [""] + [f"{k}: {v}" for k, v in extra.items()]
    return "\n".join(out) + "\n"


def run(args: argparse.Namespace) -> int:
    """Run `o2replay show`."""
    path = Path(args.cassette)
    if path.is_dir():
        raise UsageError(f"{path} is a directory; show takes one cassette file")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CassetteError(path, "no such file") from None
    except OSError as e:
        raise CassetteError(path, f"cannot read: {e.strerror}") from None
    cassette = parse_cassette(data, path)
    rows = rows_of(cassette.interactions, LineIndex(data.decode("utf-8", errors="replace")))
    file = str(path)
    if args.interaction is None:
        if args.format == "json":
            json.dump([r.as_dict(file) for r in rows], sys.stdout, indent=2, ensure_ascii=False)
            sys.stdout.write("\n")
        else:
            sys.stdout.write(render_list(file, cassette.metadata, rows))
        return 0
    n = args.interaction
    if not 0 <= n < len(rows):
        last = f"0-{len(rows) - 1}" if rows else "none: the cassette is empty"
        raise UsageError(f"--interaction {n}: {file} has {_plural(len(rows), 'interaction')} (valid: {last})")
    detail = detail_of(cassette.interactions[n], rows[n], file)
    if args.format == "json":
        json.dump(detail, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_detail(detail))
    return 0
