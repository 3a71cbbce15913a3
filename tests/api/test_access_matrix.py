"""The access matrix: every operation × every kind of actor × own/foreign records, against
the declarative policy `domain.access.ACCESS` (R-ROLE, R-SEC-1/2).

The expectation of each call is computed from the table, never written per route:

- no token: 401 (public routes: 200);
- the actor's roles do not pass the table's gate (`access.passes_gate`): 403, or 404 for a
  student or parent when the route names a record;
- the gate passes but none of the actor's roles reaches the record in its scope (`in_scope`):
  403 or 404 for staff, 404 for students and parents;
- otherwise the call is permitted: 2xx, or a rule error after the gate (409/422).

The world (access_fixtures.py) is built once per store; the whole matrix runs once per store
in a module-scoped fixture and the tests below read its cases. Mismatches that are known
product or table bugs are listed in KNOWN_BUGS: each is a strict xfail of its own, and the
main test fails on any other mismatch, printing every one.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from adapters.clock import FixedClock
from adapters.roster import parse_roster
from adapters.roster_import import import_roster
from api.app import create_app
from api.bootstrap import Services
from domain.access import ACCESS, Rule, passes_gate
from domain.actors import system_actor
from tests.api.access_fixtures import (
    BUNDLES,
    NO_BUNDLE,
    ORG,
    TEMPLATES,
    Bundle,
    Call,
    Kind,
    Target,
    World,
    matrix_roster,
)
from tests.conftest import POSTGRES_URL, SCHOOL_MORNING, make_settings, require_postgres

Op = tuple[str, str]
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}
PERMITTED_RULE_ERRORS = {409, 422}

# --- the table's scopes ------------------------------------------------------------------


def in_scope(
    scope: str,
    role: str,
    kind: Kind,
    target: Target,
    *,
    closed: bool,
    changes: bool,
    members: dict[str, frozenset[str]],
) -> bool:
    """Does `role` with `scope` (domain/access.py) reach `target` for this person?"""
    if scope in ("all", "self"):
        return True  # "all" also changes anyone's entries (a deputy organises corrections)
    if scope == "closed":
        ok = closed
    elif scope == "assigned":
        ok = any(
            g == target.group and (target.subject is None or s == target.subject)
            for g, s in kind.teaches
        )
    elif scope == "group":
        ok = target.group in kind.curates
    elif scope == "lesson":
        ok = target.substitute is not None and target.substitute == kind.person
    elif scope == "own":
        mine = {
            "student": {kind.student} - {None},
            "parent": kind.children,
            "trusted": kind.delegated,
        }.get(role, set())
        if target.student is not None:
            ok = target.student in mine
        else:
            ok = bool(mine & members.get(target.group or "", frozenset()))
    else:
        raise AssertionError(f"unknown scope {scope!r}")
    # Changing an existing entry: only one's own (R-MARK-3, 000 §4.2, "changes: their own
    # entries" in domain/access.py); only scope "all" (the deputy) changes anyone's.
    return ok and (not changes or target.author == kind.person)


@dataclass(frozen=True)
class Expect:
    label: str  # allow / 401 / 200 / 403 / 404 / 403|404
    statuses: frozenset[int] = frozenset()

    def met_by(self, status: int) -> bool:
        if self.label == "allow":
            return 200 <= status < 300 or status in PERMITTED_RULE_ERRORS
        return status in self.statuses


ALLOW = Expect("allow")
UNAUTHENTICATED = Expect("401", frozenset({401}))
OK = Expect("200", frozenset({200}))
FORBIDDEN = Expect("403", frozenset({403}))
NOT_FOUND = Expect("404", frozenset({404}))
REFUSED = Expect("403|404", frozenset({403, 404}))


def expected(
    rule: Rule | None,
    kind: Kind,
    target: Target,
    *,
    closed: bool,
    changes: bool,
    members: dict[str, frozenset[str]],
) -> Expect:
    if rule is not None and rule.public:
        return OK
    if kind.anonymous:
        return UNAUTHENTICATED
    if rule is None:  # no entry: enforce() refuses everyone (NoPolicy)
        return FORBIDDEN
    if not passes_gate(kind.actor(), rule):
        return NOT_FOUND if rule.names_a_record and not kind.staff else FORBIDDEN
    for role in sorted(kind.acts_as & rule.roles.keys()):
        scope = rule.roles[role]
        if in_scope(scope, role, kind, target, closed=closed, changes=changes, members=members):
            return ALLOW
    return REFUSED if kind.staff else NOT_FOUND


# --- running the matrix ------------------------------------------------------------------


@dataclass
class Case:
    phase: str  # open / last / closed
    op: Op
    kind: str
    bundle: str
    ownership: str
    expect: str
    status: int
    code: str | None
    problems: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"[{self.phase}] {self.op[0]} {self.op[1]} as {self.kind} on {self.bundle} "
            f"({self.ownership}): expected {self.expect}, got {self.status}"
            f"{f' {self.code}' if self.code else ''}"
            f"{'; ' + '; '.join(self.problems) if self.problems else ''}"
        )


@dataclass
class Run:
    store: str
    ops: set[Op]
    cases: list[Case] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def mismatches(self) -> list[Case]:
        return [c for c in self.cases if c.problems]


class Matrix:
    def __init__(self, world: World, run: Run) -> None:
        self.w = world
        self.run = run

    def send(self, kind: Kind, call: Call) -> Any:
        headers = {}
        if not kind.anonymous:
            assert kind.username is not None
            token = (
                self.w.login(kind.username) if call.fresh_session else self.w.token(kind.username)
            )
            headers["Authorization"] = f"Bearer {token}"
        r = self.w.client.request(
            call.method,
            call.url,
            params=call.params,
            json=call.json,
            data=call.data,
            headers=headers,
        )
        if call.after is not None:
            call.after(r)
        return r

    def check(
        self, phase: str, op: Op, kind: Kind, bundle: Bundle, call: Call, *, closed: bool
    ) -> None:
        rule = ACCESS.get(op)
        want = expected(
            rule,
            kind,
            call.target,
            closed=closed,
            changes=call.changes,
            members=self.w.members,
        )
        r = self.send(kind, call)
        code = None
        if r.headers.get("content-type", "").startswith("application/problem+json"):
            code = r.json().get("code")
        case = Case(
            phase,
            op,
            kind.name,
            bundle.name,
            kind.ownership(bundle.name if bundle is not NO_BUNDLE else None),
            want.label,
            r.status_code,
            code,
        )
        # Issue 3's contract: a teacher writing for a student who is not in her group × subject
        # on that date hears 422 not-enrolled (403 only without the subject anywhere): a
        # refusal by the rules, not a pass through the table.
        refused_by_enrolment = want is REFUSED and r.status_code == 422 and code == "not-enrolled"
        if not want.met_by(r.status_code) and not refused_by_enrolment:
            case.problems.append("status differs from the table")
        elif want is ALLOW and r.is_success and call.revealed and rule is not None:
            for seen in call.revealed(r.json()):
                if (
                    expected(rule, kind, seen, closed=closed, changes=False, members=self.w.members)
                    is not ALLOW
                ):
                    case.problems.append(
                        f"shows {seen.subject} of {seen.student} in {seen.group}, "
                        "outside the actor's scope"
                    )
                    break
        self.run.cases.append(case)

    def calls(self, op: Op) -> Iterator[tuple[Kind, Bundle]]:
        per_bundle = TEMPLATES[op].per_bundle
        for kind in self.w.kinds:
            for bundle in BUNDLES if per_bundle else (NO_BUNDLE,):
                yield kind, bundle

    def run_all(self) -> None:
        ops = [*ACCESS, *sorted(self.run.ops - ACCESS.keys())]
        last: list[tuple[Op, Kind, Bundle]] = []
        for op in ops:
            if op not in TEMPLATES:
                self.run.cases.append(
                    Case("open", op, "-", "-", "-", "-", 0, None, ["no request template"])
                )
                continue
            template = TEMPLATES[op]
            for kind, bundle in self.calls(op):
                call = template.make(self.w, kind, bundle)
                if template.last and self._permitted(op, kind, call):
                    last.append((op, kind, bundle))
                    continue
                self.check("open", op, kind, bundle, call, closed=False)
        # Closing the year: the deputy first (as R-ROLE says), then the others it permits.
        last.sort(key=lambda item: item[1].name != "deputy")
        for op, kind, bundle in last:
            call = TEMPLATES[op].make(self.w, kind, bundle)
            self.check("last", op, kind, bundle, call, closed=False)
        # The year is closed: every read again, now the archivist's scope "closed" holds.
        for op in ops:
            rule = ACCESS.get(op)
            if op[0] != "GET" or rule is None or rule.public or op not in TEMPLATES:
                continue
            for kind, bundle in self.calls(op):
                call = TEMPLATES[op].make(self.w, kind, bundle)
                self.check("closed", op, kind, bundle, call, closed=True)

    def _permitted(self, op: Op, kind: Kind, call: Call) -> bool:
        want = expected(
            ACCESS.get(op),
            kind,
            call.target,
            closed=False,
            changes=call.changes,
            members=self.w.members,
        )
        return want is ALLOW


def openapi_operations(client: TestClient) -> set[Op]:
    r = client.get("/openapi.json")
    assert r.status_code == 200, r.text
    return {
        (method.upper(), path)
        for path, item in r.json()["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def matrix(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Run]:
    tmp: Path = tmp_path_factory.mktemp(f"access-{request.param}")
    schema = None
    if request.param == "sqlite":
        store: dict[str, Any] = {"database_url": f"sqlite:///{tmp / 'ejournal.db'}"}
    else:
        require_postgres()
        schema = f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        store = {"database_url": POSTGRES_URL, "postgres_schema": schema}
    services = Services.build(make_settings(store, tmp), FixedClock(SCHOOL_MORNING))
    try:
        doc = matrix_roster()
        import_roster(services.journal, services.passwords, parse_roster(doc), system_actor(ORG))
        started = time.perf_counter()
        with TestClient(create_app(services=services)) as client:
            run = Run(request.param, openapi_operations(client))
            world = World(client, services, doc)
            world.build()
            Matrix(world, run).run_all()
        run.seconds = time.perf_counter() - started
        yield run
    finally:
        services.close()
        if schema is not None:
            with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


# --- known bugs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class KnownBug:
    id: str
    reason: str
    matches: Callable[[Case], bool]


def _on(*paths: str) -> Callable[[Case], bool]:
    return lambda c: c.op[1] in paths


KNOWN_BUGS: list[KnownBug] = []


def known(case: Case) -> KnownBug | None:
    return next((bug for bug in KNOWN_BUGS if bug.matches(case)), None)


def listing(cases: list[Case]) -> str:
    return "\n".join(str(c) for c in cases)


# --- the tests ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def operations(tmp_path_factory: pytest.TempPathFactory) -> set[Op]:
    tmp = tmp_path_factory.mktemp("access-openapi")
    services = Services.build(
        make_settings({"database_url": f"sqlite:///{tmp / 'e.db'}"}, tmp),
        FixedClock(SCHOOL_MORNING),
    )
    try:
        return openapi_operations(TestClient(create_app(services=services)))
    finally:
        services.close()


def test_every_operation_has_an_access_rule(operations: set[Op]) -> None:
    """A route without an entry in ACCESS is refused to everyone (NoPolicy): a new route must
    come with its rule."""
    missing = sorted(operations - ACCESS.keys())
    assert not missing, f"routes without an entry in domain.access.ACCESS: {missing}"


def test_access_table_names_only_existing_routes(operations: set[Op]) -> None:
    stale = sorted(ACCESS.keys() - operations)
    assert not stale, f"ACCESS entries for routes the app no longer has: {stale}"


def test_every_operation_has_a_request_template(operations: set[Op]) -> None:
    assert not sorted(operations - TEMPLATES.keys())
    assert not sorted(TEMPLATES.keys() - operations)


def test_access_matrix(matrix: Run) -> None:
    unexpected = [c for c in matrix.mismatches if known(c) is None]
    assert not unexpected, (
        f"{len(unexpected)} of {len(matrix.cases)} calls on {matrix.store} differ from "
        f"domain.access.ACCESS:\n{listing(unexpected)}"
    )


def test_known_access_bugs_still_hold(matrix: Run) -> None:
    """Each bug listed in KNOWN_BUGS (none at present) must still show; a fixed one is
    removed from the list, so the main matrix test guards it from then on."""
    for bug in KNOWN_BUGS:
        assert [c for c in matrix.mismatches if bug.matches(c)], f"fixed? {bug.id}"


def test_anonymous_is_refused_everywhere(matrix: Run) -> None:
    anonymous = [c for c in matrix.cases if c.kind == "anonymous"]
    assert {c.op for c in anonymous} == matrix.ops
    for c in anonymous:
        public = c.op[1] == "/api/v1/auth/token" or not c.op[1].startswith("/api/v1/")
        assert c.status == (200 if public else 401), str(c)


def test_archivist_reads_a_closed_year(matrix: Run) -> None:
    closed = [c for c in matrix.cases if c.op[1].endswith("/close") and c.status == 200]
    assert [c.kind for c in closed] == ["deputy"], listing(closed)
    for path in (
        "/api/v1/students/{student_id}/journal",
        "/api/v1/gradebook",
        "/api/v1/years/{year_id}/summary-sheet",
    ):
        reads = [
            c
            for c in matrix.cases
            if c.kind == "archivist" and c.op == ("GET", path) and c.phase == "closed"
        ]
        assert reads and all(c.status == 200 for c in reads), listing(reads)
        before = [
            c
            for c in matrix.cases
            if c.kind == "archivist" and c.op == ("GET", path) and c.phase == "open"
        ]
        assert before and all(c.status == 403 for c in before), listing(before)


def test_matrix_summary(matrix: Run) -> None:
    """Not a check: what was run (shown with -rP or -s)."""
    by_phase: dict[str, int] = {}
    for c in matrix.cases:
        by_phase[c.phase] = by_phase.get(c.phase, 0) + 1
    permitted = [c for c in matrix.cases if c.expect == "allow"]
    rule_errors = [c for c in permitted if c.status in PERMITTED_RULE_ERRORS]
    print(
        f"\n{matrix.store}: {len(matrix.cases)} calls {by_phase} over {len(matrix.ops)} "
        f"operations in {matrix.seconds:.1f} s; {len(permitted)} permitted, of which "
        f"{len(rule_errors)} answered a rule error; {len(matrix.mismatches)} mismatches"
    )
    for c in rule_errors:
        print(f"  rule error: {c}")
    for c in matrix.mismatches:
        bug = known(c)
        print(f"  {'known ' + bug.id if bug else 'UNEXPECTED'}: {c}")
