"""Issue 11.10 and 11.8: a dry run of the roster import, `force` for a destructive document,
and a deactivation made in the journal that a re-import does not undo."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic
from typer.testing import CliRunner, Result

from api.bootstrap import Services
from api.cli import cli
from domain.ids import person_id
from domain.reference import Person
from tests.api.helpers import ADMIN, DEPUTY, TEACHER_UNASSIGNED, assert_problem, example_roster
from tests.conftest import PASSWORD, Api

IMPORT = "/api/v1/import"


def head(services: Services) -> int:
    return int(services.journal.recorder.max_notification_id() or 0)


def without_groups() -> dict[str, Any]:
    """The example roster that lost its groups section (and so the assignments)."""
    doc = example_roster()
    doc["groups"] = []
    doc["assignments"] = []
    return doc


def without_students(count: int) -> tuple[dict[str, Any], list[str]]:
    """The example roster with the last `count` students of g1 left out of the group."""
    doc = example_roster()
    members = doc["groups"][0]["students"]
    dropped = [m["id"] for m in members[-count:]]
    doc["groups"][0]["students"] = members[:-count]
    return doc, sorted(dropped)


def login_works(api: Api, username: str) -> bool:
    r = api.client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    return r.status_code == 200


# --- 10: dry run and force --------------------------------------------------------------------


def test_a_dry_run_lists_the_changes_and_saves_nothing(api: Api, imported: Services) -> None:
    admin = api.as_user(ADMIN)
    doc = example_roster()
    moved = doc["groups"][0]["students"][0]["id"]
    doc["groups"][0]["students"][0]["to"] = "2026-10-31"
    doc["groups"].append(
        {
            "id": "g2",
            "name": "ХТ-102",
            "curator_id": "t2",
            "students": [{"id": moved, "from": "2026-11-01"}],
        }
    )
    before = head(imported)
    r = api.client.post(IMPORT, headers=admin, json=doc, params={"dry_run": "true"})
    assert r.status_code == 200, r.text
    plan = r.json()
    assert plan["dry_run"] is True and plan["force_required"] is False
    assert plan["position"] is None and plan["events"] > 0
    students, groups = plan["changes"]["students"], plan["changes"]["groups"]
    assert students == {
        "present": 25,
        "added": 0,
        "moved": 1,
        "removed": 0,
        "added_ids": [],
        "moved_ids": [moved],
        "removed_ids": [],
    }
    assert groups == {
        "present": 1,
        "added": 1,
        "removed": 0,
        "added_ids": ["g2"],
        "removed_ids": [],
    }
    assert plan["changes"]["deactivated_ids"] == [] and plan["conflicts"] == []
    assert head(imported) == before  # nothing was saved ...

    # ... and the real import records exactly what the dry run announced.
    r = api.client.post(IMPORT, headers=admin, json=doc)
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["dry_run"] is False and done["events"] == plan["events"]
    assert done["changes"] == plan["changes"]
    assert head(imported) > before


def test_a_document_without_groups_needs_force(api: Api, imported: Services) -> None:
    admin, dep = api.as_user(ADMIN), api.as_user(DEPUTY)
    doc = without_groups()
    before = head(imported)

    r = api.client.post(IMPORT, headers=admin, json=doc, params={"dry_run": True})
    assert r.status_code == 200, r.text
    plan = r.json()
    assert plan["force_required"] is True
    assert plan["changes"]["students"]["removed"] == 25
    assert plan["changes"]["groups"]["removed_ids"] == ["g1"]

    problem = assert_problem(
        api.client.post(IMPORT, headers=admin, json=doc), 422, "import-too-destructive"
    )
    assert "25 из 25" in problem["detail"]
    counts = {e["field"]: (e["removed"], e["present"]) for e in problem["errors"]}
    assert counts == {"students": (25, 25), "groups": (1, 1)}
    assert head(imported) == before
    assert api.client.get("/api/v1/students/s01/journal", headers=dep).status_code == 200

    r = api.client.post(IMPORT, headers=admin, json=doc, params={"force": True})
    assert r.status_code == 200, r.text
    assert r.json()["changes"]["students"]["removed"] == 25 and head(imported) > before


def test_the_threshold_is_a_tenth_of_the_students(api: Api) -> None:
    admin = api.as_user(ADMIN)
    doc, dropped = without_students(3)  # 3 of 25: 12 %
    problem = assert_problem(
        api.client.post(IMPORT, headers=admin, json=doc), 422, "import-too-destructive"
    )
    assert [(e["field"], e["removed"]) for e in problem["errors"]] == [("students", 3)]
    doc, dropped = without_students(2)  # 2 of 25: 8 %
    r = api.client.post(IMPORT, headers=admin, json=doc)
    assert r.status_code == 200, r.text
    assert r.json()["changes"]["students"]["removed_ids"] == dropped


# --- 8: a deactivation made in the journal stays -----------------------------------------------


def test_a_reimport_keeps_an_administrators_deactivation_and_reports_it(
    api: Api, imported: Services
) -> None:
    admin = api.as_user(ADMIN)
    assert login_works(api, TEACHER_UNASSIGNED)
    r = api.client.post(
        "/api/v1/accounts/t5/deactivation", headers=admin, json={"reason": "Уволена"}
    )
    assert r.status_code == 200, r.text
    assert not login_works(api, TEACHER_UNASSIGNED)

    for params in ({"dry_run": True}, {}, {}):
        r = api.client.post(IMPORT, headers=admin, json=example_roster(), params=params)
        assert r.status_code == 200, r.text
        answer = r.json()
        assert answer["events"] == 0, answer  # no Reactivated
        assert [
            (c["person_id"], c["reason"], c["deactivated_by"]) for c in answer["conflicts"]
        ] == [("t5", "Уволена", "adm1")]
    assert not login_works(api, TEACHER_UNASSIGNED)
    person = imported.journal.person("sght", "t5")
    assert person is not None and not person.active
    # Until an administrator switches the account on again.
    r = api.client.post(
        "/api/v1/accounts/t5/reactivation", headers=admin, json={"reason": "восстановлена"}
    )
    assert r.status_code == 200 and r.json()["active"] is True, r.text
    assert login_works(api, TEACHER_UNASSIGNED)
    again = api.client.post(
        "/api/v1/accounts/t5/reactivation", headers=admin, json={"reason": "ещё раз"}
    )
    assert again.status_code == 422
    r = api.client.post(IMPORT, headers=admin, json=example_roster())
    assert r.status_code == 200 and r.json()["conflicts"] == []


def test_a_person_the_import_switched_off_comes_back(api: Api, imported: Services) -> None:
    admin = api.as_user(ADMIN)
    doc = example_roster()
    doc["staff"] = [s for s in doc["staff"] if s["id"] != "t5"]
    r = api.client.post(IMPORT, headers=admin, json=doc)
    assert r.status_code == 200 and r.json()["changes"]["deactivated_ids"] == ["t5"]
    assert not login_works(api, TEACHER_UNASSIGNED)
    r = api.client.post(IMPORT, headers=admin, json=example_roster())
    assert r.status_code == 200 and r.json()["conflicts"] == []
    assert login_works(api, TEACHER_UNASSIGNED)


def test_a_deactivation_stored_before_by_import_existed_still_loads(imported: Services) -> None:
    app = imported.journal
    for who, reason, by_import in (("t5", "нет в списках", True), ("t4", "Уволен", False)):
        stream = person_id("sght", who)
        version = list(app.events.get(stream))[-1].originator_version
        # The version-1 shape: no `by_import`, no `class_version` key.
        v1_state = {
            "timestamp": {"_type_": "datetime_iso", "_data_": "2026-09-02T05:00:00+00:00"},
            "actor_id": "system" if by_import else "adm1",
            "actor_role": "system" if by_import else "admin",
            "reason": reason,
        }
        app.recorder.insert_events(
            [
                StoredEvent(
                    originator_id=stream,
                    originator_version=version + 1,
                    topic=get_topic(Person.Deactivated),
                    state=json.dumps(v1_state).encode(),
                )
            ]
        )
        assert Person.Deactivated.class_version == 2
        event = list(app.events.get(stream))[-1]
        assert isinstance(event, Person.Deactivated) and event.by_import is by_import
        person: Person = app.repository.get(stream)
        assert not person.active and person.held_inactive is not by_import


# --- the command line ---------------------------------------------------------------------------


def cli_env(store: dict[str, Any], tmp_path: Path) -> dict[str, str | None]:
    return {
        "EJOURNAL_DATABASE_URL": store["database_url"],
        "EJOURNAL_POSTGRES_SCHEMA": store.get("postgres_schema"),
        "EJOURNAL_VAR_DIR": str(tmp_path / "var"),
        "EJOURNAL_SIGNING_KEY_PATH": None,
        "EJOURNAL_CIPHER_KEY": None,
        "EJOURNAL_SECRET_KEY": "cli-test-secret-key-that-is-long-enough-for-hs256",
        "EJOURNAL_ARGON2_TIME_COST": "1",
        "EJOURNAL_ARGON2_MEMORY_KIB": "1024",
        "COLUMNS": "400",
    }


def run(args: list[str], env: dict[str, str | None]) -> Result:
    return CliRunner().invoke(cli, args, env=env)


def said(result: Result) -> str:
    return " ".join(result.stderr.split())


def test_the_cli_dry_run_and_force(
    imported: Services, store: dict[str, Any], tmp_path: Path
) -> None:
    env = cli_env(store, tmp_path)
    file = tmp_path / "roster.json"
    file.write_text(json.dumps(without_groups(), ensure_ascii=False), encoding="utf-8")
    before = head(imported)

    result = run(["import", "--dry-run", str(file)], env)
    assert result.exit_code == 0, result.output
    text = said(result)
    assert "Пробная загрузка, ничего не записано" in text
    assert "обучающиеся удалятся из групп (25)" in text and "группы опустеют (1): g1" in text
    assert "--force" in text
    assert head(imported) == before

    result = run(["import", str(file)], env)
    assert result.exit_code == 1, result.output
    assert "удаляется 25 из 25 обучающихся" in said(result)
    assert head(imported) == before

    result = run(["import", "--force", str(file)], env)
    assert result.exit_code == 0, result.output
    assert "записано событий" in said(result)
    assert head(imported) > before


def test_the_cli_reports_a_kept_deactivation(
    imported: Services, store: dict[str, Any], tmp_path: Path
) -> None:
    from domain.actors import Actor, Role

    admin = Actor("adm1", Role.ADMIN.value, "sght", frozenset({Role.ADMIN.value}))
    imported.journal.deactivate_account(admin, "t5", reason="Уволена")
    file = tmp_path / "roster.json"
    file.write_text(json.dumps(example_roster(), ensure_ascii=False), encoding="utf-8")
    result = run(["import", str(file)], cli_env(store, tmp_path))
    assert result.exit_code == 0, result.output
    text = said(result)
    assert "t5 отключён(а) администратором (adm1" in text and "Уволена" in text
    assert "изменений нет" in text
