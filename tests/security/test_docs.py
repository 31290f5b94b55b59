"""docs/security.md and docs/replay.md stay true: every serve flag documented, examples parse, the default
clients table is the profile's."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import yaml

from replayer.cli import build_parser
from replayer.security.clients import parse_clients
from replayer.server.config import REPLAY_KEYS
from replayer.synthetic import load_profile

DOCS = Path(__file__).resolve().parents[2] / "docs"
SECURITY = (DOCS / "security.md").read_text()
REPLAY = (DOCS / "replay.md").read_text()


def _yaml_blocks(text: str) -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", text, re.S)


def test_every_serve_flag_and_key_is_in_replay_md() -> None:
    subs = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for action in subs.choices["serve"]._actions:
        for flag in action.option_strings:
            if flag.startswith("--") and flag != "--help":
                assert f"`{flag}" in REPLAY, flag
    for key in REPLAY_KEYS:
        assert f"`{key}`" in REPLAY, key


def test_every_tls_and_oauth_flag_is_in_security_md() -> None:
    subs = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    flags = [f for a in subs.choices["serve"]._actions for f in a.option_strings if f.startswith(("--tls", "--oauth"))]
    assert len(flags) == 12
    for flag in flags:
        assert flag in SECURITY, flag


def test_the_yaml_examples_parse() -> None:
    blocks = _yaml_blocks(SECURITY)
    clients = parse_clients(yaml.safe_load(next(b for b in blocks if b.startswith("clients:"))))
    assert [c.client_id for c in clients] == ["smo-client", "ci-admin"]
    replay = yaml.safe_load(next(b for b in blocks if b.startswith("replay:")))["replay"]
    assert set(replay) <= set(REPLAY_KEYS)


def test_the_default_clients_table_is_the_profiles() -> None:
    rows = re.findall(r"^\| `([a-z0-9-]+)` \| `([a-z0-9-]+)` \| (.+?) \|$", SECURITY, re.M)
    table = {cid: (secret, tuple(re.findall(r"`(o2ims-[a-z]+)`", roles))) for cid, secret, roles in rows}
    assert table == {c.client_id: (c.secret, c.roles) for c in load_profile().oauth_clients}
