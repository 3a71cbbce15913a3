"""The administrator's page (UI.md /admin/roster, issue 13): upload a roster, see what an import
would change before anything is written, then record it; the accounts with deactivation and
reactivation; the security log.

Same use cases as the API (`parse_roster`, `import_roster`, `deactivate_account`,
`reactivate_account`, the security log). «Проверить» is a dry run; the checked document is kept
server-side (under var_dir, keyed by a random token bound to the administrator, for a few hours)
so «Загрузить» does not send it again and records exactly the document that was checked."""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import TypeAdapter, ValidationError

from adapters.roster import RosterDocument, RosterInvalid, parse_roster
from adapters.roster_import import ImportReport, ImportTooDestructive, import_roster
from adapters.text import Reason, russian_message
from api.bootstrap import Services
from api.deps import Svc
from api.errors import STATUS
from api.pages import session as page_session
from api.pages.common import PageViewer, Viewer, render, render_error
from domain.actors import Role
from domain.errors import Forbidden, RecordNotFound, RuleViolation

router = APIRouter(include_in_schema=False)

UPLOADS = "roster_uploads"
UPLOAD_TTL_SECONDS = 4 * 3600
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
SHOWN_IDS = 200  # names listed per kind of change; the rest are counted
SHOWN_ACCOUNTS = 200
LOG_ENTRIES = 50

KIND_NAMES = {
    "staff": "сотрудник",
    "student": "обучающийся",
    "parent": "родитель",
    "trustee": "доверенное лицо",
}
EVENT_NAMES = {
    "denied": "отказ в доступе",
    "login_failed": "неудачный вход",
    "login_locked": "вход заблокирован",
    "login_device_cookie": "вход с доверенного устройства",
    "password_change_failed": "неудачная смена пароля",
    "password_changed": "пароль изменён",
    "account_deactivated": "учётная запись отключена",
    "account_reactivated": "учётная запись включена",
}
_reason = TypeAdapter(Reason)


# --- the checked document, kept between «Проверить» and «Загрузить» -------------------------


def _uploads(services: Services) -> Path:
    return Path(services.settings.var_dir) / UPLOADS


def _keep(services: Services, who: Viewer, data: Any, filename: str) -> str:
    folder = _uploads(services)
    folder.mkdir(parents=True, exist_ok=True)
    now = time.time()
    for old in folder.glob("*.json"):  # forget checks nobody went on with
        try:
            if now - old.stat().st_mtime > UPLOAD_TTL_SECONDS:
                old.unlink()
        except OSError:
            pass
    token = secrets.token_urlsafe(24)
    kept = {
        "org_id": who.actor.org_id,
        "actor_id": who.actor.id,
        "filename": filename,
        "document": data,
    }
    path = folder / f"{token}.json"
    path.write_text(json.dumps(kept, ensure_ascii=False), encoding="utf-8")
    path.chmod(0o600)
    return token


def _kept(services: Services, who: Viewer, token: str) -> dict[str, Any] | None:
    """The document checked by this administrator under `token`, or None (gone, expired,
    someone else's)."""
    if not TOKEN_RE.match(token or ""):
        return None
    path = _uploads(services) / f"{token}.json"
    try:
        if time.time() - path.stat().st_mtime > UPLOAD_TTL_SECONDS:
            return None
        kept: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if kept.get("org_id") != who.actor.org_id or kept.get("actor_id") != who.actor.id:
        return None
    return kept


def _forget(services: Services, token: str) -> None:
    if TOKEN_RE.match(token or ""):
        (_uploads(services) / f"{token}.json").unlink(missing_ok=True)


# --- what the page shows ------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    title: str
    count: int
    names: list[str]

    @property
    def more(self) -> int:
        return self.count - len(self.names)


@dataclass(frozen=True)
class CheckView:
    """A dry run's report as the page shows it."""

    token: str
    filename: str
    events: int
    people: int
    students_present: int
    groups_present: int
    changes: list[Change]
    deactivated: Change
    conflicts: list[dict[str, str]]
    force_required: bool
    excesses: list[str]

    @property
    def nothing(self) -> bool:
        return self.events == 0


