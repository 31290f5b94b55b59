"""mitmproxy addon: record O2IMS traffic into a redacted, vcrpy-compatible cassette.

    mitmdump -s addons/o2ims_recorder.py --mode reverse:https://o2ims.example:443 \
        --set connection_strategy=lazy --set cassette=cassettes/lab.yaml

Options and record modes: docs/recording.md. The addon itself is ``replayer.record.addon``; this file
only makes it loadable from a checkout, even where ``replayer`` is not installed.
"""

from __future__ import annotations

import sys
from pathlib import Path

try:
    from replayer.record.addon import O2IMSRecorder
except ImportError:  # a checkout without `pip install -e .`: use the package beside this folder
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from replayer.record.addon import O2IMSRecorder

addons = [O2IMSRecorder()]
