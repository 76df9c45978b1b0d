"""The handbook says what the definition says, and every page works in a real headless Chromium.

The browser is Debian's Chromium driven through Debian's chromedriver (both installed by
scripts/setup), so nothing is downloaded at test time, and the pages are opened from disk
(file://) as a trainer would open them, with no server and no network.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from click.testing import CliRunner

from casework.cli.main import cli
from casework.workflow.handbook import build_handbook, write_handbook
from casework.workflow.loader import Policies

ROOT = Path(__file__).resolve().parent.parent
#: the baseline and one local protocol; each page of both is opened in the browser
POLICIES = ("national", "torbay")
PAGES = ("index.html", "states.html", "events.html", "facts.html", "allocation.html", "deadlines.html",
         "staff.html", "rules.html")
TITLES = {"index.html": "Contents", "states.html": "States", "events.html": "Events", "facts.html": "Facts",
          "allocation.html": "Allocation", "deadlines.html": "Deadlines", "staff.html": "Staff list",
          "rules.html": "Rules",
          "comparison.html": "Compared with national"}
#: headless, and nothing that reaches the network (updates, sync, safe browsing, metrics)
CHROMIUM_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                  "--no-default-browser-check", "--disable-background-networking", "--disable-sync",
                  "--disable-component-update", "--disable-default-apps", "--disable-extensions",
                  "--disable-client-side-phishing-detection", "--disable-domain-reliability",
                  "--metrics-recording-only", "--safebrowsing-disable-auto-update", "--window-size=1280,1024")


def _role_pages(policy: str) -> dict[str, str]:
    """The role pages of *policy*'s handbook: file → the role's title."""
    return {role.file: role.title for role in build_handbook(Policies().get(policy)).roles}


def _pages_of(policy: str) -> tuple[str, ...]:
    return PAGES + (("comparison.html",) if policy != "national" else ()) + tuple(_role_pages(policy))


@pytest.fixture(scope="module")
def handbooks(tmp_path_factory) -> Path:
    """`casework handbook P -o DIR/P` for the baseline and for Torbay, through the real CLI."""
    out = tmp_path_factory.mktemp("handbooks")
    for policy in POLICIES:
        result = CliRunner().invoke(cli, ["handbook", policy, "-o", str(out / policy)], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def torbay() -> object:
    policies = Policies()
    return build_handbook(policies.get("torbay"), policies.get("national"))


@pytest.fixture(scope="module")
def national() -> object:
    return build_handbook(Policies().get("national"))


def _section(hb, anchor: str):
    return next(s for page in hb.pages for g in page.groups for s in g.sections if s.anchor == anchor)


# --- what the handbook says -------------------------------------------------------------------


def test_national_guards_every_move_onto_and_along_child_protection_with_wt5(national):
    """WT-5: the s47 and CP moves each require a registered social worker as lead, and cite WT-5."""
    for event in ("escalate_to_strategy", "start_s47", "convene_icpc", "start_cp_plan", "hold_cp_review"):
        section = _section(national, f"event-{event}")
        wt5 = [c for c in section.requires if "WT-5" in c.rules]
        assert wt5 and "registered social worker" in wt5[0].text, event
        assert not wt5[0].local and not section.local and not section.tightened


def test_every_cited_rule_has_its_plain_english_and_quoted_source(national, torbay, handbooks):
    """Every rule ID a handbook cites shows what it means and the source's own words, with the source,
    wherever it is cited: no page falls back to 'quotes no source text'."""
    for hb in (national, torbay):
        for entry in hb.rules:
            assert entry.says and entry.quote and entry.source, (hb.name, entry.id)
    for page in sorted(handbooks.glob("*/*.html")):
        assert "quotes no source text" not in page.read_text(), page.name


def test_torbay_shows_the_sm_endorsement_on_the_handover_to_a_community_care_worker(torbay):
    """TOR-2: allocating a CCW as lead requires the SM's endorsement; marked as added by Torbay."""
    ccw = next(s for s in _section_group(torbay, "Who may lead") if "community care worker" in s.title)
    endorsement = next(c for c in ccw.requires if "TOR-2" in c.rules)
    assert "the service manager endorsed the CCW allocation" in endorsement.text and endorsement.local and ccw.local
    # it links the endorsement and what the endorsement must follow (#14)
    assert [link.href for link in endorsement.see] == ["facts.html#fact-sm_endorsement", "facts.html#fact-ccw_identified"]
    assert ccw.anchor in [link.href.split("#")[1] for link in torbay.rule("TOR-2").enforced_at]
    fact = _section(torbay, "fact-sm_endorsement")
    assert fact.local and any("rationale" in note for note in fact.notes)


