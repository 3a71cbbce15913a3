"""Importing the roster document from the external systems."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, Field, WithJsonSchema

from adapters.roster import RosterDocument, parse_roster
from adapters.roster_import import import_roster
from api.deps import CurrentActor, Svc
from api.schemas import ImportOut

router = APIRouter(prefix="/api/v1", tags=["списки"])


def model_components(model: type[BaseModel]) -> dict[str, dict[str, Any]]:
    """A model's JSON schema and every model nested in it as OpenAPI components, their `$ref`s
    pointing at #/components/schemas/…, so each resolves from the document's root."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    nested: dict[str, dict[str, Any]] = schema.pop("$defs", {})
    return {model.__name__: schema, **nested}


# The roster document's models, published with the API's own (api/errors.py: document_errors).
COMPONENTS = model_components(RosterDocument)


class ImportResultOut(ImportOut):
    dry_run: bool = Field(default=False, description="Пробная загрузка: ничего не записано")
    force_required: bool = Field(
        default=False,
        description="Пробная загрузка: настоящая потребует force=true (удаляет больше 10%)",
    )
    changes: dict[str, Any] = Field(
        description="Что меняется: students {present, added, moved, removed, added_ids, "
        "moved_ids, removed_ids}, groups {present, added, removed, added_ids, removed_ids}, "
        "deactivated_ids (учётные записи тех, кого нет в документе)"
    )
    conflicts: list[dict[str, Any]] = Field(
        description="Люди из документа, отключённые администратором: остаются отключёнными "
        "({person_id, reason, deactivated_by, deactivated_at})"
    )


@router.post(
    "/import",
    response_model=ImportResultOut,
    summary="Загрузить списки (администратор)",
    description="Документ целиком проверяется до записи; при ошибках ничего не меняется, "
    "каждая ошибка названа путём JSON. Повторная загрузка того же документа ничего не меняет. "
    "dry_run=true: тот же расчёт без записи (что добавится, переместится, удалится). Документ, "
    "удаляющий больше десятой части обучающихся или групп года, принимается только с "
    "force=true, иначе 422 import-too-destructive. Отключённые администратором учётные записи "
    "загрузка не включает: они перечислены в conflicts. Вызывает администратор. Ошибки: 401; "
    "403 forbidden — не администратор; 413 payload-too-large — документ больше лимита загрузки; "
    "422 validation-error — документ не прошёл проверку; 503 store-busy — ничего не записано.",
)
def import_document(
    services: Svc,
    actor: CurrentActor,
    # Read as plain JSON (parse_roster names every error by its path); published as the
    # roster document, a component (COMPONENTS).
    document: Annotated[
        dict[str, Any], Body(), WithJsonSchema({"$ref": "#/components/schemas/RosterDocument"})
    ],
    dry_run: Annotated[bool, Query(description="Только показать изменения")] = False,
    force: Annotated[bool, Query(description="Принять удаление больше 10%")] = False,
) -> ImportResultOut:
    doc = parse_roster(document)
    report = import_roster(
        services.journal, services.passwords, doc, actor, dry_run=dry_run, force=force
    )
    return ImportResultOut(
        organization_id=report.org_id,
        year_id=report.year_id,
        events=report.events,
        position=report.position,
        people=report.people,
        dry_run=report.dry_run,
        force_required=report.force_required,
        changes=report.plan.as_dict(),
        conflicts=report.conflicts,
    )
