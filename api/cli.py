"""The `ejournal` command line: serve the API, import a roster."""

from __future__ import annotations

import json
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table as RichTable
from typer import rich_utils as typer_rich
from typer._click import Command as ClickCommand
from typer._click import Context as ClickContext
from typer._click import HelpFormatter
from typer._click import Parameter as ClickParameter
from typer.core import TyperGroup

from adapters.settings import Settings

if TYPE_CHECKING:
    from adapters.archive import SealedYear
    from adapters.projection_runner import ProjectionRunner
    from api.bootstrap import Services

# Typer's and click's own texts in Russian (R-SEC-4): the --help option, the completion
# options, "Usage:", the panel titles. Every group below is a _RussianGroup; it relabels its
# subcommands as they are looked up, before their help is shown.
_CLI_TEXTS = {
    "Show this message and exit.": "Показать эту справку и выйти.",
    "Install completion for the current shell.": "Установить автодополнение для этой оболочки.",
    "Show completion for the current shell, to copy it or customize the installation.": (
        "Показать автодополнение для этой оболочки, чтобы скопировать или настроить его."
    ),
}
typer_rich.ARGUMENTS_PANEL_TITLE = "Аргументы"
typer_rich.OPTIONS_PANEL_TITLE = "Параметры"
typer_rich.COMMANDS_PANEL_TITLE = "Команды"
typer_rich.ERRORS_PANEL_TITLE = "Ошибка"
typer_rich.ABORTED_TEXT = "Прервано."
typer_rich.RICH_HELP = "Справка: [blue]'{command_path} {help_option}'[/]"
typer_rich.DEFAULT_STRING = "[по умолчанию: {}]"
typer_rich.ENVVAR_STRING = "[переменная окружения: {}]"
typer_rich.REQUIRED_LONG_STRING = "[обязательно]"
typer_rich.DEPRECATED_STRING = "(устарело) "


class _RussianFormatter(HelpFormatter):
    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, "Вызов: " if prefix is None else prefix)


class _RussianContext(typer.Context):
    formatter_class = _RussianFormatter


def _russify(command: ClickCommand, ctx: ClickContext) -> None:
    command.context_class = _RussianContext
    if command.options_metavar == "[OPTIONS]":
        command.options_metavar = "[ПАРАМЕТРЫ]"
    for param in command.get_params(ctx):
        text = getattr(param, "help", None)
        if isinstance(text, str) and text in _CLI_TEXTS:
            param.help = _CLI_TEXTS[text]  # type: ignore[attr-defined]


class _RussianGroup(TyperGroup):
    context_class = _RussianContext

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        if self.options_metavar == "[OPTIONS]":
            self.options_metavar = "[ПАРАМЕТРЫ]"
        if self.subcommand_metavar == "COMMAND [ARGS]...":
            self.subcommand_metavar = "КОМАНДА [АРГУМЕНТЫ]..."

    def get_params(self, ctx: ClickContext) -> list[ClickParameter]:
        params = super().get_params(ctx)
        for param in params:
            text = getattr(param, "help", None)
            if isinstance(text, str) and text in _CLI_TEXTS:
                param.help = _CLI_TEXTS[text]  # type: ignore[attr-defined]
        return params

    def get_command(self, ctx: ClickContext, cmd_name: str) -> ClickCommand | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None and not isinstance(command, _RussianGroup):
            _russify(command, ctx)
        return command


cli = typer.Typer(help="ejournal — электронный журнал", no_args_is_help=True, cls=_RussianGroup)
console = Console(stderr=True)


