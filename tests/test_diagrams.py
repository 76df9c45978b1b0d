"""Diagrams come from the loaded definitions, show every move with who and what (rule IDs included), hide no
text, render deterministically, and the committed ones are current."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .diagram_reading import key_entries, layout_problems, moves, node_label, plain, squash, timescales
from casework.workflow.diagram import allocation_source, diagram_source, render
from casework.workflow.loader import Policies

ROOT = Path(__file__).resolve().parent.parent
REFRESH = ".venv/bin/casework diagram --all -o diagrams/"


@pytest.mark.parametrize("name", Policies().names())
@pytest.mark.parametrize("fmt", ["svg", "png"])
@pytest.mark.parametrize("allocation", [False, True])
def test_committed_diagrams_are_current(name, fmt, allocation):
    """Each diagrams/<policy>[-allocation].<fmt> equals a fresh rendering of the definition the engine runs."""
    file = f"{name}{'-allocation' if allocation else ''}.{fmt}"
    committed = ROOT / "diagrams" / file
    assert committed.exists(), f"diagrams/{file} is missing: run `{REFRESH}`"
    fresh = render(Policies().get(name), fmt, allocation=allocation)
    assert committed.read_bytes() == fresh, f"diagrams/{file} is stale: run `{REFRESH}` and commit it"


def test_rendering_is_deterministic():
    """Rendering the same definition twice gives byte-identical output."""
    d = Policies().get("torbay")
    assert render(d, "svg") == render(d, "svg") and render(d, "png") == render(d, "png")


def test_missing_dot_is_a_clear_error_with_exit_2(tmp_path):
    """Without graphviz's `dot` on PATH the CLI says how to install it and exits 2."""
    env = {**os.environ, "PATH": str(Path(sys.executable).parent)}
    done = subprocess.run([str(Path(sys.executable).parent / "casework"), "diagram", "national", "-o",
                           str(tmp_path / "n.svg")], env=env, capture_output=True, text=True)
    assert done.returncode == 2 and "dot" in done.stderr and "scripts/setup" in done.stderr


def test_diagram_all_writes_every_protocol(cli_run, tmp_path):
    """`casework diagram --all -o DIR` writes an SVG and a PNG per protocol."""
    cli_run("diagram", "--all", "-o", str(tmp_path / "out"))
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == sorted(f"{n}{a}.{f}" for n in Policies().names() for f in ("svg", "png")
                           for a in ("", "-allocation"))


def test_a_case_on_its_diagram_shows_where_it_stands_its_path_and_its_exits(cli_run):
    """--case highlights the state and the moves made; --as marks each exit open or refused, with why,
    and the key explains those marks."""
    for args in (["tm", "--name", "T", "--role", "team_manager", "--registered", "SW1", "--team", "E"],
                 ["sw", "--name", "S", "--role", "social_worker", "--registered", "SW2", "--team", "E"]):
        cli_run("staff", "add", *args, *([] if args[0] == "tm" else ["--as", "tm"]))
    cli_run("case", "open", "C-1", "--policy", "national", "--team", "E", "--as", "tm")
    cli_run("case", "allocate", "C-1", "--lead", "sw", "--as", "tm")
    cli_run("case", "move", "C-1", "decide_assessment", "--as", "tm")
    dot = cli_run("diagram", "national", "--case", "C-1", "--as", "sw", "--format", "dot").stdout
    assert "case C-1" in dot and "Single assessment" in plain(node_label(dot, "assessment"))
    assert re.search(r'^\s*assessment \[label=<.*fillcolor="#ffe08a"', dot, re.M)  # the current state
    assert re.search(r"^\s*referral -> assessment \[label=<.*penwidth=3.5", dot, re.M)  # the move made
    escalate = _arrow(dot, "assessment", "strategy_discussion")
    assert "OPEN to sw now" in plain(escalate)
    start_plan = _arrow(dot, "assessment", "cin_plan")
    assert "REFUSED for sw:" in plain(start_plan) and "style=dashed" in start_plan
    assert squash("'assessment_completed' (the lead practitioner has completed the single assessment) has not been "
                  "recorded") in squash(plain(start_plan))  # the first reason, in full
    key = plain(node_label(dot, "__key"))
    assert "Case C-1" in key and "open to sw now" in key and "refused for sw" in key
    assert layout_problems(dot) == []
    missing = cli_run("diagram", "national", "--case", "C-9", ok=False)
    assert missing.exit_code == 2 and "C-1" in missing.stderr


