"""The export of a closed year (R-ARC-1, R-ARC-2, R-ARC-4): a BagIt bag in a zip holding the
signed manifest, every event of the year as canonical JSON lines, the reference data needed to
read them (names, subjects, groups), each group's gradebooks, attendance and summary sheet as
CSV and XLSX, printable PDF/A documents, and a README in Russian on checking it all with
sha256sum and openssl alone.

The events are read from the store and their hash chain recomputed while they are written; if
the Merkle root or the stream heads differ from the signed manifest, the export stops: an
archive is never made from a store that changed after the year was sealed.

A closed year exports byte-identically every time (issue 14): every date inside the archive is
the close time (zip member times, Bagging-Date, the documents' dates), and files, events,
groups and rows come in a fixed order."""

from __future__ import annotations

import base64
import multiprocessing
import os
import re
import time
import zipfile
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from adapters import printing
from adapters.accounts import PersonalData
from adapters.archive import (
    EVENTS,
    MANIFEST,
    MANIFEST_SIG,
    PUBLIC_KEY,
    REFERENCE,
    SealedYear,
    public_pem,
    software_version,
)
from adapters.bag import BagWriter
from adapters.report_tables import (
    Table,
    attendance_table,
    csv_bytes,
    gradebook_table,
    journal_columns,
    lesson_cells,
    summary_table,
    xlsx_bytes,
)
from adapters.year_reports import YearReports
from domain.errors import RuleViolation
from domain.integrity import ChainBroken, ChainWalk, canonical, event_hash_of_canonical
from domain.reference import AcademicYear, Organisation
from projections.attendance import Attendance
from projections.chain import canonical_topic
from projections.gradebook import Gradebook
from projections.summary_sheet import PeriodResult, SummaryRow

Progress = Callable[[str, int, int], None]


class ArchiveBroken(RuleViolation):
    code = "integrity-broken"
    title = "Хранилище не совпадает с подписанным манифестом года"


@dataclass(frozen=True)
class Exported:
    path: Path
    events: int
    files: int
    bytes: int
    seconds: float


def _quiet(_stage: str, _done: int, _total: int) -> None:
    return None


def slug(value: str) -> str:
    """A file-name-safe form of an id (letters, digits, dot, dash, underscore)."""
    return re.sub(r"[^\w.-]", "_", value) or "_"


def ru_date(value: date | datetime) -> str:
    return value.strftime("%d.%m.%Y")


def export_year(
    app: Any,
    personal: PersonalData,
    sealed: SealedYear,
    dest: Path,
    progress: Progress = _quiet,
    workers: int | None = None,
) -> Exported:
    """Write the closed year's archive to `dest` (a .zip); atomic: a failed export leaves no
    file behind. `workers`: processes rendering the documents (None: by the school's size)."""
    started = time.perf_counter()
    manifest = sealed.manifest
    org_id, year_id = manifest["organization_id"], manifest["year_id"]
    year: AcademicYear = app.year(org_id, year_id)
    org: Organisation | None = app.organisation(org_id)
    key = app.signing_key.load()
    zone = (org.timezone if org else None) or str(app.zone)
    # The one moment every date in the archive is fixed to: the close, in the school's zone.
    closed_at = datetime.fromisoformat(manifest["closed_at"]).astimezone(ZoneInfo(zone))
    root = f"ejournal-{slug(org_id)}-{slug(year_id)}"
    partial = dest.with_name(dest.name + ".partial")
    dest.parent.mkdir(parents=True, exist_ok=True)
    names = personal.names(org_id)

    def reference(people: set[str]) -> dict[str, Any]:
        return {
            "format": "ejournal-year-reference/1",
            "organisation": {"id": org_id, "name": org.name if org else org_id, "timezone": zone},
            "subjects": dict(sorted((org.subjects if org else {}).items())),
            # Subject ids as the roster lists them (canonical JSON sorts object keys).
            "subject_order": list(org.subject_order) if org else [],
            "groups": {
                g: {"name": info.name, "curator_id": info.curator_id}
                for g, info in sorted(year.groups.items())
            },
            "people": {p: names[p] for p in sorted(people) if p in names},
        }

    renderer = Renderer(workers or workers_for(len(year.groups)))
    try:
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
            bag = BagWriter(archive, root, closed_at.replace(tzinfo=None))
            bag.add(MANIFEST, canonical(manifest))
            bag.add(MANIFEST_SIG, base64.b64decode(sealed.signature))
            bag.add(PUBLIC_KEY, public_pem(key.public_key()).encode())
            # The groups' reports first, so that the workers render their files while this
            # process writes the events; the documents name the year's own people (students,
            # teachers, curators), known without reading the events.
            _read_groups(app, renderer, year, reference(_people(year, set())), closed_at, progress)
            actors = _write_events(app, bag, manifest, progress)
            full = reference(_people(year, actors | {manifest["closed_by"]}))
            bag.add(REFERENCE, canonical(full))
            for done, rendered in enumerate(renderer.files(), start=1):
                for path, data in rendered:
                    bag.add(path, data)
                progress("документы групп", done, len(year.groups))
            bag.finish(
                {
                    "Source-Organization": full["organisation"]["name"],
                    "Organization-Identifier": org_id,
                    "External-Identifier": f"{org_id}/{year_id}",
                    "External-Description": (f"Электронный журнал: архив {year_id} учебного года"),
                    "Academic-Year": year_id,
                    "Closed-At": manifest["closed_at"],
                    "Closed-By": manifest["closed_by"],
                    "Merkle-Root": manifest["merkle_root"],
                    "Event-Count": str(manifest["event_count"]),
                    "Software-Version": software_version(),
                    "Bag-Software-Agent": f"ejournal {software_version()}",
                },
                closed_at.date(),
                sign=key.sign,
                extra={"README.txt": readme(full, manifest, root).encode()},
            )
            files = len(bag.payload)
            size = bag.bytes
        os.replace(partial, dest)
    finally:
        renderer.close()
        partial.unlink(missing_ok=True)
    return Exported(dest, int(manifest["event_count"]), files, size, time.perf_counter() - started)


