"""Academic years: closing (R-ARC-7), the signed archive manifest (R-ARC-5) and the export of
a closed year (R-ARC-1, R-ARC-2, R-ARC-4)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Body, Response
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field

from adapters.export_jobs import DONE, FAILED, RUNNING, ExportJob, registry_for, slug
from api.deps import CurrentActor, Svc
from api.schemas import YearCloseOut
from domain.errors import RecordNotFound, RuleViolation

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
    "/archives/{year_id}",
    response_model=ArchiveOut,
    summary="Подписанный манифест закрытого года",
    description="Вызывают: архивист, заместитель директора, директор, администратор. Манифест "
    "закрытого года и его подпись Ed25519 — для проверки архива. Ошибки: 401; 403 forbidden; 404 "
    "not-found — нет года; 409 year-open — год ещё не закрыт; 503 store-busy.",
)
def archive(services: Svc, actor: CurrentActor, year_id: str) -> ArchiveOut:
    sealed = services.journal.archive(actor, year_id)
    return ArchiveOut(manifest=sealed.manifest, signature=sealed.signature)


EXPORT_DESCRIPTION = (
    "Пакет BagIt (RFC 8493) в zip: подписанный манифест года, все события года "
    "(канонический JSON построчно), справочники, по каждой группе журналы, посещаемость и "
    "сводная ведомость в CSV и XLSX, PDF/A для печати, README.txt о проверке sha256sum и "
    "openssl. Архивист, заместитель директора, директор."
)


class ExportProgressOut(BaseModel):
    stage: str = Field(description="Этап: подготовка, события, документы групп, готово")
    done: int = Field(description="Сделано на этапе")
    total: int = Field(description="Всего на этапе (0 — ещё неизвестно)")


class ExportJobOut(BaseModel):
    job_id: str = Field(description="Номер задания выгрузки")
    year_id: str = Field(description="Учебный год")
    status: Literal["running", "done", "failed"] = Field(
        description="running — выгружается, done — архив готов, failed — не удалось"
    )
    progress: ExportProgressOut = Field(description="Ход выгрузки: этап, сделано, всего")
    status_url: str = Field(description="Где спрашивать состояние задания")
    download_url: str = Field(
        description="Где взять архив (GET …/export): когда задание done, ответ — zip"
    )
    error: str | None = Field(default=None, description="Почему не удалось (при failed)")


def _export_url(year_id: str) -> str:
    return f"/api/v1/archives/{quote(year_id, safe='')}/export"


def _job_out(job: ExportJob) -> ExportJobOut:
    return ExportJobOut(
        job_id=job.job_id,
        year_id=job.year_id,
        status=job.status,  # type: ignore[arg-type]
        progress=ExportProgressOut(stage=job.stage, done=job.done, total=job.total),
        status_url=f"{_export_url(job.year_id)}-jobs/{job.job_id}",
        download_url=_export_url(job.year_id),
        error=job.error,
    )


def _job_response(job: ExportJob) -> JSONResponse:
    """202 with the job while it runs (Retry-After, Location: its status), else 200."""
    body = _job_out(job)
    if job.status == RUNNING:
        return JSONResponse(
            body.model_dump(),
            status_code=202,
            headers={"Retry-After": str(RETRY_AFTER), "Location": body.status_url},
        )
    return JSONResponse(body.model_dump(), status_code=200)


def _zip(path: Path, org_id: str, year_id: str) -> FileResponse:
    name = f"ejournal-{slug(org_id)}-{slug(year_id)}.zip"
    return FileResponse(path, media_type="application/zip", filename=name)


RETRY_AFTER = 5
JOB_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"model": ExportJobOut, "description": "Задание выгрузки идёт"},
}


@router.get(
    "/archives/{year_id}/export",
    response_class=FileResponse,
    summary="Выгрузить архив закрытого года (zip, пакет BagIt)",
    description=EXPORT_DESCRIPTION
    + " Готовый архив (он сохраняется: закрытый год не меняется) отдаётся сразу. Если его ещё "
    "нет, запускается задание выгрузки (или ответ присоединяется к идущему); когда оно не "
    "успевает за несколько секунд, ответ — 202 с заданием (ход выгрузки, status_url, "
    "download_url) и заголовком Retry-After: повторите этот запрос или спрашивайте status_url.",
    responses={
        200: {"content": {"application/zip": {}}, "description": "Архив года"},
        **JOB_RESPONSES,
    },
)
def export_archive(services: Svc, actor: CurrentActor, year_id: str) -> Response:
    sealed = services.journal.archive_for_export(actor, year_id)
    jobs = registry_for(services.settings.var_dir)
    org_id, sealed_year = sealed.manifest["organization_id"], sealed.manifest["year_id"]
    cached = jobs.cached(sealed)
    if cached is not None:
        return _zip(cached, org_id, sealed_year)
    job = jobs.wait(jobs.start(services.journal, services.personal, sealed), jobs.wait_seconds)
    if job.status == DONE and (cached := jobs.cached(sealed)) is not None:
        return _zip(cached, org_id, sealed_year)
    if job.status == FAILED and isinstance(job.failure, RuleViolation):
        raise job.failure  # as before the jobs: e.g. 409 integrity-broken
    return _job_response(job)


@router.post(
    "/archives/{year_id}/export-jobs",
    response_model=ExportJobOut,
    status_code=202,
    summary="Запустить выгрузку архива закрытого года (задание)",
    description="Запускает задание выгрузки архива года или присоединяется к идущему (одно "
    "задание на год). 202 — задание идёт: ход в status_url; 200 — архив уже готов, его "
    "отдаёт download_url. Архивист, заместитель директора, директор.",
    responses={200: {"model": ExportJobOut, "description": "Архив уже готов"}},
)
def start_export_job(services: Svc, actor: CurrentActor, year_id: str) -> JSONResponse:
    sealed = services.journal.archive_for_export(actor, year_id)
    jobs = registry_for(services.settings.var_dir)
    return _job_response(jobs.start(services.journal, services.personal, sealed))


@router.get(
    "/archives/{year_id}/export-jobs/{job_id}",
    response_model=ExportJobOut,
    summary="Состояние задания выгрузки архива",
    description="running — выгрузка идёт (этап и сколько сделано), done — архив готов по "
    "download_url, failed — причина в error. Архивист, заместитель директора, директор.",
)
def export_job(services: Svc, actor: CurrentActor, year_id: str, job_id: str) -> JSONResponse:
    sealed = services.journal.archive_for_export(actor, year_id)
    job = registry_for(services.settings.var_dir).get(job_id)
    m = sealed.manifest
    if job is None or job.org_id != m["organization_id"] or job.year_id != m["year_id"]:
        raise RecordNotFound("Задание выгрузки не найдено")
    body = _job_out(job)
    headers = {"Retry-After": str(RETRY_AFTER)} if job.status == RUNNING else None
    return JSONResponse(body.model_dump(), status_code=200, headers=headers)
