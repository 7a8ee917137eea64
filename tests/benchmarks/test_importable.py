"""Every benchmark script imports: they are run by hand, so nothing else notices when a module
they use is renamed (session.py's split broke four of them silently)."""
from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
SCRIPTS = sorted(BENCHMARKS.glob("*.py"))
HELPERS = {"benchkit.py", "reference_deepfm.py", "reference_autopi.py"}  # imported, not run


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.name for s in SCRIPTS])
def test_benchmark_imports(script, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # the scripts import their helpers by name
    spec = importlib.util.spec_from_file_location(f"bench_{script.stem}", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # runs no benchmark: each guards main() by __name__
    if script.name not in HELPERS:
        assert callable(getattr(module, "main", None)), f"{script.name} has no main()"
    sys.modules.pop(f"bench_{script.stem}", None)


def test_the_main_job_benchmark_times_the_readme_command(monkeypatch):
    """benchmarks/main_job.py and the README's first code block run the same `nasc` command."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location("bench_main_job", BENCHMARKS / "main_job.py")
    main_job = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(main_job)
    readme = (BENCHMARKS.parent / "README.md").read_text()
    first_block = re.search(r"```bash\n(.*?)```", readme, re.S).group(1)
    assert f"nasc {' '.join(main_job.MAIN_JOB)}" in first_block
