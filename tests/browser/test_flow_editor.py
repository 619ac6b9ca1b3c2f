"""The flow editor in real headless Chromium, against the real app over HTTP.

A supervisor opens the 311 flow, breaks it and sees the problem marked at its line, fixes it,
tries the draft in the test-call panel (Spanish), publishes with the diff in front of them, rolls
back, and switches a storm message on. Screenshots of the editor, the diagram, the test call and
the publish confirmation go to artifacts/.
"""

from __future__ import annotations

import pytest

from ivr.flows.versions import versions_of
from tests.browser import browser_support
from tests.browser.browser_support import Served, shot
from tests.ivr.console_support import PASSWORD, add_account
from tests.ivr.flow_support import TEXT_311, edited, line_of

playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

pytestmark = pytest.mark.parametrize("backend", ["embedded"], indirect=True)

MAIN_ES = "Para reportar un problema, como un bache o una farola apagada, oprima el 1."
NEW_ES = "Nuevo menú. Para reportar un problema, como un bache o una farola apagada, oprima el 1."


def sign_in(tab, served_app: Served, login: str) -> None:  # type: ignore[no-untyped-def]
    browser_support.sign_in(tab, served_app.url, login, PASSWORD)
    playwright.expect(tab).to_have_url(f"{served_app.url}/")  # a supervisor lands on the page list


def type_over(tab, old: str, new: str) -> None:  # type: ignore[no-untyped-def]
    """Select the first `old` in the editor and type `new` over it, as a person would."""
    tab.evaluate("([old]) => { const t = document.getElementById('yaml'); t.focus();"
                 " const at = t.value.indexOf(old); t.setSelectionRange(at, at + old.length); }",
                 [old])
    tab.keyboard.type(new)


