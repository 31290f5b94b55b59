"""Prometheus text exposition (format 0.0.4), written by hand: no new dependency (issue 3, §8).

``o2replay_requests_total{source,route,status}`` counts requests by where the answer came from
(cassette, derived, synthetic, miss, admin...), route template and status;
``o2replay_request_duration_seconds`` is a latency histogram by source.

Under ``--workers N`` every worker counts its own requests; ``snapshot()`` and ``Metrics.merged()`` let
the worker that answers a scrape add up all of them (replayer/server/peers.py).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from typing import Any

__all__ = ["Metrics", "BUCKETS", "CONTENT_TYPE", "MAX_SERIES"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: Distinct (source, route, status) series kept before new routes are counted as ``(other)``.
MAX_SERIES = 2000
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class Metrics:
    """Counters and a latency histogram, updated on the hot path with a few dict operations."""

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, int], int] = {}
        self.buckets: dict[str, list[int]] = {}
        self.sums: dict[str, float] = {}
        self.reloads: dict[str, int] = {"ok": 0, "error": 0}
        self.gauges: dict[str, float] = {}

    def observe(self, source: str, route: str, status: int, seconds: float) -> None:
        """Count one request and its latency."""
        key = (source, route, status)
        n = self.requests.get(key)
        if n is None and len(self.requests) >= MAX_SERIES:
            key = (source, "(other)", status)  # unknown paths must not grow the series without bound
            n = self.requests.get(key)
        self.requests[key] = (n or 0) + 1
        counts = self.buckets.get(source)
        if counts is None:
            counts = self.buckets[source] = [0] * (len(BUCKETS) + 1)
            self.sums[source] = 0.0
        counts[bisect_left(BUCKETS, seconds)] += 1
        self.sums[source] += seconds

    def snapshot(self) -> dict[str, Any]:
        """Every count as plain JSON-able data (what one worker sends to the one answering a scrape)."""
        return {"requests": [[s, r, st, n] for (s, r, st), n in self.requests.items()],
                "buckets": self.buckets, "sums": self.sums, "reloads": self.reloads, "gauges": self.gauges}

    @classmethod
    def merged(cls, snapshots: Iterable[dict[str, Any]]) -> Metrics:
        """The sum of several workers' snapshots: counters and histograms add up; a gauge (what is loaded)
        is the same in every worker after a reload, so the highest value stands for all."""
        total = cls()
        for snap in snapshots:
            for source, route, status, n in snap["requests"]:
                key = (str(source), str(route), int(status))
                total.requests[key] = total.requests.get(key, 0) + int(n)
            for source, counts in snap["buckets"].items():
                mine = total.buckets.setdefault(source, [0] * (len(BUCKETS) + 1))
                for i, n in enumerate(counts):
                    mine[i] += int(n)
                total.sums[source] = total.sums.get(source, 0.0) + float(snap["sums"][source])
            for result, n in snap["reloads"].items():
                total.reloads[result] = total.reloads.get(result, 0) + int(n)
            for name, value in snap["gauges"].items():
                total.gauges[name] = max(total.gauges.get(name, float(value)), float(value))
        return total

    def render(self) -> str:
        """The exposition text."""
        out = ["# HELP o2replay_requests_total Requests answered, by answer source, route template and status.",
               "# TYPE o2replay_requests_total counter"]
        for (source, route, status), n in sorted(self.requests.items()):
            out.append(f'o2replay_requests_total{{source="{_label(source)}",route="{_label(route)}",'
                       f'status="{status}"}} {n}')
        out += ["# HELP o2replay_request_duration_seconds Time from request to response, by answer source.",
                "# TYPE o2replay_request_duration_seconds histogram"]
        for source, counts in sorted(self.buckets.items()):
            src = _label(source)
            total = 0
            for bound, n in zip((*BUCKETS, float("inf")), counts):
                total += n
                le = "+Inf" if bound == float("inf") else repr(bound)
                out.append(f'o2replay_request_duration_seconds_bucket{{source="{src}",le="{le}"}} {total}')
            out.append(f'o2replay_request_duration_seconds_sum{{source="{src}"}} {self.sums[source]:.6f}')
            out.append(f'o2replay_request_duration_seconds_count{{source="{src}"}} {total}')
        out += ["# HELP o2replay_reloads_total Cassette reloads, by result.", "# TYPE o2replay_reloads_total counter"]
        out += [f'o2replay_reloads_total{{result="{k}"}} {v}' for k, v in sorted(self.reloads.items())]
        for name, value in sorted(self.gauges.items()):
            out += [f"# TYPE {name} gauge", f"{name} {value:g}"]
        return "\n".join(out) + "\n"
