"""The access policy as one declarative table (R-ROLE, R-SEC-1/2): for every route, which
roles may call it and on which records. Every route consults it before anything else; the
object-level checks it names live in `domain.policy` and run in the use case.

Scopes say which records a role reaches:
  all       every record of the organisation
  assigned  the groups × subjects assigned to the teacher (changes: their own entries)
  group     the group the person is curator of
  lesson    the lesson the teacher substitutes
  own       the student's own data; a parent's children; a trusted person's delegated ones
  closed    closed academic years only
  self      the caller's own account or session
"""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.actors import Actor, Role

PUBLIC = "public"
# Roles a person acts in without holding them in the roster map to the roster role that
# lets them through the first gate; their scope is then checked on the records.
GATE_ROLE = {
    "curator": Role.TEACHER.value,
    "substitute": Role.TEACHER.value,
    "trusted": Role.PARENT.value,
}
ROLES = (
    "admin",
    "director",
    "deputy",
    "teacher",
    "curator",
    "substitute",
    "student",
    "parent",
    "trusted",
    "archivist",
)
READ_JOURNAL = {
    "admin": "all",
    "director": "all",
    "deputy": "all",
    "teacher": "assigned",
    "curator": "group",
    "student": "own",
    "parent": "own",
    "trusted": "own",
    "archivist": "closed",
}
WRITE_JOURNAL = {"deputy": "all", "teacher": "assigned", "substitute": "lesson"}
GROUP_REPORTS = {
    "admin": "all",
    "director": "all",
    "deputy": "all",
    "teacher": "assigned",
    "curator": "group",
    "archivist": "closed",
}
SUMMARY = {
    "admin": "all",
    "director": "all",
    "deputy": "all",
    "curator": "group",
    "archivist": "closed",
}
ANY_SIGNED_IN = {role: "self" for role in ROLES}


@dataclass(frozen=True)
class Rule:
    what: str  # in Russian, for people (README access table)
    roles: dict[str, str] = field(default_factory=dict)  # role -> scope
    # A path that names one record: refusing a student or parent says "not found".
    names_a_record: bool = False

    @property
    def public(self) -> bool:
        return PUBLIC in self.roles

    def gate_roles(self) -> frozenset[str]:
        return frozenset(GATE_ROLE.get(role, role) for role in self.roles)


def _rule(what: str, roles: dict[str, str], *, record: bool = False) -> Rule:
    return Rule(what, dict(roles), record)


