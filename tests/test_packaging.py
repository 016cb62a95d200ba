"""Otklik as a package: ``pip install .`` gives a working ``otklik`` run from any folder, with
its dependencies declared, its default configuration, models, page scripts and demo files
inside; a ``data/`` folder of the user's own still wins over the installed defaults. And the
setup's Debian packages: ``scripts/system-deps.sh`` installs only what is missing, or says in
one line why it cannot."""

import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest
import yaml
from conftest import FAST_CRAWL, FIXTURES, write_sources
from packaging.requirements import Requirement

from config.defaults import INSTALLED_DATA, default_data_file

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
NOT_BUILT = shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__",
                                   ".*_cache", "test-artifacts", "base", "*.db", "*.db-*",
                                   "jobs", "demo-site", "demo-sources.yaml")
# Declared runtime requirements, checked inside the installed environment.
CHECK_REQUIREMENTS = """
import importlib.metadata as metadata
from packaging.requirements import Requirement
unmet, met = [], 0
for line in metadata.requires("otklik") or []:
    requirement = Requirement(line)
    if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
        continue  # an extra
    try:
        installed = metadata.version(requirement.name)
    except metadata.PackageNotFoundError:
        unmet.append(f"{requirement}: not installed")
        continue
    if not requirement.specifier.contains(installed, prereleases=True):
        unmet.append(f"{requirement}: {installed} installed")
    else:
        met += 1
print("\\n".join(unmet) or f"{met} requirements met")
"""


def test_every_top_level_package_is_installed():
    include = PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = sorted(p.parent.name for p in ROOT.glob("*/__init__.py")
                      if p.parent.name != "tests")
    missing = [name for name in packages if not any(fnmatch(name, pattern) for pattern in include)]
    assert packages and not missing, f"not installed by `pip install .`: {missing}"


def test_the_lock_satisfies_every_declared_requirement():
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower().replace("_", "-").replace(".", "-")] = version.strip()
    project = PYPROJECT["project"]
    declared = [*project["dependencies"],
                *(r for extra in project["optional-dependencies"].values() for r in extra)]
    unmet = []
    for line in declared:
        requirement = Requirement(line)
        pinned = pins.get(requirement.name.lower().replace("_", "-").replace(".", "-"))
        if pinned is None or not requirement.specifier.contains(pinned, prereleases=True):
            unmet.append(f"{requirement}: requirements.txt has {pinned}")
    assert not unmet, unmet


def test_a_data_folder_in_the_working_directory_wins_over_the_installed_defaults(tmp_path):
    assert default_data_file("catalogue.yaml", tmp_path) == INSTALLED_DATA / "catalogue.yaml"
    assert (INSTALLED_DATA / "catalogue.yaml").is_file()
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "catalogue.yaml").write_text("brands: []\n")
    assert default_data_file("catalogue.yaml", tmp_path) == tmp_path / "data" / "catalogue.yaml"
    assert default_data_file("sources.yaml", tmp_path) == INSTALLED_DATA / "sources.yaml"


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The wheel of this tree installed into a fresh venv, nothing downloaded: the venv sees
    this environment's packages through a ``.pth`` file, so the declared dependencies resolve
    to those already installed. Returns the venv's ``bin`` folder."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=NOT_BUILT)  # stale build/ output stays out
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "--quiet", "--wheel-dir", str(work), str(source)],
        capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    wheel = next(work.glob("otklik-*.whl"))
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path("
                           "'purelib'))"], capture_output=True, text=True, check=True)
    Path(site.stdout.strip(), "otklik-test-deps.pth").write_text(
        sysconfig.get_path("purelib") + "\n")
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-index",
         "--no-deps", "--quiet", str(wheel)], capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stderr
    return venv / "bin"


def _run(command, cwd, timeout=300):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "OTKLIK_LOG_LEVEL": "WARNING"}
    env.pop("PYTHONPATH", None)  # only what the wheel installed, not this tree
    return subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_the_installed_package_declares_what_it_needs(installed, tmp_path):
    result = _run([installed / "python", "-c", CHECK_REQUIREMENTS], tmp_path)
    declared = len(PYPROJECT["project"]["dependencies"])
    assert result.stdout.strip() == f"{declared} requirements met", result.stdout + result.stderr
    where = _run([installed / "python", "-c", "import app, app_pages.common, cli, models; "
                  "print(cli.__file__, app.__file__, app_pages.common.__file__)"], tmp_path)
    assert where.returncode == 0, where.stderr
    assert all(path.startswith(str(installed.parent)) for path in where.stdout.split())
    files = _run([installed / "python", "-c", "import importlib.metadata as m; "
                  "print('\\n'.join(str(f) for f in m.files('otklik')))"], tmp_path).stdout
    for shipped in ("data/catalogue.yaml", "data/sources.yaml", "data/nlp.yaml",
                    "models/sentiment/weights.safetensors",
                    "models/sentiment-fast/weights.safetensors", "app_pages/overview.py",
                    "demo/sample_posts.yaml", "crawlers/engines.yaml"):
        assert shipped in files.split("\n"), f"{shipped} is not in the wheel"
    assert "models/base/" not in files


