"""A one-line progress display on stderr: epoch, step, loss, validation metric, ETA."""
from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, epochs: int, steps: int, enabled: bool = True, stream=None):
        self.epochs, self.steps = epochs, steps
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.start = time.perf_counter()
        self.last = 0.0
        self.done_steps = 0

    def step(self, epoch: int, step: int, loss) -> None:
        """``loss`` may be a callable, read only when the line is redrawn: on a GPU that keeps
        the training loop free of a device-to-host copy per step."""
        self.done_steps += 1
        now = time.perf_counter()
        if not self.enabled or (now - self.last < 0.5 and step != self.steps):
            return
        loss = loss() if callable(loss) else loss
        self.last = now
        rate = self.done_steps / max(now - self.start, 1e-9)
        left = (self.epochs * self.steps - self.done_steps) / max(rate, 1e-9)
        self.stream.write(f"\repoch {epoch}/{self.epochs} step {step}/{self.steps} "
                          f"loss {loss:.4f} eta<= {_clock(left)}   ")
        self.stream.flush()

    def epoch_done(self, epoch: int, scores: dict) -> None:
        if self.enabled:
            shown = " ".join(f"{k} {v:.5f}" for k, v in scores.items())
            self.stream.write(f"\repoch {epoch}/{self.epochs} valid {shown}"
                              f" ({_clock(time.perf_counter() - self.start)} so far)\n")
            self.stream.flush()

    def close(self) -> None:
        pass


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
