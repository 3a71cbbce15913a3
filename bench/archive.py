"""`make bench` (archive): on the generated school year — close it, export the archive (BagIt
zip with events, reports, PDF/A), verify it offline (events per second), replay it into a
fresh SQLite store and compare the read models' checksums with the signed manifest."""

from __future__ import annotations

import time
from pathlib import Path

from adapters.archive_check import verify_archive
from adapters.archive_export import export_year, workers_for
from adapters.archive_replay import replay_archive
from api.bootstrap import Services
from bench import school
from domain.actors import Actor, Role


def run(label: str, services: Services, tmp: Path) -> dict[str, float]:
    """Prints each step; returns the figures of issue 14's table (seconds, events/s)."""
    app = services.journal
    deputy = Actor("dep", Role.DEPUTY.value, school.ORG, frozenset({Role.DEPUTY.value}))
    started = time.perf_counter()
    app.indexes.catch_up()  # the generator bypasses the writes that keep the chain current
    print(f"  {label}: hash chain of the generated log: {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    closing = app.close_year(deputy, school.YEAR, "bench")
    print(
        f"  {label}: closing the year (manifest over {closing.event_count:,} events, signed): "
        f"{time.perf_counter() - started:.1f} s"
    )
    target = tmp / f"archive-{label}.zip"
    stages: dict[str, float] = {}
    begun = time.perf_counter()

    def progress(stage: str, _done: int, _total: int) -> None:
        stages[stage] = time.perf_counter() - begun

    sealed = app.archive(deputy, school.YEAR)
    exported = export_year(app, services.personal, sealed, target, progress)
    size = target.stat().st_size / 1e6
    read = stages.get("подготовка", 0.0)
    events_done = stages.get("события", 0.0)
    print(
        f"  {label}: export: {exported.seconds:.1f} s (reports read {read:.1f} s, events "
        f"{events_done - read:.1f} s while {workers_for(school.GROUPS)} processes render the "
        f"documents, {exported.seconds - events_done:.1f} s more to write them) — "
        f"{exported.events:,} events, "
        f"{exported.files} files, {exported.bytes / 1e6:.0f} MB payload, {size:.0f} MB zip"
    )
    figures = {"export": exported.seconds}
    checked = verify_archive(target)
    figures["verify"] = checked.events / checked.seconds
    print(
        f"  {label}: archive verify (offline): {checked.seconds:.1f} s, "
        f"{checked.events / checked.seconds:,.0f} events verified per second"
    )
    replayed = replay_archive(target, tmp / f"replay-{label}.db")
    figures["replay"] = replayed.seconds
    try:
        verdict = "equal" if replayed.ok else "DIFFERENT"
        print(
            f"  {label}: archive replay into fresh SQLite (verify + load + rebuild): "
            f"{replayed.seconds:.1f} s; read-model checksums {verdict} to the manifest's"
        )
    finally:
        replayed.close()
    target.unlink()
    return figures
