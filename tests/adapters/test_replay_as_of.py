"""Issue 14, point 2: `archive replay --as-of` takes ISO 8601 or the Russian 30.11.2026 12:00,
with or without an offset from UTC (without one: the organisation's time, from the archive),
prints the moment and the zone it used, and refuses an unknown --group/--subject or an
unreadable moment with a clear message before replaying."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from adapters.archive_replay import ReplayError, describe_as_of, parse_as_of, resolve_as_of
from adapters.clock import FixedClock
from api.bootstrap import Services
from tests.adapters.test_archive_cli import (
    S01,
    ZONE,
    close_with_correction,
    export_here,
    run,
    said,
    table_row,
)
from tests.conftest import Api

ONLY_MATH = ["--group", "g1", "--subject", "math"]

# --- parsing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30.11.2026 12:00", datetime(2026, 11, 30, 12, 0)),
        ("30.11.2026 12:00:30", datetime(2026, 11, 30, 12, 0, 30)),
        ("1.9.2026 8:05", datetime(2026, 9, 1, 8, 5)),
        ("30.11.2026", datetime(2026, 11, 30)),
        ("2026-11-30T12:00", datetime(2026, 11, 30, 12, 0)),
        ("2026-11-30 12:00:00", datetime(2026, 11, 30, 12, 0)),
        ("30.11.2026 12:00 +05:00", datetime(2026, 11, 30, 7, 0, tzinfo=UTC)),
        ("30.11.2026 12:00+0500", datetime(2026, 11, 30, 7, 0, tzinfo=UTC)),
        ("30.11.2026 07:00 Z", datetime(2026, 11, 30, 7, 0, tzinfo=UTC)),
        ("30.11.2026 07:00 UTC", datetime(2026, 11, 30, 7, 0, tzinfo=UTC)),
        ("30.11.2026 10:00 UTC+3", datetime(2026, 11, 30, 7, 0, tzinfo=UTC)),
        ("2026-11-30T07:00Z", datetime(2026, 11, 30, 7, 0, tzinfo=UTC)),
        ("2026-11-30T12:00:00+05:00", datetime(2026, 11, 30, 7, 0, tzinfo=UTC)),
        ("2026-11-30 07:00 UTC", datetime(2026, 11, 30, 7, 0, tzinfo=UTC)),
    ],
)
def test_as_of_forms(text: str, expected: datetime) -> None:
    parsed = parse_as_of(text)
    assert (parsed.tzinfo is None) == (expected.tzinfo is None), parsed
    assert parsed == expected


@pytest.mark.parametrize(
    "text", ["31.02.2026 10:00", "30.11.2026 25:00", "30.11.26 12:00", "завтра", "", "12:00"]
)
def test_unreadable_as_of_is_refused_with_examples(text: str) -> None:
    with pytest.raises(ReplayError, match="Не понимаю момент") as refused:
        parse_as_of(text)
    assert "30.11.2026 12:00" in str(refused.value)


def test_plain_time_is_the_organisations_and_an_offset_wins() -> None:
    zone = ZoneInfo("Europe/Moscow")
    plain = resolve_as_of(parse_as_of("30.11.2026 12:00"), zone)
    assert plain == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    aware = resolve_as_of(parse_as_of("30.11.2026 12:00 +05:00"), zone)
    assert aware == datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
    assert aware.utcoffset() == timedelta(hours=5)
    told = describe_as_of(aware, zone)
    assert told == (
        "30.11.2026 10:00:00 по времени организации (Europe/Moscow, UTC+03:00); "
        "UTC: 30.11.2026 07:00:00"
    )
    assert resolve_as_of(datetime(2026, 1, 1, tzinfo=UTC), zone).tzinfo is UTC


# --- the command ----------------------------------------------------------------------------


def test_replay_as_of_in_every_form(
    api: Api, clock: FixedClock, imported: Services, tmp_path: Path
) -> None:
    closed = close_with_correction(api, clock)
    archive = export_here(imported, tmp_path / "year.zip")
    between = closed.mark_at + (closed.corrected_at - closed.mark_at) / 2
    local = between.astimezone(ZONE)
    utc = between.astimezone(UTC)
    forms = {
        "russian, the organisation's time": f"{local:%d.%m.%Y %H:%M}",
        "russian with an offset": f"{local:%d.%m.%Y %H:%M} +05:00",
        "russian in UTC": f"{utc:%d.%m.%Y %H:%M} UTC",
        "ISO with Z": f"{utc:%Y-%m-%dT%H:%M:%S}Z",
        "ISO with an offset": between.isoformat(),
        "ISO, the organisation's time": f"{local:%Y-%m-%dT%H:%M}",
    }
    for form, text in forms.items():
        result = run(["archive", "replay", str(archive), "--as-of", text, *ONLY_MATH])
        assert result.exit_code == 0, (form, result.output)
        assert table_row(result.stdout, S01)["Все отметки"] == "3", (form, result.stdout)
        told = said(result)
        # The moment and zone it used, and the same moment in UTC (as the bag's Closed-At).
        assert f"Журнал на {local:%d.%m.%Y %H:%M}" in told, (form, told)
        assert "по времени организации (Asia/Yekaterinburg, UTC+05:00)" in told, told
        assert f"UTC: {utc:%d.%m.%Y %H:%M}" in told, (form, told)
        assert "отчёты совпадают с подписанным манифестом" in told

    # The same wall-clock time read as UTC is five hours later: the correction shows.
    later = run(
        ["archive", "replay", str(archive), "--as-of", f"{local:%d.%m.%Y %H:%M} Z", *ONLY_MATH]
    )
    assert later.exit_code == 0, later.output
    assert table_row(later.stdout, S01)["Все отметки"] == "4"

    # Without --as-of: the year as closed, and the zone is named.
    now = run(["archive", "replay", str(archive), *ONLY_MATH])
    assert now.exit_code == 0, now.output
    assert "на момент закрытия года (часовой пояс Asia/Yekaterinburg)" in said(now)


def test_replay_refuses_unknown_group_subject_and_moment(
    api: Api, clock: FixedClock, imported: Services, tmp_path: Path
) -> None:
    close_with_correction(api, clock)
    archive = export_here(imported, tmp_path / "year.zip")
    store = tmp_path / "replayed.db"

    unknown_group = run(
        ["archive", "replay", str(archive), "--group", "g99", "--store", str(store)]
    )
    assert unknown_group.exit_code == 2, unknown_group.output
    told = said(unknown_group)
    assert "--group g99: в архиве такого нет; есть: g1" in told, told
    assert not store.exists(), "refused before replaying"

    unknown_subject = run(
        ["archive", "replay", str(archive), "--group", "g1", "--subject", "mathematics"]
    )
    assert unknown_subject.exit_code == 2, unknown_subject.output
    told = said(unknown_subject)
    assert "--subject mathematics: в архиве такого нет; есть:" in told, told
    assert "math (Математика)" in told, told

    bad_moment = run(["archive", "replay", str(archive), "--as-of", "31.11.2026 12:00"])
    assert bad_moment.exit_code == 2, bad_moment.output
    assert "--as-of: Не понимаю момент «31.11.2026 12:00»" in said(bad_moment)
    assert "30.11.2026 12:00" in said(bad_moment)