def _section_group(hb, heading: str):
    return next(g.sections for page in hb.pages for g in page.groups if g.heading == heading)


def test_torbay_marks_what_it_tightened_on_national_moves(torbay):
    """TOR-6: step_down is a national move to which Torbay adds 'supervision not overdue'."""
    step_down = _section(torbay, "event-step_down")
    assert not step_down.local and step_down.tightened
    added = [c for c in step_down.requires if c.local]
    assert [c.rules for c in added] == [("TOR-6",)]
    assert [link.href for link in added[0].see] == ["deadlines.html#deadline-ccw_supervision"]
    assert not any(c.local for c in _section(torbay, "event-start_s47").requires)


def test_torbay_comparison_lists_what_torbay_adds_to_the_baseline(torbay, handbooks):
    """The comparison page is `policy diff national torbay`: its new facts, the CCW lead, the tightened moves."""
    areas = {(c.area, c.name): c for c in torbay.changes}
    for key in (("event", "step_down"), ("event", "hold_cin_review"), ("fact", "sm_endorsement"),
                ("deadline", "ccw_supervision"), ("allocation", "allocation")):
        assert key in areas, key
    added = areas["allocation", "allocation"].only_in_protocol
    assert any("the service manager endorsed the CCW allocation" in line and "TOR-2" in line for line in added)
    assert not any("sm_endorsement" in line for line in added)  # facts by their titles, as refusals name them
    assert areas["fact", "sm_endorsement"].link.href == "facts.html#fact-sm_endorsement"
    page = (handbooks / "torbay" / "comparison.html").read_text()
    assert "only in torbay" in page and "[TOR-2]" in page and "casework policy diff national torbay" in page


def test_pages_quote_the_rules_and_mark_local_additions(handbooks):
    """The HTML shows TOR-2's quote on the rules page and on the allocation page, with Torbay's marks."""
    torbay = Policies().get("torbay")
    quote = torbay.rulebook["TOR-2"].quote
    rules = (handbooks / "torbay" / "rules.html").read_text()
    allocation = (handbooks / "torbay" / "allocation.html").read_text()
    from markupsafe import escape

    assert 'id="rule-TOR-2"' in rules and str(escape(quote)) in rules
    assert str(escape(quote)) in allocation and "added by torbay" in allocation
    assert "added by" not in (handbooks / "national" / "events.html").read_text()
    assert not (handbooks / "national" / "comparison.html").exists()
    assert "comparison.html" not in (handbooks / "national" / "index.html").read_text()


def test_text_from_a_definition_is_escaped(tmp_path):
    """A title with markup in it is shown as text, never as HTML (Jinja2 autoescape)."""
    machines = tmp_path / "machines"
    machines.mkdir()
    (machines / "tricky.yaml").write_text("name: tricky\nextends: national\nversion: 1\n"
                                          "title: 'Tricky <script>alert(1)</script> & co'\n")
    write_handbook(Policies([machines]), "tricky", tmp_path / "out")
    index = (tmp_path / "out" / "index.html").read_text()
    assert "<script>" not in index and "Tricky &lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in index


def test_the_same_definition_gives_the_same_files(handbooks, tmp_path):
    """No timestamps: generating Torbay's handbook again gives byte-identical files."""
    write_handbook(Policies(), "torbay", tmp_path)
    for file in sorted((handbooks / "torbay").iterdir()):
        assert (tmp_path / file.name).read_bytes() == file.read_bytes(), file.name