@cli.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Адрес")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Порт", envvar="PORT")] = 8000,
    workers: Annotated[
        int | None,
        typer.Option(
            min=0, help="Процессов-обработчиков; 0 — по числу ядер (по умолчанию EJOURNAL_WORKERS)"
        ),
    ] = None,
) -> None:
    """Запустить HTTP API."""
    import os
    import signal

    from adapters.backup import RESTORING, BackupError, hold_store

    settings = Settings()
    count = (settings.workers if workers is None else workers) or os.cpu_count() or 1
    # Worker processes (started after this) use two malloc arenas instead of eight per core:
    # their threads then share freed memory (about 10 MB less per worker under load).
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")

    def stop_serving() -> None:  # a restore took the store while a restart had lost our hold
        console.print(f"[red]{RESTORING}; сервер остановлен[/red]")
        os.kill(os.getpid(), signal.SIGTERM)  # uvicorn's graceful shutdown

    try:
        # Held while serving: `ejournal restore` refuses meanwhile (and we refuse during one).
        in_use = hold_store(settings, on_lost=stop_serving if count == 1 else None)
        in_use.__enter__()
    except BackupError as e:
        console.print(f"[red]{e}[/red]")
        raise typer.Exit(1) from None
    if count > 1:
        in_use.__exit__(None, None, None)  # each worker holds the store while it serves
        _serve_workers(settings, host, port, count)  # does not return
    try:
        _serve(settings, host, port)
    finally:
        in_use.__exit__(None, None, None)


def _serve(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from api.app import served_app

    address = f"http://{host}:{port}/"
    app = served_app(settings)
    # proxy_headers=False: X-Forwarded-For is read only from EJOURNAL_TRUSTED_PROXIES
    # (api/client_address.py), never from uvicorn's default 127.0.0.1.
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_config=None, proxy_headers=False)
    )
    original_startup = server.startup

    async def startup(sockets: Any = None) -> None:
        await original_startup(sockets=sockets)
        if server.started:
            _ready(address, 1)

    server.startup = startup  # type: ignore[method-assign]
    server.run()


def _serve_workers(settings: Settings, host: str, port: int, count: int) -> NoReturn:
    import os
    import sys

    import uvicorn

    address = f"http://{host}:{port}/"
    # Workers would race to generate var/secret_key and sign tokens with different secrets.
    settings.signing_secret()
    config = uvicorn.Config(
        "api.app:served_app", host=host, port=port, workers=count, log_config=None
    )
    # The listening socket, bound here (a port in use is told now, before any worker starts);
    # connections wait in its queue while the workers start.
    try:
        bound = config.bind_socket()
    except SystemExit:  # uvicorn has printed the system's reason
        console.print(f"[red]Не удалось занять адрес {host}:{port} (см. причину выше)[/red]")
        raise typer.Exit(1) from None
    bound.set_inheritable(True)
    _ready(address, count)
    sys.stdout.flush()
    sys.stderr.flush()
    # This process becomes the supervisor (api/supervisor.py): the same process id, none of
    # what this one loaded (60 MB). The store is held by each worker while it serves.
    os.execv(
        sys.executable,
        [
            sys.executable,
            "-m",
            "api.supervisor",
            str(bound.fileno()),
            str(count),
            str(settings.worker_timeout_seconds),
            host,
            str(port),
        ],
    )


def _ready(address: str, count: int) -> None:
    console.print(
        f"[green]Журнал работает: {address}[/green] (процессов: {count}); вход — логин и пароль "
        "из списков (пример: sokolova / demo-password-2025 после "
        "«ejournal import examples/roster.json»). Остановить: Ctrl+C"
    )


