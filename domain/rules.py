"""Vocabularies and per-organisation settings that the rules read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

WORK_KINDS = (
    "oral",
    "written",
    "test",
    "control",
    "lab",
    "practical",
    "homework",
    "monitoring",
)

ABSENCE_CODES = ("Н", "НУ", "НН", "Б")

ABSENCE_SOURCES = ("teacher", "curator", "parent_notice")

HIGHEST_MARK = 5


@dataclass(frozen=True)
class JournalRules:
    """An academic year's rules (the roster's `rules`); a change is an audited event."""

    current_mark_days: int = 7
    attestation_mark_days: int = 0
    lowest_mark: int = 2
    weights: dict[str, int] = field(default_factory=dict)
    # How a computed final mark is rounded (R-ATT-5): "half_up" (3.5 → 4) or "half_even".
    rounding: str = "half_up"

    def weight_of(self, work_kind: str) -> int:
        return int(self.weights.get(work_kind, 1))

    def as_dict(self) -> dict[str, Any]:
        return {
            "current_mark_days": self.current_mark_days,
            "attestation_mark_days": self.attestation_mark_days,
            "lowest_mark": self.lowest_mark,
            "weights": dict(sorted(self.weights.items())),
            "rounding": self.rounding,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JournalRules:
        return cls(
            current_mark_days=int(data.get("current_mark_days", 7)),
            attestation_mark_days=int(data.get("attestation_mark_days", 0)),
            lowest_mark=int(data.get("lowest_mark", 2)),
            weights={str(k): int(v) for k, v in (data.get("weights") or {}).items()},
            rounding=str(data.get("rounding", "half_up")),
        )


ATTESTATION_RESULTS = ("5", "4", "3", "зачёт", "а/з", "н/а", "НПА")
PASSING_RESULTS = frozenset({"5", "4", "3", "зачёт"})
# Academic debt (273-FZ art. 58): "а/з" opens it, "н/а" means it was not cleared in time.
DEBT_RESULTS = frozenset({"а/з", "н/а"})
UNSATISFACTORY_RESULTS = frozenset({"2", "1"})
