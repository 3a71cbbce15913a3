"""The deputy's /school and /audit pages in a real browser: links, filters, accessibility."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tests.browser.conftest import DEMO_PASSWORD, assert_accessible, screenshot

if TYPE_CHECKING:
    from playwright.sync_api import Page

DEPUTY = "kuznetsova"


def sign_in(page: Page, username: str) -> None:
    from playwright.sync_api import expect

    page.goto("/login")
    page.get_by_label("Логин").fill(username)
    page.get_by_label("Пароль").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Войти").click()
    expect(page).to_have_url(re.compile(r"/school$"))


def test_deputy_opens_school_and_audit(page: Page) -> None:
    from playwright.sync_api import expect

    sign_in(page, DEPUTY)
    expect(page.get_by_role("heading", level=1)).to_have_text("Школа")
    expect(page.get_by_role("link", name="ХТ-21 — Математика")).to_have_attribute(
        "href", "/journal/g1/math"
    )
    expect(page.get_by_role("link", name=re.compile(r"^Посещаемость ХТ-21"))).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(r"^Сводная ведомость ХТ-21"))).to_be_visible()
    expect(page.get_by_role("heading", name="Исправления после срока")).to_be_visible()
    screenshot(page, "school")
    assert_accessible(page)

    page.get_by_role("navigation", name="Разделы").get_by_role("link", name="Изменения").click()
    expect(page).to_have_url(re.compile(r"/audit$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Журнал изменений")
    for header in ("Когда", "Кто", "Действие", "Ученик", "Было", "Стало", "Причина"):
        expect(page.get_by_role("columnheader", name=header, exact=True)).to_be_visible()
    # The roster import alone is more than a page.
    expect(page.get_by_role("link", name="Далее")).to_be_visible()

    page.get_by_label("Действие", exact=True).select_option("group.changed")
    page.get_by_label("С", exact=True).fill("2000-01-01")
    page.get_by_label("По", exact=True).fill("2100-12-31")
    page.get_by_role("button", name="Показать").click()
    expect(page).to_have_url(re.compile(r"/audit\?.*action=group\.changed"))
    rows = page.locator("table.audit tbody tr")
    expect(rows.first).to_be_visible()
    assert rows.count() >= 1
    for text in rows.locator("td:nth-child(3)").all_inner_texts():
        assert text.startswith("Группа изменена"), text
    expect(page.get_by_label("Действие", exact=True)).to_have_value("group.changed")
    expect(page.get_by_label("С", exact=True)).to_have_value("2000-01-01")
    expect(page.get_by_role("alert")).to_have_count(0)
    assert_accessible(page)

    page.goto("/audit")
    page.get_by_role("button", name="Показать").click()
    expect(page.locator("table.audit tbody tr").first).to_be_visible()
    screenshot(page, "audit")
    assert_accessible(page)