def test_each_handbook_opens_with_its_own_protocols_summary(handbooks):
    """A local protocol's front page opens with its own summary, not the national paragraph: Torbay's speaks of
    community care workers and links the community care worker's page; every shipped local protocol has one."""
    policies = Policies()
    national = policies.get("national").description
    for name in policies.names():
        if name != "national":
            assert policies.get(name).description not in ("", national), name
    from markupsafe import escape

    index = (handbooks / "torbay" / "index.html").read_text()
    main = index.split("<main>", 1)[1]
    first = main.split("<p>", 1)[1].split("</p>", 1)[0]
    assert first.strip() == str(escape(policies.get("torbay").description.strip()))
    assert "community care worker" in first and str(escape(national.strip())) not in index
    assert 'href="role-community_care_worker.html"' in index


def test_conditions_name_facts_by_their_titles_not_identifiers(handbooks):
    """Plain words: no page of a handbook says "'ccw_identified' must be recorded"; Torbay's handover conditions
    name the fact by its title, in a sentence, with its rule ID beside it. (The comparison page is `policy diff`,
    for practice leads, in identifiers.)"""
    for page in sorted(p for p in handbooks.glob("*/*.html") if p.name != "comparison.html"):
        text = page.read_text()
        assert not re.search(r"&#39;[a-z_]+&#39; must", text), page.name
        assert "since the lead last changed" not in text, page.name
    ccw = next(s for s in _section_group(build_handbook(Policies().get("torbay")), "Who may lead")
               if "community care worker" in s.title)
    identified = next(c for c in ccw.requires if c.rules == ("TOR-1",))
    assert identified.text == ("The child's file must show “the team manager identified the child for CCW "
                               "allocation in supervision and notified the service manager”, recorded since the "
                               "case entered its current state and the current lead practitioner took the case")


def _torbay_ccw_lead(cli_run) -> None:
    """Torbay case T-1 through the whole hand-over (TOR-1..5, WT-4) to a community care worker as lead."""
    from .test_torbay import PROCESS, STAFF

    for person in STAFF:
        cli_run("staff", "add", *person, *([] if person[0] == "tm" else ["--as", "tm"]))
    cli_run("case", "open", "T-1", "--policy", "torbay", "--team", "Paignton", "--as", "tm")
    cli_run("case", "allocate", "T-1", "--lead", "sw", "--as", "tm")
    cli_run("case", "move", "T-1", "decide_assessment", "--as", "tm")
    cli_run("case", "record", "T-1", "assessment_completed", "--as", "sw")
    cli_run("case", "move", "T-1", "start_cin_plan", "--as", "sw")
    for fact, actor, extra in PROCESS:
        cli_run("case", "record", "T-1", fact, "--as", actor, *extra)
    cli_run("case", "allocate", "T-1", "--lead", "ccw", "--supervisor", "asw", "--as", "tm")


def _allowed(verdict: dict) -> bool:
    """Allowed, or missing only what the person acting gives (a reason, a note, the people taking part)."""
    return all(u.get("argument") for u in verdict["unmet"])


def test_the_ccw_page_lists_exactly_the_moves_and_records_the_engine_allows_a_ccw(cli_run, torbay):
    """TOR-7: a Torbay CCW leads only at the CIN plan; on a real case led by one (after the whole hand-over),
    the moves `case can` allows the CCW are exactly the role page's "you may" moves, each from that state; the
    records the engine lets them make are all on the page, and any other the page lists waits only for a record."""
    _torbay_ccw_lead(cli_run)
    role = next(r for r in torbay.roles if r.role == "community_care_worker")
    can = json.loads(cli_run("case", "can", "T-1", "--as", "ccw", "--reason", "given", "--json").stdout)
    engine_moves = {v["event"] for v in can["events"] if _allowed(v)}
    page_moves = {p.what.href.split("#event-")[1] for p in role.may if p.kind == "move"}
    assert page_moves == engine_moves == {"hold_cin_review", "step_down"}
    assert all([link.href for link in p.states] == ["states.html#state-cin_plan"] for p in role.may if p.kind == "move")
    assert [h.slot for h in role.holding] == ["lead"] and \
        [link.href for link in role.holding[0].states] == ["states.html#state-cin_plan"]
    records = set()
    for fact in Policies().get("torbay").facts:
        verdict = json.loads(cli_run("case", "can", "T-1", "--record", fact, "--as", "ccw", "--json",
                                     ok=False).stdout)["events"][0]
        if _allowed(verdict):
            records.add(fact)
    # what the page lists and the engine refuses now is refused only for a record not yet on the file (the TOR-5
    # summary follows an endorsement given since the CCW took the case), never for who the CCW is
    page_records = {p.what.href.split("#fact-")[1] for p in role.may if p.kind == "record"}
    assert records <= page_records
    for fact in page_records - records:
        verdict = json.loads(cli_run("case", "can", "T-1", "--record", fact, "--as", "ccw", "--json",
                                     ok=False).stdout)["events"][0]
        assert {u["kind"] for u in verdict["unmet"]} == {"fact_recorded"}, fact
    assert {"escalation_raised", "home_visit"} <= records and "supervision" not in records


