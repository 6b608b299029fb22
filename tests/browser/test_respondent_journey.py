"""Journey 1: a respondent on a phone answers by keyboard alone, saves, comes back and submits; JavaScript on and off.

No mouse: Tab moves between questions, arrow keys and Space choose, typing fills text, Enter presses the focused
button. Every page reached passes axe-core's WCAG 2.1 A and AA rules and fits the phone's width.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from survey.models import Draft, Response
from survey.questionnaire import default_document, parse
from tests.browser.browsing import PHONE

QUESTIONNAIRE = parse(default_document())
PHONE_WIDTH = PHONE["viewport"]["width"]

PROFILE = {"country": "BE", "region": "BE21", "org_type": "research_org", "size_class": "medium", "ecosystem": "health"}
#: Varied answers, mostly not the first option, so that choosing takes arrow keys and not only Space.
ADOPTION = {
    item.code: item.choices[(index + 1) % len(item.choices)].code
    for index, item in enumerate(QUESTIONNAIRE.technologies)
}
CHALLENGES = {
    item.code: item.choices[(2 * index + 1) % len(item.choices)].code
    for index, item in enumerate(QUESTIONNAIRE.challenges)
}
INDICATORS = {
    "employees_now": 120,
    "employees_12m_ago": 95,
    "skills_share": "25_50",
    "hard_to_fill": "no",
    "exports_eu": "10_25",
    "exports_non_eu": "none",
    "value_chain_changes": ["new_suppliers", "reshoring"],
}
COMMENTS = {"comments": "Typed with the keyboard only, on a phone."}

FIRST_VISIT = {**PROFILE, **ADOPTION, **CHALLENGES}
EVERYTHING = {**FIRST_VISIT, **INDICATORS, **COMMENTS}
assert set(EVERYTHING) == set(QUESTIONNAIRE.items), "the journey answers every question"

SUBMIT = "Submit answers"
SAVE = "Save and continue later"

_FOCUS = """() => {
  const e = document.activeElement;
  if (!e || e === document.body || e === document.documentElement) return null;
  const info = {tag: e.tagName.toLowerCase(), type: (e.getAttribute('type') || '').toLowerCase(),
                name: e.getAttribute('name') || '', value: 'value' in e ? e.value : null,
                text: (e.textContent || '').trim()};
  if (info.type === 'radio' || info.type === 'checkbox') {
    const group = [...document.getElementsByName(e.name)];
    info.options = group.map(x => x.value);
    info.checked = group.filter(x => x.checked).map(x => x.value);
    info.self_checked = e.checked;
  }
  if (info.tag === 'select') info.labels = Object.fromEntries([...e.options].map(o => [o.value, o.text]));
  return info;
}"""

_FORM_STATE = """() => {
  const values = {};
  for (const e of document.querySelector('form.questionnaire').elements) {
    if (!e.name || e.name === 'csrf_token' || e.tagName === 'BUTTON') continue;
    if (e.type === 'radio') { if (e.checked || !(e.name in values)) values[e.name] = e.checked ? e.value : null; }
    else if (e.type === 'checkbox') {
      values[e.name] = values[e.name] || [];
      if (e.checked) values[e.name].push(e.value);
    }
    else values[e.name] = e.value;
  }
  return values;
}"""

FORM_FIELDS = {"input", "select", "textarea"}


def focused(page) -> dict:
    focus = page.evaluate(_FOCUS)
    assert focus is not None, "the focus left the page's controls"
    return focus


def answer_by_keyboard(page, answers: dict, *, until_button: str) -> list[str]:
    """Press Tab from where the focus is to the button `until_button`, giving each answer in `answers` on the way
    with the keys a person would use. Returns the names of the form fields met, in the order Tab reached them."""
    met: list[str] = []
    for _ in range(400):
        page.keyboard.press("Tab")
        focus = focused(page)
        if focus["tag"] == "button" and focus["text"] == until_button:
            return met
        if focus["tag"] not in FORM_FIELDS:
            continue
        name = focus["name"]
        if not met or met[-1] != name:
            met.append(name)
        if name in answers:
            _answer(page, focus, answers[name])
    raise AssertionError(f"Tab never reached the button {until_button!r}")


def _answer(page, focus: dict, want) -> None:
    keyboard = page.keyboard
    if focus["type"] == "radio":
        # Tab lands on the checked radio of a group, or on its first when none is; arrow keys move and choose.
        current, target = focus["options"].index(focus["value"]), focus["options"].index(want)
        if current == target and want not in focus["checked"]:
            keyboard.press("Space")
        for _ in range(abs(target - current)):
            keyboard.press("ArrowDown" if target > current else "ArrowUp")
        after = focused(page)
        assert (after["name"], after["checked"]) == (focus["name"], [want]), after
    elif focus["type"] == "checkbox":
        if (focus["value"] in want) != focus["self_checked"]:
            keyboard.press("Space")
        assert focused(page)["self_checked"] == (focus["value"] in want)
    elif focus["tag"] == "select":
        if focus["value"] != want:
            keyboard.type(focus["labels"][want])  # a closed list box jumps to the option typed
        assert focused(page)["value"] == want, f"{focus['name']}: typing {focus['labels'][want]!r} did not choose it"
    else:
        if focus["value"] != str(want):
            if focus["value"]:
                keyboard.press("ControlOrMeta+A")
            keyboard.type(str(want))
        assert focused(page)["value"] == str(want)


def form_state(answers: dict) -> dict:
    """What the form shows when `answers` are given and nothing else."""
    state = {}
    for code, item in QUESTIONNAIRE.items.items():
        value = answers.get(code)
        if item.type == "multi":
            state[code] = list(value or [])
        elif item.type == "choice":
            state[code] = value
        else:
            state[code] = "" if value is None else str(value)
    return state


def assert_fits_the_phone(page) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"the page is {width}px wide: a {PHONE_WIDTH}px phone has to scroll sideways"


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript-on", "javascript-off"])
def test_respondent_answers_on_a_phone_by_keyboard_saves_resumes_and_submits(
    live_server, new_page, checkpoint, screenshot, docs_screenshot, javascript
):
    link = live_server.invite()
    phone = {**PHONE, "java_script_enabled": javascript}

    # The invitation link opens the questionnaire.
    page = new_page(**phone)
    page.goto(link.url)
    expect(page.get_by_role("heading", level=1)).to_have_text(QUESTIONNAIRE.title)
    assert_fits_the_phone(page)
    checkpoint(page, "questionnaire")

    # The first Tab reaches the skip link; Enter on it takes the focus past the header to the questionnaire.
    page.keyboard.press("Tab")
    assert focused(page)["text"] == "Skip to content"
    page.keyboard.press("Enter")
    met = answer_by_keyboard(page, FIRST_VISIT, until_button=SUBMIT)
    assert met == list(QUESTIONNAIRE.items), "Tab reaches every question once, in the questionnaire's order"
    page.keyboard.press("Tab")
    assert focused(page)["text"] == SAVE
    screenshot(page, "first-part-answered")
    if javascript:
        # The picture in the README: the adoption matrix, partly answered. (Scrolling is for the picture only.)
        page.locator("#section-adoption").evaluate("heading => window.scrollTo(0, heading.parentElement.offsetTop)")
        docs_screenshot(page, "questionnaire-phone")

    # "Save and continue later" keeps the answers on the server, without submitting them.
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"\?saved=1"))
    expect(page.locator(".notice")).to_contain_text("Your answers are saved")
    checkpoint(page, "saved")
    with live_server.app_context() as session:
        assert session.scalars(select(Draft).filter_by(invitation_id=link.invitation_id)).one().answers["cloud"]
        assert session.scalars(select(Response).filter_by(organisation_id=link.organisation_id)).first() is None

    # Later, in the same browser (it keeps the draft's key in a cookie; another browser does not see the draft),
    # the same link shows the saved answers.
    page.goto("about:blank")
    page.goto(link.url)
    expect(page.locator(".notice")).to_contain_text("You are continuing from answers saved earlier")
    assert page.evaluate(_FORM_STATE) == form_state(FIRST_VISIT)
    assert_fits_the_phone(page)
    checkpoint(page, "resumed")

    # Finishing by keyboard, then Enter on "Submit answers".
    answer_by_keyboard(page, EVERYTHING, until_button=SUBMIT)
    assert page.evaluate(_FORM_STATE) == form_state(EVERYTHING)
    screenshot(page, "everything-answered")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/submitted$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you: your answers are submitted")
    checkpoint(page, "confirmation")

    # One response holds exactly what was typed; the draft is gone.
    with live_server.app_context() as session:
        response = session.scalars(
            select(Response).filter_by(wave_id=link.wave_id, organisation_id=link.organisation_id)
        ).one()
        assert response.profile == PROFILE
        assert response.answers == {**ADOPTION, **CHALLENGES, **INDICATORS, **COMMENTS}
        assert [cluster.slug for cluster in response.clusters] == ["basque-digital"]
        assert session.scalar(select(func.count()).select_from(Draft).filter_by(invitation_id=link.invitation_id)) == 0
