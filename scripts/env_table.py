"""Rewrite the environment-variable table of docs/deploy.md from the option declarations.

    .venv/bin/python scripts/env_table.py          # after adding or changing a serve/record option
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from replayer.cli import build_parser
from replayer.environment import markdown_table

DOC = Path(__file__).resolve().parents[1] / "docs" / "deploy.md"


def main() -> int:
    text = DOC.read_text(encoding="utf-8")
    pattern = re.compile(r"(<!-- env-table:start -->\n).*?(<!-- env-table:end -->)", re.S)
    if not pattern.search(text):
        print(f"{DOC}: no <!-- env-table:start --> / <!-- env-table:end --> markers", file=sys.stderr)
        return 2
    new = pattern.sub(lambda m: m.group(1) + markdown_table(build_parser()) + m.group(2), text)
    if new != text:
        DOC.write_text(new, encoding="utf-8")
        print(f"updated {DOC.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
