"""The baseline for bench/write_path.py: a trivial FastAPI app that parses a mark-shaped JSON
body into a pydantic model and answers 201, with nothing behind it.

Served like `ejournal serve --workers N`: uvicorn's supervisor with N worker processes over one
socket bound here as TCP, so accepted connections get TCP_NODELAY (uvicorn issue #3149).

    python bench/trivial_app.py --workers 2 --port 8100
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import socket
import uuid

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field

app = FastAPI(title="trivial")


class MarkIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    student_id: str = Field(min_length=1)
    subject_id: str = Field(min_length=1)
    lesson_date: dt.date
    work_kind: str
    value: int = Field(strict=True)
    lesson_no: int | None = Field(default=None, ge=1, le=20)
    comment: str | None = Field(default=None, max_length=1000)
    reason: str | None = Field(default=None, max_length=1000)


class MarkOut(BaseModel):
    mark_id: str
    student_id: str
    value: int


# A sync handler, like ejournal's: FastAPI runs it in the thread pool.
@app.post("/api/v1/marks", status_code=201, response_model=MarkOut)
def record_mark(body: MarkIn) -> MarkOut:
    return MarkOut(mark_id=uuid.uuid4().hex, student_id=body.student_id, value=body.value)


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


def main() -> None:
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--workers", type=int, default=0)
    args = parser.parse_args()
    workers = args.workers or os.cpu_count() or 1
    config = uvicorn.Config(
        "trivial_app:app",
        host=args.host,
        port=args.port,
        workers=workers,
        log_config=None,
        access_log=False,
    )
    if workers == 1:
        uvicorn.Server(config).run()
        return
    bound = config.bind_socket()
    sock = socket.socket(bound.family, bound.type, socket.IPPROTO_TCP, fileno=bound.detach())
    sock.set_inheritable(True)
    Multiprocess(config, sockets=[sock]).run()


if __name__ == "__main__":
    main()