def _arrow(dot: str, source: str, target: str) -> str:
    """The rest of the DOT line of the arrow source -> target (its label and attributes)."""
    return re.search(rf"^\s*{source} -> {target} \[label=<(.*)", dot, re.M).group(1)


@pytest.mark.parametrize("name", Policies().names())
def test_every_move_names_its_event_who_and_what_with_rule_ids(name):
    """Each move of the detailed diagram is drawn once (an arrow, or a review row in its stage) with
    its event; its key references say who may make it and what must hold first, and every rule ID
    the event cites (its own, its who clauses', its requirements') is on the arrow or in those rows."""
    d = Policies().get(name)
    dot = diagram_source(d)
    drawn = {(m.event, m.source): m for m in moves(dot, d.states)}
    expected = {(event, source) for event, ev in d.events.items() for source in ev.sources}
    assert set(drawn) == expected and len(moves(dot, d.states)) == len(expected)
    key = key_entries(dot)
    for (event, _source), move in drawn.items():
        ev = d.events[event]
        assert move.target == ev.to
        who_text = key[move.who][0]
        assert squash(who_text).startswith(squash(ev.who_text())), (event, who_text)
        needs = [key[n][0] for n in move.needs]
        for req in ev.requires:
            assert any(squash(text).startswith(squash(req.text())) and all(r in text for r in req.all_rules())
                       for text in needs), (event, req.text())
        assert len(needs) == len({req.text() for req in ev.requires})
        shown = " ".join([*move.lines, who_text, *needs])
        cited = set(ev.rules) | {r for c in ev.who for r in c.rules} | {r for q in ev.requires for r in q.all_rules()}
        assert {rule for rule in cited if rule not in shown} == set(), event


@pytest.mark.parametrize("name", Policies().names())
def test_every_key_reference_resolves_and_every_key_row_is_used(name):
    """The key defines each reference once; every reference on an arrow or review resolves to a key
    row, and every row is referred to by some move."""
    d = Policies().get(name)
    dot = diagram_source(d)
    key = key_entries(dot)
    used = set()
    for move in moves(dot, d.states):
        assert move.who in key, (move.event, move.who)
        assert all(n in key for n in move.needs), (move.event, move.needs)
        used |= {move.who, *move.needs}
    for state in d.states:
        assert all(t in key for t in timescales(dot, state)), state
        used |= set(timescales(dot, state))
    assert used == set(key)


@pytest.mark.parametrize("name", Policies().names())
def test_every_timescale_is_in_the_key_with_its_rules_and_named_by_the_stages_it_runs_in(name):
    """The detailed view shows deadlines and cadences (WT-6): each is a key row T<n> with its sentence
    and rule IDs, named in the box of every stage it runs in and of no other; local ones starred."""
    d = Policies().get(name)
    dot = diagram_source(d)
    key = key_entries(dot)
    rows = {squash(text): (ref, starred) for ref, (text, starred) in key.items() if ref.startswith("T")}
    assert len(rows) == len(d.deadlines)
    for deadline in d.deadlines.values():
        sentence = squash(deadline.text() + (f" ({', '.join(deadline.rules)})" if deadline.rules else ""))
        assert sentence in rows, deadline.title
        ref, starred = rows[sentence]
        assert starred == (deadline.origin not in ("", d.lineage[0])), deadline.title
        assert {s for s in d.states if ref in timescales(dot, s)} == set(deadline.while_in), deadline.title
    assert not any("timescales" in plain(node_label(diagram_source(d, compact=True), s)) for s in d.states)


def test_local_additions_are_starred_green_and_explained():
    """What Stockport adds over national is green with a star, on the move and in the key, and the
    key says so; the national baseline draws no star at all."""
    d = Policies().get("stockport")
    dot = diagram_source(d)
    tac = next(m for m in moves(dot, d.states) if m.event == "hold_tac_meeting")
    assert tac.lines[0].startswith("\u2605") and "STO-6" in tac.lines[0]  # a local event, with its rule
    key = key_entries(dot)
    assert key[tac.who][1] and all(key[n][1] for n in tac.needs)
    cin_plan = node_label(dot, "cin_plan")
    assert '<FONT COLOR="#1a7f37">\u2605' in cin_plan
    assert "green: added or tightened by stockport over national" in plain(node_label(dot, "__key"))
    national = diagram_source(Policies().get("national"))
    assert "\u2605" not in national and not any(starred for _t, starred in key_entries(national).values())


