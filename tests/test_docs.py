"""The README documents every command the CLI has (and no command it lacks)."""

import re
from pathlib import Path

from core.cli import build_parser

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def commands() -> set[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return set(sub.choices)


def test_every_command_is_in_the_readme():
    documented = set(re.findall(r"`concord ([a-z-]+)", README))
    assert commands() <= documented, commands() - documented
    assert documented <= commands() | {"demo"}, documented - commands()


def test_the_quick_start_is_two_commands():
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    block = quick.split("```", 2)[1]
    lines = [l.split("#")[0].strip() for l in block.splitlines()[1:] if l.strip()]
    assert lines == ["make demo", "make test"]
