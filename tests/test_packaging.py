"""The installed `otklik` command must find every package of the project, not only when run
from the repository root (where the working directory shadows the install)."""

import tomllib
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_top_level_package_is_installed():
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    include = settings["packages"]["find"]["include"]
    packages = sorted(p.parent.name for p in ROOT.glob("*/__init__.py")
                      if p.parent.name != "tests")
    missing = [name for name in packages if not any(fnmatch(name, pattern) for pattern in include)]
    assert packages and not missing, f"not installed by `pip install .`: {missing}"
