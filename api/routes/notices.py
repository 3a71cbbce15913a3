"""Parents' notices of planned absences (R-ABS-3)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentActor, Svc
from api.schemas import NoticeIn, NoticeOut
from domain.journal import notice_absence_id, notice_days

router = APIRouter(prefix="/api/v1/absence-notices", tags=["пропуски"])


@router.post(
    "",
    status_code=201,
    response_model=NoticeOut,
    summary="Уведомить о пропуске (родитель)",
    description="Вызывают родитель и доверенное лицо — для своих детей. Дни уведомления (кроме "
    "воскресений) отмечаются пропуском НУ с источником parent_notice, пока преподаватель не "
    "снимет его для урока, где обучающийся был. 422 — даты (to_date раньше from_date, вне "
    "учебного года) или причина; 403 forbidden — обучающийся не ваш. Ошибки: 401; 404 "
    "not-found; 409 year-closed; 413 payload-too-large; 503 store-busy — ничего не записано.",
)
def file_notice(services: Svc, actor: CurrentActor, body: NoticeIn) -> NoticeOut:
    w = services.journal.file_absence_notice(actor, **body.model_dump())
    notice = w.record
    ids = [
        notice_absence_id(notice.notice_id, d)
        for d in notice_days(notice.from_date, notice.to_date)
    ]
    return NoticeOut.of(w.student_id, notice, ids, w.position)
