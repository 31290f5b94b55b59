"""``make reference-o2ims``: run pti-o2 seeded with a synthetic profile until Ctrl-C.

    python -m tests.ptio2 [--profile PATH] [--host 127.0.0.1] [--port 0]

Prints the base URL and writes the bearer token to ``<folder>/token`` (and prints it); PTIO2_SOURCE picks the
source (a .tar.gz, a folder, or URL@COMMIT; default: the pinned commit of o-ran-sc/pti-o2 on GitHub).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from replayer.synthetic.model import build_model
from replayer.synthetic.oran_sc import render_oran_sc
from replayer.synthetic.profile import load_profile
from tests.ptio2.harness import HarnessError, start_ptio2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make reference-o2ims", description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default=None, help="synthetic profile to seed (default: edge1-4)")
    parser.add_argument("--host", default="127.0.0.1", help="address of pti-o2's API (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port of pti-o2's API (default: a free one)")
    args = parser.parse_args(argv)
    try:
        model = build_model(load_profile(args.profile))
        with start_ptio2(host=args.host, port=args.port) as ref:
            counts = ref.seed(render_oran_sc(model, ref.base_url))
            token_file = ref.workdir / "token"
            token_file.write_text(ref.token + "\n")
            print(f"pti-o2 O2IMS: {ref.base_url}/o2ims-infrastructureInventory/v1", flush=True)
            print(f"seeded: {counts}", flush=True)
            print(f"token: {token_file}\n  curl -H \"Authorization: Bearer $(cat {token_file})\" "
                  f"{ref.base_url}/o2ims-infrastructureInventory/v1/resourcePools", flush=True)
            print("Ctrl-C stops PostgreSQL, Redis and pti-o2.", flush=True)
            stop = threading.Event()
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda *_: stop.set())
            while not stop.wait(1.0):
                if any(p.poll() is not None for p in ref.procs.values()):
                    print("make reference-o2ims: a server exited; stopping", file=sys.stderr)
                    return 1
        return 0
    except HarnessError as e:
        print(f"make reference-o2ims: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
