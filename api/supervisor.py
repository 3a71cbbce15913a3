"""`ejournal serve --workers N`: the process that keeps N worker processes serving.

`serve` binds the listening socket, then replaces itself (`exec`, same process id) with this
module, which imports nothing but the standard library: about 11 MB instead of the 60 MB of
a process that has loaded the command line, the settings and uvicorn, plus the 13 MB of the
helper process multiprocessing starts (issue 10's memory goal counts every process). Each
worker (`api.worker`) is a fresh interpreter that inherits the socket and serves it.

- A worker that exits is started again; one that exits with code 3 (it could not start: the
  store is being restored, the settings are wrong) stops the server with the same code, as
  it would fail again at once. Five exits within ten seconds stop it too.
- SIGTERM, SIGINT or SIGHUP: every worker is asked to stop (SIGTERM, uvicorn's graceful
  shutdown) and given 30 seconds, then killed.
- Workers hold the store (`hold_store`) themselves, so `ejournal restore` refuses while any
  of them serves, and they stop when this process is gone (api/worker.py).
- Each worker's event loop writes a byte to a pipe of its own every second (its heartbeat).
  A worker silent for longer than EJOURNAL_WORKER_TIMEOUT_SECONDS (a hung loop: it would
  keep its share of the connections unanswered) is killed and so replaced; before its
  first beat it is given ten timeouts more (at most STARTUP_SECONDS) to import and start.
  Its first beat is said on stderr («обработчик N принимает запросы»)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import deque

STARTUP_FAILURE = 3
GRACE_SECONDS = 30.0
CRASHES, CRASH_WINDOW = 5, 10.0
STARTUP_SECONDS = 120.0  # the most, before a worker's first heartbeat, on top of the timeout


class _Beats:
    """The read end of a worker's heartbeat pipe and when it last beat."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.last = time.monotonic()
        self.started = False

    def read(self, now: float) -> bool:
        """True at the worker's first beat."""
        try:
            if os.read(self.fd, 4096):
                first = not self.started
                self.last, self.started = now, True
                return first
        except BlockingIOError:
            pass
        return False

    def silent_for(self, now: float, timeout: float) -> float | None:
        """Seconds of silence, if over the limit (None otherwise)."""
        limit = timeout if self.started else timeout + min(STARTUP_SECONDS, 10 * timeout)
        return now - self.last if now - self.last > limit else None


def _say(text: str) -> None:
    print(f"ejournal: {text}", file=sys.stderr, flush=True)


def main(argv: list[str]) -> int:
    fd, count, timeout_text, *worker_args = argv
    timeout = float(timeout_text)
    workers: dict[int, subprocess.Popen[bytes]] = {}
    beats: dict[int, _Beats] = {}
    stop_at: list[float] = []  # set once: when the server was asked to stop
    asked: set[int] = set()  # workers sent SIGTERM
    crashes: deque[float] = deque(maxlen=CRASHES)
    code = 0

    def spawn() -> None:
        beat_read, beat_write = os.pipe()
        os.set_blocking(beat_read, False)
        args = [str(os.getpid()), fd, str(beat_write), *worker_args]
        proc = subprocess.Popen(
            [sys.executable, "-m", "api.worker", *args], pass_fds=(int(fd), beat_write)
        )
        os.close(beat_write)
        workers[proc.pid] = proc
        beats[proc.pid] = _Beats(beat_read)

    def stop(*_: object) -> None:
        if not stop_at:
            stop_at.append(time.monotonic())

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, stop)
    for _ in range(int(count)):
        spawn()
    while workers:
        for pid, proc in list(workers.items()):
            status = proc.poll()
            if status is None:
                now = time.monotonic()
                if beats[pid].read(now):
                    _say(f"обработчик {pid} принимает запросы")
                silent = beats[pid].silent_for(now, timeout)
                if silent is not None and not stop_at:
                    _say(f"обработчик {pid} не отвечает {silent:.0f} с; останавливаю его")
                    proc.kill()  # seen as an exit on a later round: a new one is started
                    beats[pid].last = now
                continue
            del workers[pid]
            os.close(beats.pop(pid).fd)
            if stop_at:
                continue
            if status == STARTUP_FAILURE:
                _say(f"обработчик {pid} не смог запуститься; сервер остановлен")
                code = STARTUP_FAILURE
                stop()
                continue
            now = time.monotonic()
            crashes.append(now)
            if len(crashes) == CRASHES and now - crashes[0] < CRASH_WINDOW:
                _say(f"обработчики завершаются раз за разом ({CRASHES} за {CRASH_WINDOW:g} с)")
                code = 1
                stop()
                continue
            _say(f"обработчик {pid} завершился (код {status}); запускаю новый")
            spawn()
        if stop_at:
            for pid, proc in workers.items():
                if pid not in asked:
                    asked.add(pid)
                    proc.send_signal(signal.SIGTERM)
            if time.monotonic() - stop_at[0] > GRACE_SECONDS:
                for proc in workers.values():
                    proc.kill()
        time.sleep(0.1)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
