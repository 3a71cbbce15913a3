"""The `ejournal` command line: serve the API, import a roster."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

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


def main() -> None:
    cli()
