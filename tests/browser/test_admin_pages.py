"""The administrator's page: upload a roster with one more student, see the changes, record
them (UI.md /admin/roster)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import (
    DEMO_PASSWORD,
    EXAMPLE_ROSTER,
    assert_accessible,
    screenshot,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page


def _check_and_import(page: Page, path: Path) -> None:
    from playwright.sync_api import expect

    page.get_by_label("Файл списков").set_input_files(str(path))
    page.get_by_role("button", name="Проверить").click()
    expect(page.get_by_role("status").first).to_contain_text("ничего не записано")
    page.get_by_role("button", name="Загрузить", exact=True).click()
    expect(page.get_by_role("status").first).to_contain_text("загружены")


def test_admin_checks_then_imports_a_roster(page: Page, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    response = page.goto("/login?next=/admin/roster")
    assert response is not None
    if response.status == 404:
        pytest.skip("pages not built yet")
    page.get_by_label("Логин").fill("kovalev")
    page.get_by_label("Пароль").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Войти").click()
    expect(page).to_have_url(re.compile(r"/admin/roster$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Списки и учётные записи")

    roster = json.loads(EXAMPLE_ROSTER.read_text(encoding="utf-8"))
    roster["students"].append({"id": "s-browser", "full_name": "Яковлев Ярослав Олегович"})
    roster["groups"][0]["students"].append({"id": "s-browser", "from": "2026-09-01", "to": None})
    extra = tmp_path / "roster-plus-one.json"
    extra.write_text(json.dumps(roster, ensure_ascii=False), encoding="utf-8")

    page.get_by_label("Файл списков").set_input_files(str(extra))
    page.get_by_role("button", name="Проверить").click()
    status = page.get_by_role("status").first
    expect(status).to_contain_text("Проверка пройдена, ничего не записано")
    added = page.get_by_role("row", name=re.compile("Обучающиеся: добавлено"))
    expect(added).to_contain_text("1")
    expect(page.get_by_text("Яковлев Ярослав Олегович")).to_be_visible()
    screenshot(page, "admin-roster")
    assert_accessible(page)

    page.get_by_role("button", name="Загрузить", exact=True).click()
    expect(page.get_by_role("status").first).to_contain_text("обучающихся добавлено — 1")
    expect(page.get_by_role("alert")).to_have_count(0)
    assert_accessible(page)
    screenshot(page, "admin-roster-imported")

    # Put the shared server's roster back for the other browser tests (removes one of 26).
    _check_and_import(page, EXAMPLE_ROSTER)
    expect(page.get_by_role("status").first).to_contain_text("удалено — 1")