def _write_events(
    app: Any, bag: BagWriter, manifest: dict[str, Any], progress: Progress
) -> set[str]:
    """Every event of the year's streams up to the sealed heads, in log order; returns the
    ids of the people who recorded them."""
    heads: dict[str, int] = manifest["stream_heads"]
    wanted = {UUID(s): v for s, v in heads.items()}
    walk = ChainWalk()
    actors: set[str] = set()
    head = int(app.recorder.max_notification_id() or 0)
    start = 0
    with bag.open(EVENTS) as out:
        while True:
            notes = app.recorder.select_notifications(
                start=start, limit=5000, inclusive_of_start=False
            )
            if not notes:
                break
            lines = []
            for n in notes:
                last = wanted.get(n.originator_id)
                if last is None or n.originator_version > last:
                    continue
                stream, version = str(n.originator_id), n.originator_version
                # The state and the topic serialised once, for the hash and for the line.
                state_json, state = app.chain.canonical_of(n)
                topic_json = canonical_topic(n.topic)
                try:
                    previous = walk.previous(stream, version)
                except ChainBroken as e:
                    raise ArchiveBroken(str(e)) from None
                digest = event_hash_of_canonical(
                    stream=stream.encode(),
                    version=b"%d" % version,
                    topic=topic_json,
                    state=state_json,
                    previous=previous.encode(),
                )
                walk.accept(stream, version, digest)
                actor = state.get("actor_id") if isinstance(state, dict) else None
                if isinstance(actor, str):
                    actors.add(actor)
                # canonical() of {position, stream, version, topic, state, previous, hash}:
                # the keys in code point order.
                lines.append(
                    b'{"hash":"%s","position":%d,"previous":"%s","state":%s,"stream":"%s",'
                    b'"topic":%s,"version":%d}\n'
                    % (
                        digest.encode(),
                        n.id,
                        previous.encode(),
                        state_json,
                        stream.encode(),
                        topic_json,
                        version,
                    )
                )
            out.write(b"".join(lines))
            start = notes[-1].id
            progress("события", start, head)
    if walk.stream_heads() != dict(sorted(heads.items())):
        raise ArchiveBroken("Потоки года в хранилище не совпадают с подписанным манифестом")
    if walk.root() != manifest["merkle_root"]:
        raise ArchiveBroken(
            "Корень Меркла событий года не совпадает с подписанным: хранилище изменено после "
            "закрытия года; проверьте его командой ejournal verify"
        )
    return actors


def _people(year: AcademicYear, actors: set[str]) -> set[str]:
    people = set(actors)
    people.update(s for _, s in year.memberships)
    people.update(t for t, _, _ in year.assignments)
    people.update(g.curator_id for g in year.groups.values() if g.curator_id)
    return people


@dataclass(frozen=True)
class JournalSource:
    """A gradebook page (a subject in a period) as read from the store."""

    base: str  # its files' path without the extension
    subject: str
    period: str
    teachers: list[str]
    book: Gradebook


