"""The world the access matrix (test_access_matrix.py) runs in.

- `matrix_roster()`: examples/roster.json plus a second group ХТ-22 (g2: s26–s28, curator
  gromov t4, math taught by belova t3) and the parent p21 of s26, so that "another group"
  and "a trusted person" exist.
- `actor_kinds()`: the people the matrix logs in as, with what the roster says about them.
- `BUNDLES`: three sets of records (a lesson, a mark, an absence, an attestation result):
  A s01 math in g1 by sokolova t1 (the lesson substituted by lebedeva t5), B s02 chem in g1
  by fedorov t2, C s26 math in g2 by belova t3.
- `TEMPLATES`: for every operation, a valid request aimed at a bundle's records; destructive
  calls get fresh records, so the order of the calls does not matter.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient

from api.bootstrap import Services
from domain.actors import STAFF_ROLES, Actor
from tests.api.helpers import example_roster
from tests.conftest import PASSWORD

ORG = "sght"
YEAR = "2026-2027"
LESSON_DAY = "2026-09-02"  # yesterday for the fixed clock (2026-09-03 10:00 in Perm)
PERIOD = "S1"
SUBSTITUTE = "t5"  # lebedeva substitutes bundle A's lessons
TRUSTEE = "p21"  # s01's parent p01 trusts p21 with s01
DELEGATED = {TRUSTEE: frozenset({"s01"})}
EXPIRES = "2026-12-31T00:00:00+05:00"
BYSTANDER = "p05"  # a parent who is none of the actors: trustee of throwaway delegations

NEW_STUDENTS = (
    ("s26", "Ульянов Максим Ильич", "st.ulyanov"),
    ("s27", "Фомин Глеб Андреевич", "st.fomin"),
    ("s28", "Харитонова Вера Олеговна", "st.kharitonova"),
)


def matrix_roster() -> dict[str, Any]:
    doc = example_roster()
    for sid, name, username in NEW_STUDENTS:
        doc["students"].append(
            {"id": sid, "full_name": name, "username": username, "password": PASSWORD}
        )
    doc["parents"].append(
        {
            "id": TRUSTEE,
            "full_name": "Ульянова Ирина Петровна",
            "children": ["s26"],
            "username": "ulyanova",
            "password": PASSWORD,
        }
    )
    doc["groups"].append(
        {
            "id": "g2",
            "name": "ХТ-22",
            "curator_id": "t4",
            "marks_enabled": True,
            "students": [
                {"id": sid, "from": "2026-09-01", "to": None} for sid, _, _ in NEW_STUDENTS
            ],
        }
    )
    doc["assignments"].append({"teacher_id": "t3", "group_id": "g2", "subject_id": "math"})
    return doc


# --- actors ------------------------------------------------------------------------------

KIND_USERS = {
    "admin": "kovalev",
    "director": "orlov",
    "deputy": "kuznetsova",
    "teacher": "sokolova",  # t1: math in g1
    "curator": "fedorov",  # t2: chem in g1, curator of g1
    "substitute": "lebedeva",  # t5: no assignment; substitutes bundle A's lessons
    "student": "st.aleksandrov",  # s01
    "parent": "aleksandrova",  # p01, mother of s01
    "trusted": "ulyanova",  # p21: parent of s26 (g2), trusted by p01 with s01
    "archivist": "zaitseva",
    "anonymous": None,
}

# How each kind relates to each bundle, in the words of the brief (for the report only: the
# expectations are computed from the table and the roster, not from these labels).
OWNERSHIP = {
    "teacher": {"A": "own", "B": "foreign subject", "C": "foreign group"},
    "curator": {"A": "own group", "B": "own", "C": "foreign"},
    "substitute": {"A": "substituted lesson", "B": "foreign", "C": "foreign"},
    "student": {"A": "own", "B": "foreign", "C": "foreign"},
    "parent": {"A": "own child", "B": "foreign", "C": "foreign"},
    "trusted": {"A": "delegated child", "B": "foreign", "C": "own child"},
}


@dataclass(frozen=True)
class Kind:
    name: str
    username: str | None
    person: str | None = None
    roster_roles: frozenset[str] = frozenset()
    acts_as: frozenset[str] = frozenset()  # the table's roles this person may act in
    student: str | None = None
    children: frozenset[str] = frozenset()
    delegated: frozenset[str] = frozenset()
    teaches: frozenset[tuple[str, str]] = frozenset()  # (group, subject)
    curates: frozenset[str] = frozenset()

    @property
    def anonymous(self) -> bool:
        return self.username is None

    @property
    def staff(self) -> bool:
        return bool(self.roster_roles & STAFF_ROLES)

    def actor(self) -> Actor:
        assert self.person is not None
        return Actor(self.person, sorted(self.roster_roles)[0], ORG, self.roster_roles)

    def ownership(self, bundle: str | None) -> str:
        if bundle is None:
            return "-"
        return OWNERSHIP.get(self.name, {}).get(bundle, "any")


def members(doc: dict[str, Any]) -> dict[str, frozenset[str]]:
    return {g["id"]: frozenset(m["id"] for m in g["students"]) for g in doc["groups"]}


def actor_kinds(doc: dict[str, Any]) -> list[Kind]:
    people: dict[str, tuple[str, frozenset[str], frozenset[str]]] = {}
    for s in doc["staff"]:
        people[s["username"]] = (s["id"], frozenset(s["roles"]), frozenset())
    for s in doc["students"]:
        people[s["username"]] = (s["id"], frozenset({"student"}), frozenset())
    for p in doc["parents"]:
        people[p["username"]] = (p["id"], frozenset({"parent"}), frozenset(p["children"]))
    kinds = []
    for name, username in KIND_USERS.items():
        if username is None:
            kinds.append(Kind(name, None))
            continue
        person, roles, children = people[username]
        teaches = frozenset(
            (a["group_id"], a["subject_id"])
            for a in doc["assignments"]
            if a["teacher_id"] == person
        )
        curates = frozenset(g["id"] for g in doc["groups"] if g["curator_id"] == person)
        delegated = DELEGATED.get(person, frozenset())
        acts_as = set(roles)
        if curates:
            acts_as.add("curator")
        if person == SUBSTITUTE:
            acts_as.add("substitute")
        if delegated:
            acts_as.add("trusted")
        kinds.append(
            Kind(
                name,
                username,
                person,
                roles,
                frozenset(acts_as),
                student=person if "student" in roles else None,
                children=children,
                delegated=delegated,
                teaches=teaches,
                curates=curates,
            )
        )
    return kinds


# --- records -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What a call reaches, in the table's terms."""

    group: str | None = None
    subject: str | None = None  # None: every subject (a whole journal, a group report)
    student: str | None = None  # None: group-wide
    author: str | None = None  # who recorded the entry the call changes
    substitute: str | None = None  # who substitutes the lesson concerned


