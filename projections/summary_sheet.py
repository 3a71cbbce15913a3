"""Summary sheet of final marks (сводная ведомость, R-ATT-5, R-ARC-1): per student per subject
the attestation result, or where a period had none, the rounded mean of its current marks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from adapters.sql import Cursor
from domain.reference import Period
from projections.queries import marks, members, round_half, validity


@dataclass
class PeriodResult:
    period_id: str
    result: str | None
    computed: bool
    explanation: dict[str, Any] = field(default_factory=dict)


@dataclass
class SummaryRow:
    student_id: str
    results: dict[str, str | None] = field(default_factory=dict)
    periods: dict[str, list[PeriodResult]] = field(default_factory=dict)


def summary_sheet(
    cur: Cursor,
    *,
    org_id: str,
    year_id: str,
    group_id: str,
    subjects: dict[str, list[Period]],
    starts_on: Any,
    ends_on: Any,
    rounding: str = "half_up",
    as_of: datetime | None = None,
    explain: bool = False,
) -> list[SummaryRow]:
    """`subjects`: each subject's attestation periods, in order; the last period's result
    (attested or computed) is the subject's final one."""
    cond, at = validity(as_of)
    stays = members(cur, org_id, year_id, group_id, starts_on, ends_on, as_of)
    students = sorted(stays)
    if not students or not subjects:
        return [SummaryRow(s) for s in students]
    inside = marks(students)
    cur.execute(
        f"SELECT student_id, subject_id, period_id, attestation_id, result FROM rm_attestations "
        f"WHERE org_id = ? AND year_id = ? AND student_id IN ({inside}) AND {cond}",
        [org_id, year_id, *students, *at],
    )
    attested = {(r[0], r[1], r[2]): (r[3], r[4]) for r in cur.fetchall()}
    # Per (student, subject, period): how many active marks and their sum, in SQL; the marks
    # themselves only when an explanation is asked for.
    sums: dict[tuple[str, str, str], tuple[int, int]] = {}
    used: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    spans: dict[tuple[str, Any, Any], list[str]] = {}
    for subject_id, periods in subjects.items():
        for period in periods:
            spans.setdefault((period.period_id, period.starts_on, period.ends_on), []).append(
                subject_id
            )
    for (period_id, first, last), subject_ids in spans.items():
        params = [
            org_id,
            year_id,
            *students,
            *subject_ids,
            first.isoformat(),
            last.isoformat(),
            *at,
        ]
        where = (
            f"WHERE org_id = ? AND year_id = ? AND student_id IN ({inside}) "
            f"AND subject_id IN ({marks(subject_ids)}) AND lesson_date BETWEEN ? AND ? "
            f"AND status = 'active' AND {cond}"
        )
        cur.execute(
            f"SELECT student_id, subject_id, COUNT(*), SUM(value) FROM rm_marks {where} "
            f"GROUP BY student_id, subject_id",
            params,
        )
        for student_id, subject_id, count, total in cur.fetchall():
            sums[(student_id, subject_id, period_id)] = (int(count), int(total))
        if explain:
            cur.execute(
                f"SELECT student_id, subject_id, mark_id, lesson_date, value, weight "
                f"FROM rm_marks {where} ORDER BY lesson_date, mark_id",
                params,
            )
            for student_id, subject_id, mark_id, day, value, weight in cur.fetchall():
                used.setdefault((student_id, subject_id, period_id), []).append(
                    {
                        "mark_id": mark_id,
                        "lesson_date": day,
                        "value": int(value),
                        "weight": int(weight),
                    }
                )
    out = []
    for student_id in students:
        row = SummaryRow(student_id)
        for subject_id, periods in sorted(subjects.items()):
            results = []
            for period in periods:
                key = (student_id, subject_id, period.period_id)
                found = attested.get(key)
                if found is not None:
                    results.append(
                        PeriodResult(
                            period.period_id,
                            found[1],
                            False,
                            {"method": "attestation", "attestation_id": found[0]},
                        )
                    )
                    continue
                count, total = sums.get(key, (0, 0))
                average = Decimal(total) / count if count else None
                result = (
                    str(int(round_half(average, "1", rounding))) if average is not None else None
                )
                results.append(
                    PeriodResult(
                        period.period_id,
                        result,
                        result is not None,
                        {
                            "method": "arithmetic_mean",
                            "rounding": rounding,
                            "mean": str(round_half(average, "0.01"))
                            if average is not None
                            else None,
                            "marks": used.get(key, []),
                        },
                    )
                )
            row.periods[subject_id] = results
            final = next((r for r in reversed(results) if r.result is not None), None)
            row.results[subject_id] = final.result if final else None
        out.append(row)
    return out
