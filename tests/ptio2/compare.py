"""Comparing two O2IMS answers: what must be equal, and what is normalised before comparing."""

from __future__ import annotations

import json
from typing import Any

from replayer.record.redact import default_rules, redact_json


def parsed(body: bytes) -> Any:
    """The body as JSON, or the bytes themselves when it is not JSON."""
    try:
        return json.loads(body)
    except ValueError:
        return body


def same_body(one: bytes, two: bytes) -> bool:
    """Equal as JSON values when both are JSON, else byte for byte."""
    return parsed(one) == parsed(two)


def redacted(body: bytes) -> Any:
    """The body as JSON with secrets replaced as the recorder replaces them (``replayer.redact``)."""
    doc = parsed(body)
    return redact_json(doc, default_rules()) if not isinstance(doc, bytes) else doc
