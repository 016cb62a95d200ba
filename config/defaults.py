"""Where a default configuration file is found: ``data/NAME`` in the working directory when
the user keeps one there, otherwise the copy installed with Otklik."""

from __future__ import annotations

from pathlib import Path

INSTALLED_DATA = Path(__file__).resolve().parent.parent / "data"


def default_data_file(name: str, cwd: Path | None = None) -> Path:
    """``data/<name>`` under ``cwd`` (default: the working directory) if that file exists,
    else the installed default; always an absolute path."""
    local = (cwd or Path.cwd()) / "data" / name
    return local.resolve() if local.is_file() else INSTALLED_DATA / name