@cli.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="JSON-документ со списками")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Только показать изменения, ничего не записывать")
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Принять документ, удаляющий больше 10% обучающихся/групп"),
    ] = False,
) -> None:
    """Загрузить списки (организация, год, люди, группы, нагрузка)."""
    from adapters.roster import RosterInvalid, parse_roster
    from adapters.roster_import import ImportTooDestructive, import_roster
    from api.bootstrap import Services
    from domain.actors import system_actor

    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        console.print(f"[red]Не удалось прочитать {file}: {e}[/red]")
        raise typer.Exit(2) from None
    services = Services.build(Settings())
    try:
        doc = parse_roster(data)
        report = import_roster(
            services.journal,
            services.passwords,
            doc,
            system_actor(doc.organization.id),
            dry_run=dry_run,
            force=force,
        )
    except RosterInvalid as e:
        console.print(f"[red]Документ отклонён, ничего не изменено. Ошибок: {len(e.errors)}[/red]")
        for err in e.errors:
            console.print(f"  {err['path']}: {err['message']}")
        raise typer.Exit(1) from None
    except ImportTooDestructive as e:
        console.print(f"[red]{e.detail}[/red]")
        raise typer.Exit(1) from None
    finally:
        services.close()
    plan = report.plan
    lines = [
        ("обучающиеся добавятся", plan.students_added),
        ("обучающиеся переместятся", plan.students_moved),
        ("обучающиеся удалятся из групп", plan.students_removed),
        ("группы добавятся", plan.groups_added),
        ("группы опустеют", plan.groups_removed),
        ("учётные записи отключатся", plan.deactivated),
    ]
    for label, ids in lines:
        if ids:
            shown = ", ".join(ids[:20]) + (" …" if len(ids) > 20 else "")
            console.print(f"  {label} ({len(ids)}): {shown}")
    for c in report.conflicts:
        console.print(
            f"[yellow]  {c['person_id']} отключён(а) администратором ({c['deactivated_by']}, "
            f"{c['deactivated_at']}: {c['reason']}) и остаётся отключённым(ой)[/yellow]"
        )
    if report.dry_run:
        what = f"было бы записано событий: {report.events}" if report.events else "изменений нет"
        console.print(
            f"Пробная загрузка, ничего не записано. Организация {report.org_id}, год "
            f"{report.year_id}: {what}; людей в списках: {report.people}"
        )
        if report.force_required:
            console.print(
                "[yellow]Документ удаляет больше десятой части: загрузка потребует --force[/yellow]"
            )
        return
    what = f"записано событий: {report.events}" if report.events else "изменений нет"
    console.print(
        f"Организация {report.org_id}, год {report.year_id}: {what}; "
        f"людей в списках: {report.people}"
    )