def test_the_installed_otklik_checks_crawls_and_tags_from_any_folder(installed, tmp_path,
                                                                      fixture_server):
    otklik = installed / "otklik"
    checked = _run([otklik, "check"], tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "catalogue ok" in checked.stdout and "sources ok" in checked.stdout

    assert "0 competitors" not in checked.stdout
    catalogue = yaml.safe_load((ROOT / "data" / "catalogue.yaml").read_text(encoding="utf-8"))
    del catalogue["competitors"]
    (tmp_path / "data").mkdir()  # the user's own catalogue wins over the installed one
    (tmp_path / "data" / "catalogue.yaml").write_text(yaml.safe_dump(catalogue, allow_unicode=True),
                                                      encoding="utf-8")
    own = _run([otklik, "check"], tmp_path)
    assert own.returncode == 0, own.stdout + own.stderr
    assert "0 competitors" in own.stdout
    (tmp_path / "data" / "catalogue.yaml").unlink()

    server = fixture_server(FIXTURES / "rss" / "first")
    sources = write_sources(
        tmp_path / "sources.yaml",
        {"id": "press", "kind": "rss", "url": f"{server.base_url}/press/", "since_days": 20000,
         "brands": ["volna"], "options": {"feeds": ["feed.atom"], "full_text": "false",
                                          "keep_all": "yes"}})
    database = tmp_path / "store" / "otklik.db"
    crawled = _run([otklik, "crawl", "--db", database, "--sources", sources, "--no-resume",
                    *FAST_CRAWL], tmp_path)
    assert crawled.returncode == 0, crawled.stdout + crawled.stderr
    assert "press: 2 new" in crawled.stdout
    tagged = _run([otklik, "tag", "--db", database], tmp_path, timeout=600)
    assert tagged.returncode == 0, tagged.stdout + tagged.stderr
    assert "tagged 2 mentions (0 failed" in tagged.stderr  # a summary: diagnostics
    assert "Loading weights" not in tagged.stdout + tagged.stderr


def _system_deps(tmp_path, *, uid: int, installed: set[str], sudo: bool):
    """Run scripts/system-deps.sh with stand-ins for id, dpkg-query, apt-get (and sudo):
    returns the finished process and the apt-get calls it made."""
    stubs = tmp_path / "bin"
    stubs.mkdir(parents=True)
    calls = tmp_path / "apt-calls"
    scripts = {
        "id": f"echo {uid}",
        "dpkg-query": f'for last; do :; done; case " {" ".join(installed)} " in'
                      ' *" $last "*) printf installed;; *) exit 1;; esac',
        "apt-get": f'echo "$*" >> {calls}',
        **({"sudo": '"$@"'} if sudo else {}),
    }
    for name, body in scripts.items():
        (stubs / name).write_text(f"#!/bin/sh\n{body}\n")
        (stubs / name).chmod(0o755)
    (stubs / "env").symlink_to(shutil.which("env"))
    result = subprocess.run(["/bin/bash", str(ROOT / "scripts" / "system-deps.sh"), "test"],
                            capture_output=True, text=True, env={"PATH": str(stubs)}, timeout=30)
    return result, calls.read_text().splitlines() if calls.exists() else []


ALL_DEBIAN = {"python3-venv", "make", "chromium", "chromium-driver", "fonts-dejavu-core",
              "postgresql", "redis-server"}


def test_system_deps_runs_no_apt_when_everything_is_installed(tmp_path):
    result, apt = _system_deps(tmp_path, uid=1000, installed=ALL_DEBIAN, sudo=False)
    assert (result.returncode, apt) == (0, []), result.stderr


def test_system_deps_installs_only_the_missing_packages_after_one_update(tmp_path):
    result, apt = _system_deps(tmp_path, uid=0, installed=ALL_DEBIAN - {"chromium"}, sudo=False)
    assert result.returncode == 0, result.stderr
    assert apt == ["update -qq", "install -y -qq --no-install-recommends chromium"]
    result, apt = _system_deps(tmp_path / "user", uid=1000, installed={"make"}, sudo=True)
    assert result.returncode == 0, result.stderr
    assert apt[0] == "update -qq" and apt[1].endswith(
        "python3-venv chromium chromium-driver fonts-dejavu-core postgresql redis-server")


def test_system_deps_says_in_one_line_when_it_cannot_install(tmp_path):
    result, apt = _system_deps(tmp_path, uid=1000, installed=set(), sudo=False)
    assert result.returncode != 0 and apt == []
    assert len(result.stderr.strip().splitlines()) == 1
    assert "neither root nor sudo" in result.stderr and "chromium" in result.stderr