def test_the_ccw_may_not_escalate_to_child_protection_and_the_page_says_why(cli_run, torbay, handbooks):
    """WT-5: the CCW's "you may not" list has the escalation to a strategy discussion (the way to a section 47
    enquiry) with its reason, the lead practitioner must be a registered social worker, as the engine refuses
    it; the page says who may escalate instead and, TOR-9, what must follow an escalation the CCW raises."""
    _torbay_ccw_lead(cli_run)
    role = next(r for r in torbay.roles if r.role == "community_care_worker")
    refused = {p.what.href.split("#event-")[1]: p for p in role.may_not if p.kind == "move"}
    escalate = refused["escalate_to_strategy"]
    assert [(c.text, c.rules) for c in escalate.because] == [
        ("The lead practitioner must be a registered social worker", ("WT-5",))]
    assert "the case's lead practitioner" not in escalate.instead and "the case's supervisor" in escalate.instead
    assert "start_s47" in refused and any("WT-5" in c.rules for c in refused["start_s47"].because)
    engine = json.loads(cli_run("case", "can", "T-1", "escalate_to_strategy", "--as", "ccw", "--reason", "risk",
                                "--json", ok=False).stdout)["events"][0]
    assert [(u["kind"], u["rules"]) for u in engine["unmet"]] == [("lead_is_registered_social_worker", ["WT-5"])]
    assert [p.what.text for p in role.escalation] == ["Escalate to a strategy discussion"]
    assert [c.rules for c in role.escalation_keeps] == [("TOR-9",)]
    assert [s.name for s in role.supervision] == ["ccw_supervision"]
    page = (handbooks / "torbay" / "role-community_care_worker.html").read_text()
    may_not = page.split('id="may-not"', 1)[1].split('id="supervision"', 1)[0]
    assert "Escalate to a strategy discussion" in may_not and "The lead practitioner must be a registered social " \
        "worker" in may_not and 'href="rules.html#rule-WT-5"' in may_not


def test_role_pages_link_each_other_and_the_front_page_lists_them(torbay, handbooks):
    """Every role page links every other role page of its handbook, and the front page links each of them;
    a role the protocol gives no part (Torbay: a social work assistant) has no page and is named as such."""
    files = [r.file for r in torbay.roles]
    index = (handbooks / "torbay" / "index.html").read_text()
    for role in torbay.roles:
        page = (handbooks / "torbay" / role.file).read_text()
        assert all(f'href="{other}"' in page for other in files if other != role.file), role.file
        assert f'href="{role.file}"' in index
    assert "social work assistant" in torbay.roles_without_part and "role-social_work_assistant.html" not in files


def test_a_team_manager_may_act_without_holding_the_case(national):
    """WT-4: a registered team manager decides to assess as a manager, not only as the case's lead or supervisor,
    so the page gives no 'as the case's …' for it; they may allocate; they may never record a student's work."""
    role = next(r for r in national.roles if r.role == "team_manager")
    decide = next(p for p in role.may if p.what.href == "events.html#event-decide_assessment")
    assert decide.standing == () and any(p.kind == "allocate" for p in role.may)
    ccw = next(r for r in national.roles if r.role == "community_care_worker")
    assert not any(p.kind == "allocate" for p in ccw.may)