def test_a_supervisor_edits_tries_publishes_and_rolls_back(served: Served, page) -> None:  # type: ignore[no-untyped-def]
    expect = playwright.expect
    svc = served.center.services
    login = add_account(svc, roles=("supervisor",), name="Dana Whitfield")
    sign_in(page, served, login)

    page.goto(f"{served.url}/console/flows/311")
    expect(page.locator("#check-pill")).to_have_text("check passes")
    expect(page.locator("#live-pill")).to_have_text("live: version 1")
    expect(page.locator("#diagram svg g[data-node='main']")).to_be_visible()
    assert page.input_value("#yaml") == TEXT_311
    lines = TEXT_311.count("\n") + 1
    expect(page.locator("#gutter div")).to_have_count(lines)
    shot(page, "flow-editor.png")

    # A typo: the main menu's key 1 goes to a node that does not exist.
    broken = edited("      1: report\n", "      1: reprot\n")
    bad_line = line_of(broken, "1: reprot")
    type_over(page, "      1: report\n", "      1: reprot\n")
    assert page.input_value("#yaml") == broken
    expect(page.locator("#draft-pill")).to_contain_text("unsaved changes")
    # Checked while typing, before any save ...
    expect(page.locator("#check-pill")).to_have_text("1 problem")
    assert versions_of(svc).draft("311").revision == 1
    # ... and by the save itself.
    page.click("#btn-save")
    expect(page.locator("#draft-pill")).to_have_text("draft r2 · saved")
    problem = page.locator("#problem-list li")
    expect(problem).to_have_count(1)
    expect(problem).to_contain_text(f"Line {bad_line}")
    expect(problem).to_contain_text("key 1 goes to 'reprot', which is not a node (did you mean "
                                    "'report'?)")
    expect(page.locator(f"#gutter div[data-line='{bad_line}']")).to_have_class("bad")
    expect(page.locator(f"#backdrop span[data-line='{bad_line}']")).to_have_class("bad")
    expect(page.locator("#check-pill")).to_have_text("1 problem")
    problem.click()  # takes the cursor to the line
    selected = page.evaluate("() => { const t = document.getElementById('yaml');"
                             " return t.value.slice(t.selectionStart, t.selectionEnd); }")
    assert selected == "      1: reprot"
    shot(page, "flow-editor-problem.png")

    # Fixed, with a new Spanish menu line; the diagram follows the saved draft.
    fixed = edited(MAIN_ES, NEW_ES)
    type_over(page, "      1: reprot\n", "      1: report\n")
    type_over(page, MAIN_ES, NEW_ES)
    assert page.input_value("#yaml") == fixed
    page.keyboard.press("Control+s")
    expect(page.locator("#check-pill")).to_have_text("check passes")
    expect(page.locator("#problems-title")).to_have_text("No problems: the static check passes")
    expect(page.locator("#gutter div.bad")).to_have_count(0)
    expect(page.locator("#draft-pill")).to_have_text("draft r3 · saved")
    page.click("#diagram svg g[data-node='hours']")  # a node leads to its line
    selected = page.evaluate("() => { const t = document.getElementById('yaml');"
                             " return t.value.slice(t.selectionStart, t.selectionEnd); }")
    assert selected == "  hours:"
    page.click("#btn-wide")
    expect(page.locator("#zoom-level")).to_have_text("80%")
    page.locator("#diagram").evaluate("(box) => { box.scrollLeft = 0; }")
    shot(page, "flow-diagram.png")
    page.click("#btn-fit")
    shot(page, "flow-diagram-whole.png")
    page.click("#btn-wide")

    # Try the draft: Spanish, report a problem, pothole, then silence at the offer to file by
    # phone (the caller waits for a call-taker).
    page.click("#tab-trial")
    page.click("#btn-trial-start")
    transcript = page.locator("#transcript")
    expect(transcript).to_contain_text("Thank you for calling City 3 1 1")
    expect(page.locator("#keypad .key[data-key='2']")).to_be_enabled()
    page.click("#keypad .key[data-key='2']")
    spanish = page.locator("#transcript li.heard", has_text="Nuevo menú.")
    expect(spanish).to_have_count(1)
    expect(spanish.locator(".lang")).to_have_text("es-US")
    page.click("#keypad .key[data-key='1']")
    expect(transcript).to_contain_text("Para un bache, oprima el 1.")
    shot(page, "flow-test-call.png")
    page.click("#keypad .key[data-key='1']")
    expect(transcript).to_contain_text("Puede presentar este reporte ahora mismo")
    page.click("#btn-silence")
    expect(page.locator("#trial-ending")).to_contain_text(
        "Call over: the caller would wait for a call-taker: queue 'general'")
    expect(page.locator("#keypad .key[data-key='1']")).to_be_disabled()
    assert versions_of(svc).draft("311").live_version == 1  # trying touched nothing live

    # Publish, with the diff against live in the confirmation.
    page.click("#btn-publish")
    dialog = page.locator("#confirm")
    expect(dialog).to_be_visible()
    expect(page.locator("#confirm-summary")).to_contain_text("1 line(s) added, 1 removed")
    expect(page.locator("#confirm-diff .added")).to_contain_text("Nuevo menú.")
    expect(page.locator("#confirm-diff .removed")).to_contain_text(MAIN_ES)
    page.fill("#confirm-note", "Spanish menu reworded")
    shot(page, "flow-publish-confirm.png")
    page.click("#confirm-ok")
    expect(dialog).to_be_hidden()
    expect(page.locator("#banner")).to_have_text("Version 2 of flow 311 is live.")
    expect(page.locator("#live-pill")).to_have_text("live: version 2")
    assert svc.flows.live("311")[1] == 2

    # Roll back from the versions tab.
    page.click("#tab-history")
    expect(page.locator("#versions tbody tr")).to_have_count(2)
    expect(page.locator("#audit")).to_contain_text("Spanish menu reworded")
    page.click("#versions button[data-version='1']")
    expect(page.locator("#confirm-title")).to_have_text("Make version 1 live again?")
    page.click("#confirm-ok")
    expect(page.locator("#banner")).to_have_text("Version 1 of flow 311 is live again.")
    assert svc.flows.live("311")[1] == 1
    shot(page, "flow-versions.png")

    # Another supervisor saves the draft meanwhile: this save is refused and says by whom.
    store = versions_of(svc)
    theirs = store.draft("311")
    store.save_draft("311", theirs.text + "# checked by the night shift\n", theirs.revision,
                     "sup-night")
    type_over(page, NEW_ES, MAIN_ES)
    page.keyboard.press("Control+s")
    banner = page.locator("#banner")
    expect(banner).to_contain_text("The draft of flow '311' was saved by sup-night")
    expect(banner).to_contain_text("your text was not saved")
    shot(page, "flow-editor-conflict.png")
    banner.get_by_role("button", name="Load their draft").click()
    expect(page.locator("#draft-pill")).to_have_text(f"draft r{theirs.revision + 1} · saved")
    assert page.input_value("#yaml").endswith("# checked by the night shift\n")
    assert page.errors == []  # type: ignore[attr-defined]