@dataclass(frozen=True)
class GroupSource:
    """What a group's files are made of, read from the store: plain data, so that the files
    are rendered in any process (`group_files`)."""

    base: str  # the group's folder in the bag
    heading: printing.Heading
    subjects: dict[str, str]  # id → name, in the roster's order
    periods: list[list[str]]  # per subject, its attestation periods' names
    summary: list[SummaryRow]
    attendance: Attendance
    pages: list[JournalSource]
    roster: list[tuple[str, str]]
    names: dict[str, str]
    at: datetime


def group_files(group: GroupSource) -> list[tuple[str, bytes]]:
    """A group's files in the bag's order: summary sheet, attendance, each gradebook page (CSV
    and XLSX, PDF for the summary sheet), then the journal (PDF)."""
    names, at, base = group.names, group.at, group.base
    files: list[tuple[str, bytes]] = []

    def tables(path: str, table: Table) -> None:
        files.append((f"{path}.csv", csv_bytes(table)))
        files.append((f"{path}.xlsx", xlsx_bytes(table, at=at)))

    tables(f"{base}/summary-sheet", summary_table(group.summary, group.subjects, names))
    sheet = printing.SummarySheet(
        heading=group.heading,
        subjects=list(group.subjects.values()),
        rows=[
            (
                names.get(r.student_id, r.student_id),
                [_subject_results(r.periods.get(s, [])) for s in group.subjects],
            )
            for r in group.summary
        ],
        periods=group.periods,
    )
    files.append((f"{base}/summary-sheet.pdf", printing.summary_sheet_pdf(sheet, at=at)))
    tables(f"{base}/attendance", attendance_table(group.attendance, names))
    pages = []
    for page in group.pages:
        tables(page.base, gradebook_table(page.book, names))
        pages.append(_journal_page(page, names))
    journal = printing.GroupJournal(
        heading=group.heading,
        roster=group.roster,
        pages=pages,
        attendance=[
            printing.AttendanceLine(
                student=names.get(r.student_id, r.student_id),
                absent_lessons=r.absent_lessons,
                by_code=dict(r.by_code),
            )
            for r in group.attendance.rows
        ],
        summary=sheet,
    )
    files.append((f"{base}/journal.pdf", printing.group_journal_pdf(journal, at=at)))
    return files


def _journal_page(page: JournalSource, names: dict[str, str]) -> printing.JournalPage:
    lessons = journal_columns(page.book)
    homework = [str(c.get("homework") or "") for c in lessons]
    return printing.JournalPage(
        subject=page.subject,
        period=page.period,
        teachers=page.teachers,
        columns=[_lesson_label(c) for c in lessons],
        topics=[str(c.get("topic") or "") for c in lessons],
        # Beside the topics only when some lesson of the page set homework.
        homework=homework if any(homework) else [],
        rows=[
            printing.JournalRow(
                student=names.get(r.student_id, r.student_id),
                cells=lesson_cells(r.marks, r.absences, lessons),
                average=None if r.average is None else str(r.average),
                result=(r.attestation or {}).get("result"),
            )
            for r in page.book.rows
        ],
    )


class Renderer:
    """Renders the groups' files in worker processes when there are several (else here, when
    they are asked for) and hands them back in the order the groups were given, with any
    number of workers (a reproducible zip). The groups are all given before the events are
    written, so the workers render while this process writes the events; their files (a
    tenth of the archive, the events being the rest) wait in memory until then."""

    def __init__(self, workers: int) -> None:
        self.pool = (
            ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
            if workers > 1
            else None
        )
        self.queued: deque[GroupSource | Future[list[tuple[str, bytes]]]] = deque()

    def add(self, group: GroupSource) -> None:
        self.queued.append(group if self.pool is None else self.pool.submit(group_files, group))

    def files(self) -> Iterator[list[tuple[str, bytes]]]:
        """Each group's files, in the order given."""
        while self.queued:
            item = self.queued.popleft()
            yield item.result() if isinstance(item, Future) else group_files(item)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


def workers_for(groups: int) -> int:
    """Worker processes for the documents: none for a small school (starting them costs
    more than it saves), up to four cores for a large one."""
    return 1 if groups < 4 else min(4, os.cpu_count() or 1)


