"""The front end never imports torch: checking a spec must stay fast and work without it."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

SPECS = sorted((Path(__file__).resolve().parents[2] / "specs").glob("*.nas"))


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=120)


def test_front_end_modules_do_not_import_torch():
    proc = run_python(f"""
        import sys
        import nasc.compiler.frontend, nasc.compiler.printer, nasc.compiler.space
        import nasc.compiler.summary, nasc.cli
        from nasc.compiler.frontend import load
        from nasc.compiler.printer import print_spec
        from nasc.compiler.summary import summary
        for path in {[str(p) for p in SPECS]!r}:
            text, spec, program = load(path)
            assert print_spec(spec) == text
            summary(program, 10)
        assert "torch" not in sys.modules, sorted(m for m in sys.modules if "torch" in m)[:5]
        print("ok")
    """)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_torch_would_be_noticed():
    """The check above can fail: importing torch does put it in sys.modules."""
    proc = run_python("""
        import sys
        try:
            import torch
        except ImportError:
            print("absent")
        else:
            print("torch" in sys.modules)
    """)
    assert proc.stdout.strip() in ("True", "absent")


def test_cli_fmt_and_check_only_compile_do_not_import_torch(tmp_path):
    copy = tmp_path / "spec.nas"
    copy.write_text(SPECS[0].read_text())
    proc = run_python(f"""
        import sys
        from click.testing import CliRunner
        from nasc.cli import main
        runner = CliRunner()
        for args in (["fmt", {str(copy)!r}], ["fmt", "--check", {str(copy)!r}],
                     ["compile", "--check-only", {str(SPECS[0])!r}],
                     ["compile", "--check-only", "--emit", "summary", {str(SPECS[-1])!r}],
                     ["compile", "--emit", "ir", {str(SPECS[0])!r}]):
            result = runner.invoke(main, args)
            assert result.exit_code == 0, (args, result.output)
        assert "torch" not in sys.modules, sorted(m for m in sys.modules if "torch" in m)[:5]
        print("ok")
    """)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