def test_a_storm_message_from_the_flows_page(served: Served, page) -> None:  # type: ignore[no-untyped-def]
    expect = playwright.expect
    svc = served.center.services
    sign_in(page, served, add_account(svc, roles=("admin",), name="Lee Admin"))
    page.click("#nav-flows-console-flows-page")  # every page links supervisors to their flows
    expect(page).to_have_url(f"{served.url}/console/flows/")
    expect(page.locator("#flows tr[data-flow='311']")).to_contain_text("version 1")
    card = page.locator(".fx-ann[data-line='311']")
    card.locator("textarea[data-lang='en']").fill("Because of the storm, City offices are "
                                                   "closed today.")
    card.locator("textarea[data-lang='es']").fill("Por la tormenta, las oficinas de la ciudad "
                                                   "están cerradas hoy.")
    card.get_by_role("button", name="Switch on").click()
    expect(page.locator("#list-status")).to_have_text(
        "Line 311: the message is on for every new call.")
    expect(page.locator(".fx-ann.on[data-line='311']")).to_be_visible()
    assert svc.flows.live("311")[1] == 1  # no flow was edited
    from ivr.flows import announcements

    assert announcements.call_vars(svc, "311")["announcement"]["en"].startswith("Because of")
    shot(page, "flow-list-storm.png")
    page.locator(".fx-ann[data-line='311']").get_by_role("button", name="Switch off").click()
    expect(page.locator(".fx-ann.on")).to_have_count(0)
    assert announcements.call_vars(svc, "311") == {}
    assert page.errors == []  # type: ignore[attr-defined]


def test_saving_an_unchanged_draft_makes_no_revision_and_syntax_errors_read_plainly(  # type: ignore[no-untyped-def]
        served: Served, page) -> None:
    expect = playwright.expect
    svc = served.center.services
    sign_in(page, served, add_account(svc, roles=("supervisor",), name="Dana Whitfield"))
    page.goto(f"{served.url}/console/flows/311")
    expect(page.locator("#check-pill")).to_have_text("check passes")
    before = versions_of(svc).draft("311").revision
    audited = len(versions_of(svc).audit("flow:311"))
    page.keyboard.press("Control+s")  # nothing typed
    expect(page.locator("#draft-pill")).to_have_text(f"draft r{before} · no changes to save")
    page.click("#btn-save")
    expect(page.locator("#draft-pill")).to_have_text(f"draft r{before} · no changes to save")
    assert versions_of(svc).draft("311").revision == before
    assert len(versions_of(svc).audit("flow:311")) == audited

    # A line indented one space too few: what is wrong and where, in words.
    type_over(page, "    kind: language\n    say:\n", "    kind: language\n   say:\n")
    bad = line_of(page.input_value("#yaml"), "   say:")
    expect(page.locator("#check-pill")).to_have_text("1 problem")
    problem = page.locator("#problem-list li")
    expect(problem).to_contain_text(f"Line {bad}")
    expect(problem).to_contain_text("does not match the lines above")
    for jargon in ("<block", "scalar", "token"):
        expect(problem).not_to_contain_text(jargon)
    shot(page, "flow-editor-yaml-error.png")
    assert page.errors == []  # type: ignore[attr-defined]


def test_fit_shows_the_diagram_at_a_size_one_can_read(served: Served, page) -> None:  # type: ignore[no-untyped-def]
    expect = playwright.expect
    svc = served.center.services
    sign_in(page, served, add_account(svc, roles=("supervisor",), name="Dana Whitfield"))
    page.goto(f"{served.url}/console/flows/311")
    expect(page.locator("#diagram svg g[data-node='main']")).to_be_visible()
    page.click("#btn-fit")
    expect(page.locator("#btn-wide")).to_have_attribute("aria-pressed", "true")  # room first
    zoom = int(page.locator("#zoom-level").inner_text().rstrip("%"))
    assert zoom >= 70, zoom
    name = page.locator("#diagram svg g[data-node='welcome'] .id")
    assert name.bounding_box()["height"] >= 8  # node names stay legible
    # Nothing is cut off: every node can be scrolled to and seen whole.
    box = page.locator("#diagram")
    box.evaluate("(b) => { b.scrollLeft = b.scrollWidth; b.scrollTop = b.scrollHeight; }")
    frame = box.bounding_box()
    nodes = page.locator("#diagram svg g.n > rect:first-of-type").all()
    last = max((n.bounding_box() for n in nodes if n.bounding_box() is not None),
               key=lambda b: b["x"])
    assert last["x"] + last["width"] <= frame["x"] + frame["width"] + 1, (last, frame)
    shot(page, "flow-diagram-fit.png")
    assert page.errors == []  # type: ignore[attr-defined]
