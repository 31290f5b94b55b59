"""``o2replay validate``: every recorded O2IMS response checked against the OpenAPI definitions, and
stale cassettes found by their ``recorded_at`` metadata (issue 5, section 6). Produces the same
``Drift`` findings as the diff, so every output format and the exit-code gate serve both.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

from replayer.cassettes.model import Interaction, InteractionKind, header_value
from replayer.diff.config import DiffConfig, severity_for
from replayer.diff.model import Drift, DriftKind, Location, Report, Severity
from replayer.diff.pairing import endpoint_of
from replayer.diff.rules import render_path, split_pattern
from replayer.o2ims.query import QueryError, parse_query
from replayer.o2ims.spec import Violation, ViolationKind

__all__ = ["SpecChecker", "CassetteLike", "validate_cassettes", "violation_keys", "cassette_age"]


class SpecChecker(Protocol):
    """What validate needs of ``replayer.o2ims.spec.SpecSet``."""

    def validate_response(self, method: str, path: str, status: int, content_type: str | None,
                          body: Any) -> list[Violation]:
        """The violations of one response."""


def _violations(specs: SpecChecker, interaction: Interaction) -> list[Violation]:
    req, resp = interaction.request, interaction.response
    ctype = header_value(resp.headers, "Content-Type")
    found = list(specs.validate_response(req.method, req.path, resp.status, ctype, resp.body))
    if found and _selects_fields(interaction):
        # fields / exclude_fields / exclude_default (ETSI GS NFV-SOL 013 5.3) leave out attributes on
        # purpose, required ones included: their absence is what the consumer asked for.
        # The spec set caps schema errors with a "... and N more" note: those were of the same kind here.
        found = [v for v in found if not v.message.startswith(("missing required field", "... and "))]
    return found


def _selects_fields(interaction: Interaction) -> bool:
    try:
        query = parse_query(interaction.request.query)
    except QueryError:
        return False
    return bool(query.fields or query.exclude_fields or query.exclude_default)  # all_fields omits nothing


def violation_keys(specs: SpecChecker, interaction: Interaction) -> list[tuple[str, str]]:
    """The violations of one recorded response as (key, message): the diff's schema check.

    The key is the violation kind and its JSON pointer with array indexes generalised, so a value
    that was already invalid in the old recording (``'MAJOR' is not of type 'integer'``) does not
    count as newly broken when it changes to another invalid value.
    """
    if interaction.meta.kind is not InteractionKind.API:
        return []
    out = []
    for v in _violations(specs, interaction):
        pointer = re.sub(r"/\d+(?=/|$)", "/*", v.pointer)
        out.append((f"{v.kind} {pointer}", _message(v)))
    return out


def _message(violation: Violation) -> str:
    return str(violation)  # "schema at /0/name: missing required field ..."


#: Violation kinds that are warnings: the exchange is outside the definitions rather than against them
#: (the earlier mock's ``/o2ims_...`` paths, an extra status code). Schema and content-type errors are breaking.
_SOFT = frozenset({ViolationKind.UNKNOWN_PATH, ViolationKind.UNDOCUMENTED_STATUS, ViolationKind.UNDOCUMENTED_METHOD})


def _kind_severity(violation: Violation) -> Severity | None:
    return Severity.WARNING if violation.kind in _SOFT else None


def _tokens(violation: Violation) -> tuple[str, ...]:
    """The finding path of a violation: its JSON pointer (``/0/name``) as ``body[0].name``."""
    pointer = violation.pointer
    if not pointer.startswith("/"):
        return ("body",)
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:] if p]
    rendered = "body" + "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in parts)
    try:
        return split_pattern(rendered)
    except ValueError:
        return ("body",)


class CassetteLike(Protocol):
    """A ``Cassette``, or a cassette read one interaction at a time (``cassettes.stream``)."""

    @property
    def metadata(self) -> Mapping[str, Any]:
        """The cassette's top-level metadata."""

    @property
    def interactions(self) -> Iterable[Interaction]:
        """Its interactions, in order."""


