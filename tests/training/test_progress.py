"""The progress line's ETA: estimated from the time per step and per validation so far, it stays
put while the run goes at a steady pace (issue 20 saw it grow from 1:33 to 3:01 in one run), and
the line shows the monitored validation metric."""
from __future__ import annotations

import io
import re

from nasc.runtime.progress import Progress


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def run(epochs=4, steps=10, step_s=1.0, eval_s=5.0):
    """A steady run: every step takes step_s, every validation eval_s. Returns each redraw's
    (time, eta seconds) and the text written."""
    clock, stream = FakeClock(), io.StringIO()
    progress = Progress(epochs, steps, stream=stream, monitor="auc", clock=clock)
    etas = []
    for epoch in range(1, epochs + 1):
        for step in range(1, steps + 1):
            clock.now += step_s
            progress.step(epoch, step, 0.5)
            etas.append((clock.now, progress.eta(epoch, step)))
        clock.now += eval_s
        progress.epoch_done(epoch, {"auc": 0.7 + epoch / 100, "logloss": 0.5})
    return etas, stream.getvalue()


def test_eta_is_steady_at_a_steady_pace():
    etas, _ = run()
    total = 4 * (10 * 1.0 + 5.0)
    after_first_validation = [(t, eta) for t, eta in etas if t > 15.0]
    # From the first validation on, time so far + eta is the true total to the second.
    assert all(abs(t + eta - total) < 1e-6 for t, eta in after_first_validation)
    # Before it, validations are not yet timed: an estimate of the steps alone, never growing.
    first = [eta for t, eta in etas if t <= 10.0]
    assert all(b <= a for a, b in zip(first, first[1:]))


def test_line_shows_epoch_step_loss_monitored_metric_and_eta():
    _, text = run()
    lines = [line for line in text.split("\r") if line.startswith("epoch 2/4 step 10/10")]
    assert lines, text
    assert re.match(r"epoch 2/4 step 10/10 loss 0\.5000 valid auc 0\.71000 eta 0:00:35",
                    lines[0]), lines[0]