def _read_groups(
    app: Any,
    out: Renderer,
    year: AcademicYear,
    reference: dict[str, Any],
    closed_at: datetime,
    progress: Progress,
) -> None:
    """Each group's reports, groups in id order (the bag's file order is the order given)."""
    reports = YearReports(app.db, year, reference["subject_order"])
    names: dict[str, str] = reference["people"]
    subject_names: dict[str, str] = reference["subjects"]
    closed_on = closed_at.date()
    groups = sorted(year.groups)
    for done, group_id in enumerate(groups, start=1):
        base = f"groups/{slug(group_id)}"
        subjects = {s: subject_names.get(s, s) for s in reports.group_subjects(group_id)}
        pages = []
        for subject_id, subject_name in subjects.items():
            teachers = sorted(
                names.get(t, t) for t, g, s in year.assignments if g == group_id and s == subject_id
            )
            for period in reports.periods(subject_id):
                pages.append(
                    JournalSource(
                        base=f"{base}/gradebook-{slug(subject_id)}-{slug(period.period_id)}",
                        subject=subject_name,
                        period=period.name,
                        teachers=teachers,
                        book=reports.gradebook(group_id, subject_id, period),
                    )
                )
        out.add(
            GroupSource(
                base=base,
                heading=printing.Heading(
                    organisation=reference["organisation"]["name"],
                    year=year.year_id,
                    group=year.groups[group_id].name,
                    closed_at=ru_date(closed_on),
                    curator=names.get(year.groups[group_id].curator_id or ""),
                ),
                subjects=subjects,
                periods=[[p.name for p in reports.periods(s)] for s in subjects],
                summary=reports.summary_sheet(group_id),
                attendance=reports.attendance(
                    group_id, year.starts_on, year.ends_on, today=closed_on
                ),
                pages=pages,
                roster=sorted(
                    (names.get(s, s), _stay(m.starts_on, m.ends_on))
                    for (g, s), m in year.memberships.items()
                    if g == group_id
                ),
                names=names,
                at=closed_at,
            )
        )
        progress("подготовка", done, len(groups))


def _subject_results(periods: list[PeriodResult]) -> printing.SubjectResults:
    """A subject's results on the printed summary sheet: each period's, and the year's (the
    last period's that has one, as the summary sheet's final result)."""
    shown = [printing.Result(p.result, p.computed) for p in periods]
    year = next((r for r in reversed(shown) if r.value is not None), printing.Result(None))
    return printing.SubjectResults(periods=shown, year=year)


def _lesson_label(column: dict[str, Any]) -> str:
    day = f"{date.fromisoformat(str(column['lesson_date'])):%d.%m}"
    return day if column["lesson_no"] is None else f"{day} №{column['lesson_no']}"


def _stay(starts_on: date, ends_on: date | None) -> str:
    if ends_on is None:
        return f"с {ru_date(starts_on)}"
    return f"{ru_date(starts_on)} — {ru_date(ends_on)}"


def readme(reference: dict[str, Any], manifest: dict[str, Any], root: str) -> str:
    """The bag's README.txt: what is inside and how to check it with standard tools alone."""
    org = reference["organisation"]["name"]
    return README.format(
        org=org,
        year=manifest["year_id"],
        closed_at=manifest["closed_at"],
        events=manifest["event_count"],
        root=root,
        merkle=manifest["merkle_root"],
        version=manifest["software_version"],
    )


