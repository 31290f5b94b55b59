"""The start-up banner says every setting that changes answers: counts in the singular when one, auth (and that
O2IMS requests without a token get 401), profile, ignored body fields, faults, latency, watch."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from replayer.matching import BodyIgnore, MatchOn
from replayer.server.config import ServeConfig, parse_fault, parse_latency, serve_config
from replayer.server.state import empty_set
from replayer.server.announce import banner

URL = "http://127.0.0.1:30205"


def _banner(config: ServeConfig) -> str:
    return banner(config, empty_set(config.match_on), URL, True).text()


def test_defaults_stay_short() -> None:
    line = _banner(ServeConfig())
    assert line.startswith(f"o2replay serve: {URL} | 0 cassettes, 0 interactions | mode: synthetic fallback")
    for word in ("profile:", "faults:", "watch:", "latency:", "auth:", "ignore body:"):
        assert word not in line


def test_every_answer_changing_setting_is_named() -> None:
    config = replace(ServeConfig(), profile="lab/profile.yaml", watch=True, latency=parse_latency("5-20"),
                     faults=(parse_fault({"path": "*", "status": 503}),), auth_tokens=frozenset({"t1"}),
                     match_on=MatchOn(ignore_body=(BodyIgnore.parse("POST */subscriptions body.x"),)))
    line = _banner(config)
    for part in ("profile: lab/profile.yaml", "faults: 1 rule", "latency: 5-20", "watch: every 1 s",
                 "ignore body: POST */subscriptions body.x",
                 "auth: bearer, 1 accepted token (O2IMS requests without one get 401)"):
        assert f"| {part}" in line, part


def test_tokens_from_the_project_file_are_announced(tmp_path: Path) -> None:
    (tmp_path / "tokens.txt").write_text("a\nb\n")
    config = serve_config({}, {"auth_tokens": "tokens.txt"}, config_path=tmp_path / ".o2replay.yaml")
    assert "| auth: bearer, 2 accepted tokens (O2IMS requests without one get 401)" in _banner(config)


def test_profile_is_relative_to_the_project_file(tmp_path: Path) -> None:
    config = serve_config({}, {"profile": "profiles/lab.yaml"}, config_path=tmp_path / "sub" / ".o2replay.yaml")
    assert config.profile == str(tmp_path / "sub" / "profiles" / "lab.yaml")
    flagged = serve_config({"profile": "mine.yaml"}, {}, config_path=tmp_path / "sub" / ".o2replay.yaml")
    assert flagged.profile == "mine.yaml"  # a flag is relative to the current folder


def test_unused_profile_is_noted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    from replayer.cli import main

    monkeypatch.chdir(tmp_path)
    # a missing cassette folder fails after the settings are read and noted, before anything is served
    assert main(["serve", "missing", "--profile", "p.yaml", "--synthetic", "off", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "note: the profile p.yaml is not used: the synthetic O2IMS is off" in err
    assert err.strip().splitlines()[-1].startswith("o2replay serve: error: missing")
