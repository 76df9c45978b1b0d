"""The README cannot lie: its commands and its embedding example are run here."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def test_readme_starts_with_the_two_commands_and_ci_runs_the_second():
    """The first block holds the set-up-and-demo command and the test command; .ci/run runs the latter."""
    first = _blocks("sh")[0].splitlines()
    assert first[0].startswith("scripts/setup && .venv/bin/casework demo")
    test_command = first[1].split("#")[0].strip()
    assert test_command == "scripts/setup && .venv/bin/python -m pytest -q"
    assert test_command in (ROOT / ".ci" / "run").read_text()


def test_embedding_example_runs_and_prints_what_it_says(tmp_path):
    """The Python example runs against a real SQLite file and prints the values its comments promise."""
    code = _blocks("python")[0]
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "False ['fact_recorded']"
    assert lines[1] == "cin_plan 5"
    assert "supervisor" in lines[2]
    assert lines[3] == "True"
    assert (tmp_path / "embedded.db").exists()


def test_every_cli_command_in_the_reference_exists():
    """Each `casework ...` line of the command reference names a real command (its --help exits 0)."""
    section = README.split("## The command line", 1)[1]
    reference = section.split("```", 2)[1]
    commands = {tuple(line.split()[1:3]) for line in reference.splitlines() if line.startswith("casework ")}
    exe = str(Path(sys.executable).parent / "casework")
    for words in sorted(commands):
        path = [w for w in words if re.fullmatch(r"[a-z]+", w)]
        if len(path) > 1 and path[0] not in ("staff", "case", "policy", "audit"):
            path = path[:1]
        done = subprocess.run([exe, *path, "--help"], capture_output=True, text=True)
        assert done.returncode == 0, (path, done.stderr)


def test_a_copied_protocol_with_a_new_name_and_teams_works(tmp_path):
    """The README's 'Adapting a protocol' recipe: copy kent.yaml, rename, change teams; it checks and runs."""
    from click.testing import CliRunner

    from casework.cli.main import cli

    block = README.split("### Adapting a protocol", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = block.replace("\\\n", " ").strip().splitlines()
    for command in commands[:2]:  # mkdir and sed, run in a scratch directory
        command = command.replace("machines/kent.yaml", str(ROOT / "machines" / "kent.yaml"))
        done = subprocess.run(command, shell=True, cwd=tmp_path, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    text = (tmp_path / "my-machines" / "medway.yaml").read_text()
    assert "name: medway" in text and "Medway, Swale, Gravesend" in text
    machines = tmp_path / "my-machines"
    db = str(tmp_path / "m.db")
    runner = CliRunner()

    def run(*args):
        return runner.invoke(cli, ["--db", db, "--machines", str(machines), *args])

    assert run("policy", "check", str(machines / "medway.yaml")).exit_code == 0
    assert run("init").exit_code == 0
    assert run("staff", "add", "tm", "--name", "T", "--role", "team_manager", "--registered", "SW1").exit_code == 0
    assert run("case", "open", "M-1", "--policy", "medway", "--team", "Medway", "--as", "tm").exit_code == 0
    shown = run("policy", "show", "medway", "--json")
    assert "Medway" in shown.stdout


def test_a_day_in_the_life_of_a_team_manager_prints_what_the_readme_shows(tmp_path, monkeypatch):
    """Every command of the README's 'day in the life' runs, in order, on one sandbox store, and prints exactly
    the output shown under it (protocol digests aside, which change whenever a shipped file does)."""
    import shlex

    from click.testing import CliRunner

    from casework.cli.main import cli

    section = README.split("## A day in the life of a team manager", 1)[1].split("\n## ", 1)[0]
    session = "".join(re.findall(r"```console\n(.*?)```", section, flags=re.S))
    steps = [(chunk.partition("\n")[0], chunk.partition("\n")[2]) for chunk in re.split(r"(?m)^\$ ", session)[1:]]
    export, *commands = steps
    env = dict(pair.split("=", 1) for pair in shlex.split(export[0])[1:])
    monkeypatch.chdir(tmp_path)
    digest = re.compile(r"\([0-9a-f]{12}\)")
    assert len(commands) > 15
    for command, shown in commands:
        done = CliRunner().invoke(cli, shlex.split(command)[1:], env=env, prog_name="casework")
        printed = done.stdout + done.stderr
        assert digest.sub("(…)", printed) == digest.sub("(…)", shown), command
