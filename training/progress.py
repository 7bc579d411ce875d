"""A one-line progress display for long training steps (stderr, so stdout stays clean)."""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, n_steps: int, stream=None, quiet: bool = False) -> None:
        self.n_steps = n_steps
        self.step_no = 0
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.t0 = time.monotonic()
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    def elapsed_s(self) -> float:
        return time.monotonic() - self.t0

    def step(self, title: str) -> None:
        self.step_no += 1
        self._write(f"[{self.elapsed_s():6.1f}s] step {self.step_no}/{self.n_steps}: {title}", final=True)

    def __call__(self, message: str, done: int = 0, total: int = 0) -> None:
        """Sub-step updates (epochs, phases): overwrite one line on a terminal, every 10th otherwise."""
        if self.tty or total <= 1 or done == total or done % 10 == 0:
            self._write(f"[{self.elapsed_s():6.1f}s]    {message}", final=not self.tty)

    def _write(self, text: str, final: bool) -> None:
        if self.quiet:
            return
        end = "\n" if final else ""
        self.stream.write(("\r\033[K" if self.tty else "") + text + end)
        self.stream.flush()
