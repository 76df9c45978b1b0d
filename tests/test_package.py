"""casework installs as one package, ``casework``, and embeds beside a service's own modules.

The built wheel is installed into a fresh virtualenv (its dependencies lent from the project's
environment, casework itself not), and the README's embedding example runs there from a
directory holding a ``store.py`` and a ``workflow.py`` of the service's own.
"""
from __future__ import annotations

import re
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.test_readme import _blocks

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--disable-pip-version-check",
                    "-w", str(out), str(ROOT)], check=True, capture_output=True)
    return next(out.glob("casework-*.whl"))


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh virtualenv with the wheel installed; the libraries casework needs come from a .pth file."""
    venv = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
                    "--disable-pip-version-check", str(wheel)], check=True, capture_output=True)
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    # a directory named in a .pth is searched, but its own .pth files (the project's editable casework) are not run
    (site / "libraries.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


def test_the_wheel_adds_only_casework_at_the_top_level(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names} == {"casework", re.sub(r"-py3.*", ".dist-info", wheel.name)}
    info = next(n for n in names if n.endswith("top_level.txt"))
    assert zipfile.ZipFile(wheel).read(info).decode().split() == ["casework"]
    for shipped in ("casework/machines/national.yaml", "casework/machines/versions/kent@1.yaml",
                    "casework/store/compiled_sql.json", "casework/store/migrations/env.py",
                    "casework/workflow/refinement/compare.py", "casework/workflow/handbook/templates/base.html"):
        assert shipped in names


def test_the_readme_embedding_example_runs_beside_a_services_own_store_and_workflow(installed, tmp_path):
    service = tmp_path / "service"
    service.mkdir()
    (service / "store.py").write_text("WHOSE = 'the service'\n")
    (service / "workflow.py").write_text("WHOSE = 'the service'\n")
    example = _blocks("python")[0]
    check = ("\nimport store, workflow, casework\n"
             "assert store.WHOSE == workflow.WHOSE == 'the service'\n"
             f"assert casework.__file__.startswith({str(installed)!r}), casework.__file__\n"
             "print('cli' in sys.modules, 'machines' in sys.modules)\n")
    done = subprocess.run([str(installed / "bin" / "python"), "-c", "import sys\n" + example + check],
                          cwd=service, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:2] == ["False ['fact_recorded']", "cin_plan 5"]
    assert lines[-2:] == ["True", "False False"]


def test_the_installed_console_script_runs_the_demo(installed, tmp_path):
    done = subprocess.run([str(installed / "bin" / "casework"), "--db", str(tmp_path / "demo.db"), "demo"],
                          cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "Demo case DEMO-1 through the national protocol" in done.stdout
    assert str(installed) in (installed / "bin" / "casework").read_text().splitlines()[0]