# --- the command line -------------------------------------------------------------------------


def test_handbook_writes_the_pages_and_the_diagrams(handbooks):
    """Each handbook holds its pages and both diagrams as SVG (comparison only for a local protocol)."""
    for policy in POLICIES:
        names = sorted(p.name for p in (handbooks / policy).iterdir())
        assert "role-social_worker.html" in names and "role-community_care_worker.html" in names
        assert names == sorted([*_pages_of(policy), f"{policy}.svg", f"{policy}-allocation.svg"])


def test_handbook_all_writes_every_protocol_and_an_index(cli_run, tmp_path):
    """`casework handbook --all -o DIR` writes DIR/<policy>/ for each protocol and DIR/index.html."""
    cli_run("handbook", "--all", "-o", str(tmp_path))
    for name in Policies().names():
        assert (tmp_path / name / "index.html").exists()
        assert f'href="{name}/index.html"' in (tmp_path / "index.html").read_text()


def test_the_readme_handbook_command_makes_the_ccw_page_it_links(cli_run, tmp_path):
    """The README's Handbook section: its command, run as written (in a scratch directory), writes the community
    care worker's page the section links, and that page is Torbay's page for a community care worker."""
    section = (ROOT / "README.md").read_text().split("## Handbook\n", 1)[1].split("\n## ", 1)[0]
    command = section.split("```sh\n", 1)[1].split("```", 1)[0].splitlines()[0].split()
    assert command[:2] == ["casework", "handbook"]
    out = command[command.index("-o") + 1]
    linked = re.findall(r"\]\((handbook/[^)]+)\)", section)
    assert linked == ["handbook/torbay/role-community_care_worker.html"] and linked[0].startswith(out)
    cli_run(*command[1:-1], str(tmp_path / out))
    page = (tmp_path / linked[0]).read_text()
    assert "As a community care worker" in page and "Torbay interim Community Care Worker process" in page
    assert (ROOT / linked[0]).read_text() == page  # the link resolves in the repository too


def test_the_committed_torbay_handbook_is_current(handbooks):
    """handbook/torbay/ holds exactly the files `casework handbook torbay` writes, byte for byte."""
    committed, fresh = ROOT / "handbook" / "torbay", handbooks / "torbay"
    refresh = "run `.venv/bin/casework handbook torbay -o handbook/torbay/` and commit it"
    assert sorted(p.name for p in committed.iterdir()) == sorted(p.name for p in fresh.iterdir()), refresh
    for file in sorted(fresh.iterdir()):
        assert (committed / file.name).read_bytes() == file.read_bytes(), f"handbook/torbay/{file.name}: {refresh}"


def test_unknown_protocol_or_no_protocol_exits_2(cli_run, tmp_path):
    """An unknown protocol, or neither POLICY nor --all, is bad input (exit 2) and writes nothing."""
    unknown = cli_run("handbook", "torbey", "-o", str(tmp_path / "out"), ok=False)
    assert unknown.exit_code == 2 and "Unknown policy 'torbey'" in unknown.stderr and "torbay" in unknown.stderr
    assert cli_run("handbook", "-o", str(tmp_path / "out"), ok=False).exit_code == 2
    assert not (tmp_path / "out").exists()


def test_missing_dot_is_a_clear_error_with_exit_2(tmp_path):
    """Without graphviz's `dot` on PATH the handbook command says how to install it and exits 2."""
    env = {**os.environ, "PATH": str(Path(sys.executable).parent)}
    done = subprocess.run([str(Path(sys.executable).parent / "casework"), "handbook", "national", "-o",
                           str(tmp_path / "out")], env=env, capture_output=True, text=True)
    assert done.returncode == 2 and "dot" in done.stderr and "scripts/setup" in done.stderr


