"""docs/benchmarks.md is written by several scripts: ``run.py`` writes the head (single
tables), each other script one section that starts with its own marker line. Each script
replaces only its own part and keeps the others."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

_MARKER = re.compile(r"^<!-- [^>]*: written by benchmarks/\S+ -->$", re.MULTILINE)


def _split(text: str) -> tuple[str, dict[str, str]]:
    starts = [m.start() for m in _MARKER.finditer(text)]
    head = text[: starts[0]] if starts else text
    sections = {}
    for start, end in zip(starts, starts[1:] + [len(text)]):
        body = text[start:end].rstrip()
        sections[body.split("\n", 1)[0]] = body
    return head.rstrip(), sections


def commit_of(checkout: Path) -> str:
    """The short commit a checkout is at, to name it in a table (its path if it is none)."""
    done = subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip() or str(checkout)


def write_head(path: Path, lines: list[str]) -> None:
    _, sections = _split(path.read_text()) if path.exists() else ("", {})
    _write(path, "\n".join(lines).rstrip(), sections)


def write_section(path: Path, marker: str, lines: list[str]) -> None:
    """Replace (or add, at the end) the section that starts with ``marker``."""
    head, sections = _split(path.read_text()) if path.exists() else ("# Benchmarks", {})
    sections[marker] = "\n".join([marker, *lines]).rstrip()
    _write(path, head, sections)


def _write(path: Path, head: str, sections: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n\n".join([head, *sections.values()]) + "\n")
