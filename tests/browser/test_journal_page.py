"""The class journal page in a real browser: a teacher adds a lesson, types a column of marks
by keyboard, corrects one with a reason, reads its history; old cells are read-only."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import httpx

from tests.browser.conftest import DEMO_PASSWORD, LiveApp, assert_accessible, screenshot

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route


def bearer(live_app: LiveApp, username: str) -> dict[str, str]:
    r = httpx.post(
        f"{live_app.url}/api/v1/auth/token",
        data={"username": username, "password": DEMO_PASSWORD},
        trust_env=False,
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def journal_of(live_app: LiveApp, headers: dict[str, str], student_id: str) -> dict[str, Any]:
    r = httpx.get(
        f"{live_app.url}/api/v1/students/{student_id}/journal", headers=headers, trust_env=False
    )
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


def test_a_teacher_keeps_the_journal_by_keyboard(page: Page, live_app: LiveApp) -> None:
    from playwright.sync_api import expect

    page.goto("/login")
    page.get_by_label("Логин").fill("sokolova")
    page.get_by_label("Пароль").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Войти").click()
    expect(page).to_have_url(re.compile(r"/journal$"))
    page.get_by_role("link", name="ХТ-21 — Математика").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("ХТ-21 — Математика")
    expect(page.get_by_label("Период")).to_have_value("S1")
    grid = page.get_by_role("grid", name="Журнал")
    expect(grid).to_have_attribute("data-ready", "true")

    # A lesson today (the school's date the form offers), or yesterday when today is Sunday.
    page.get_by_role("button", name="Добавить урок").click()
    dialog = page.get_by_role("dialog", name="Новый урок")
    expect(dialog).to_be_visible()
    day = date.fromisoformat(dialog.get_by_label("Дата").input_value())
    if day.weekday() == 6:
        day -= timedelta(days=1)
        dialog.get_by_label("Дата").fill(day.isoformat())
    number = dialog.get_by_label("Номер урока").input_value()
    dialog.get_by_label("Тема урока").fill("Производная и её применение")
    dialog.get_by_label("Домашнее задание").fill("§ 12, № 3–7")
    expect(dialog.get_by_label("Вид работы")).to_have_value("oral")
    dialog.get_by_label("Вид работы").select_option(label="письменная работа")
    dialog.get_by_role("button", name="Сохранить").click()
    expect(page.get_by_role("status")).to_contain_text("Урок добавлен")
    expect(grid).to_have_attribute("data-ready", "true")

    header = grid.get_by_role("columnheader", name=re.compile(f"^{day:%d.%m}"))
    expect(header).to_have_count(1)
    cells = grid.locator(f'td[data-date="{day.isoformat()}"][data-lesson-no="{number}"]')
    expect(cells).to_have_count(25)
    first, second, third, fourth = cells.nth(0), cells.nth(1), cells.nth(2), cells.nth(3)
    expect(first).to_be_focused()
    expect(first).to_have_attribute("data-kind", "written")

    first.click()
    page.keyboard.type("5")
    expect(first.locator(".pending")).to_have_text("5")
    page.keyboard.press("Enter")
    expect(first.locator(".mark")).to_have_text("5")
    expect(second).to_be_focused()
    page.keyboard.type("4")
    page.keyboard.press("Enter")
    expect(second.locator(".mark")).to_have_text("4")
    expect(third).to_be_focused()
    # Playwright cannot press a Cyrillic key: the keydown a Russian layout gives is sent as is.
    third.dispatch_event("keydown", {"key": "н", "bubbles": True})
    expect(third.locator(".pending")).to_have_text("Н")
    page.keyboard.press("Escape")
    page.keyboard.press("n")  # Latin n on an English layout counts as Н
    expect(third.locator(".pending")).to_have_text("Н")
    page.keyboard.press("Enter")
    expect(third.locator(".absence")).to_have_text("Н")
    expect(fourth).to_be_focused()
    rows = grid.locator("tbody tr")
    expect(rows.nth(0).locator("td.avg")).to_have_text("5.00")

    # Escape abandons typing.
    page.keyboard.type("3")
    expect(fourth.locator(".pending")).to_have_text("3")
    page.keyboard.press("Escape")
    expect(fourth.locator(".pending")).to_have_count(0)

    # A failed save keeps what was typed, says why, and is retried with the same key.
    keys: list[str | None] = []

    def flaky(route: Route) -> None:
        keys.append(route.request.headers.get("idempotency-key"))
        if len(keys) == 1:
            route.fulfill(
                status=503,
                content_type="application/problem+json",
                body=json.dumps({"status": 503, "detail": "Сервер занят; повторите запись"}),
            )
        else:
            route.continue_()

    page.route("**/api/v1/marks", flaky)
    page.keyboard.type("2")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert").first).to_have_text("Сервер занят; повторите запись")
    expect(fourth).to_have_attribute("aria-invalid", "true")
    expect(fourth).to_contain_text("не сохранено")
    expect(fourth.locator(".pending")).to_have_text("2")
    page.keyboard.press("Enter")
    expect(fourth.locator(".mark")).to_have_text("2")
    expect(fourth).not_to_have_attribute("aria-invalid", "true")
    page.unroute("**/api/v1/marks", flaky)
    assert len(keys) == 2 and keys[0] and keys[0] == keys[1]

    # Recorded, once each, as the API tells.
    teacher = bearer(live_app, "sokolova")
    students = [r.get_attribute("data-student") for r in rows.all()[:4]]
    today_marks = {
        s: [
            (m["value"], m["work_kind"])
            for m in journal_of(live_app, teacher, str(s))["marks"]
            if m["lesson_date"] == day.isoformat() and m["subject_id"] == "math"
        ]
        for s in (students[0], students[1], students[3])
    }
    assert today_marks == {
        students[0]: [(5, "written")],
        students[1]: [(4, "written")],
        students[3]: [(2, "written")],
    }
    absences = journal_of(live_app, teacher, str(students[2]))["absences"]
    assert [(a["lesson_date"], a["code"]) for a in absences] == [(day.isoformat(), "Н")]

    # A correction needs a reason.
    first.click()
    page.keyboard.type("3")
    page.keyboard.press("Enter")
    fix = page.get_by_role("dialog", name="Исправление отметки")
    expect(fix).to_be_visible()
    fix.get_by_role("button", name="Сохранить").click()
    expect(fix.get_by_role("alert")).to_have_text("Укажите причину")
    expect(fix).to_be_visible()
    expect(first.locator(".mark .v")).to_have_text("5")
    fix.get_by_label("Причина").fill("Ошибка ввода: ответ неполный")
    fix.get_by_role("button", name="Сохранить").click()
    expect(fix).to_be_hidden()
    expect(first.locator(".mark .v")).to_have_text("3")
    expect(first.locator("del")).to_have_text("5")
    expect(rows.nth(0).locator("td.avg")).to_have_text("3.00")
    expect(page.get_by_role("status")).to_contain_text("5 → 3")

    # Its history is one key away.
    first.focus()
    page.keyboard.press("h")
    history = page.get_by_role("dialog", name=re.compile("^История отметки"))
    expect(history).to_be_visible()
    expect(history).to_contain_text("5 → 3")
    expect(history).to_contain_text("Ошибка ввода: ответ неполный")
    expect(history).to_contain_text("Соколова")
    screenshot(page, "journal-history")
    history.get_by_role("button", name="Закрыть").click()
    expect(history).to_be_hidden()
    expect(first).to_be_focused()

    # A deputy's late mark for a date past the deadline: the teacher's cell there is read-only.
    old = date.today() - timedelta(days=10)
    if old.weekday() == 6:
        old -= timedelta(days=1)
    r = httpx.post(
        f"{live_app.url}/api/v1/marks",
        headers=bearer(live_app, "kuznetsova"),
        json={
            "student_id": students[0],
            "subject_id": "math",
            "lesson_date": old.isoformat(),
            "work_kind": "oral",
            "value": 4,
            "reason": "Отметка с бумажного журнала",
        },
        trust_env=False,
    )
    assert r.status_code == 201, r.text
    page.reload()
    expect(grid).to_have_attribute("data-ready", "true")
    old_cells = grid.locator(f'td[data-date="{old.isoformat()}"]')
    expect(old_cells.first).to_have_text("4")
    expect(old_cells.first).to_have_attribute("aria-readonly", "true")
    expect(old_cells.first).to_have_attribute("title", re.compile("[Сс]рок"))
    described = old_cells.first.get_attribute("aria-describedby")
    assert described and page.locator(f"#{described}").text_content()
    old_cells.first.click()
    expect(page.locator("#cell-info")).to_contain_text("рок")
    page.keyboard.type("5")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert").first).to_contain_text("рок")
    page.keyboard.press("Escape")
    expect(rows.nth(0).locator("td.avg")).to_have_text("3.50")

    cells.nth(4).focus()
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "journal")
    assert_accessible(page)


def sign_in_to_journal(page: Page, username: str = "sokolova") -> None:
    """Sign in through the login form and open «ХТ-21 — Математика» from the journal list."""
    from playwright.sync_api import expect

    page.goto("/login")
    page.get_by_label("Логин").fill(username)
    page.get_by_label("Пароль").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Войти").click()
    expect(page).to_have_url(re.compile(r"/journal$"))
    page.get_by_role("link", name="ХТ-21 — Математика").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("ХТ-21 — Математика")
    expect(page.get_by_role("grid", name="Журнал")).to_have_attribute("data-ready", "true")


def lessons_of(live_app: LiveApp, headers: dict[str, str]) -> list[dict[str, Any]]:
    r = httpx.get(
        f"{live_app.url}/api/v1/lessons",
        params={"group_id": "g1", "subject_id": "math"},
        headers=headers,
        trust_env=False,
    )
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()["lessons"]
    return found


def test_a_lesson_column_opens_its_lesson_form(page: Page, live_app: LiveApp) -> None:
    from playwright.sync_api import expect

    # A lesson recorded two days ago (not today: the keyboard test owns today's column), and
    # a mark recorded on the next lesson number without a lesson record.
    teacher = bearer(live_app, "sokolova")
    day = date.today() - timedelta(days=2)
    if day.weekday() == 6:
        day -= timedelta(days=1)
    taken = [x["lesson_no"] for x in lessons_of(live_app, teacher) if x["lesson_date"] == str(day)]
    number = max(taken, default=0) + 1
    r = httpx.post(
        f"{live_app.url}/api/v1/lessons",
        headers=teacher,
        json={
            "group_id": "g1",
            "subject_id": "math",
            "lesson_date": day.isoformat(),
            "lesson_no": number,
            "topic": "Пределы",
            "homework": "§ 3",
        },
        trust_env=False,
    )
    assert r.status_code == 201, r.text
    lesson_id = r.json()["lesson_id"]

    sign_in_to_journal(page)
    grid = page.get_by_role("grid", name="Журнал")
    last_student = grid.locator("tbody tr").last.get_attribute("data-student")
    r = httpx.post(
        f"{live_app.url}/api/v1/marks",
        headers=teacher,
        json={
            "student_id": last_student,
            "subject_id": "math",
            "lesson_date": day.isoformat(),
            "lesson_no": number + 1,
            "work_kind": "oral",
            "value": 5,
        },
        trust_env=False,
    )
    assert r.status_code == 201, r.text
    page.reload()
    expect(grid).to_have_attribute("data-ready", "true")

    header = grid.locator(f'th[data-lesson-id="{lesson_id}"]')
    expect(header).to_have_count(1)
    expect(header).to_have_text(re.compile(f"^{day:%d.%m} №{number} Пределы"))
    button = header.get_by_role("button", name=re.compile(f"^{day:%d.%m}, урок {number}: Пределы"))
    button.click()

    dialog = page.get_by_role("dialog", name=f"Урок {day:%d.%m.%Y}, № {number}")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Дата")).to_have_value(day.isoformat())
    expect(dialog.get_by_label("Дата")).to_be_disabled()
    expect(dialog.get_by_label("Номер урока")).to_have_value(str(number))
    expect(dialog.get_by_label("Номер урока")).to_be_disabled()
    expect(dialog.get_by_label("Тема урока")).to_have_value("Пределы")
    expect(dialog.get_by_label("Домашнее задание")).to_have_value("§ 3")
    expect(dialog.get_by_label("Вид работы")).to_have_value("oral")
    expect(dialog.get_by_label("Тема урока")).to_be_focused()

    dialog.get_by_label("Тема урока").fill("Пределы функций")
    dialog.get_by_label("Домашнее задание").fill("§ 4, № 1–5")
    dialog.get_by_label("Вид работы").select_option(label="тест")
    screenshot(page, "journal-lesson-form")
    assert_accessible(page)

    # A failed save keeps what was typed, shows the server's detail, retries with the same key.
    keys: list[str | None] = []

    def flaky(route: Route) -> None:
        keys.append(route.request.headers.get("idempotency-key"))
        assert route.request.headers.get("x-csrf-token")
        if len(keys) == 1:
            route.fulfill(
                status=503,
                content_type="application/problem+json",
                body=json.dumps({"status": 503, "detail": "Сервер занят; повторите запись"}),
            )
        else:
            route.continue_()

    changes = f"**/api/v1/lessons/{lesson_id}/changes"
    page.route(changes, flaky)
    dialog.get_by_role("button", name="Сохранить").click()
    expect(dialog.get_by_role("alert")).to_have_text("Сервер занят; повторите запись")
    expect(dialog.get_by_label("Тема урока")).to_have_value("Пределы функций")
    expect(dialog.get_by_label("Домашнее задание")).to_have_value("§ 4, № 1–5")
    dialog.get_by_role("button", name="Сохранить").click()
    expect(page.get_by_role("status")).to_contain_text("Урок сохранён")
    page.unroute(changes, flaky)
    assert len(keys) == 2 and keys[0] and keys[0] == keys[1]

    expect(grid).to_have_attribute("data-ready", "true")
    expect(header).to_have_text(re.compile(f"^{day:%d.%m} №{number} Пределы фун"))
    expect(header).to_have_attribute("title", re.compile("тема: Пределы функций"))
    expect(header).to_have_attribute("title", re.compile("д/з: § 4, № 1–5"))
    expect(header).to_have_attribute("data-kind", "test")
    expect(
        grid.locator(f'td[data-date="{day.isoformat()}"][data-lesson-no="{number}"]').first
    ).to_have_attribute("data-kind", "test")
    saved = [x for x in lessons_of(live_app, teacher) if x["lesson_id"] == lesson_id]
    assert [(x["topic"], x["homework"]) for x in saved] == [("Пределы функций", "§ 4, № 1–5")]

    # The column of the mark recorded without a lesson: Сохранить records its lesson.
    bare = grid.locator(f'th.lesson[data-key="{day.isoformat()}/{number + 1}"]')
    expect(bare).not_to_have_attribute("data-lesson-id", re.compile("."))
    bare.get_by_role("button", name=re.compile(f"^{day:%d.%m}, урок {number + 1}")).click()
    dialog = page.get_by_role("dialog", name=f"Урок {day:%d.%m.%Y}, № {number + 1}")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Дата")).to_have_value(day.isoformat())
    expect(dialog.get_by_label("Дата")).to_be_disabled()
    expect(dialog.get_by_label("Номер урока")).to_have_value(str(number + 1))
    expect(dialog.get_by_label("Тема урока")).to_have_value("")
    dialog.get_by_label("Тема урока").fill("Непрерывность")
    dialog.get_by_role("button", name="Сохранить").click()
    expect(bare).to_have_attribute("data-lesson-id", re.compile("."))
    expect(bare).to_have_text(re.compile(f"^{day:%d.%m} №{number + 1} Непрерывность"))
    recorded = [
        (x["lesson_no"], x["topic"])
        for x in lessons_of(live_app, teacher)
        if x["lesson_date"] == day.isoformat()
    ]
    assert (number + 1, "Непрерывность") in recorded
    last_cell = grid.locator("tbody tr").last.locator(
        f'td[data-date="{day.isoformat()}"][data-lesson-no="{number + 1}"]'
    )
    expect(last_cell.locator(".mark")).to_have_text("5")
