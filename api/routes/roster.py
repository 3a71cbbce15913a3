"""Importing the roster document from the external systems."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from adapters.roster import RosterDocument, parse_roster
from adapters.roster_import import import_roster
from api.deps import CurrentActor, Svc
from api.schemas import ImportOut

router = APIRouter(prefix="/api/v1", tags=["списки"])


@router.post(
    "/import",
    response_model=ImportOut,
    summary="Загрузить списки (администратор)",
    description="Документ целиком проверяется до записи; при ошибках ничего не меняется, "
    "каждая ошибка названа путём JSON. Повторная загрузка того же документа ничего не меняет.",
    openapi_extra={
        "requestBody": {
            "content": {"application/json": {"schema": RosterDocument.model_json_schema()}},
            "required": True,
        }
    },
)
def import_document(
    services: Svc, actor: CurrentActor, document: Annotated[dict[str, Any], Body()]
) -> ImportOut:
    doc = parse_roster(document)
    report = import_roster(services.journal, services.passwords, doc, actor)
    return ImportOut(
        organization_id=report.org_id,
        year_id=report.year_id,
        events=report.events,
        position=report.position,
        people=report.people,
    )