ACCESS: dict[tuple[str, str], Rule] = {
    ("GET", "/health"): _rule("состояние сервиса", {PUBLIC: "all"}),
    ("GET", "/health/projections"): _rule("состояние проекций", {PUBLIC: "all"}),
    ("POST", "/api/v1/auth/token"): _rule("вход", {PUBLIC: "all"}),
    ("POST", "/api/v1/auth/logout"): _rule("выход", ANY_SIGNED_IN),
    ("POST", "/api/v1/import"): _rule("загрузка списков", {"admin": "all"}),
    ("POST", "/api/v1/marks"): _rule("выставить отметку", WRITE_JOURNAL),
    ("POST", "/api/v1/entries"): _rule("записи урока (отметки и пропуски)", WRITE_JOURNAL),
    ("POST", "/api/v1/marks/{mark_id}/corrections"): _rule(
        "исправить отметку", WRITE_JOURNAL, record=True
    ),
    ("POST", "/api/v1/marks/{mark_id}/cancellation"): _rule(
        "аннулировать отметку", WRITE_JOURNAL, record=True
    ),
    ("GET", "/api/v1/marks/{mark_id}/history"): _rule("история отметки", READ_JOURNAL, record=True),
    ("POST", "/api/v1/absences"): _rule("отметить пропуск", {**WRITE_JOURNAL, "curator": "group"}),
    ("POST", "/api/v1/absences/{absence_id}/reason"): _rule(
        "причина пропуска",
        {"deputy": "all", "teacher": "assigned", "curator": "group"},
        record=True,
    ),
    ("POST", "/api/v1/absences/{absence_id}/withdrawal"): _rule(
        "снять пропуск", {**WRITE_JOURNAL, "curator": "group"}, record=True
    ),
    ("GET", "/api/v1/absences/{absence_id}/history"): _rule(
        "история пропуска", READ_JOURNAL, record=True
    ),
    # A trusted person acts "as the parent" (DOMAIN R-ROLE, 000 §3.1.5).
    ("POST", "/api/v1/absence-notices"): _rule(
        "уведомление о пропуске", {"parent": "own", "trusted": "own"}
    ),
    ("POST", "/api/v1/attestations"): _rule(
        "результат аттестации", {"deputy": "all", "teacher": "assigned"}
    ),
    ("POST", "/api/v1/attestations/{attestation_id}/corrections"): _rule(
        "исправить результат аттестации", {"deputy": "all", "teacher": "assigned"}, record=True
    ),
    ("GET", "/api/v1/attestations/{attestation_id}/history"): _rule(
        "история результата аттестации", READ_JOURNAL, record=True
    ),
    ("GET", "/api/v1/academic-debts"): _rule("академические задолженности группы", GROUP_REPORTS),
    ("POST", "/api/v1/lessons"): _rule("записать урок", {"deputy": "all", "teacher": "assigned"}),
    ("POST", "/api/v1/lessons/{lesson_id}/changes"): _rule(
        "тема и задание урока",
        {"deputy": "all", "teacher": "assigned", "substitute": "lesson"},
        record=True,
    ),
    ("POST", "/api/v1/lessons/{lesson_id}/substitution"): _rule(
        "замена", {"deputy": "all"}, record=True
    ),
    ("POST", "/api/v1/lessons/{lesson_id}/cancellation"): _rule(
        "отменить урок", {"deputy": "all", "teacher": "assigned"}, record=True
    ),
    ("GET", "/api/v1/lessons"): _rule(
        "уроки группы", {**GROUP_REPORTS, "student": "own", "parent": "own", "trusted": "own"}
    ),
    ("GET", "/api/v1/students/{student_id}/journal"): _rule(
        "журнал обучающегося", READ_JOURNAL, record=True
    ),
    ("GET", "/api/v1/gradebook"): _rule("страница журнала группы", GROUP_REPORTS),
    ("GET", "/api/v1/attendance"): _rule("посещаемость группы", GROUP_REPORTS),
    ("GET", "/api/v1/years/{year_id}/summary-sheet"): _rule("сводная ведомость", SUMMARY),
    ("GET", "/api/v1/monitoring"): _rule(
        "мониторинг", {"admin": "all", "director": "all", "deputy": "all", "curator": "group"}
    ),
    ("POST", "/api/v1/students/{student_id}/diary-acknowledgements"): _rule(
        "подтвердить просмотр дневника", {"parent": "own", "trusted": "own"}, record=True
    ),
    ("POST", "/api/v1/years/{year_id}/close"): _rule(
        "закрыть учебный год", {"deputy": "all", "admin": "all"}
    ),
    ("POST", "/api/v1/auth/password"): _rule("сменить свой пароль", ANY_SIGNED_IN),
    ("POST", "/api/v1/delegations"): _rule("выдать доверенность", {"parent": "own"}),
    ("POST", "/api/v1/delegations/{delegation_id}/revocation"): _rule(
        "отозвать доверенность", {"parent": "own"}, record=True
    ),
    ("GET", "/api/v1/delegations"): _rule("свои доверенности", ANY_SIGNED_IN),
    ("POST", "/api/v1/accounts/{person_id}/deactivation"): _rule(
        "отключить учётную запись", {"admin": "all"}
    ),
    ("POST", "/api/v1/accounts/{person_id}/reactivation"): _rule(
        "снова включить учётную запись", {"admin": "all"}
    ),
    ("GET", "/api/v1/security-log"): _rule("журнал безопасности", {"admin": "all"}),
    ("GET", "/api/v1/archives/{year_id}"): _rule(
        "архив закрытого года",
        {"archivist": "closed", "deputy": "all", "director": "all", "admin": "all"},
    ),
    ("GET", "/api/v1/archives/{year_id}/export"): _rule(
        "выгрузить архив закрытого года",
        {"archivist": "closed", "deputy": "all", "director": "all"},
    ),
    ("POST", "/api/v1/archives/{year_id}/export-jobs"): _rule(
        "запустить выгрузку архива закрытого года",
        {"archivist": "closed", "deputy": "all", "director": "all"},
    ),
    ("GET", "/api/v1/archives/{year_id}/export-jobs/{job_id}"): _rule(
        "ход выгрузки архива закрытого года",
        {"archivist": "closed", "deputy": "all", "director": "all"},
    ),
    ("GET", "/api/v1/audit"): _rule(
        "журнал изменений", {"admin": "all", "director": "all", "deputy": "all"}
    ),
}


class NoPolicy(LookupError):
    """A route without an entry in ACCESS: refused until the table says who may call it."""


def rule_for(method: str, path: str) -> Rule:
    try:
        return ACCESS[(method.upper(), path)]
    except KeyError:
        raise NoPolicy(f"{method} {path}") from None


def passes_gate(actor: Actor, rule: Rule) -> bool:
    """The first, role-level check: does any of the actor's roles appear in the rule?"""
    if rule.public:
        return True
    held = set(actor.roles) | {actor.role}
    return bool(held & rule.gate_roles())