def _people_names(services: Services, org_id: str, doc: RosterDocument) -> dict[str, str]:
    names = services.personal.names(org_id)
    names.update({p.id: p.full_name for _, p in doc.people()})
    return names


def _group_names(services: Services, org_id: str, doc: RosterDocument) -> dict[str, str]:
    names: dict[str, str] = {}
    try:
        year = services.journal.year(org_id, doc.academic_year.id)
        names.update({gid: g.name for gid, g in year.groups.items()})
    except RuleViolation:
        pass
    names.update({g.id: g.name for g in doc.groups})
    return names


def _change(title: str, ids: list[str], names: dict[str, str]) -> Change:
    shown = sorted((names.get(i, i) for i in ids[:SHOWN_IDS]), key=_sort_key)
    return Change(title, len(ids), shown)


def _sort_key(name: str) -> str:
    return name.casefold().replace("ё", "е")


def _check_view(
    services: Services,
    who: Viewer,
    doc: RosterDocument,
    report: ImportReport,
    token: str,
    filename: str,
) -> CheckView:
    org_id = who.actor.org_id
    people = _people_names(services, org_id, doc)
    groups = _group_names(services, org_id, doc)
    plan = report.plan
    return CheckView(
        token=token,
        filename=filename,
        events=report.events,
        people=report.people,
        students_present=plan.students_present,
        groups_present=plan.groups_present,
        changes=[
            _change("Обучающиеся: добавлено", plan.students_added, people),
            _change("Обучающиеся: перемещено", plan.students_moved, people),
            _change("Обучающиеся: удалено", plan.students_removed, people),
            _change("Группы: добавлено", plan.groups_added, groups),
            _change("Группы: удалено", plan.groups_removed, groups),
        ],
        deactivated=_change("Учётные записи будут отключены", plan.deactivated, people),
        conflicts=[
            {
                "name": people.get(c["person_id"], c["person_id"]),
                "reason": str(c.get("reason") or ""),
                "by": people.get(c.get("deactivated_by") or "", c.get("deactivated_by") or ""),
            }
            for c in report.conflicts
        ],
        force_required=report.force_required,
        excesses=[e["message"] for e in plan.excesses()],
    )


@dataclass(frozen=True)
class AccountRow:
    person_id: str
    name: str
    username: str
    kind: str
    active: bool
    reason: str
    is_me: bool


def _accounts(services: Services, who: Viewer, q: str) -> tuple[list[AccountRow], int]:
    org_id = who.actor.org_id
    names = services.personal.names(org_id)
    needle = _sort_key(q.strip())
    rows = []
    for a in services.accounts.all_of(org_id).values():
        name = names.get(a.person_id, a.person_id)
        if needle and not any(
            needle in _sort_key(v) for v in (name, a.username or "", a.person_id)
        ):
            continue
        rows.append((a, name))
    rows.sort(key=lambda r: (r[0].active, _sort_key(r[1])))  # switched-off ones first
    total = len(rows)
    shown = []
    for a, name in rows[:SHOWN_ACCOUNTS]:
        reason = ""
        if not a.active:
            person = services.journal.person(org_id, a.person_id)
            if person is not None and person.deactivation is not None:
                reason = str(person.deactivation.get("reason") or "")
        shown.append(
            AccountRow(
                a.person_id,
                name,
                a.username or "",
                KIND_NAMES.get(a.kind, a.kind),
                a.active,
                reason,
                a.person_id == who.actor.id,
            )
        )
    return shown, total


