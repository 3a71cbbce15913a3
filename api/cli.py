"""The `ejournal` command line: serve the API, import a roster."""

from __future__ import annotations

import json
import signal
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

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

from adapters.archive import SigningKey
from adapters.backup import BackupError, backup, restore
from adapters.integrity import verify_store
from adapters.projection_runner import Follower, ProjectionRunner
from adapters.roster import RosterInvalid, parse_roster
from adapters.roster_import import import_roster
from adapters.settings import Settings
from api.bootstrap import Services
from domain.actors import system_actor

cli = typer.Typer(help="ejournal — электронный журнал", no_args_is_help=True)
console = Console(stderr=True)


@cli.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Адрес")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Порт", envvar="PORT")] = 8000,
) -> None:
    """Запустить HTTP API."""
    import uvicorn

    from api.app import create_app

    uvicorn.run(create_app(), host=host, port=port, log_config=None)


@cli.command("import")
def import_file(file: Annotated[Path, typer.Argument(help="JSON-документ со списками")]) -> None:
    """Загрузить списки (организация, год, люди, группы, нагрузка)."""
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        console.print(f"[red]Не удалось прочитать {file}: {e}[/red]")
        raise typer.Exit(2) from None
    services = Services.build(Settings())
    try:
        doc = parse_roster(data)
        report = import_roster(
            services.journal, services.passwords, doc, system_actor(doc.organization.id)
        )
    except RosterInvalid as e:
        console.print(f"[red]Документ отклонён, ничего не изменено. Ошибок: {len(e.errors)}[/red]")
        for err in e.errors:
            console.print(f"  {err['path']}: {err['message']}")
        raise typer.Exit(1) from None
    finally:
        services.close()
    what = f"записано событий: {report.events}" if report.events else "изменений нет"
    console.print(
        f"Организация {report.org_id}, год {report.year_id}: {what}; "
        f"людей в списках: {report.people}"
    )


projections_cli = typer.Typer(
    help="Проекции (отчёты): запуск, перестроение, состояние", no_args_is_help=True
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
    services = Services.build(Settings())
    follower = Follower(services.journal.read_models, interval)
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
    services = Services.build(Settings())
    try:
        runners = _runners(services)
        if name is not None and name not in runners:
            console.print(f"[red]Нет проекции «{name}»; есть: {', '.join(runners)}[/red]")
            raise typer.Exit(2)
        head = services.journal.read_models.head()
        app = services.journal
        plan = [(runners[name], name)] if name else [(app.read_models, None), (app.indexes, None)]
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
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


keys_cli = typer.Typer(help="Ключ подписи архивов организации", no_args_is_help=True)
cli.add_typer(keys_cli, name="keys")


@keys_cli.command("init")
def keys_init() -> None:
    """Создать ключ Ed25519 для подписи архивов (файл вне базы; путь — в настройках)."""
    settings = Settings()
    key = SigningKey(settings.archive_key_path)
    try:
        public = key.create()
    except FileExistsError:
        console.print(f"[red]Ключ уже есть: {key.path}; новый не создан[/red]")
        raise typer.Exit(1) from None
    console.print(f"Ключ создан: {key.path} (доступ только владельцу). Открытый ключ:")
    print(public)


@cli.command("backup")
def backup_command(
    destinations: Annotated[list[Path], typer.Argument(help="Два (или больше) места для копий")],
) -> None:
    """Сделать согласованную резервную копию в два места (R-ARC-3)."""
    settings = Settings()
    try:
        written = backup(settings, destinations, datetime.now(UTC))
    except BackupError as e:
        console.print(f"[red]{e}[/red]")
        raise typer.Exit(1) from None
    for path in written:
        console.print(f"Копия: {path}")


@cli.command("restore")
def restore_command(
    file: Annotated[Path, typer.Argument(help="Файл резервной копии")],
) -> None:
    """Восстановить базу из резервной копии (сервер должен быть остановлен)."""
    try:
        restore(Settings(), file)
    except BackupError as e:
        console.print(f"[red]{e}[/red]")
        raise typer.Exit(1) from None
    console.print(f"Восстановлено из {file}; проверьте: ejournal verify")


@cli.command("verify")
def verify() -> None:
    """Проверить целостность журнала событий: цепочки хешей и корни Меркла."""
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


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
