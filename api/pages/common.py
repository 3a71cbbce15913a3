"""What every page handler needs: the signed-in person, templates, the role's pages."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates

from api.bootstrap import Services
from api.deps import Svc, actor_of
from api.pages import session as page_session
from domain.actors import Actor, Role

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")

ROLE_NAMES = {
    "admin": "администратор",
    "director": "директор",
    "deputy": "заместитель директора",
    "teacher": "преподаватель",
    "archivist": "архивист",
    "curator": "куратор",
    "student": "обучающийся",
    "parent": "родитель",
}


class LoginRequired(Exception):
    """An anonymous (or expired) visit: the page redirects to /login?next=…"""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class Viewer:
    """The signed-in person looking at a page."""

    def __init__(
        self, actor: Actor, session: page_session.PageSession, name: str, curator: bool = False
    ) -> None:
        self.actor = actor
        self.session = session
        self.name = name
        self.curator = curator  # curates a group this year (monitoring, attendance)

    @property
    def csrf(self) -> str:
        return self.session.csrf

    @property
    def role_name(self) -> str:
        return ROLE_NAMES.get(self.actor.role, self.actor.role)

    def sections(self) -> list[tuple[str, str]]:
        """(address, title) of the pages of this person's role, for the navigation."""
        a = self.actor
        found: list[tuple[str, str]] = []
        if a.is_administration():
            found.append(("/school", "Школа"))
        if a.has(Role.TEACHER) or a.is_administration():
            found.append(("/journal", "Журналы"))
        if a.is_administration():
            found.append(("/audit", "Изменения"))
        if a.is_administration() or self.curator:
            found.append(("/monitoring", "Мониторинг"))
        if a.is_family():
            found.append(("/diary", "Дневник"))
        if a.has(Role.ARCHIVIST) or a.has(Role.DEPUTY) or a.has(Role.DIRECTOR):
            found.append(("/archive", "Архив"))
        if a.has(Role.ADMIN):
            found.append(("/admin/roster", "Списки"))
        return found


def home_of(actor: Actor) -> str:
    """The role's home page (UI.md)."""
    if actor.role in (Role.DEPUTY, Role.DIRECTOR, Role.ADMIN):
        return "/school"
    if actor.role == Role.TEACHER:
        return "/journal"
    if actor.role == Role.ARCHIVIST:
        return "/archive"
    return "/diary"


def safe_next(value: str | None) -> str | None:
    """Only a path on this site: never another host (`//evil`, `https://…`, `\\\\evil`)."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return None
    if any(c in value for c in "\r\n\t\\"):
        return None
    return value


def login_url(request: Request) -> str:
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"/login?next={quote(path, safe='')}"


def viewer(request: Request, services: Svc) -> Viewer:
    """The page's person, or LoginRequired. Pages are plain `def`: this runs in the same
    worker thread."""
    found = page_session.read(request, services)
    if found is None:
        raise LoginRequired(login_url(request))
    actor = actor_of(found.claims)
    request.state.actor_id = actor.id
    request.state.actor_role = actor.role
    request.state.org_id = actor.org_id
    name = services.personal.names(actor.org_id, [actor.id]).get(actor.id, actor.id)
    return Viewer(actor, found, name, curator=_curates(services, actor))


def _curates(services: Services, actor: Actor) -> bool:
    if not actor.has(Role.TEACHER):
        return False
    try:
        year = services.journal.current_year(actor.org_id)
    except Exception:
        return False
    return any(g.curator_id == actor.id for g in year.groups.values())


PageViewer = Annotated[Viewer, Depends(viewer)]


def render(
    request: Request,
    template: str,
    who: Viewer | None,
    status_code: int = 200,
    **context: Any,
) -> Any:
    return templates.TemplateResponse(
        request, template, {"viewer": who, **context}, status_code=status_code
    )


def render_error(
    request: Request,
    who: Viewer | None,
    status_code: int,
    title: str,
    message: str,
    back: tuple[str, str] | None = None,
) -> Any:
    """A refusal or failure as a page: its title, the Russian message in role=alert, and
    optionally a link (address, text) to go on from."""
    return render(
        request, "error.html", who, status_code=status_code, title=title, message=message, back=back
    )
