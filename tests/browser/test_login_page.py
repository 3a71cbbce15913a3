"""The login page: a wrong password is refused aloud, the right one opens the teacher's journal."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import DEMO_PASSWORD, assert_accessible, screenshot

if TYPE_CHECKING:
    from playwright.sync_api import Page


def test_teacher_logs_in_after_a_wrong_password(page: Page) -> None:
    from playwright.sync_api import expect

    response = page.goto("/login")
    assert response is not None
    if response.status == 404:
        pytest.skip("pages not built yet")
    assert response.status == 200

    page.get_by_label("Логин").fill("sokolova")
    page.get_by_label("Пароль").fill("not-the-password")
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_role("alert")).to_contain_text("Неверный логин или пароль")
    screenshot(page, "login")
    assert_accessible(page)

    # The form may come back re-rendered: fill both fields again.
    page.get_by_label("Логин").fill("sokolova")
    page.get_by_label("Пароль").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Войти").click()
    expect(page).to_have_url(re.compile(r"/journal$"))
    page.wait_for_load_state("networkidle")
    screenshot(page, "journal-home")
    assert_accessible(page)


def test_the_sixth_wrong_password_in_a_row_is_throttled(page: Page) -> None:
    from playwright.sync_api import expect

    # A username no other test signs in with: its backoff must not lock anyone out of the
    # shared server.
    username = "nobody-x"
    response = page.goto("/login")
    assert response is not None
    if response.status == 404:
        pytest.skip("pages not built yet")
    for attempt in range(5):
        page.get_by_label("Логин").fill(username)
        page.get_by_label("Пароль").fill(f"wrong-password-{attempt}")
        page.get_by_role("button", name="Войти").click()
        expect(page.get_by_role("alert")).to_contain_text("Неверный логин или пароль")
    page.get_by_label("Логин").fill(username)
    page.get_by_label("Пароль").fill("wrong-password-5")
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_role("alert")).to_contain_text("Слишком много попыток")
    expect(page).to_have_url(re.compile(r"/login(\?.*)?$"))
    screenshot(page, "login-throttled")
    assert_accessible(page)


def test_logout_ends_the_session(page: Page) -> None:
    from playwright.sync_api import expect

    response = page.goto("/login")
    assert response is not None
    if response.status == 404:
        pytest.skip("pages not built yet")
    page.get_by_label("Логин").fill("sokolova")
    page.get_by_label("Пароль").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Войти").click()
    expect(page).to_have_url(re.compile(r"/journal$"))

    page.get_by_role("button", name="Выйти").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("button", name="Войти")).to_be_visible()

    # The session is over: the journal sends the visitor back to the login form.
    page.goto("/journal")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fjournal$"))
    expect(page.get_by_label("Логин")).to_be_visible()