def _security_log(services: Services, who: Viewer) -> list[dict[str, str]]:
    org_id = who.actor.org_id
    names = services.personal.names(org_id)
    zone = services.journal.zone_of(org_id)
    out = []
    for e in services.security.entries(org_id, LOG_ENTRIES, None):
        try:
            when = datetime.fromisoformat(e["at"]).astimezone(zone).strftime("%d.%m.%Y %H:%M:%S")
        except (TypeError, ValueError):
            when = str(e["at"])
        detail = str(e.get("detail") or "")
        if e["event"] in ("account_deactivated", "account_reactivated"):
            detail = names.get(detail, detail)
        where = " ".join(str(x) for x in (e.get("method"), e.get("route")) if x)
        out.append(
            {
                "at": when,
                "who": names.get(e.get("actor_id") or "", e.get("actor_id") or "—"),
                "event": EVENT_NAMES.get(e["event"], e["event"]),
                "where": where,
                "status": str(e.get("status") or ""),
                "client": str(e.get("client") or ""),
                "detail": detail,
            }
        )
    return out


def _page(
    request: Request,
    services: Services,
    who: Viewer,
    *,
    status_code: int = 200,
    q: str = "",
    **context: Any,
) -> Response:
    accounts, total = _accounts(services, who, q)
    context.setdefault("error", None)
    context.setdefault("errors", [])
    context.setdefault("check", None)
    context.setdefault("outcome", None)
    context.setdefault("force_token", None)
    context.setdefault("account_error", None)
    context.setdefault("account_outcome", None)
    context.setdefault("typed", {})
    return render(
        request,
        "admin_roster.html",
        who,
        status_code=status_code,
        accounts=accounts,
        accounts_total=total,
        shown_accounts=SHOWN_ACCOUNTS,
        q=q,
        log=_security_log(services, who),
        **context,
    )


def _refused(request: Request, who: Viewer, message: str) -> Response:
    return render_error(
        request, who, 403, "Доступ запрещён", message, back=("/", "На главную страницу")
    )


def _not_admin(request: Request, who: Viewer) -> Response | None:
    if who.actor.has(Role.ADMIN):
        return None
    return _refused(
        request, who, "Загружать списки и управлять учётными записями может только администратор"
    )


def _stale_form(request: Request, who: Viewer, csrf_token: str) -> Response | None:
    if page_session.csrf_matches(who.csrf, csrf_token):
        return None
    return _refused(
        request, who, "Форма устарела или отправлена не с этой страницы; обновите страницу"
    )


def _status_of(e: RuleViolation) -> int:
    if isinstance(e, Forbidden):
        return 403
    if isinstance(e, RecordNotFound):
        return 404
    return STATUS.get(e.code, 422)


def _invalid(e: RosterInvalid) -> tuple[str, list[dict[str, str]]]:
    return (
        f"Документ со списками не прошёл проверку. Найдено ошибок: {len(e.errors)}; "
        "ничего не изменено",
        e.errors[:100],
    )


def too_large(request: Request, services: Services, who: Viewer, message: str) -> Response:
    """The page with `message` in its alert: the roster file was over the limit (413)."""
    return _not_admin(request, who) or _page(request, services, who, status_code=413, error=message)


# --- routes -------------------------------------------------------------------------------------


