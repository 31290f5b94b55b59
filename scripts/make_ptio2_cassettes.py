"""Regenerate ``cassettes/reference/o-ran-sc/``: a real O2IMS (pti-o2, the O-RAN SC INF O2 service) recorded.

    make cassettes                      # or: python scripts/make_ptio2_cassettes.py cassettes/reference/o-ran-sc

Starts pti-o2 on loopback (``tests/ptio2/harness.py``; PTIO2_SOURCE picks its source) seeded with the default
edge1-4 profile in its own data model, then records a scripted consumer session (``tests/ptio2/walk.py``)
through ``o2replay record`` with a bearer token, which the recorder redacts:

- ``inventory.yaml``: every inventory route, every page of every resource list, queries and errors
  (unknown ids, a page past the end, bad filters and selectors, a wrong method, no token);
- ``monitoring.yaml``: every monitoring route;
- ``writes.yaml``: subscriptions created (201), created again (409), read, deleted (200, then 404) and an alarm
  acknowledged. pti-o2 gives subscriptions random ids (uuid4) and stamps acknowledgements with the time, so this
  file alone changes from one regeneration to the next.

pti-o2 listens on a fixed port (O2REPLAY_PTIO2_PORT, default 38610), so the recorded URIs, and with them the
first two files, are identical from one regeneration to the next.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from replayer.synthetic.model import build_model  # noqa: E402
from replayer.synthetic.oran_sc import render_oran_sc  # noqa: E402
from replayer.synthetic.profile import load_profile  # noqa: E402
from tests.ptio2 import walk  # noqa: E402
from tests.ptio2.harness import HarnessError, PtiO2, start_ptio2  # noqa: E402
from tests.ptio2.recording import recording  # noqa: E402

PORT = int(os.environ.get("O2REPLAY_PTIO2_PORT", "38610"))
RULES = ROOT / "scripts" / "reference-redact-rules.yaml"

#: cassette name -> the consumer steps recorded into it
CASSETTES: dict[str, tuple[Callable[[walk.Consumer], None], ...]] = {
    "inventory": (walk.inventory, walk.queries, walk.errors),
    "monitoring": (walk.monitoring,),
    "writes": walk.WRITES,
}


def record_all(ref: PtiO2, out: Path, confdir: Path) -> list[Path]:
    """Record every cassette of ``CASSETTES`` from ``ref`` into ``out``; the files written."""
    written = []
    for name, steps in CASSETTES.items():
        cassette = out / f"{name}.yaml"
        with recording(ref.base_url, cassette, confdir, "--redact-rules", str(RULES)) as proxy:
            walk.session(proxy, ref.auth(), steps)
        written.append(cassette)
    return written


def main(argv: list[str]) -> int:
    """Regenerate the pti-o2 cassettes into the folder given (default cassettes/reference/o-ran-sc)."""
    final = Path(argv[0] if argv else ROOT / "cassettes" / "reference" / "o-ran-sc").resolve()
    scratch = Path(tempfile.mkdtemp(prefix="o2replay-ptio2-out-"))
    try:
        with start_ptio2(port=PORT) as ref:
            ref.seed(render_oran_sc(build_model(load_profile()), ref.base_url))
            files = record_all(ref, scratch, scratch / "mitmproxy")
    except HarnessError as e:
        print(f"make_ptio2_cassettes: {e}", file=sys.stderr)
        return 2
    final.mkdir(parents=True, exist_ok=True)
    for f in files:
        shutil.move(str(f), final / f.name)
        print(f"wrote {final / f.name}")
    shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
