"""Diagrams come from the loaded definitions, show every move with who and what (rule IDs included), hide no
text, render deterministically, and the committed ones are current."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .diagram_reading import (brief_arrows, key_entries, layout_problems, moves, node_label, plain, squash,
                              timescales)
from casework.workflow.diagram import ALL_VIEWS, allocation_source, diagram_source, render
from casework.workflow.loader import Policies

ROOT = Path(__file__).resolve().parent.parent
REFRESH = ".venv/bin/casework diagram --all -o diagrams/"


@pytest.mark.parametrize("name", Policies().names())
@pytest.mark.parametrize("fmt", ["svg", "png"])
@pytest.mark.parametrize("view", ALL_VIEWS, ids=lambda v: v.suffix or "whole")
def test_committed_diagrams_are_current(name, fmt, view):
    """Each diagrams/<policy><view>.<fmt> (whole, compact, CIN and CP pages, allocation) equals a fresh
    rendering of the definition the engine runs."""
    file = f"{name}{view.suffix}.{fmt}"
    committed = ROOT / "diagrams" / file
    assert committed.exists(), f"diagrams/{file} is missing: run `{REFRESH}`"
    fresh = render(Policies().get(name), fmt, view.compact, allocation=view.allocation, page=view.page)
    assert committed.read_bytes() == fresh, f"diagrams/{file} is stale: run `{REFRESH}` and commit it"


def test_committed_diagrams_are_only_those_the_command_writes():
    """diagrams/ holds exactly the files `diagram --all` writes: none left over from an old view."""
    expected = {f"{n}{v.suffix}.{f}" for n in Policies().names() for v in ALL_VIEWS for f in ("svg", "png")}
    assert {p.name for p in (ROOT / "diagrams").iterdir()} == expected


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


@pytest.mark.slow
def test_diagram_all_writes_every_protocol_and_says_so_as_it_goes(cli_run, tmp_path):
    """`casework diagram --all -o DIR` writes an SVG and a PNG of every view of every protocol, and reports
    each file on stderr as it is written, numbered against the total, then the time it took."""
    done = cli_run("diagram", "--all", "-o", str(tmp_path / "out"))
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    expected = sorted(f"{n}{v.suffix}.{f}" for n in Policies().names() for f in ("svg", "png") for v in ALL_VIEWS)
    assert names == expected
    progress = done.stderr.splitlines()
    assert progress[0].startswith(f"[1/{len(expected)}] Wrote ") and progress[-2].startswith(f"[{len(expected)}/")
    assert re.fullmatch(rf"Wrote {len(Policies().names())} protocols' diagrams in \d+\.\d s\.", progress[-1])


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
    assert squash("the lead practitioner has completed the single assessment") in squash(plain(start_plan))
    key = plain(node_label(dot, "__key"))
    assert "Case C-1" in key and "open to sw now" in key and "refused for sw" in key
    assert layout_problems(dot) == []
    on_page = cli_run("diagram", "national", "--case", "C-1", "--as", "sw", "--page", "cin", "--format", "dot").stdout
    assert brief_arrows(on_page) == {}  # each exit into child protection keeps its own mark on the case's page
    assert "OPEN to sw now" in plain(_arrow(on_page, "assessment", "__elsewhere"))
    missing = cli_run("diagram", "national", "--case", "C-9", ok=False)
    assert missing.exit_code == 2 and "C-9" in missing.stderr
    other = cli_run("diagram", "torbay", "--case", "C-1", "--format", "dot", ok=False)
    assert other.exit_code == 2 and other.stdout == ""
    assert "Case C-1 is on the national protocol, not torbay" in other.stderr
    assert "casework diagram national --case C-1" in other.stderr


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
        for req in ev.requires:  # in the definition's words: facts, moves and states by their titles
            assert any(squash(text).startswith(squash(req.text(d))) and all(r in text for r in req.all_rules())
                       for text in needs), (event, req.text(d))
        assert len(needs) == len({req.text(d) for req in ev.requires})
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
    assert tac.lines[0].startswith("\u2605") and "STO-6" in " ".join(tac.lines[:2])  # a local event, its rule
    key = key_entries(dot)
    assert key[tac.who][1] and all(key[n][1] for n in tac.needs)
    cin_plan = node_label(dot, "cin_plan")
    assert '<FONT COLOR="#1a7f37">\u2605' in cin_plan
    assert "green: added or tightened by stockport over national" in plain(node_label(dot, "__key"))
    national = diagram_source(Policies().get("national"))
    assert "\u2605" not in national and not any(starred for _t, starred in key_entries(national).values())


@pytest.mark.parametrize("name", Policies().names())
def test_the_compact_view_names_every_event_and_keeps_the_legend(name):
    """--compact draws every move by its title, with no key references, and still explains lines, boxes and
    stars."""
    d = Policies().get(name)
    dot = diagram_source(d, compact=True)
    drawn = moves(dot, d.states)
    assert {(m.event, m.source) for m in drawn} == {(e, s) for e, ev in d.events.items() for s in ev.sources}
    assert all(m.who is None and not m.needs for m in drawn)
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
        for req in policy.requires:  # a step of a staged hand-over is named by its fact's title
            step = getattr(req, "fact", None) in d.facts and squash(d.facts[req.fact].title[1:]) in box
            assert (squash(req.text()) in box or step) and all(rule in box for rule in req.all_rules()), req.text()
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


def _titles(move) -> str:
    """A move's title as drawn: its bold lines, joined, without the review and local marks."""
    lines = [line for line in move.lines if "who " not in line and not line.startswith(("from ", "to "))]
    return " ".join(line.strip("\u2003 ").lstrip("\u2605\u2713\u21bb ") for line in lines)


