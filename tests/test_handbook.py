"""The handbook says what the definition says, and every page works in a real headless Chromium.

The browser is Debian's Chromium driven through Debian's chromedriver (both installed by
scripts/setup), so nothing is downloaded at test time, and the pages are opened from disk
(file://) as a trainer would open them, with no server and no network.
"""
from __future__ import annotations

import os
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


def _pages_of(policy: str) -> tuple[str, ...]:
    return PAGES + (("comparison.html",) if policy != "national" else ())


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
    assert "sm_endorsement" in endorsement.text and endorsement.local and ccw.local
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
    assert any("sm_endorsement" in line and "TOR-2" in line for line in added)
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


# --- the command line -------------------------------------------------------------------------


def test_handbook_writes_the_pages_and_the_diagrams(handbooks):
    """Each handbook holds its pages and both diagrams as SVG (comparison only for a local protocol)."""
    for policy in POLICIES:
        names = sorted(p.name for p in (handbooks / policy).iterdir())
        assert names == sorted([*_pages_of(policy), f"{policy}.svg", f"{policy}-allocation.svg"])


def test_handbook_all_writes_every_protocol_and_an_index(cli_run, tmp_path):
    """`casework handbook --all -o DIR` writes DIR/<policy>/ for each protocol and DIR/index.html."""
    cli_run("handbook", "--all", "-o", str(tmp_path))
    for name in Policies().names():
        assert (tmp_path / name / "index.html").exists()
        assert f'href="{name}/index.html"' in (tmp_path / "index.html").read_text()


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
    assert browser.title == f"{TITLES[page]} \u00b7 {hb_title}"
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