README = """\
АРХИВ ЭЛЕКТРОННОГО ЖУРНАЛА
==========================

Организация: {org}
Учебный год: {year}
Год закрыт: {closed_at}
Событий: {events}
Корень Меркла событий: {merkle}
Программа: ejournal {version}

Архив — пакет BagIt (RFC 8493, стандарт упаковки архивных данных). Его можно проверить любым
валидатором BagIt, без программы ejournal. Ниже — как проверить каждый хеш и подпись
только стандартными средствами: sha256sum (coreutils) и openssl версии 3 или новее.


ЧТО ВНУТРИ
----------

bagit.txt, bag-info.txt   — описание пакета (организация, год, дата закрытия, версия программы).
manifest-sha256.txt       — SHA-256 каждого файла в data/.
manifest-sha256.txt.sig   — подпись Ed25519 файла manifest-sha256.txt ключом организации.
tagmanifest-sha256.txt    — SHA-256 служебных файлов пакета: bagit.txt, bag-info.txt, этот
                            README, manifest-sha256.txt и его подпись.
tagmanifest-sha256.txt.sig — подпись Ed25519 файла tagmanifest-sha256.txt ключом организации.
                            Это единственный файл, которого нет ни в одном списке хешей:
                            подпись не может быть в списке, который она подписывает; её
                            проверяет шаг 3.
data/manifest.json        — манифест года, подписанный при закрытии: число событий, головы
                            потоков, корень Меркла, контрольные суммы отчётов, открытый ключ.
data/manifest.json.sig    — подпись Ed25519 манифеста года (64 байта).
data/public-key.pem       — открытый ключ организации.
data/events.jsonl         — все события года, по одному на строку (канонический JSON).
data/reference.json       — справочники: организация, предметы, группы, ФИО людей года.
data/groups/<группа>/     — по каждой группе:
    summary-sheet.pdf       сводная ведомость итоговых отметок для печати, подписи директора
                            и печати (PDF/A-2b, шрифты встроены);
    journal.pdf             журнал группы: список, отметки и посещаемость по предметам,
                            отметки за периоды и за год (PDF/A-2b);
    summary-sheet.csv/.xlsx сводная ведомость таблицей;
    attendance.csv/.xlsx    посещаемость за год;
    gradebook-<предмет>-<период>.csv/.xlsx — страница журнала по предмету за период.
CSV — кодировка UTF-8, разделитель «;».


ПРОВЕРКА ШАГ ЗА ШАГОМ
---------------------

1. Распакуйте архив и перейдите в папку пакета:

       unzip архив.zip
       cd {root}

2. Сверьте открытый ключ с опубликованным ключом организации: отпечаток, который напечатает
   эта команда, должен совпасть с хранящимся у директора (его печатают при создании ключа
   «ejournal keys init» и при проверке «ejournal archive verify»):

       openssl pkey -pubin -in data/public-key.pem -outform DER | sha256sum

3. Проверьте подписи обоих списков хешей: файлов данных (manifest-sha256.txt) и служебных
   файлов (tagmanifest-sha256.txt). Каждая команда должна напечатать
   «Signature Verified Successfully»:

       openssl pkeyutl -verify -pubin -inkey data/public-key.pem -rawin \\
           -in manifest-sha256.txt -sigfile manifest-sha256.txt.sig

       openssl pkeyutl -verify -pubin -inkey data/public-key.pem -rawin \\
           -in tagmanifest-sha256.txt -sigfile tagmanifest-sha256.txt.sig

4. Проверьте хеш каждого файла. Каждая строка должна закончиться словом «OK»:

       sha256sum -c manifest-sha256.txt
       sha256sum -c tagmanifest-sha256.txt

   Изменение хотя бы одного байта любого файла даёт здесь ошибку (FAILED / НЕ СОВПАДАЕТ).

5. Проверьте подпись манифеста года, поставленную при закрытии года:

       openssl pkeyutl -verify -pubin -inkey data/public-key.pem -rawin \\
           -in data/manifest.json -sigfile data/manifest.json.sig

После шагов 2–5 каждый файл пакета подтверждён подписью организации: файлы data/ — через
подписанный manifest-sha256.txt, служебные файлы (bagit.txt, bag-info.txt, этот README,
manifest-sha256.txt и его подпись) — через подписанный tagmanifest-sha256.txt, а подпись
tagmanifest-sha256.txt.sig проверена сама на шаге 3. Других файлов в пакете быть не должно.


КАК УСТРОЕНЫ ХЕШИ СОБЫТИЙ
-------------------------

Канонический JSON: UTF-8, ключи объектов по возрастанию кодов символов, без пробелов между
элементами, кириллица без экранирования, целые числа — целыми.

Хеш события = SHA-256 канонического JSON объекта
    {{"stream": …, "version": …, "topic": …, "state": …, "previous": …}}
где previous — хеш предыдущего события того же потока (для первого — 64 нуля). Каждая строка
events.jsonl содержит эти поля, а также position (номер в журнале событий) и hash.

Корень Меркла (RFC 6962): листья — хеши событий в порядке строк файла; хеш листа —
SHA-256(0x00 || хеш), хеш узла — SHA-256(0x01 || левый || правый); дерево делится по
наибольшей степени двойки, меньшей числа листьев. Результат должен совпасть с полем
merkle_root манифеста года, число строк — с event_count, последняя версия каждого потока —
с stream_heads.

Всё это одной командой проверяет «ejournal archive verify архив.zip», а
«ejournal archive replay архив.zip --as-of ВРЕМЯ» восстанавливает год в новом хранилище,
сверяет контрольные суммы отчётов с манифестом и печатает журнал на любой момент.

Хранить: не менее двух копий на разных носителях (R-ARC-3); сводные ведомости — в печатном
виде с подписью директора и печатью 25 лет (R-ARC-4).
"""