@pytest.mark.parametrize("name", Policies().names())
def test_moves_are_named_by_their_titles_and_keep_their_identifiers_as_ids(name):
    """Every arrow and review shows its move's title, not its identifier; the identifier is the SVG id
    (move.<event>.<from>) and tooltip, so tools and trainers can still map the picture to the CLI."""
    d = Policies().get(name)
    for dot in (diagram_source(d), diagram_source(d, compact=True)):
        for move in moves(dot, d.states):
            ev = d.events[move.event]
            assert squash(_titles(move)).startswith(squash(ev.title)), (move.event, move.lines)
            assert move.event not in " ".join(move.lines)
        assert 'tooltip="decide_no_further_action (from referral)"' in dot
    svg = render(d, "svg").decode()
    assert 'id="move.decide_no_further_action.referral"' in svg and 'xlink:title="hold_cin_review' in svg


def test_the_compact_view_marks_what_torbay_adds_and_national_lacks():
    """Torbay's compact view stars the moves it tightens (TOR-6 on stepping down and CIN reviews), names its
    CCW supervision deadline in the CIN plan's box and lists the holders it adds; national's compact view,
    drawn from the same base, marks nothing, so the two differ by more than their titles."""
    torbay, national = Policies().get("torbay"), Policies().get("national")
    dot = diagram_source(torbay, compact=True)
    marked = {m.event for m in moves(dot, torbay.states) if m.lines[0].startswith("\u2605")}
    assert marked == {"step_down", "hold_cin_review"}
    step_down = next(m for m in moves(dot, torbay.states) if m.event == "step_down")
    assert "Torbay adds a condition (TOR-6)" in step_down.lines
    assert "\u2605Supervision of the CCW-led case (TOR-6)" in plain(node_label(dot, "cin_plan"))
    key = squash(plain(node_label(dot, "__key")))
    assert squash("Who may hold a case: Torbay") in key
    assert squash("a community care worker may lead") in key and squash("under Torbay's conditions") in key
    plain_national = diagram_source(national, compact=True)
    assert "\u2605" not in plain_national and "Who may hold a case" not in plain_national
    assert not any(m.lines[0].startswith("\u2605") for m in moves(plain_national, national.states))


def test_kent_compact_view_marks_the_meetings_it_has_a_social_worker_chair():
    """Kent sets who may chair CIN meetings (KEN-5): those moves are starred with what Kent changed."""
    d = Policies().get("kent")
    drawn = {m.event: m for m in moves(diagram_source(d, compact=True), d.states)}
    for event in ("start_cin_plan", "hold_cin_review", "step_down"):
        assert drawn[event].lines[0].startswith("\u2605")
        assert any("Kent sets who may make it (KEN-5)" in line for line in drawn[event].lines)
    assert not drawn["close"].lines[0].startswith("\u2605")


def test_torbays_hand_over_is_drawn_as_numbered_steps_in_order():
    """The CCW hand-over is numbered in the order the definition demands: the team manager identifies
    (TOR-1), then the service manager endorses (TOR-2), then, in any order, the family is told, the
    hand-over agreed and the case summary updated (TOR-3 to TOR-5); arrows join the steps."""
    d = Policies().get("torbay")
    box = plain(node_label(allocation_source(d), "lead1"))
    assert "the hand-over, step by step, in this order:" in box
    steps = [squash(step) for step in box.split("in this order:", 1)[1].split("\u25bc")]  # the arrows
    assert [step[0] for step in steps] == ["1", "2", "3"]
    assert "(TOR-1)" in steps[0] and "identifiedthechild" in steps[0]
    assert "(TOR-2)" in steps[1] and "endorsed" in steps[1]
    assert "inanyorder:" in steps[2] and all(f"(TOR-{n})" in steps[2] for n in (3, 4, 5))
    assert squash("why the child is in scope for CCW allocation") in squash(box.split("in this order:")[0])  # bullets
    national = plain(node_label(allocation_source(Policies().get("national")), "lead1"))
    assert "step by step" not in national


def test_a_torbay_ccw_takes_no_new_case_straight_from_referral():
    """TOR-7 lets a CCW lead only a case in its CIN plan, so no 'allocate' arrow runs from a new case to the
    CCW box; national's non-social-worker lead may take a new case."""
    torbay = allocation_source(Policies().get("torbay"))
    assert re.search(r"__referral -> lead0 ", torbay) and not re.search(r"__referral -> lead1 ", torbay)
    assert re.search(r"__referral -> lead1 ", allocation_source(Policies().get("national")))