def _bars() -> Progress:
    """Progress bars on stderr: what, bar, done of total, time taken."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


projections_cli = typer.Typer(
    help="Проекции (отчёты): запуск, перестроение, состояние",
    no_args_is_help=True,
    cls=_RussianGroup,
)
cli.add_typer(projections_cli, name="projections")


def _runners(services: Services) -> dict[str, ProjectionRunner]:
    app = services.journal
    return {
        name: runner for runner in (app.read_models, app.indexes) for name in runner.projections
    }


@projections_cli.command("run")
def projections_run(
    interval: Annotated[float, typer.Option(help="Пауза опроса, с")] = 0.5,
) -> None:
    """Следовать за журналом событий отдельным процессом (Ctrl+C — остановить)."""
    from adapters.leadership import FollowerLock
    from adapters.projection_runner import Follower
    from api.bootstrap import Services

    services = Services.build(Settings())
    follower = Follower(
        services.journal.read_models, interval, leader=FollowerLock(services.settings)
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    follower.start()
    console.print("Проекции запущены; Ctrl+C — остановить")
    try:
        while not stop.wait(interval):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        follower.stop()
        services.close()


@projections_cli.command("rebuild")
def projections_rebuild(
    name: Annotated[str | None, typer.Argument(help="Имя проекции; без имени — все")] = None,
) -> None:
    """Перестроить проекции с нуля, показывая ход работы."""
    from api.bootstrap import Services

    services = Services.build(Settings())
    try:
        runners = _runners(services)
        if name is not None and name not in runners:
            console.print(f"[red]Нет проекции «{name}»; есть: {', '.join(runners)}[/red]")
            raise typer.Exit(2)
        head = services.journal.read_models.head()
        app = services.journal
        plan = [(runners[name], name)] if name else [(app.read_models, None), (app.indexes, None)]
        with _bars() as progress:
            for runner, only in plan:
                label = only or ", ".join(runner.projections)
                task = progress.add_task(label, total=max(head, 1))
                started = time.perf_counter()

                def advance(_name: str, position: int, task: TaskID = task) -> None:
                    progress.update(task, completed=position)

                runner.rebuild(only, advance)
                progress.update(
                    task,
                    completed=max(head, 1),
                    description=f"{label}: {time.perf_counter() - started:.1f} с",
                )
    finally:
        services.close()


@projections_cli.command("status")
def projections_status() -> None:
    """Позиции проекций и отставание от журнала событий."""
    from api.bootstrap import Services

    services = Services.build(Settings())
    try:
        for runner in (services.journal.read_models, services.journal.indexes):
            for row in runner.status():
                console.print(
                    f"{row['name']}: позиция {row['position']} из {row['head']}, "
                    f"отставание {row['lag']}"
                )
    finally:
        services.close()


keys_cli = typer.Typer(
    help="Ключ подписи архивов организации", no_args_is_help=True, cls=_RussianGroup
)
cli.add_typer(keys_cli, name="keys")


@keys_cli.command("init")
def keys_init() -> None:
    """Создать ключ Ed25519 для подписи архивов (файл вне базы; путь — в настройках)."""
    from adapters.archive import SigningKey
    from adapters.archive_check import fingerprint

    settings = Settings()
    key = SigningKey(settings.archive_key_path)
    try:
        public = key.create()
    except FileExistsError:
        console.print(f"[red]Ключ уже есть: {key.path}; новый не создан[/red]")
        raise typer.Exit(1) from None
    console.print(f"Ключ создан: {key.path} (доступ только владельцу). Открытый ключ:")
    print(public)
    console.print(
        f"Отпечаток (SHA-256 ключа в DER): {fingerprint(public)} — опубликуйте его и храните "
        "у директора: по нему сверяют подпись архивов"
    )


@cli.command("backup")
def backup_command(
    destinations: Annotated[list[Path], typer.Argument(help="Два (или больше) места для копий")],
) -> None:
    """Сделать согласованную резервную копию в два места (R-ARC-3); копии 0600, проверены."""
    from adapters.backup import BackupError, backup

    settings = Settings()
    try:
        written = backup(settings, destinations, datetime.now(UTC))
    except BackupError as e:
        console.print(f"[red]{e}[/red]")
        raise typer.Exit(1) from None
    for path in written:
        console.print(f"Копия (проверена): {path}")


@cli.command("restore")
def restore_command(
    file: Annotated[Path, typer.Argument(help="Файл резервной копии")],
) -> None:
    """Восстановить базу из резервной копии (сервер должен быть остановлен).

    Копия проверяется целиком до замены базы; при любой ошибке база остаётся прежней."""
    from adapters.backup import BackupError, restore

    try:
        restore(Settings(), file)
    except BackupError as e:
        console.print(f"[red]Восстановление не выполнено, база не изменена: {e}[/red]")
        raise typer.Exit(1) from None
    console.print(f"Восстановлено из {file}; проверьте: ejournal verify")


@cli.command("verify")
def verify() -> None:
    """Проверить целостность журнала событий: цепочки хешей и корни Меркла."""
    from adapters.integrity import verify_store
    from api.bootstrap import Services

    services = Services.build(Settings())
    try:
        with Progress(
            TextColumn("проверка"), BarColumn(), MofNCompleteColumn(), console=console
        ) as progress:
            task = progress.add_task("verify", total=None)
            result = verify_store(
                services.journal,
                lambda done, total: progress.update(task, completed=done, total=total),
            )
    finally:
        services.close()
    if result.broken is not None:
        b = result.broken
        console.print(
            f"[red]Нарушена целостность: событие №{b.position} потока {b.stream_id} "
            f"(версия {b.version}): {b.reason}[/red]"
        )
        raise typer.Exit(1)
    for org, root in result.roots.items():
        console.print(f"{org}: событий {result.counts[org]}, корень Меркла {root}")
    console.print(f"Проверено событий: {result.events}; нарушений нет")


archive_cli = typer.Typer(
    help="Архив закрытого года: выгрузка, проверка без базы, воспроизведение",
    no_args_is_help=True,
    cls=_RussianGroup,
)
cli.add_typer(archive_cli, name="archive")


@contextmanager
def _stages() -> Iterator[Callable[[str, int, int], None]]:
    """A progress bar per stage of a long job, on stderr."""
    with _bars() as progress:
        tasks: dict[str, TaskID] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=max(total, 1))
            progress.update(tasks[stage], completed=done, total=max(total, done, 1))

        yield report


def _sealed_year(services: Services, year_id: str, org_id: str | None) -> SealedYear:
    orgs = services.journal.archives.organisations(year_id)
    if org_id is None and len(orgs) > 1:
        console.print(
            f"[red]Год {year_id} закрыт в нескольких организациях: укажите --org "
            f"({', '.join(orgs)})[/red]"
        )
        raise typer.Exit(2)
    org_id = org_id or (orgs[0] if orgs else None)
    sealed = services.journal.archives.get(org_id, year_id) if org_id else None
    if sealed is None:
        console.print(f"[red]Нет подписанного манифеста года {year_id}: год не закрыт[/red]")
        raise typer.Exit(1)
    return sealed


@archive_cli.command("export")
def archive_export(
    year_id: Annotated[str, typer.Argument(help="Учебный год, например 2026-2027")],
    file: Annotated[Path, typer.Argument(help="Куда записать архив (.zip)")],
    org: Annotated[str | None, typer.Option(help="Организация (если их несколько)")] = None,
) -> None:
    """Выгрузить закрытый год: пакет BagIt с событиями, отчётами и PDF/A."""
    from adapters.archive_export import ArchiveBroken, export_year
    from api.bootstrap import Services

    services = Services.build(Settings())
    try:
        sealed = _sealed_year(services, year_id, org)
        with _stages() as report:
            exported = export_year(services.journal, services.personal, sealed, file, report)
    except ArchiveBroken as e:
        console.print(f"[red]Архив не создан: {e.detail}[/red]")
        raise typer.Exit(1) from None
    finally:
        services.close()
    console.print(
        f"Архив: {exported.path}; событий {exported.events}, файлов {exported.files}, "
        f"{exported.bytes / 1e6:.1f} МБ до сжатия, {exported.seconds:.1f} с"
    )


@archive_cli.command("verify")
def archive_verify(
    file: Annotated[Path, typer.Argument(help="Архив года (.zip)")],
    public_key: Annotated[
        Path | None,
        typer.Option(help="Открытый ключ организации (PEM) для сверки"),
    ] = None,
) -> None:
    """Проверить архив без базы: хеши файлов, подписи, цепочки событий, корень Меркла."""
    from adapters.archive_check import ArchiveInvalid, fingerprint, verify_archive

    pinned = public_key.read_text() if public_key else None
    try:
        with _stages() as report:
            checked = verify_archive(file, public_key=pinned, progress=report)
    except ArchiveInvalid as e:
        console.print(f"[red]Архив не прошёл проверку: {e}[/red]")
        raise typer.Exit(1) from None
    m = checked.manifest
    for note in checked.notes:
        console.print(f"[yellow]Примечание: {note}[/yellow]")
    speed = f"{checked.events / max(checked.seconds, 1e-9):,.0f}".replace(",", " ")
    console.print(
        f"Архив цел: {m['organization_id']}, год {m['year_id']}, закрыт {m['closed_at']}; "
        f"событий {checked.events}, файлов {checked.files}, корень Меркла {m['merkle_root']}; "
        f"{speed} событий/с; отпечаток ключа подписи {fingerprint(checked.public_key)} — "
        "сверьте с опубликованным ключом организации"
    )


@archive_cli.command("replay")
def archive_replay(
    file: Annotated[Path, typer.Argument(help="Архив года (.zip)")],
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Момент, на который показать журнал: 30.11.2026 12:00 или ISO 8601 "
            "(2026-11-30T12:00); без сдвига от UTC — время организации из архива, со сдвигом "
            "(+05:00, Z, UTC) — как указан",
        ),
    ] = None,
    store: Annotated[
        Path | None, typer.Option(help="Новый файл SQLite для года (по умолчанию временный)")
    ] = None,
    group: Annotated[str | None, typer.Option(help="Только эта группа (id)")] = None,
    subject: Annotated[str | None, typer.Option(help="Только этот предмет (id)")] = None,
) -> None:
    """Восстановить закрытый год в новом хранилище, сверить отчёты с манифестом, показать
    журнал на любой момент."""
    import zipfile

    from adapters.archive_check import ArchiveInvalid
    from adapters.archive_replay import (
        ReplayError,
        describe_as_of,
        parse_as_of,
        replay_archive,
        resolve_as_of,
    )

    try:
        wanted = parse_as_of(as_of) if as_of is not None else None
    except ReplayError as e:
        console.print(f"[red]--as-of: {e}[/red]")
        raise typer.Exit(2) from None

    def unknown_filter(groups: dict[str, str], subjects: dict[str, str]) -> str | None:
        """Why --group/--subject name nothing in the archive (None: they are fine)."""
        for option, value, known in (("--group", group, groups), ("--subject", subject, subjects)):
            if value is not None and value not in known:
                listed = ", ".join(f"{k} ({v})" for k, v in sorted(known.items())) or "нет"
                return f"{option} {value}: в архиве такого нет; есть: {listed}"
        return None

    # A typo is refused before the (long) replay, by the archive's reference data; the
    # verified replay checks again.
    try:
        with zipfile.ZipFile(file) as archive:
            ref_name = next(n for n in archive.namelist() if n.endswith("/data/reference.json"))
            ref = json.loads(archive.read(ref_name))
        groups = {g: str(info.get("name", g)) for g, info in ref.get("groups", {}).items()}
        problem = unknown_filter(groups, dict(ref.get("subjects", {})))
    except (OSError, StopIteration, ValueError, AttributeError, zipfile.BadZipFile):
        problem = None  # an unreadable archive: the verification below names why
    if problem is not None:
        console.print(f"[red]{problem}[/red]")
        raise typer.Exit(2)

    with tempfile.TemporaryDirectory(prefix="ejournal-replay-") as scratch:
        target = store or Path(scratch) / "year.db"
        try:
            with _stages() as report:
                replayed = replay_archive(file, target, report)
        except (ArchiveInvalid, ReplayError) as e:
            console.print(f"[red]Воспроизведение невозможно: {e}[/red]")
            raise typer.Exit(1) from None
        try:
            groups = {g: info.name for g, info in replayed.year.groups.items()}
            subjects = dict(replayed.checked.reference.get("subjects", {}))
            problem = unknown_filter(groups, subjects)
            if problem is not None:
                console.print(f"[red]{problem}[/red]")
                raise typer.Exit(2)
            zone = replayed.app.zone
            moment = resolve_as_of(wanted, zone) if wanted is not None else None
            if moment is not None:
                console.print(f"Журнал на {describe_as_of(moment, zone)}")
            else:
                console.print(f"Журнал на момент закрытия года (часовой пояс {zone.key})")
            out = Console()
            shown_pages = 0
            for caption, table in replayed.gradebooks(moment, group, subject):
                shown = RichTable(title=caption, show_lines=False)
                for header in table.headers:
                    shown.add_column(header)
                for row in table.rows:
                    shown.add_row(*("" if v is None else str(v) for v in row))
                out.print(shown)
                shown_pages += 1
            if shown_pages == 0 and (group or subject):
                console.print(
                    "[yellow]Страниц журнала с такими --group/--subject в архиве нет[/yellow]"
                )
            for name, (expected, actual) in replayed.checksums.items():
                mark = "совпадает" if expected == actual else "[red]НЕ совпадает[/red]"
                console.print(f"{name}: {mark}")
            root_ok = replayed.merkle_root == replayed.checked.manifest["merkle_root"]
            console.print(f"корень Меркла: {'совпадает' if root_ok else '[red]НЕ совпадает[/red]'}")
        finally:
            replayed.close()
    if not replayed.ok:
        console.print("[red]Воспроизведённые отчёты не совпадают с манифестом[/red]")
        raise typer.Exit(1)
    console.print(
        f"Год воспроизведён за {replayed.seconds:.1f} с: отчёты совпадают с подписанным манифестом"
        + (f"; хранилище: {store}" if store else "")
    )


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