# --- in a real browser ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Debian's headless Chromium through Debian's chromedriver (Selenium Manager is never asked)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not chromedriver:
        pytest.fail("Chromium or chromedriver is missing: run scripts/setup (Debian packages chromium and "
                    "chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


class _Ids(HTMLParser):
    """Every element id of an HTML file."""

    def __init__(self, text: str):
        super().__init__()
        self.ids: set[str] = set()
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.ids.update(value for name, value in attrs if name == "id" and value)


def _open(browser, path: Path) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(path.as_uri())
    WebDriverWait(browser, 20).until(lambda b: b.execute_script("return document.readyState") == "complete")
    assert browser.current_url.startswith("file://"), browser.current_url


def _assert_links_resolve(browser, page: Path, root: Path) -> int:
    """Every link of the open page is relative, and names an existing file (and element id) under *root*."""
    hrefs = browser.execute_script(
        "return Array.from(document.querySelectorAll('a[href]')).map(a => [a.getAttribute('href'), a.href])")
    assert hrefs, page
    for written, resolved in hrefs:
        assert "://" not in written and not written.startswith("/"), (page.name, written)
        url = urlsplit(resolved)
        target = Path(unquote(url.path))
        assert url.scheme == "file" and target.is_file() and root in target.parents, (page.name, written)
        if url.fragment:
            assert unquote(url.fragment) in _Ids(target.read_text()).ids, (page.name, written)
    return len(hrefs)


def _assert_images_render(browser, page: Path) -> int:
    images = browser.execute_script(
        "return Array.from(document.images).map(i => [i.getAttribute('src'), i.complete, i.naturalWidth, i.alt])")
    for src, complete, width, alt in images:
        assert complete and width > 0 and alt, (page.name, src)
    return len(images)


def _assert_nothing_failed_or_left_the_machine(browser, page: Path) -> None:
    resources = browser.execute_script("return performance.getEntriesByType('resource').map(r => r.name)")
    assert all(name.startswith("file://") for name in resources), (page.name, resources)
    severe = [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert not severe, (page.name, severe)


def _assert_screenshot(browser, file: Path) -> None:
    assert browser.save_screenshot(str(file))
    data = file.read_bytes()
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and width >= 800 and height >= 600 and len(data) > 20_000, file


@pytest.mark.parametrize("policy,page", [(p, f) for p in POLICIES for f in _pages_of(p)])
def test_every_page_loads_renders_its_images_and_resolves_its_links(browser, handbooks, tmp_path, policy, page):
    """In headless Chromium, from disk: the title is right, every image renders, every internal link (and
    #fragment) resolves, nothing is fetched from the network and nothing fails; a screenshot is taken."""
    path = handbooks / policy / page
    _open(browser, path)
    hb_title = Policies().get(policy).title
    assert browser.title == f"{TITLES.get(page) or _role_pages(policy)[page]} \u00b7 {hb_title}"
    images = _assert_images_render(browser, path)
    assert images == (2 if page == "index.html" else 0)
    _assert_links_resolve(browser, path, handbooks / policy)
    _assert_nothing_failed_or_left_the_machine(browser, path)
    _assert_screenshot(browser, tmp_path / f"{policy}-{page}.png")


def test_the_index_of_all_handbooks_works_in_the_browser(browser, cli_run, tmp_path):
    """`handbook --all`'s index links to every protocol's handbook, and each of those loads with its diagrams."""
    out = tmp_path / "all"
    cli_run("handbook", "--all", "-o", str(out))
    _open(browser, out / "index.html")
    assert _assert_links_resolve(browser, out / "index.html", out) == len(Policies().names())
    for name in Policies().names():
        _open(browser, out / name / "index.html")
        assert _assert_images_render(browser, out / name / "index.html") == 2
        _assert_nothing_failed_or_left_the_machine(browser, out / name / "index.html")


def test_the_staff_page_says_who_may_change_the_staff_list(handbooks):
    """Each kind of staff change, who may make it and its rules, as the definition's staff: section says (WT-7)."""
    text = (handbooks / "national" / "staff.html").read_text()
    for title in ("Adding someone to the staff list", "Mapping a database login to a person",
                  "Recording that someone has left"):
        assert title in text
    assert "registered service manager or head of service" in text and "WT-7" in text
    assert text.count("Nobody may make this change for themselves") == 5