def cassette_age(cassette: CassetteLike, now: datetime) -> float | None:
    """Age in days from metadata ``recorded_at`` (else the oldest interaction's); None when unknown."""
    stamps: Iterable[Any] = [cassette.metadata.get("recorded_at")]
    if stamps == [None]:
        stamps = [i.meta.recorded_at for i in cassette.interactions if i.meta.recorded_at]
    times = [t for t in (_parse_time(s) for s in stamps) if t is not None]
    if not times:
        return None
    return (now - min(times)).total_seconds() / 86400.0


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def validate_cassettes(cassettes: Iterable[tuple[str, CassetteLike]], specs: SpecChecker, config: DiffConfig,
                       *, max_age_days: float | None = None, now: datetime | None = None,
                       label: str = "", recorded_at: Callable[[str], datetime | None] | None = None) -> Report:
    """Check every API response of every cassette; add stale/unknown-age findings when ``max_age_days`` is set.

    ``recorded_at(file)`` dates a cassette whose metadata has no ``recorded_at`` (the command passes the git
    commit time: recordings are deterministic by default, so they carry no date of their own).
    """
    findings: list[Drift] = []
    ignored = files = count = 0
    moment = now or datetime.now(UTC)
    for file, cassette in cassettes:
        files += 1
        if max_age_days is not None:
            found, dropped = _age_finding(file, cassette, max_age_days, moment, config, recorded_at)
            findings += [found] if found else []
            ignored += dropped
        for index, interaction in enumerate(cassette.interactions):
            if interaction.meta.kind is not InteractionKind.API:
                continue
            count += 1
            for v in _violations(specs, interaction):
                drift = _finding(file, index, interaction, v, config)
                if drift is None:
                    ignored += 1
                else:
                    findings.append(drift)
    return Report("validate", tuple(findings), files=files, interactions=count, ignored=ignored,
                  sources=(label, ""))


def _finding(file: str, index: int, interaction: Interaction, violation: Violation,
             config: DiffConfig) -> Drift | None:
    endpoint = endpoint_of(interaction.request)
    tokens = _tokens(violation)
    severity = severity_for(config, DriftKind.SPEC_VIOLATION, endpoint, tokens, _kind_severity(violation))
    if severity is None:
        return None
    return Drift(DriftKind.SPEC_VIOLATION, severity, endpoint, render_path(tokens),
                 f"{_request_line(interaction)} -> {interaction.response.status}: {_message(violation)}", None, _message(violation), None, Location(file, index))


def _request_line(interaction: Interaction) -> str:
    req = interaction.request
    query = urlsplit(req.uri).query
    return f"{req.method} {req.path}" + (f"?{query}" if query else "")


def _age_finding(file: str, cassette: CassetteLike, max_age: float, now: datetime, config: DiffConfig,
                 recorded_at: Callable[[str], datetime | None] | None = None) -> tuple[Drift | None, int]:
    """(the stale or unknown-age finding or None, 1 when an ignore rule dropped it)."""
    age = cassette_age(cassette, now)
    source = "recorded"
    if age is None and recorded_at is not None:
        when = recorded_at(file)
        if when is not None:
            age, source = max(0.0, (now - when).total_seconds() / 86400.0), "committed"
    if age is None:
        kind, message = DriftKind.UNKNOWN_AGE, ("unknown age: no recorded_at in the cassette metadata and no "
                                                "git commit of the file")
    elif age > max_age:
        kind, message = DriftKind.STALE, f"stale: {source} {age:.0f} days ago (--max-age {max_age:g})"
    else:
        return None, 0
    severity = severity_for(config, kind, "(cassette)", ())
    if severity is None:
        return None, 1
    return Drift(kind, severity, "(cassette)", "", message, None, None if age is None else round(age, 1),
                 None, Location(file, None)), 0