@pytest.mark.parametrize("name", Policies().names())
def test_the_compact_view_names_every_event_and_keeps_the_legend(name):
    """--compact draws every move with its event name only, and still explains lines, boxes and stars."""
    d = Policies().get(name)
    dot = diagram_source(d, compact=True)
    drawn = moves(dot, d.states)
    assert {(m.event, m.source) for m in drawn} == {(e, s) for e, ev in d.events.items() for s in ev.sources}
    assert all(m.who is None and m.lines == m.lines[:1] for m in drawn)
    legend = plain(node_label(dot, "__key"))
    assert "Lines and boxes" in legend and "Who may make the move" not in legend
    assert ("added or tightened by" in legend) == (len(d.lineage) > 1)


def test_start_paths_and_closed_states_are_distinct():
    """Every case starts at a dot inside its path's cluster with a thick-bordered first stage; Child in
    Need and child protection stages are separate clusters; closed states are double-bordered and
    share the bottom rank."""
    for name in Policies().names():
        d = Policies().get(name)
        dot = diagram_source(d)
        clusters = {path: re.search(rf"subgraph cluster_{path} {{(.*?)\n\t}}", dot, re.S).group(1)
                    for path in ("cin", "cp")}
        assert "__start [" in clusters["cin"] and f"\t__start -> {d.initial}\n" in dot
        assert re.search(rf"^\s*{d.initial} \[label=<.*penwidth=2.5", dot, re.M)
        for state, s in d.states.items():
            if s.open and s.path in clusters:
                assert re.search(rf"^\s*{state} \[", clusters[s.path], re.M), state
            if not s.open:
                assert re.search(rf"^\s*{state} \[label=<.*peripheries=2", dot, re.M), state
        bottom = re.search(r"\{\n\s*rank=same\n(.*?)\n\s*\}", dot, re.S).group(1)
        assert {n for n, s in d.states.items() if not s.open} == set(re.findall(r"^\s*(\w+) \[", bottom, re.M))


@pytest.mark.parametrize("name", Policies().names())
def test_no_text_is_hidden_and_nothing_leaves_the_picture(name):
    """In graphviz's own layout of every view (detailed, compact, allocation) no two lines of text
    overlap, no arrow runs through text or through a box it does not join, and nothing falls
    outside the picture."""
    d = Policies().get(name)
    for view, source in (("detailed", diagram_source(d)), ("compact", diagram_source(d, compact=True)),
                         ("allocation", allocation_source(d))):
        assert layout_problems(source) == [], view


@pytest.mark.parametrize("name", Policies().names())
def test_the_allocation_diagram_lists_each_holders_conditions_in_its_box(name):
    """Each kind of holder is a box with its roles and every condition for handing it the case, with
    rule IDs; every rule ID of the allocation rules is in the diagram; local ones are starred."""
    d = Policies().get(name)
    dot = allocation_source(d)
    holders = [(f"lead{i}", p) for i, p in enumerate(d.allocation.leads)]
    holders += [(f"worker{i}", p) for i, p in enumerate(d.allocation.workers)]
    for node, policy in holders:
        box = squash(plain(node_label(dot, node)))
        assert all(squash(role.replace("_", " ")) in box for role in policy.roles)
        for req in policy.requires:
            assert squash(req.text()) in box and all(rule in box for rule in req.all_rules()), req.text()
    alloc = d.allocation
    cited = set(alloc.rules) | {r for c in alloc.who + alloc.supervisors for r in c.rules}
    cited |= {r for p in alloc.leads + alloc.workers for r in p.rules}
    assert {rule for rule in cited if rule not in dot} == set()
    assert ("\u2605" in dot) == any(p.origin not in ("", d.lineage[0]) for _k, p in holders)


def test_the_allocation_diagram_shows_the_handover_steps(cli_run):
    """Torbay's allocation diagram names every step of the CCW hand-over with its rule ID."""
    dot = cli_run("diagram", "torbay", "--allocation", "--format", "dot").stdout
    for rule in ("TOR-1", "TOR-2", "TOR-3", "TOR-4", "TOR-5", "TOR-7", "TOR-9"):
        assert rule in dot
    assert "community care worker" in dot and "who holds the case" in dot
