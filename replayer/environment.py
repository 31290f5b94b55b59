"""Options from ``O2REPLAY_*`` environment variables, derived from the argparse declarations.

Every option of ``serve`` and ``record`` (and any option added to them later) can also be set with an
environment variable named after its long flag: ``--port`` -> ``O2REPLAY_PORT``, ``--admin-token-file``
-> ``O2REPLAY_ADMIN_TOKEN_FILE``, the positional ``CASSETTE_OR_DIR`` -> ``O2REPLAY_CASSETTES`` (its
dest). Nothing is listed by hand: the names, the parsing and the table in docs/deploy.md all come from the
parser, so a new option gets its variable automatically.

Precedence: a flag on the command line > its environment variable > ``.o2replay.yaml`` > the default. A
variable is parsed by the option's own declaration (type, choices), so a bad value fails the same way a
bad flag does, naming the variable. Values: on/off switches take true/false (also 1/0, yes/no, on/off);
repeatable options and positional lists take comma-separated values.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from replayer.errors import UsageError

__all__ = ["PREFIX", "ENV_COMMANDS", "EnvOption", "env_options", "apply_environment", "markdown_table"]

PREFIX = "O2REPLAY_"
#: Subcommands whose options are read from the environment (the ones that run in containers).
ENV_COMMANDS = ("serve", "record")

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


@dataclass(frozen=True, slots=True)
class EnvOption:
    """One option that an environment variable sets."""

    command: str
    variable: str
    flag: str  # the long flag ("--port"), or the metavar of a positional
    action: argparse.Action

    @property
    def kind(self) -> str:
        """How the value is written: switch, list or value."""
        if _is_switch(self.action):
            return "switch"
        if _is_list(self.action):
            return "list"
        return "value"


def _is_switch(action: argparse.Action) -> bool:
    return action.nargs == 0


def _is_list(action: argparse.Action) -> bool:
    return isinstance(action, argparse._AppendAction) or action.nargs in ("*", "+")


def _long_flag(action: argparse.Action) -> str | None:
    longs = [s for s in action.option_strings if s.startswith("--") and not s.startswith("--no-")]
    if not longs:  # only a --no-X flag (store_false): the variable is named after it
        longs = [s for s in action.option_strings if s.startswith("--")]
    return longs[0] if longs else None


def variable_name(action: argparse.Action) -> str | None:
    """``O2REPLAY_<NAME>`` for one argparse action; None for help/version and the like."""
    if isinstance(action, (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction)):
        return None
    flag = _long_flag(action)
    if action.option_strings and flag is None:
        return None
    name = flag[2:] if flag else action.dest
    return PREFIX + name.upper().replace("-", "_")


def subcommand_parsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The subcommand parsers of ``o2replay`` by name."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def env_options(parser: argparse.ArgumentParser, commands: Sequence[str] = ENV_COMMANDS) -> Iterator[EnvOption]:
    """Every option of ``commands`` that an environment variable can set, in declaration order."""
    subs = subcommand_parsers(parser)
    for command in commands:
        for action in subs[command]._actions:
            variable = variable_name(action)
            if variable is not None:
                flag = _long_flag(action) or str(action.metavar or action.dest)
                yield EnvOption(command, variable, flag, action)


def _argv_for(option: EnvOption, value: str) -> list[str]:
    """The command-line words that mean what ``value`` means for this option."""
    action = option.action
    if _is_switch(action):
        word = value.strip().lower()
        if word not in _TRUE | _FALSE:
            raise UsageError(f"{option.variable}={value!r}: expected true or false (also 1/0, yes/no, on/off)")
        on = word in _TRUE
        if isinstance(action, argparse.BooleanOptionalAction):
            return [option.flag if on else "--no-" + option.flag[2:]]
        return [option.flag] if on else []
    if _is_list(action):
        items = [v.strip() for v in value.split(",") if v.strip()]
        if not action.option_strings:
            return items
        return [f"{option.flag}={item}" for item in items]
    return [f"{option.flag}={value}"] if action.option_strings else [value]


def apply_environment(parser: argparse.ArgumentParser, args: argparse.Namespace,
                      environ: Mapping[str, str]) -> dict[str, str]:
    """Fill options the command line left out from ``O2REPLAY_*`` variables; returns {dest: variable}.

    Each variable is parsed on its own by the subcommand's parser, so its declared type and choices apply
    and an error names the variable (``UsageError``, exit 2).
    """
    command = getattr(args, "command", None)
    if command not in ENV_COMMANDS:
        return {}
    sub = subcommand_parsers(parser)[command]
    origins: dict[str, str] = {}
    for option in env_options(parser, (command,)):
        raw = environ.get(option.variable)
        dest = option.action.dest
        if raw is None or raw == "" or _given(option.action, getattr(args, dest, None)):
            continue  # unset, or given on the command line (a flag beats its variable)
        words = _argv_for(option, raw)
        if not words:
            continue
        try:
            parsed = _parse_quietly(sub, words)
        except _ParseError as e:
            raise UsageError(f"{option.variable}={raw!r}: {e}") from None
        setattr(args, dest, getattr(parsed, dest))
        origins[dest] = option.variable
    return origins


def _given(action: argparse.Action, value: object) -> bool:
    """True when the command line set this option (argparse leaves the default, or [] for an empty list)."""
    return value != action.default and not (value == [] and _is_list(action))


class _ParseError(Exception):
    """argparse's complaint about one environment value."""


def _parse_quietly(sub: argparse.ArgumentParser, words: list[str]) -> argparse.Namespace:
    """``sub.parse_args(words)`` that raises instead of printing and exiting."""

    def fail(message: str) -> None:
        raise _ParseError(message)

    original = sub.error
    sub.error = fail  # type: ignore[method-assign,assignment]
    try:
        return sub.parse_args(words)
    finally:
        sub.error = original  # type: ignore[method-assign]


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def markdown_table(parser: argparse.ArgumentParser, commands: Sequence[str] = ENV_COMMANDS) -> str:
    """The environment table of docs/deploy.md: variable, command, flag, value kind, help."""
    rows = ["| variable | command | same as | value | what it sets |", "| --- | --- | --- | --- | --- |"]
    for option in env_options(parser, commands):
        value = {"switch": "true / false", "list": "comma-separated"}.get(option.kind) \
            or (option.action.metavar if isinstance(option.action.metavar, str) else None) \
            or ("integer" if option.action.type is int else None) \
            or ("/".join(str(c) for c in option.action.choices) if option.action.choices else "value")
        helptext = (option.action.help or "").replace("%(default)s", str(option.action.default))
        rows.append(f"| `{option.variable}` | {option.command} | `{option.flag}` | {_cell(str(value))} | "
                    f"{_cell(helptext)} |")
    return "\n".join(rows) + "\n"
