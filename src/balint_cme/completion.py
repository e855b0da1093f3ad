"""Shell completion scripts for balint-cme, made from its argparse parser.

bash, zsh and tcsh scripts come from shtab (which reads the parser, so they never drift from the
real options); shtab has no fish output, so the fish script is written here from the same walk
of the parser. File and folder arguments complete as paths.
"""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Iterator

import shtab

__all__ = ["SHELLS", "completion_script"]

SHELLS = ("bash", "zsh", "tcsh", "fish")


def _path_kind(action: argparse.Action) -> str | None:
    """ "file" or "dir" for arguments that name a path, else None."""
    metavar = action.metavar if isinstance(action.metavar, str) else ""
    if "DIR" in metavar or (action.dest in {"out"} and "FILE" not in metavar):
        return "dir"
    if "FILE" in metavar or "PDF" in metavar or action.dest in {"series_file", "pdf"}:
        return "file"
    return None


def _mark_paths(parser: argparse.ArgumentParser) -> None:
    """Tell shtab which arguments complete as files or folders."""
    for action in parser._actions:
        kind = _path_kind(action)
        if kind == "file":
            action.complete = shtab.FILE  # type: ignore[attr-defined]
        elif kind == "dir":
            action.complete = shtab.DIRECTORY  # type: ignore[attr-defined]
        for sub in _subparsers(action):
            _mark_paths(sub)


def _subparsers(action: argparse.Action) -> list[argparse.ArgumentParser]:
    if isinstance(action, argparse._SubParsersAction):
        return list(dict.fromkeys(action.choices.values()))
    return []


def _commands(action: argparse.Action) -> Iterator[tuple[str, str, argparse.ArgumentParser]]:
    """(name, one-line help, parser) of each subcommand of a subparsers action."""
    if isinstance(action, argparse._SubParsersAction):
        helps = {choice.dest: choice.help or "" for choice in action._get_subactions()}
        for name, sub in action.choices.items():
            yield name, helps.get(name, ""), sub


def _fish_lines(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> Iterator[str]:
    prog = "balint-cme"
    if path:
        condition = " ".join(
            f"__fish_seen_subcommand_from {shlex.quote(word)}; and" for word in path
        ).removesuffix("; and")
    else:
        condition = ""
    for action in parser._actions:
        subs = list(_commands(action))
        if subs:
            names = " ".join(name for name, _, _ in subs)
            guard = f"not __fish_seen_subcommand_from {names}"
            when = f"{condition}; and {guard}" if condition else guard
            for name, summary, _ in subs:
                yield (
                    f"complete -c {prog} -n {shlex.quote(when)} -f -a {shlex.quote(name)}"
                    f" -d {shlex.quote(summary)}"
                )
            for name, _, sub in subs:
                yield from _fish_lines(sub, (*path, name))
            continue
        kind = _path_kind(action)
        flags = ""
        for option in action.option_strings:
            if option.startswith("--"):
                flags += f" -l {shlex.quote(option[2:])}"
            elif option.startswith("-") and len(option) == 2:
                flags += f" -s {shlex.quote(option[1])}"
        if action.option_strings and not flags:
            continue
        needs_value = action.nargs != 0 and not isinstance(
            action, argparse._StoreConstAction | argparse._HelpAction | argparse._VersionAction
        )
        extra = ""
        if needs_value:
            extra = (
                " -r -F"
                if kind == "file"
                else " -r -a '(__fish_complete_directories)'"
                if kind == "dir"
                else " -r -f"
            )
            if action.choices and not _subparsers(action):
                extra = " -r -f -a " + shlex.quote(" ".join(str(c) for c in action.choices))
        when = f" -n {shlex.quote(condition)}" if condition else ""
        summary = (
            f" -d {shlex.quote(action.help)}"
            if action.help and action.help != argparse.SUPPRESS
            else ""
        )
        if not action.option_strings:
            if kind == "file" and condition:
                yield f"complete -c {prog}{when} -F"
            continue
        yield f"complete -c {prog}{when}{flags}{extra}{summary}"


def completion_script(parser: argparse.ArgumentParser, shell: str) -> str:
    """The completion script for `shell` (one of SHELLS)."""
    if shell not in SHELLS:
        raise ValueError(f"no completion for {shell!r}; choose one of {', '.join(SHELLS)}")
    _mark_paths(parser)
    if shell == "fish":
        lines = ["# fish completion for balint-cme (made by `balint-cme completion fish`)"]
        lines.append("complete -c balint-cme -f")
        lines.extend(_fish_lines(parser, ()))
        return "\n".join(lines) + "\n"
    return str(shtab.complete(parser, shell=shell))
