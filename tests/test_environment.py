"""O2REPLAY_* variables: derived from the option declarations, parsed by them, and ranked
flag > environment > .o2replay.yaml > default; the table in docs/deploy.md is the generated one."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from replayer.cli import build_parser, main
from replayer.commands import record, serve
from replayer.environment import ENV_COMMANDS, apply_environment, env_options, markdown_table, subcommand_parsers
from replayer.errors import UsageError

ROOT = Path(__file__).resolve().parents[1]


def parsed(argv: list[str], environ: dict[str, str]) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.env_origins = apply_environment(parser, args, environ)
    return args


@pytest.mark.parametrize("command, flag, variable", [
    ("serve", "--port", "O2REPLAY_PORT"),
    ("serve", "--admin-token-file", "O2REPLAY_ADMIN_TOKEN_FILE"),
    ("serve", "--strict", "O2REPLAY_STRICT"),
    ("serve", "CASSETTE_OR_DIR", "O2REPLAY_CASSETTES"),
    ("serve", "--cache-dir", "O2REPLAY_CACHE_DIR"),
    ("serve", "--ready-file", "O2REPLAY_READY_FILE"),
    ("record", "--upstream", "O2REPLAY_UPSTREAM"),
    ("record", "--record-path", "O2REPLAY_RECORD_PATH"),
    ("record", "--no-notifications", "O2REPLAY_NO_NOTIFICATIONS"),
])
def test_variable_named_after_the_flag(command: str, flag: str, variable: str) -> None:
    names = {o.flag: o.variable for o in env_options(build_parser(), (command,))}
    assert names[flag] == variable


def test_every_option_of_serve_and_record_has_one_variable() -> None:
    parser = build_parser()
    options = list(env_options(parser))
    for command, sub in subcommand_parsers(parser).items():
        if command not in ENV_COMMANDS:
            continue
        dests = {a.dest for a in sub._actions if not isinstance(a, argparse._HelpAction)}
        assert dests == {o.action.dest for o in options if o.command == command}
    per_command = [(o.command, o.variable) for o in options]
    assert len(per_command) == len(set(per_command))


def test_an_option_added_later_gets_its_variable_without_listing_it() -> None:
    parser = build_parser()
    subcommand_parsers(parser)["serve"].add_argument("--brand-new-limit", type=int, help="a new knob")
    assert "`O2REPLAY_BRAND_NEW_LIMIT` | serve | `--brand-new-limit`" in markdown_table(parser)
    args = parser.parse_args(["serve"])
    apply_environment(parser, args, {"O2REPLAY_BRAND_NEW_LIMIT": "7"})
    assert args.brand_new_limit == 7
    with pytest.raises(UsageError, match=r"O2REPLAY_BRAND_NEW_LIMIT='x': argument --brand-new-limit: invalid int"):
        apply_environment(parser, parser.parse_args(["serve"]), {"O2REPLAY_BRAND_NEW_LIMIT": "x"})


def test_precedence_flag_env_file_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert serve.settings(parsed(["serve"], {})).port == 30205
    (tmp_path / ".o2replay.yaml").write_text("replay:\n  port: 3333\n  strict: true\n")
    assert serve.settings(parsed(["serve"], {})).port == 3333
    env = {"O2REPLAY_PORT": "2222", "O2REPLAY_STRICT": "false"}
    config = serve.settings(parsed(["serve"], env))
    assert config.port == 2222 and config.strict is False
    config = serve.settings(parsed(["serve", "--port", "1111", "--strict"], env))
    assert config.port == 1111 and config.strict is True


def test_record_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".o2replay.yaml").write_text("record:\n  upstream: http://file.example:1\n  cassette: f.yaml\n")
    env = {"O2REPLAY_UPSTREAM": "http://env.example:2", "O2REPLAY_RECORD_PATH": "/a, /b",
           "O2REPLAY_NO_NOTIFICATIONS": "yes", "O2REPLAY_LISTEN": "127.0.0.1:0"}
    ra = record.validate(parsed(["record"], env))
    assert ra.upstream == "http://env.example:2" and ra.cassette == tmp_path / "f.yaml"
    assert ra.record_paths == ("/a", "/b") and ra.notifications is False and ra.port == 0
    ra = record.validate(parsed(["record", "--upstream", "http://flag.example:3", "--record-path", "/c"], env))
    assert ra.upstream == "http://flag.example:3" and ra.record_paths == ("/c",)


def test_lists_switches_and_positionals() -> None:
    args = parsed(["serve"], {"O2REPLAY_CASSETTES": "a,b", "O2REPLAY_NO_CACHE": "1", "O2REPLAY_WATCH": "on"})
    assert args.cassettes == ["a", "b"] and args.no_cache is True and args.watch is True
    assert args.env_origins["cassettes"] == "O2REPLAY_CASSETTES"
    args = parsed(["serve", "given"], {"O2REPLAY_CASSETTES": "a,b", "O2REPLAY_NO_CACHE": "false"})
    assert args.cassettes == ["given"] and args.no_cache is False


@pytest.mark.parametrize("environ, message", [
    ({"O2REPLAY_PORT": "abc"}, "O2REPLAY_PORT='abc': argument --port: invalid int value: 'abc'"),
    ({"O2REPLAY_PORT": "99999"}, "O2REPLAY_PORT must be an integer from 0 to 65535, got 99999"),
    ({"O2REPLAY_STRICT": "maybe"}, "O2REPLAY_STRICT='maybe': expected true or false"),
    ({"O2REPLAY_SYNTHETIC": "sometimes"}, "O2REPLAY_SYNTHETIC='sometimes': argument --synthetic: invalid choice"),
])
def test_bad_values_name_the_variable_and_exit_2(environ: dict[str, str], message: str,
                                                  monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    for k, v in environ.items():
        monkeypatch.setenv(k, v)
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_secrets_from_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "admin-token").write_text("s3cret-admin\n")
    (tmp_path / "tokens").write_text("# accepted\nt1\nt2\n")
    env = {"O2REPLAY_ADMIN_TOKEN_FILE": str(tmp_path / "admin-token"), "O2REPLAY_AUTH_TOKENS": "tokens"}
    config = serve.settings(parsed(["serve"], env))
    assert config.admin_token == "s3cret-admin" and config.auth_tokens == frozenset({"t1", "t2"})
    (tmp_path / "two").write_text("a\nb\n")
    with pytest.raises(UsageError, match=r"--admin-token-file: .*two: expected one secret on one line"):
        serve.settings(parsed(["serve", "--admin-token-file", "two"], {}))
    with pytest.raises(UsageError, match=r"O2REPLAY_ADMIN_TOKEN_FILE: .*missing: cannot read"):
        serve.settings(parsed(["serve"], {"O2REPLAY_ADMIN_TOKEN_FILE": "missing"}))


def test_docs_table_is_the_generated_one() -> None:
    """docs/deploy.md holds the table between its markers; regenerate with scripts/env_table.py."""
    text = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- env-table:start -->\n(.*?)<!-- env-table:end -->", text, re.S)
    assert found, "docs/deploy.md has no env-table markers"
    assert found.group(1) == markdown_table(build_parser()), "run: .venv/bin/python scripts/env_table.py"