@router.get("/admin/roster")
def roster(
    request: Request,
    services: Svc,
    who: PageViewer,
    q: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    refused = _not_admin(request, who)
    if refused is not None:
        return refused
    return _page(request, services, who, q=q)


@router.post("/admin/roster/check")
def check(
    request: Request,
    services: Svc,
    who: PageViewer,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    roster_file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    refused = _not_admin(request, who) or _stale_form(request, who, csrf_token)
    if refused is not None:
        return refused
    if roster_file is None or not roster_file.filename:
        return _page(request, services, who, status_code=422, error="Выберите файл списков (JSON)")
    filename = Path(roster_file.filename).name[:200]
    raw = roster_file.file.read()
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return _page(
            request,
            services,
            who,
            status_code=422,
            error=f"Файл «{filename}» не в кодировке UTF-8; нужен документ JSON",
        )
    except json.JSONDecodeError as e:
        return _page(
            request,
            services,
            who,
            status_code=422,
            error=f"Файл «{filename}» не является документом JSON: строка {e.lineno}, "
            f"позиция {e.colno}",
        )
    try:
        doc = parse_roster(data)
        report = import_roster(services.journal, services.passwords, doc, who.actor, dry_run=True)
    except RosterInvalid as e:
        message, errors = _invalid(e)
        return _page(request, services, who, status_code=422, error=message, errors=errors)
    except RuleViolation as e:
        return _page(request, services, who, status_code=_status_of(e), error=e.detail)
    token = _keep(services, who, data, filename)
    return _page(
        request,
        services,
        who,
        check=_check_view(services, who, doc, report, token, filename),
    )


@router.post("/admin/roster/import")
def import_checked(
    request: Request,
    services: Svc,
    who: PageViewer,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    upload: Annotated[str, Form(max_length=100)] = "",
    force: Annotated[bool, Form()] = False,
) -> Response:
    refused = _not_admin(request, who) or _stale_form(request, who, csrf_token)
    if refused is not None:
        return refused
    kept = _kept(services, who, upload)
    if kept is None:
        return _page(
            request,
            services,
            who,
            status_code=409,
            error="Проверенный документ не найден или устарел; выберите файл списков и "
            "нажмите «Проверить» ещё раз",
        )
    try:
        doc = parse_roster(kept["document"])
        report = import_roster(services.journal, services.passwords, doc, who.actor, force=force)
    except ImportTooDestructive as e:
        return _page(request, services, who, status_code=422, error=e.detail, force_token=upload)
    except RosterInvalid as e:
        message, errors = _invalid(e)
        return _page(request, services, who, status_code=422, error=message, errors=errors)
    except RuleViolation as e:
        return _page(request, services, who, status_code=_status_of(e), error=e.detail)
    _forget(services, upload)
    plan = report.plan
    if report.events == 0:
        outcome = f"Списки из файла «{kept['filename']}» загружены: изменений нет."
    else:
        outcome = (
            f"Списки из файла «{kept['filename']}» загружены: записано событий — "
            f"{report.events}; обучающихся добавлено — {len(plan.students_added)}, "
            f"перемещено — {len(plan.students_moved)}, удалено — {len(plan.students_removed)}; "
            f"групп добавлено — {len(plan.groups_added)}, удалено — {len(plan.groups_removed)}; "
            f"отключено учётных записей — {len(plan.deactivated)}."
        )
    return _page(request, services, who, outcome=outcome)


def _switch(
    request: Request,
    services: Services,
    who: Viewer,
    person_id: str,
    csrf_token: str,
    reason: str,
    *,
    active: bool,
) -> Response:
    refused = _not_admin(request, who) or _stale_form(request, who, csrf_token)
    if refused is not None:
        return refused
    names = services.personal.names(who.actor.org_id, [person_id])
    name = names.get(person_id, person_id)
    try:
        why = _reason.validate_python(reason)
    except ValidationError as e:
        message = "; ".join(russian_message(err) for err in e.errors())
        return _page(
            request,
            services,
            who,
            status_code=422,
            account_error=f"{name}: причина — {message}",
            typed={person_id: reason},
        )
    app = services.journal
    try:
        if active:
            app.reactivate_account(who.actor, person_id, reason=why)
        else:
            app.deactivate_account(who.actor, person_id, reason=why)
    except RuleViolation as e:
        return _page(
            request,
            services,
            who,
            status_code=_status_of(e),
            account_error=f"{name}: {e.detail}",
            typed={person_id: reason},
        )
    services.security.record(
        "account_reactivated" if active else "account_deactivated",
        org_id=who.actor.org_id,
        actor_id=who.actor.id,
        detail=person_id,
    )
    done = "включена" if active else "отключена"
    return _page(request, services, who, account_outcome=f"Учётная запись «{name}» {done}.")


@router.post("/admin/roster/accounts/{person_id}/deactivation")
def deactivate(
    request: Request,
    services: Svc,
    who: PageViewer,
    person_id: str,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    return _switch(request, services, who, person_id, csrf_token, reason, active=False)


@router.post("/admin/roster/accounts/{person_id}/reactivation")
def reactivate(
    request: Request,
    services: Svc,
    who: PageViewer,
    person_id: str,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    return _switch(request, services, who, person_id, csrf_token, reason, active=True)
