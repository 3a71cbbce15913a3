"""Closed years and archive verification (UI.md /archive).

The zip of a closed year is the API's (`GET /api/v1/archives/{year}/export`, which takes the
page session cookie on GET); the page lists the closed years with a link to it, and checks an
uploaded archive offline as `ejournal archive verify` does (adapters/archive_check.py): file
hashes, signatures, event chains and the Merkle root. «Архив подлинный» also needs the signing
key to be one this organisation signed its years with."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response

from adapters.archive import public_pem
from adapters.archive_check import ArchiveInvalid, CheckedArchive, fingerprint, verify_archive
from adapters.settings import Settings
from api.bootstrap import Services
from api.deps import Svc
from api.pages import session as page_session
from api.pages.common import PageViewer, Viewer, render, render_error
from domain.actors import Role
from domain.reference import AcademicYear

router = APIRouter(include_in_schema=False)


def max_archive_bytes(settings: Settings) -> int:
    """The largest archive checked here: the body limit of POST /archive/verify too
    (api/body_limit.py), so a bigger upload is refused before it is read."""
    return settings.max_archive_body_bytes


def may_use_archive(who: Viewer) -> bool:
    a = who.actor
    return a.has(Role.ARCHIVIST) or a.has(Role.DEPUTY) or a.has(Role.DIRECTOR)


@dataclass(frozen=True)
class Verdict:
    ok: bool
    message: str
    details: list[str]


def closed_years(services: Svc, org_id: str) -> list[AcademicYear]:
    years = [y for y in services.journal.years(org_id) if y.closed_at is not None]
    return sorted(years, key=lambda y: y.starts_on, reverse=True)


def known_keys(services: Svc, org_id: str) -> dict[str, str]:
    """Fingerprint → where it is from: the keys the organisation's sealed years carry and the
    server's current signing key."""
    found: dict[str, str] = {}
    for year in closed_years(services, org_id):
        sealed = services.journal.archives.get(org_id, year.year_id)
        if sealed is not None and sealed.manifest.get("public_key"):
            try:
                found.setdefault(fingerprint(sealed.manifest["public_key"]), f"год {year.year_id}")
            except ValueError:
                continue
    key = services.journal.signing_key
    if key.exists():
        with contextlib.suppress(OSError, ValueError):
            found.setdefault(fingerprint(public_pem(key.load().public_key())), "текущий ключ")
    return found


def _page(
    request: Request,
    services: Svc,
    who: Viewer,
    *,
    verdict: Verdict | None = None,
    status_code: int = 200,
) -> Response:
    if not may_use_archive(who):
        return render_error(
            request,
            who,
            403,
            "Архив недоступен",
            "Архив доступен архивисту, заместителю директора и директору",
        )
    zone = services.journal.zone_of(who.actor.org_id)
    years: list[dict[str, Any]] = [
        {
            "year": y,
            "closed_at": y.closed_at.astimezone(zone).strftime("%d.%m.%Y %H:%M")
            if y.closed_at
            else "",
        }
        for y in closed_years(services, who.actor.org_id)
    ]
    return render(
        request,
        "archive.html",
        who,
        status_code=status_code,
        years=years,
        verdict=verdict,
        limit_mb=_mb(max_archive_bytes(services.settings)),
    )


def too_large(request: Request, services: Services, who: Viewer, message: str) -> Response:
    """The page with `message` in its alert: the upload was over the limit (413)."""
    return _page(request, services, who, verdict=Verdict(False, message, []), status_code=413)


@router.get("/archive")
def archive(request: Request, services: Svc, who: PageViewer) -> Response:
    return _page(request, services, who)


@router.post("/archive/verify")
def verify(
    request: Request,
    services: Svc,
    who: PageViewer,
    file: Annotated[UploadFile | None, File()] = None,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    if not may_use_archive(who):
        return _page(request, services, who)
    if not page_session.csrf_matches(who.csrf, csrf_token):
        bad = Verdict(False, "Форма устарела: обновите страницу и повторите проверку", [])
        return _page(request, services, who, verdict=bad, status_code=403)
    if file is None or not file.filename:
        missing = Verdict(False, "Выберите файл архива (.zip) для проверки", [])
        return _page(request, services, who, verdict=missing, status_code=422)
    limit = max_archive_bytes(services.settings)
    try:
        # Starlette has already spooled the upload to a temporary file (on disk past 1 MB):
        # the zip is read from there, not copied again.
        upload = file.file
        if upload.seek(0, os.SEEK_END) > limit:
            too_large = Verdict(False, f"Файл больше допустимого: не более {_mb(limit)} МБ", [])
            return _page(request, services, who, verdict=too_large, status_code=413)
        upload.seek(0)
        verdict = _judge(services, who, verify_archive(upload))
    except ArchiveInvalid as e:
        verdict = Verdict(False, f"Архив не прошёл проверку: {e}", [])
    finally:
        file.file.close()
    return _page(request, services, who, verdict=verdict)


def _mb(size: int) -> int:
    return size // 1_048_576


def _judge(services: Svc, who: Viewer, checked: CheckedArchive) -> Verdict:
    m = checked.manifest
    print_ = fingerprint(checked.public_key)
    known = known_keys(services, who.actor.org_id)
    if print_ not in known:
        return Verdict(
            False,
            "Архив не прошёл проверку: он цел, но подписан ключом, которым эта организация "
            f"не подписывала архивы (отпечаток ключа {print_})",
            [],
        )
    details = [
        f"Организация: {m.get('organization_id', '—')}, учебный год {m.get('year_id', '—')}, "
        f"закрыт {m.get('closed_at', '—')}",
        f"Событий: {checked.events}, файлов: {checked.files}",
        f"Корень Меркла: {m.get('merkle_root', '—')}",
        f"Отпечаток ключа подписи (SHA-256): {print_} ({known[print_]})",
        *(f"Примечание: {n}" for n in checked.notes),
    ]
    return Verdict(True, "Архив подлинный", details)
