"""A one-line progress display on stderr: epoch, step, loss, the monitored validation metric, ETA.

The ETA is the steps left times the mean seconds of a training step so far, plus the validations
left times the mean seconds of one so far. Timing steps and validations apart is what keeps it
steady: dividing the whole elapsed time by the steps (as before) counted no validation until the
first had run, then spread it over the steps, so the estimate kept growing during a run.
"""
from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, epochs: int, steps: int, enabled: bool = True, stream=None,
                 monitor: str | None = None, clock=time.perf_counter):
        self.epochs, self.steps = epochs, steps
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.monitor = monitor  # the validation metric shown beside the loss
        self.clock = clock
        self.start = self.mark = clock()
        self.last = float("-inf")
        self.step_seconds = self.eval_seconds = 0.0
        self.done_steps = self.done_evals = 0
        self.valid: float | None = None  # the monitored metric of the last validation

    def step(self, epoch: int, step: int, loss) -> None:
        """``loss`` may be a callable, read only when the line is redrawn: on a GPU that keeps
        the training loop free of a device-to-host copy per step."""
        now = self.clock()
        self.step_seconds += now - self.mark
        self.mark = now
        self.done_steps += 1
        if not self.enabled or (now - self.last < 0.5 and step != self.steps):
            return
        loss = loss() if callable(loss) else loss
        self.last = now
        valid = f" valid {self.monitor} {self.valid:.5f}" if self.valid is not None else ""
        self.stream.write(f"\repoch {epoch}/{self.epochs} step {step}/{self.steps} "
                          f"loss {loss:.4f}{valid} eta {_clock(self.eta(epoch, step))}   ")
        self.stream.flush()

    def eta(self, epoch: int, step: int) -> float:
        """Seconds left after ``step`` of ``epoch`` (this epoch's validation included)."""
        steps_left = (self.epochs - epoch) * self.steps + (self.steps - step)
        per_step = self.step_seconds / max(self.done_steps, 1)
        per_eval = self.eval_seconds / self.done_evals if self.done_evals else 0.0
        return steps_left * per_step + (self.epochs - epoch + 1) * per_eval

    def epoch_done(self, epoch: int, scores: dict) -> None:
        now = self.clock()
        self.eval_seconds += now - self.mark
        self.mark = now
        self.done_evals += 1
        if self.monitor in scores:
            self.valid = scores[self.monitor]
        if self.enabled:
            shown = " ".join(f"{k} {v:.5f}" for k, v in scores.items())
            self.stream.write(f"\repoch {epoch}/{self.epochs} valid {shown}"
                              f" ({_clock(now - self.start)} so far)\n")
            self.stream.flush()

    def close(self) -> None:
        pass


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