@pytest.mark.parametrize("name", Policies().names())
@pytest.mark.parametrize("page", ["cin", "cp"])
def test_a_page_draws_its_stages_in_full_and_the_other_page_as_one_box(name, page):
    """--page cin|cp draws only that path's stages in full (closed states with Child in Need) and the other page's
    stages as one dashed box. The child protection page draws every move that touches its stages once with its
    key references, each arrow to or from the box naming the stage; the Child in Need page draws its own moves so,
    and names every move between the paths by title on one arrow each way between its stages and the box. Each
    key holds only what its page uses, and no layout hides text."""
    d = Policies().get(name)
    dot = diagram_source(d, page=page)
    own = {s for s, spec in d.states.items() if (spec.path == "cp") == (page == "cp")}
    drawn = moves(dot, {s: d.states[s] for s in own})
    touching = {(e, s) for e, ev in d.events.items() for s in ev.sources if s in own or ev.to in own}
    within = {(e, s) for e, s in touching if s in own and d.events[e].to in own}
    expected = touching if page == "cp" else within
    assert {(m.event, s) for m in drawn for s in d.events[m.event].sources if (m.event, s) in touching} == expected
    brief = brief_arrows(dot)
    if page == "cp":
        assert brief == {}
    else:
        assert set(brief) == {"out", "back"}
        assert brief["out"][1] == brief["back"][0] == "__elsewhere"
        for way, (_source, _target, lines) in brief.items():
            assert lines[-1] == "who and what: the child protection page"
            between = {e for e, s in touching - within if (s in own) == (way == "out")}
            titles = [d.events[e].title for e in d.events if e in between]
            assert all(squash(t) in squash(" ".join(lines)) for t in titles), (way, titles, lines)
            if way == "out":  # where each is made from, by the stages' titles
                assert all(squash(d.states[s].title) in squash(" ".join(lines)) for _e, s in touching - within
                           if s in own), lines
    for state in d.states:
        assert bool(re.search(rf"^\s*{state} \[label=<", dot, re.M)) == (state in own), state
    other = "child protection" if page == "cin" else "Child in Need"
    assert f"on the {other} page" in plain(node_label(dot, "__elsewhere"))
    for m in drawn:
        if "__elsewhere" in (m.source, m.target):
            assert any(line.startswith(("from ", "to ")) for line in m.lines), m.event
    key = key_entries(dot)
    used = {r for m in drawn for r in (m.who, *m.needs)} | {t for s in own for t in timescales(dot, s)}
    assert used == set(key)
    assert layout_problems(dot) == []


def test_pages_and_views_are_chosen_on_the_command_line(cli_run):
    """`diagram national --page cp` draws the child protection page; `--allocation --compact` (and
    --allocation with --page or --case, or --as without --case) is refused with exit 2 and says why."""
    page = cli_run("diagram", "national", "--page", "cp", "--format", "dot").stdout
    assert "child protection stages" in page and "__elsewhere" in page
    for args, words in ((["--allocation", "--compact"], "leave out --compact"),
                        (["--allocation", "--page", "cin"], "leave out --page"),
                        (["--as", "sw"], "give --case CASE too")):
        refused = cli_run("diagram", "national", *args, "--format", "dot", ok=False)
        assert refused.exit_code == 2 and words in refused.stderr and refused.stdout == "", args


def _on_a_terminal(*args: str) -> tuple[int, bytes]:
    """Run the real CLI with its stdout on a pseudo-terminal; its exit code and what reached the terminal
    (read while it runs, so a long output cannot fill the terminal's buffer and stall it)."""
    import pty
    import threading

    main, replica = pty.openpty()
    seen: list[bytes] = []

    def read() -> None:
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the terminal closed
                return
            if not chunk:
                return
            seen.append(chunk)

    reader = threading.Thread(target=read)
    reader.start()
    done = subprocess.run([str(Path(sys.executable).parent / "casework"), *args], stdout=replica,
                          stderr=subprocess.PIPE, timeout=120)
    os.close(replica)
    reader.join(timeout=30)
    os.close(main)
    return done.returncode, b"".join(seen) + done.stderr


def test_binary_formats_are_never_written_to_a_terminal(tmp_path):
    """PNG and PDF to a terminal are refused (exit 2) with a pointer to -o; SVG still prints there, and a PNG
    piped to a file is written whole."""
    for fmt in ("png", "pdf"):
        code, seen = _on_a_terminal("diagram", "national", "--format", fmt)
        assert code == 2 and b"-o FILE." + fmt.encode() in seen and b"\x89PNG" not in seen
    code, seen = _on_a_terminal("diagram", "national", "--compact")
    assert code == 0 and b"<svg" in seen
    with open(tmp_path / "n.png", "wb") as out:
        piped = subprocess.run([str(Path(sys.executable).parent / "casework"), "diagram", "national", "--format",
                                "png"], stdout=out, stderr=subprocess.PIPE, timeout=120)
    assert piped.returncode == 0 and (tmp_path / "n.png").read_bytes().startswith(b"\x89PNG")
