"""Academic years: closing (R-ARC-7), the signed archive manifest (R-ARC-5) and the export of
a closed year (R-ARC-1, R-ARC-2, R-ARC-4)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask

from api.deps import CurrentActor, Svc
from api.schemas import YearCloseOut

router = APIRouter(prefix="/api/v1", tags=["учебный год"])


class ArchiveOut(BaseModel):
    manifest: dict[str, Any] = Field(description="Манифест закрытого года")
    signature: str = Field(description="Подпись Ed25519 канонического JSON манифеста, base64")


class YearCloseIn(BaseModel):
    reason: str | None = Field(
        default=None,
        max_length=1000,
        description="Почему год закрывается раньше последнего дня последнего периода; "
        "до этого дня обязательна (иначе 422 year-not-over), затем не нужна",
    )


@router.post(
    "/years/{year_id}/close",
    response_model=YearCloseOut,
    summary="Закрыть учебный год (заместитель директора, администратор)",
    description="После закрытия любая запись в этот год отвечает 409 year-closed. Ответ "
    "содержит подписанный манифест архива года. До последнего дня последнего периода года "
    '(по дню организации) нужно тело {"reason": "…"}, иначе 422 year-not-over; причина '
    "попадает в журнал изменений и в манифест (close_reason). С этого дня тело не нужно.",
)
def close_year(
    services: Svc,
    actor: CurrentActor,
    year_id: str,
    body: Annotated[YearCloseIn | None, Body()] = None,
) -> YearCloseOut:
    c = services.journal.close_year(actor, year_id, body.reason if body else None)
    return YearCloseOut(
        year_id=c.year_id,
        closed_at=c.closed_at,
        closed_by=c.closed_by,
        event_count=c.event_count,
        position=c.position,
        manifest=c.manifest,
        signature=c.signature,
    )


@router.get(
    "/archives/{year_id}", response_model=ArchiveOut, summary="Подписанный манифест закрытого года"
)
def archive(services: Svc, actor: CurrentActor, year_id: str) -> ArchiveOut:
    sealed = services.journal.archive(actor, year_id)
    return ArchiveOut(manifest=sealed.manifest, signature=sealed.signature)


@router.get(
    "/archives/{year_id}/export",
    response_class=FileResponse,
    summary="Выгрузить архив закрытого года (zip, пакет BagIt)",
    description="Пакет BagIt (RFC 8493) в zip: подписанный манифест года, все события года "
    "(канонический JSON построчно), справочники, по каждой группе журналы, посещаемость и "
    "сводная ведомость в CSV и XLSX, PDF/A для печати, README.txt о проверке sha256sum и "
    "openssl. Архивист, заместитель директора, директор.",
    responses={200: {"content": {"application/zip": {}}, "description": "Архив года"}},
)
def export_archive(services: Svc, actor: CurrentActor, year_id: str) -> FileResponse:
    sealed = services.journal.archive_for_export(actor, year_id)
    folder = Path(tempfile.mkdtemp(prefix="ejournal-export-"))
    from adapters.archive_export import export_year, slug  # heavy (PDF, PDF/A): on demand

    name = f"ejournal-{slug(actor.org_id)}-{slug(year_id)}.zip"
    try:
        exported = export_year(services.journal, services.personal, sealed, folder / name)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(
        exported.path,
        media_type="application/zip",
        filename=name,
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )
