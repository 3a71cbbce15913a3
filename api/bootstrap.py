"""The one place that wires settings, stores, clock and services together."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.accounts import Accounts, PersonalData
from adapters.archive import SigningKey
from adapters.clock import Clock, SystemClock
from adapters.journal_app import EJournal
from adapters.passwords import Passwords
from adapters.security import Security
from adapters.settings import Settings
from adapters.sql import Database
from adapters.storage import eventsourcing_env, open_database
from adapters.tokens import Tokens


@dataclass
class Services:
    settings: Settings
    clock: Clock
    db: Database
    journal: EJournal
    passwords: Passwords
    tokens: Tokens
    accounts: Accounts
    personal: PersonalData
    security: Security

    @classmethod
    def build(cls, settings: Settings | None = None, clock: Clock | None = None) -> Services:
        settings = settings or Settings()
        clock = clock or SystemClock()
        db = open_database(settings)
        journal = EJournal(
            eventsourcing_env(settings),
            db=db,
            clock=clock,
            zone=settings.zone,
            signing_key=SigningKey(settings.archive_key_path),
        )
        return cls(
            settings=settings,
            clock=clock,
            db=db,
            journal=journal,
            passwords=Passwords(settings.argon2_time_cost, settings.argon2_memory_kib),
            tokens=Tokens(settings.signing_secret(), settings.access_token_minutes),
            accounts=Accounts(db),
            personal=PersonalData(db),
            security=Security(db, clock),
        )

    def close(self) -> None:
        self.journal.close()
        self.db.close()
