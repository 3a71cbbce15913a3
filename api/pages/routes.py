"""Sign-in, sign-out, the role's home and the teacher's list of journals (UI.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from api.bootstrap import Services
from api.deps import Svc, actor_of
from api.errors import TooManyAttempts, Unauthenticated
from api.pages import session as page_session
from api.pages.common import PageViewer, home_of, render, safe_next
from api.routes.auth import set_device_cookie, sign_in
from domain.actors import Role
from domain.reference import in_roster_order

router = APIRouter(include_in_schema=False)

WRONG = "Неверный логин или пароль"


def _login_form(
    request: Request,
    services: Services,
    error: str | None,
    username: str,
    next_path: str | None,
    status_code: int = 200,
) -> Response:
    token = page_session.new_login_csrf()
    response = render(
        request,
        "login.html",
        None,
        status_code=status_code,
        error=error,
        username=username,
        next_path=next_path or "",
        csrf=token,
    )
    response.set_cookie(
        page_session.LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        path="/login",
        secure=services.settings.https,
        httponly=True,
        samesite="strict",
    )
    return response


@router.get("/login")
def login_page(request: Request, services: Svc, next: str | None = None) -> Response:
    found = page_session.read(request, services)
    if found is not None:
        return RedirectResponse(safe_next(next) or home_of(actor_of(found.claims)), 303)
    return _login_form(request, services, None, "", safe_next(next))


@router.post("/login")
def login(
    request: Request,
    services: Svc,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    target = safe_next(next)
    expected = request.cookies.get(page_session.LOGIN_CSRF_COOKIE, "")
    if not expected or not page_session.csrf_matches(expected, csrf_token):
        return _login_form(
            request,
            services,
            "Форма устарела; введите логин и пароль ещё раз",
            username,
            target,
            status_code=403,
        )
    try:
        token, claims = sign_in(
            request, services, username, password, lifetime=page_session.idle(services)
        )
    except TooManyAttempts as e:
        return _login_form(
            request,
            services,
            f"Слишком много попыток входа; повторите через {e.seconds} с",
            username,
            target,
            status_code=429,
        )
    except Unauthenticated:
        return _login_form(request, services, WRONG, username, target, status_code=401)
    response = RedirectResponse(target or home_of(actor_of(claims)), 303)
    page_session.set_cookie(response, services, token, claims.expires_at)
    set_device_cookie(request, response, services, username)
    response.delete_cookie(page_session.LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(
    request: Request,
    services: Svc,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    found = page_session.read(request, services)
    response = RedirectResponse("/login", 303)
    if found is not None:
        if not page_session.csrf_matches(found.csrf, csrf_token):
            return Response("Запрос отклонён: нет ключа защиты от подделки", status_code=403)
        services.accounts.revoke(found.claims.jti, found.claims.expires_at)
    request.state.renewed_session = None
    page_session.clear_cookie(response, services)
    return response


@router.get("/")
def home(who: PageViewer) -> Response:
    return RedirectResponse(home_of(who.actor), 303)


@router.get("/journal")
def journals(request: Request, services: Svc, who: PageViewer) -> Response:
    """A link per group × subject the person may open (and lessons they substitute)."""
    app = services.journal
    actor = who.actor
    links: list[tuple[str, str]] = []
    try:
        year = app.current_year(actor.org_id)
    except Exception:
        year = None
    if year is not None:
        org = app.organisation(actor.org_id)
        subjects = org.subjects if org is not None else {}
        pairs = {
            (g, s)
            for t, g, s in year.assignments
            if actor.is_administration()
            or t == actor.id
            or (year.groups.get(g) is not None and year.groups[g].curator_id == actor.id)
        }
        # Groups by name; each group's subjects in the roster's order.
        order = in_roster_order({s for _, s in pairs}, org.subject_order if org else [])
        rank = {s: i for i, s in enumerate(order)}
        groups = {g: year.groups[g].name if g in year.groups else g for g, _ in pairs}
        for group_id, subject_id in sorted(
            pairs, key=lambda p: (groups[p[0]].lower().replace("ё", "е"), p[0], rank[p[1]])
        ):
            title = f"{groups[group_id]} — {subjects.get(subject_id, subject_id)}"
            links.append((f"/journal/{group_id}/{subject_id}", title))
    return render(
        request,
        "journals.html",
        who,
        links=links,
        year=year,
        teaches=actor.has(Role.TEACHER) or actor.is_administration(),
    )
