"""The deputy's /monitoring and /archive pages in a real browser: charts drawn by the server,
the verification form's verdict, axe-core clean, screenshots for people to look at.

Nothing is written to the shared server (no year is closed: other browser tests still write)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tests.browser.conftest import DEMO_PASSWORD, assert_accessible, screenshot

if TYPE_CHECKING:
    from playwright.sync_api import FilePayload, Page

DEPUTY = "kuznetsova"


def sign_in(page: Page, username: str, next_path: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"/login?next={next_path}")
    page.get_by_label("Логин").fill(username)
    page.get_by_label("Пароль").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Войти").click()
    expect(page).to_have_url(re.compile(re.escape(next_path) + "$"))


def test_deputy_opens_monitoring(page: Page) -> None:
    from playwright.sync_api import expect

    sign_in(page, DEPUTY, "/monitoring")
    expect(page.get_by_role("heading", level=1)).to_have_text("Мониторинг")
    main = page.get_by_role("main")
    chart = main.locator("svg[role='img']").first
    expect(chart).to_be_visible()
    expect(main.get_by_role("img", name=re.compile("Обучающиеся без отметок"))).to_have_count(1)
    expect(main.get_by_role("heading", name="ХТ-21")).to_be_visible()
    expect(page.get_by_label("Период")).to_be_visible()
    page.get_by_label("Период").select_option(index=1)
    page.get_by_role("button", name="Показать").click()
    expect(page).to_have_url(re.compile(r"period_id=S2"))
    expect(main.get_by_role("img", name=re.compile("2 семестр"))).to_have_count(1)
    page.get_by_label("Период").select_option(index=0)
    page.get_by_role("button", name="Показать").click()
    expect(page).to_have_url(re.compile(r"period_id=S1"))
    screenshot(page, "monitoring")
    assert_accessible(page)


def test_deputy_opens_archive_and_checks_a_file(page: Page) -> None:
    from playwright.sync_api import expect

    sign_in(page, DEPUTY, "/archive")
    expect(page.get_by_role("heading", level=1)).to_have_text("Архив")
    expect(page.get_by_label("Файл архива")).to_be_visible()
    assert_accessible(page)
    junk: FilePayload = {"name": "year.zip", "mimeType": "application/zip", "buffer": b"not a zip"}
    page.get_by_label("Файл архива").set_input_files(files=[junk])
    page.get_by_role("button", name="Проверить").click()
    expect(page.get_by_role("alert")).to_contain_text("Архив не прошёл проверку")
    expect(page.get_by_role("status")).to_have_count(0)
    screenshot(page, "archive")
    assert_accessible(page)
