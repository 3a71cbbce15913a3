"""The diary in a real browser: a parent acknowledges the diary and reports a planned absence;
the page passes axe-core and fits a 360 px phone without horizontal scrolling."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import TYPE_CHECKING

import httpx

from tests.browser.conftest import DEMO_PASSWORD, LiveApp, assert_accessible, screenshot

if TYPE_CHECKING:
    from playwright.sync_api import Page


def sign_in(page: Page, username: str) -> None:
    from playwright.sync_api import expect

    page.goto("/login")
    page.get_by_label("Логин").fill(username)
    page.get_by_label("Пароль").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Войти").click()
    expect(page).to_have_url(re.compile(r"/diary$"))


def teacher_writes(live_app: LiveApp, day: date) -> None:
    """The history teacher (t4) gives a lesson with homework, a mark and a corrected mark."""
    token = httpx.post(
        f"{live_app.url}/api/v1/auth/token",
        data={"username": "gromov", "password": DEMO_PASSWORD},
        trust_env=False,
    )
    assert token.status_code == 200, token.text
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}

    def post(path: str, body: dict[str, object], expected: int = 201) -> dict[str, object]:
        r = httpx.post(f"{live_app.url}{path}", json=body, headers=headers, trust_env=False)
        assert r.status_code == expected, r.text
        data: dict[str, object] = r.json()
        return data

    lesson = {"group_id": "g1", "subject_id": "hist", "lesson_date": day.isoformat()}
    post(
        "/api/v1/lessons",
        lesson
        | {"lesson_no": 6, "topic": "Реформы Петра I", "homework": "Параграф 14, вопросы 1–5"},
    )
    mark = {
        "student_id": "s01",
        "subject_id": "hist",
        "lesson_date": day.isoformat(),
        "lesson_no": 6,
    }
    post("/api/v1/marks", mark | {"work_kind": "oral", "value": 5})
    first = post("/api/v1/marks", mark | {"work_kind": "test", "value": 3})
    post(
        f"/api/v1/marks/{first['mark_id']}/corrections",
        {"value": 4, "reason": "Проверено повторно"},
        expected=200,
    )


def test_a_parent_acknowledges_and_reports_an_absence(page: Page, live_app: LiveApp) -> None:
    from playwright.sync_api import expect

    sign_in(page, "aleksandrova")
    school_day = date.fromisoformat(page.get_by_label("С", exact=True).input_value()) - timedelta(
        days=1
    )  # the school's today
    if school_day.weekday() == 6:
        school_day -= timedelta(days=1)
    teacher_writes(live_app, school_day)
    page.reload()
    marks = page.locator("table.subjects tr", has_text="История")
    expect(marks).to_contain_text(f"5 {school_day:%d.%m}, устный ответ")
    expect(marks.locator("li.dmark.corrected")).to_contain_text("исправлена")
    expect(marks.locator("li.dmark.corrected del")).to_have_text("3")
    expect(page.locator(".diary-week")).to_contain_text("Параграф 14, вопросы 1–5")
    expect(page.get_by_role("heading", level=1)).to_have_text("Дневник")
    main = page.get_by_role("main")
    expect(main).to_contain_text("Александров Артём Игоревич")

    page.get_by_role("button", name="Ознакомлен(а)").click()
    expect(page.locator("#diary-ack-status")).to_have_attribute("role", "status")
    expect(page.locator("#diary-ack-status")).to_contain_text("Ознакомление записано")
    last = page.locator("#diary-ack-last")
    expect(last).to_contain_text("Последнее ознакомление:")
    at = last.get_attribute("data-at")
    assert at and at in (page.locator("#diary-ack-status").text_content() or "")
    expect(page.get_by_role("alert")).to_have_count(2)  # both empty, nothing went wrong
    expect(page.locator("#diary-ack-alert")).to_have_text("")

    # A refused notice (no reason) says so in role=alert and keeps the typed dates.
    form = page.get_by_role("form", name="Сообщить об отсутствии")
    day = date.fromisoformat(form.get_by_label("С", exact=True).input_value())  # tomorrow
    if day.weekday() == 6:  # a notice covers every day but Sunday
        day += timedelta(days=1)
    form.get_by_label("С", exact=True).fill(day.isoformat())
    form.get_by_label("По", exact=True).fill(day.isoformat())
    form.get_by_role("button", name="Отправить").click()
    expect(page.locator("#diary-notice-alert")).to_contain_text("Укажите причину")
    expect(form.get_by_label("С", exact=True)).to_have_value(day.isoformat())

    # The server's own Russian detail: the end before the start.
    form.get_by_label("По", exact=True).fill((day - timedelta(days=3)).isoformat())
    form.get_by_label("Причина").fill("Семейные обстоятельства")
    form.get_by_role("button", name="Отправить").click()
    alert = page.locator("#diary-notice-alert")
    expect(alert).not_to_have_text("")
    expect(alert).not_to_contain_text("Укажите причину")
    expect(alert).to_have_text(re.compile(r"[А-Яа-я]"))
    expect(form.get_by_label("Причина")).to_have_value("Семейные обстоятельства")

    form.get_by_label("По", exact=True).fill(day.isoformat())
    form.get_by_role("button", name="Отправить").click()
    status = page.locator("#diary-notice-status")
    expect(status).to_have_attribute("role", "status")
    expect(status).to_contain_text(f"Уведомление об отсутствии отправлено: {day:%d.%m.%Y}")
    expect(alert).to_have_text("")
    expect(page.locator("#diary-absences")).to_contain_text(f"{day:%d.%m.%Y}")
    expect(page.locator("#diary-absences")).to_contain_text("Семейные обстоятельства")

    assert_accessible(page)
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "diary.png")
    screenshot(page, "diary-full.png", full_page=True)

    page.set_viewport_size({"width": 360, "height": 740})
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Дневник")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the page scrolls sideways on a phone: {width}px"
    assert_accessible(page)
    screenshot(page, "diary-phone.png")
    screenshot(page, "diary-phone-full.png", full_page=True)


def test_someone_elses_child_is_not_found(page: Page) -> None:
    sign_in(page, "aleksandrova")
    response = page.goto("/diary?student_id=s03")
    assert response is not None and response.status == 404
    from playwright.sync_api import expect

    expect(page.get_by_role("alert")).to_have_text("Дневник не найден")
    expect(page.get_by_role("main")).not_to_contain_text("Баранов")