@dataclass(frozen=True)
class Bundle:
    name: str
    student: str
    group: str
    subject: str
    author: str  # username
    author_id: str
    lesson_no: int
    substitute: str | None
    pool: tuple[str, ...]  # students without a result yet, for new attestation results

    def target(self, **overrides: Any) -> Target:
        base = Target(self.group, self.subject, self.student, substitute=self.substitute)
        return replace(base, **overrides)


_G1_POOL = tuple(f"s{n:02d}" for n in range(3, 25))
BUNDLES = (
    Bundle("A", "s01", "g1", "math", "sokolova", "t1", 3, SUBSTITUTE, _G1_POOL),
    Bundle("B", "s02", "g1", "chem", "fedorov", "t2", 4, None, _G1_POOL),
    Bundle("C", "s26", "g2", "math", "belova", "t3", 5, None, ("s27", "s28")),
)


@dataclass
class Records:
    lesson_id: str = ""
    mark_id: str = ""
    absence_id: str = ""
    attestation_id: str = ""
    attestation_result: str = ""
    notice_id: str = ""
    pool_at: int = 0


class World:
    """A TestClient, every actor's token and the bundles' records."""

    def __init__(self, client: TestClient, services: Services, doc: dict[str, Any]) -> None:
        self.client = client
        self.services = services
        self.doc = doc
        self.kinds = actor_kinds(doc)
        self.members = members(doc)
        self.tokens: dict[str, str] = {}
        self.records = {b.name: Records() for b in BUNDLES}
        self._seq = itertools.count(1)

    # --- plumbing ---

    def seq(self) -> int:
        return next(self._seq)

    def login(self, username: str) -> str:
        r = self.client.post(
            "/api/v1/auth/token", data={"username": username, "password": PASSWORD}
        )
        assert r.status_code == 200, r.text
        return str(r.json()["access_token"])

    def token(self, username: str) -> str:
        if username not in self.tokens:
            self.tokens[username] = self.login(username)
        return self.tokens[username]

    def post(self, username: str, url: str, body: dict[str, Any]) -> dict[str, Any]:
        r = self.client.post(
            url, json=body, headers={"Authorization": f"Bearer {self.token(username)}"}
        )
        assert r.is_success, f"setup {url} as {username}: {r.status_code} {r.text}"
        out: dict[str, Any] = r.json()
        return out

    # --- the bundles ---

    def build(self) -> None:
        for kind in self.kinds:
            if kind.username:
                self.token(kind.username)
        for b in BUNDLES:
            rec = self.records[b.name]
            rec.lesson_id = self.new_lesson(b, day=LESSON_DAY, lesson_no=b.lesson_no)
            rec.mark_id = self.new_mark(b)
            rec.absence_id = self.new_absence(b)
            att = self.post(
                b.author,
                "/api/v1/attestations",
                {
                    "student_id": b.student,
                    "subject_id": b.subject,
                    "period_id": PERIOD,
                    "result": "а/з",
                },
            )
            rec.attestation_id, rec.attestation_result = att["attestation_id"], att["result"]
        notice = self.post(
            KIND_USERS["parent"],
            "/api/v1/absence-notices",
            {
                "student_id": "s01",
                "from_date": "2026-09-21",
                "to_date": "2026-09-22",
                "reason": "семейные обстоятельства",
            },
        )
        self.records["A"].notice_id = notice["notice_id"]
        self.post(
            KIND_USERS["parent"],
            "/api/v1/delegations",
            {"trustee_id": TRUSTEE, "student_ids": ["s01"], "expires_at": EXPIRES},
        )

    def grant_delegation(self, parent: str, trustee: str, children: list[str]) -> str:
        """A throwaway delegation by any parent (through the use case: no login needed)."""
        delegation_id, _ = self.services.journal.grant_delegation(
            Actor(parent, "parent", ORG, frozenset({"parent"})),
            trustee_id=trustee,
            student_ids=children,
            expires_at=datetime.fromisoformat(EXPIRES),
        )
        return delegation_id

    def new_lesson(self, b: Bundle, *, day: str | None = None, lesson_no: int | None = None) -> str:
        """A lesson of the bundle's page (by default a unique future one, planned ahead);
        bundle A's lessons are substituted by lebedeva."""
        if day is None or lesson_no is None:
            n = self.seq()
            day = (date(2026, 10, 1) + timedelta(days=n // 20)).isoformat()
            lesson_no = n % 20 + 1
        lesson = self.post(
            b.author,
            "/api/v1/lessons",
            {
                "group_id": b.group,
                "subject_id": b.subject,
                "lesson_date": day,
                "lesson_no": lesson_no,
                "topic": f"Тема {self.seq()}",
            },
        )
        if b.substitute:
            self.substitute(b, lesson["lesson_id"])
        return str(lesson["lesson_id"])

    def bare_lesson(self, b: Bundle) -> str:
        """A fresh lesson without a substitute (to record one on it)."""
        n = self.seq()
        lesson = self.post(
            b.author,
            "/api/v1/lessons",
            {
                "group_id": b.group,
                "subject_id": b.subject,
                "lesson_date": (date(2026, 10, 1) + timedelta(days=n // 20)).isoformat(),
                "lesson_no": n % 20 + 1,
            },
        )
        return str(lesson["lesson_id"])

    def substitute(self, b: Bundle, lesson_id: str) -> None:
        self.post(
            KIND_USERS["deputy"],
            f"/api/v1/lessons/{lesson_id}/substitution",
            {"teacher_id": b.substitute, "reason": "болезнь преподавателя"},
        )

    def new_mark(self, b: Bundle) -> str:
        mark = self.post(b.author, "/api/v1/marks", mark_body(b, value=5))
        return str(mark["mark_id"])

    def new_absence(self, b: Bundle) -> str:
        absence = self.post(b.author, "/api/v1/absences", absence_body(b))
        return str(absence["absence_id"])

    def pool_student(self, b: Bundle) -> str:
        rec = self.records[b.name]
        return b.pool[rec.pool_at % len(b.pool)]

    def pool_used(self, b: Bundle) -> None:
        self.records[b.name].pool_at += 1


def mark_body(b: Bundle, value: int = 4) -> dict[str, Any]:
    return {
        "student_id": b.student,
        "subject_id": b.subject,
        "lesson_date": LESSON_DAY,
        "lesson_no": b.lesson_no,
        "work_kind": "oral",
        "value": value,
    }


def absence_body(b: Bundle) -> dict[str, Any]:
    return {
        "student_id": b.student,
        "subject_id": b.subject,
        "lesson_date": LESSON_DAY,
        "lesson_no": b.lesson_no,
        "code": "Н",
    }


# --- one valid request per operation ------------------------------------------------------


@dataclass
class Call:
    method: str
    url: str
    target: Target = field(default_factory=Target)
    params: dict[str, Any] | None = None
    json: Any = None
    data: dict[str, str] | None = None
    changes: bool = False  # changes an existing entry (R-MARK-3: own entries only)
    fresh_session: bool = False  # use a token of its own (the call ends its session)
    after: Callable[[httpx.Response], None] | None = None
    # Records a successful answer shows: each must be readable under the same rule.
    revealed: Callable[[Any], list[Target]] | None = None


Make = Callable[[World, Kind, Bundle], Call]


@dataclass(frozen=True)
class Template:
    make: Make
    per_bundle: bool = True
    last: bool = False  # permitted calls run after everything else (closing the year)


TEMPLATES: dict[tuple[str, str], Template] = {}


def template(
    method: str, path: str, *, per_bundle: bool = True, last: bool = False
) -> Callable[[Make], Make]:
    def register(make: Make) -> Make:
        TEMPLATES[(method, path)] = Template(make, per_bundle, last)
        return make

    return register


NO_BUNDLE = Bundle("-", "", "", "", "", "", 0, None, ())


@template("GET", "/health", per_bundle=False)
def _health(w: World, k: Kind, b: Bundle) -> Call:
    return Call("GET", "/health")


@template("GET", "/health/projections", per_bundle=False)
def _health_projections(w: World, k: Kind, b: Bundle) -> Call:
    return Call("GET", "/health/projections")


@template("POST", "/api/v1/auth/token", per_bundle=False)
def _token(w: World, k: Kind, b: Bundle) -> Call:
    username = k.username or KIND_USERS["teacher"]
    return Call("POST", "/api/v1/auth/token", data={"username": username, "password": PASSWORD})


@template("POST", "/api/v1/auth/logout", per_bundle=False)
def _logout(w: World, k: Kind, b: Bundle) -> Call:
    return Call("POST", "/api/v1/auth/logout", fresh_session=True)


@template("POST", "/api/v1/auth/password", per_bundle=False)
def _password(w: World, k: Kind, b: Bundle) -> Call:
    # A wrong current password: a permitted call answers 422 and changes nothing.
    body = {"current_password": "not-the-password-1", "new_password": "another-password-2026"}
    return Call("POST", "/api/v1/auth/password", json=body)


@template("POST", "/api/v1/import", per_bundle=False)
def _import(w: World, k: Kind, b: Bundle) -> Call:
    return Call("POST", "/api/v1/import", json=w.doc)  # the same document: changes nothing


@template("POST", "/api/v1/marks")
def _record_mark(w: World, k: Kind, b: Bundle) -> Call:
    return Call("POST", "/api/v1/marks", b.target(), json=mark_body(b))


def _fresh(w: World, k: Kind, make: Callable[[Bundle], str], existing: str, b: Bundle) -> str:
    return existing if k.anonymous else make(b)


@template("POST", "/api/v1/entries")
def _record_entries(w: World, k: Kind, b: Bundle) -> Call:
    body = {
        "group_id": b.group,
        "subject_id": b.subject,
        "lesson_date": LESSON_DAY,
        "lesson_no": b.lesson_no,
        "work_kind": "oral",
        "marks": [{"student_id": b.student, "value": 4}],
    }
    return Call("POST", "/api/v1/entries", b.target(), json=body)


@template("POST", "/api/v1/marks/{mark_id}/corrections")
def _correct_mark(w: World, k: Kind, b: Bundle) -> Call:
    mark_id = _fresh(w, k, w.new_mark, w.records[b.name].mark_id, b)
    return Call(
        "POST",
        f"/api/v1/marks/{mark_id}/corrections",
        b.target(author=b.author_id),
        json={"value": 3, "reason": "ошибка при вводе"},
        changes=True,
    )


@template("POST", "/api/v1/marks/{mark_id}/cancellation")
def _cancel_mark(w: World, k: Kind, b: Bundle) -> Call:
    mark_id = _fresh(w, k, w.new_mark, w.records[b.name].mark_id, b)
    return Call(
        "POST",
        f"/api/v1/marks/{mark_id}/cancellation",
        b.target(author=b.author_id),
        json={"reason": "отметка выставлена не тому студенту"},
        changes=True,
    )


@template("GET", "/api/v1/marks/{mark_id}/history")
def _mark_history(w: World, k: Kind, b: Bundle) -> Call:
    return Call("GET", f"/api/v1/marks/{w.records[b.name].mark_id}/history", b.target())


@template("POST", "/api/v1/absences")
def _record_absence(w: World, k: Kind, b: Bundle) -> Call:
    return Call("POST", "/api/v1/absences", b.target(), json=absence_body(b))


@template("POST", "/api/v1/absences/{absence_id}/reason")
def _absence_reason(w: World, k: Kind, b: Bundle) -> Call:
    return Call(
        "POST",
        f"/api/v1/absences/{w.records[b.name].absence_id}/reason",
        b.target(),
        json={"code": "НУ", "reason": f"справка № {w.seq()}"},
    )


@template("POST", "/api/v1/absences/{absence_id}/withdrawal")
def _withdraw_absence(w: World, k: Kind, b: Bundle) -> Call:
    absence_id = _fresh(w, k, w.new_absence, w.records[b.name].absence_id, b)
    return Call(
        "POST",
        f"/api/v1/absences/{absence_id}/withdrawal",
        b.target(author=b.author_id),
        json={"reason": "обучающийся был на уроке"},
        changes=True,
    )


@template("GET", "/api/v1/absences/{absence_id}/history")
def _absence_history(w: World, k: Kind, b: Bundle) -> Call:
    return Call("GET", f"/api/v1/absences/{w.records[b.name].absence_id}/history", b.target())


@template("POST", "/api/v1/absence-notices")
def _notice(w: World, k: Kind, b: Bundle) -> Call:
    body = {
        "student_id": b.student,
        "from_date": "2026-10-05",
        "to_date": "2026-10-06",
        "reason": "поездка на соревнования",
    }
    return Call("POST", "/api/v1/absence-notices", b.target(subject=None), json=body)


@template("POST", "/api/v1/attestations")
def _record_attestation(w: World, k: Kind, b: Bundle) -> Call:
    student = w.pool_student(b)

    def after(r: httpx.Response) -> None:
        if r.is_success:
            w.pool_used(b)

    body = {"student_id": student, "subject_id": b.subject, "period_id": PERIOD, "result": "5"}
    return Call("POST", "/api/v1/attestations", b.target(student=student), json=body, after=after)


@template("POST", "/api/v1/attestations/{attestation_id}/corrections")
def _correct_attestation(w: World, k: Kind, b: Bundle) -> Call:
    rec = w.records[b.name]
    result = next(r for r in ("3", "4", "5") if r != rec.attestation_result)

    def after(r: httpx.Response) -> None:
        if r.is_success:
            rec.attestation_result = r.json()["result"]

    return Call(
        "POST",
        f"/api/v1/attestations/{rec.attestation_id}/corrections",
        b.target(author=b.author_id),
        json={"result": result, "reason": "ликвидация задолженности"},
        changes=True,
        after=after,
    )


@template("GET", "/api/v1/attestations/{attestation_id}/history")
def _attestation_history(w: World, k: Kind, b: Bundle) -> Call:
    return Call(
        "GET", f"/api/v1/attestations/{w.records[b.name].attestation_id}/history", b.target()
    )


@template("GET", "/api/v1/academic-debts")
def _debts(w: World, k: Kind, b: Bundle) -> Call:
    def revealed(body: Any) -> list[Target]:
        return [Target(b.group, item["subject_id"], item["student_id"]) for item in body["items"]]

    return Call(
        "GET",
        "/api/v1/academic-debts",
        Target(b.group),
        params={"group_id": b.group},
        revealed=revealed,
    )


@template("POST", "/api/v1/lessons")
def _record_lesson(w: World, k: Kind, b: Bundle) -> Call:
    n = w.seq()
    body = {
        "group_id": b.group,
        "subject_id": b.subject,
        "lesson_date": (date(2026, 10, 1) + timedelta(days=n // 20)).isoformat(),
        "lesson_no": n % 20 + 1,
        "topic": "Новая тема",
        "homework": "§ 1",
    }
    return Call("POST", "/api/v1/lessons", Target(b.group, b.subject), json=body)


@template("POST", "/api/v1/lessons/{lesson_id}/changes")
def _change_lesson(w: World, k: Kind, b: Bundle) -> Call:
    return Call(
        "POST",
        f"/api/v1/lessons/{w.records[b.name].lesson_id}/changes",
        Target(b.group, b.subject, substitute=b.substitute),
        json={"topic": f"Тема {w.seq()}", "homework": "упражнения 1–5"},
    )


@template("POST", "/api/v1/lessons/{lesson_id}/substitution")
def _substitution(w: World, k: Kind, b: Bundle) -> Call:
    lesson_id = _fresh(w, k, w.bare_lesson, w.records[b.name].lesson_id, b)
    return Call(
        "POST",
        f"/api/v1/lessons/{lesson_id}/substitution",
        Target(b.group, b.subject),
        json={"teacher_id": SUBSTITUTE, "reason": "курсы повышения квалификации"},
    )


@template("POST", "/api/v1/lessons/{lesson_id}/cancellation")
def _cancel_lesson(w: World, k: Kind, b: Bundle) -> Call:
    lesson_id = _fresh(w, k, w.new_lesson, w.records[b.name].lesson_id, b)
    return Call(
        "POST",
        f"/api/v1/lessons/{lesson_id}/cancellation",
        Target(b.group, b.subject, substitute=b.substitute),
        json={"reason": "праздничный день"},
    )


@template("GET", "/api/v1/lessons")
def _lessons(w: World, k: Kind, b: Bundle) -> Call:
    return Call(
        "GET",
        "/api/v1/lessons",
        Target(b.group, b.subject),
        params={"group_id": b.group, "subject_id": b.subject},
    )


@template("GET", "/api/v1/students/{student_id}/journal")
def _journal(w: World, k: Kind, b: Bundle) -> Call:
    def revealed(body: Any) -> list[Target]:
        items = [*body["marks"], *body["absences"], *body["attestations"]]
        return [Target(b.group, i["subject_id"], b.student) for i in items if i["subject_id"]]

    return Call(
        "GET",
        f"/api/v1/students/{b.student}/journal",
        b.target(subject=None, substitute=None),
        revealed=revealed,
    )


@template("GET", "/api/v1/gradebook")
def _gradebook(w: World, k: Kind, b: Bundle) -> Call:
    params = {"group_id": b.group, "subject_id": b.subject, "period_id": PERIOD}
    return Call("GET", "/api/v1/gradebook", Target(b.group, b.subject), params=params)


@template("GET", "/api/v1/attendance")
def _attendance(w: World, k: Kind, b: Bundle) -> Call:
    def revealed(body: Any) -> list[Target]:
        return [Target(b.group, u["subject_id"], u["student_id"]) for u in body["unexplained"]]

    params = {
        "group_id": b.group,
        "from_date": "2026-09-01",
        "to_date": "2026-09-30",
        "unexplained_days": 0,  # list every absence still coded «Н»
    }
    return Call("GET", "/api/v1/attendance", Target(b.group), params=params, revealed=revealed)


@template("GET", "/api/v1/years/{year_id}/summary-sheet")
def _summary_sheet(w: World, k: Kind, b: Bundle) -> Call:
    return Call(
        "GET",
        f"/api/v1/years/{YEAR}/summary-sheet",
        Target(b.group),
        params={"group_id": b.group},
    )


@template("GET", "/api/v1/monitoring")
def _monitoring(w: World, k: Kind, b: Bundle) -> Call:
    params = {"group_id": b.group, "from_date": "2026-09-01", "to_date": "2026-09-30"}
    return Call("GET", "/api/v1/monitoring", Target(b.group), params=params)


@template("POST", "/api/v1/students/{student_id}/diary-acknowledgements")
def _acknowledge(w: World, k: Kind, b: Bundle) -> Call:
    return Call(
        "POST",
        f"/api/v1/students/{b.student}/diary-acknowledgements",
        b.target(subject=None, substitute=None),
    )


@template("GET", "/api/v1/archives/{year_id}", per_bundle=False)
def _archive(w: World, k: Kind, b: Bundle) -> Call:
    # Open year: 409 year-open for the administration, 403 for the archivist; closed: 200.
    return Call("GET", f"/api/v1/archives/{YEAR}")


@template("GET", "/api/v1/archives/{year_id}/export", per_bundle=False)
def _archive_export(w: World, k: Kind, b: Bundle) -> Call:
    return Call("GET", f"/api/v1/archives/{YEAR}/export")


@template("POST", "/api/v1/archives/{year_id}/export-jobs", per_bundle=False)
def _export_job_start(w: World, k: Kind, b: Bundle) -> Call:
    # Open year: 409 year-open for the administration, 403 for the archivist.
    return Call("POST", f"/api/v1/archives/{YEAR}/export-jobs")


@template("GET", "/api/v1/archives/{year_id}/export-jobs/{job_id}", per_bundle=False)
def _export_job_status(w: World, k: Kind, b: Bundle) -> Call:
    # A real job once the year is closed (started by the deputy); before, the year's check
    # answers first (409 year-open / 403), whatever the id.
    started = w.client.post(
        f"/api/v1/archives/{YEAR}/export-jobs",
        headers={"Authorization": f"Bearer {w.token(str(KIND_USERS['deputy']))}"},
    )
    job_id = started.json()["job_id"] if started.is_success else "0" * 32
    return Call("GET", f"/api/v1/archives/{YEAR}/export-jobs/{job_id}")


@template("POST", "/api/v1/years/{year_id}/close", per_bundle=False, last=True)
def _close_year(w: World, k: Kind, b: Bundle) -> Call:
    return Call("POST", f"/api/v1/years/{YEAR}/close", json={"reason": "тест"})


# People and sessions: trusted persons, password, deactivation, the security log; the audit.


@template("POST", "/api/v1/delegations")
def _grant(w: World, k: Kind, b: Bundle) -> Call:
    body = {"trustee_id": BYSTANDER, "student_ids": [b.student], "expires_at": EXPIRES}
    return Call("POST", "/api/v1/delegations", b.target(subject=None), json=body)


@template("GET", "/api/v1/delegations", per_bundle=False)
def _my_delegations(w: World, k: Kind, b: Bundle) -> Call:
    return Call("GET", "/api/v1/delegations")


@template("POST", "/api/v1/delegations/{delegation_id}/revocation")
def _revoke(w: World, k: Kind, b: Bundle) -> Call:
    parent = next(p["id"] for p in w.doc["parents"] if b.student in p["children"])
    delegation_id = w.grant_delegation(parent, BYSTANDER, [b.student])
    return Call(
        "POST",
        f"/api/v1/delegations/{delegation_id}/revocation",
        b.target(subject=None, author=parent),
        json={"reason": "больше не нужна"},
        changes=True,
    )


@template("POST", "/api/v1/accounts/{person_id}/deactivation", per_bundle=False)
def _deactivate(w: World, k: Kind, b: Bundle) -> Call:
    # s25 takes no part in the matrix: the first permitted call deactivates it, later ones
    # answer 422 (already deactivated).
    return Call("POST", "/api/v1/accounts/s25/deactivation", json={"reason": "отчислен"})


@template("POST", "/api/v1/accounts/{person_id}/reactivation", per_bundle=False)
def _reactivate(w: World, k: Kind, b: Bundle) -> Call:
    # s25 again: switched on if the deactivation above switched it off, else 422 (active).
    return Call("POST", "/api/v1/accounts/s25/reactivation", json={"reason": "восстановлен"})


@template("GET", "/api/v1/security-log", per_bundle=False)
def _security_log(w: World, k: Kind, b: Bundle) -> Call:
    return Call("GET", "/api/v1/security-log", params={"limit": 10})


@template("GET", "/api/v1/audit")
def _audit(w: World, k: Kind, b: Bundle) -> Call:
    return Call(
        "GET",
        "/api/v1/audit",
        b.target(subject=None, substitute=None),
        params={"student_id": b.student, "limit": 20},
    )
