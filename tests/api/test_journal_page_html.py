"""The class journal page over HTTP (UI.md «The class journal page»): who may open it, what
the HTML holds, and how fast a full semester of a large group renders."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapters.clock import FixedClock
from adapters.service.entries import AbsenceEntry, MarkEntry
from api.app import create_app
from api.bootstrap import Services
from domain.actors import Actor
from tests.api.helpers import TEACHER_UNASSIGNED, example_roster
from tests.conftest import PASSWORD, Api, make_settings

PAGE = "/journal/g1/math"
TEACHER = Actor("t1", "teacher", "sght", frozenset({"teacher"}))


def sign_in(client: Any, username: str) -> None:
    """Log in through the form, as a person does: the page session cookie stays in the client."""
    form = client.get("/login")
    assert form.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    r = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


class Grid(HTMLParser):
    """The parts of the page that tests rely on: h1, the grid, its headers and rows."""

    def __init__(self) -> None:
        super().__init__()
        self.h1 = ""
        self.grids: list[dict[str, str | None]] = []
        self.columnheaders: list[str] = []
        self.rowheaders: list[str] = []
        self.gridcells = 0
        self.alerts: list[str] = []
        self._into: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        role = a.get("role")
        if tag == "table" and role == "grid":
            self.grids.append(a)
        if role == "gridcell" and "data-student" in a:
            self.gridcells += 1
        if tag == "h1" or role in ("columnheader", "rowheader", "alert"):
            self._into, self._text = (tag if tag == "h1" else str(role)), ""

    def handle_data(self, data: str) -> None:
        if self._into:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if self._into and tag in ("h1", "th", "p"):
            text = " ".join(self._text.split())
            if self._into == "h1":
                self.h1 = text
            elif self._into == "columnheader":
                self.columnheaders.append(text)
            elif self._into == "rowheader":
                self.rowheaders.append(text)
            else:
                self.alerts.append(text)
            self._into = None


def parse(html: str) -> Grid:
    grid = Grid()
    grid.feed(html)
    return grid


def test_the_teacher_sees_the_grid_of_her_group(api: Api, imported: Services) -> None:
    imported.journal.record_lesson(
        TEACHER,
        group_id="g1",
        subject_id="math",
        lesson_date=date(2026, 9, 2),
        lesson_no=1,
        topic="Множества и операции над ними",
        homework="№ 1–5",
    )
    imported.journal.record_mark(
        TEACHER,
        student_id="s01",
        subject_id="math",
        lesson_date=date(2026, 9, 2),
        lesson_no=1,
        work_kind="oral",
        value=5,
    )
    sign_in(api.client, "sokolova")
    r = api.client.get(PAGE)
    assert r.status_code == 200, r.text
    page = parse(r.text)
    assert page.h1 == "ХТ-21 — Математика"
    assert [g.get("aria-label") for g in page.grids] == ["Журнал"]
    assert page.columnheaders[0] == "Обучающийся"
    assert page.columnheaders[1].startswith("02.09")
    assert page.columnheaders[-2:] == ["Средний балл", "Аттестация"]
    names = page.rowheaders
    assert names[0] == "Александров Артём Игоревич"
    assert names == sorted(names, key=lambda n: n.lower().replace("ё", "е"))
    assert len(names) == 25 and page.gridcells == 25
    assert 'data-value="5"' in r.text and "5.00" in r.text
    assert 'name="csrf-token"' in r.text and "/static/journal.js" in r.text
    assert "На дату" not in r.text  # offered to the administration only
    # The script and styles it needs are served by the app itself.
    assert api.client.get("/static/journal.js").status_code == 200


def test_a_deputy_looks_back_read_only(api: Api, imported: Services) -> None:
    sign_in(api.client, "kuznetsova")
    r = api.client.get(PAGE, params={"as_of": "2026-09-03T09:00"})
    assert r.status_code == 200, r.text
    assert "На дату" in r.text and 'type="datetime-local"' in r.text
    assert "Журнал на 03.09.2026 09:00" in r.text
    assert "Добавить урок" not in r.text


def test_another_teachers_group_is_not_reachable(api: Api) -> None:
    sign_in(api.client, TEACHER_UNASSIGNED)
    r = api.client.get(PAGE)
    assert r.status_code in (403, 404)
    page = parse(r.text)
    assert page.alerts and page.alerts[0]
    assert "Александров" not in r.text


def test_an_unknown_subject_or_period_answers_404(api: Api) -> None:
    sign_in(api.client, "sokolova")
    assert api.client.get("/journal/g1/nosuch").status_code in (403, 404)
    r = api.client.get(PAGE, params={"period_id": "S9"})
    assert r.status_code == 404
    assert "S9" in " ".join(parse(r.text).alerts)


def test_an_anonymous_visit_goes_to_login(api: Api) -> None:
    r = api.client.get(PAGE + "?period_id=S1", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2Fjournal%2Fg1%2Fmath%3Fperiod_id%3DS1"


# --- a 30-student group with 80 lessons -------------------------------------------------------


@pytest.fixture
def big_group(
    store: dict[str, Any], tmp_path: Path, roster: dict[str, Any]
) -> Iterator[tuple[Services, FixedClock]]:
    from adapters.roster import parse_roster
    from adapters.roster_import import import_roster
    from domain.actors import system_actor

    data = example_roster()
    group = next(g for g in data["groups"] if g["id"] == "g1")
    for n in range(26, 31):
        sid = f"s{n}"
        data["students"].append({"id": sid, "full_name": f"Юдин Студент {n}"})
        group["students"].append({"id": sid, "from": "2026-09-01", "to": None})
    clock = FixedClock(datetime(2026, 9, 1, 5, 0, tzinfo=UTC))
    services = Services.build(make_settings(store, tmp_path), clock)
    try:
        import_roster(
            services.journal, services.passwords, parse_roster(data), system_actor("sght")
        )
        yield services, clock
    finally:
        services.close()


@pytest.mark.serial  # a time or memory bound: run alone (Makefile)
def test_a_large_page_renders_quickly(big_group: tuple[Services, FixedClock]) -> None:
    services, clock = big_group
    students = [f"s{n:02d}" for n in range(1, 31) if n != 25]  # s25 joins in October
    day = date(2026, 9, 1)
    lessons = 0
    while lessons < 80:
        if day.weekday() != 6:
            clock.set(datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC))
            for number in (1, 2):
                services.journal.record_lesson(
                    TEACHER,
                    group_id="g1",
                    subject_id="math",
                    lesson_date=day,
                    lesson_no=number,
                    topic=f"Тема {lessons + 1}",
                    homework=f"Задание {lessons + 1}",
                )
                services.journal.record_entries(
                    TEACHER,
                    group_id="g1",
                    subject_id="math",
                    lesson_date=day,
                    lesson_no=number,
                    marks=[
                        MarkEntry(s, 2 + (i + lessons) % 4, "oral")
                        for i, s in enumerate(students)
                        if (i + lessons) % 3 != 0
                    ],
                    absences=[AbsenceEntry(students[lessons % len(students)], "Н")],
                )
                lessons += 1
        day += timedelta(days=1)
    clock.set(datetime(2026, 12, 20, 5, 0, tzinfo=UTC))
    with TestClient(create_app(services=services)) as client:
        sign_in(client, "sokolova")
        client.get(PAGE)  # templates compiled, caches warm
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            r = client.get(PAGE, params={"period_id": "S1"})
            timings.append(time.perf_counter() - started)
            assert r.status_code == 200
    page = parse(r.text)
    assert len(page.rowheaders) == 30
    assert len(page.columnheaders) == 80 + 3
    assert page.gridcells == 30 * 80
    best = min(timings)
    print(f"\njournal page 30×80: {', '.join(f'{t * 1000:.0f}' for t in timings)} ms")
    assert best < 0.3, timings
