"""The `nasc` command line on specs: exit codes, located errors, no tracebacks, fmt."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from nasc.cli import main

SPECS = sorted((Path(__file__).resolve().parents[2] / "specs").glob("*.nas"))
LOCATED = re.compile(r"^(.+):(\d+):(\d+): error: (.+)$", re.M)

BROKEN = "model m {\n  input fields: categorical\n  emb = embed(fields, dim=8)\n  x = sennet(emb)\n  head ctr(x)\n}\n"


def nasc(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the real command in a fresh interpreter (so a traceback would really show)."""
    return subprocess.run([sys.executable, "-m", "nasc.cli", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=120)


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize("path", SPECS, ids=[p.name for p in SPECS])
def test_compile_every_spec(path):
    result = invoke("compile", str(path), "--check-only")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{path}: model ")
    assert re.search(r"^architectures: ", result.output, re.M)


def test_compile_full_writes_the_module(tmp_path):
    spec = next(p for p in SPECS if p.name == "autopi.nas")
    result = invoke("compile", str(spec), "--out-dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "autopi.py").is_file()
    assert f"wrote {tmp_path / 'autopi.py'}" in result.output


def test_compile_broken_spec_exits_2_with_a_located_error(tmp_path):
    path = tmp_path / "broken.nas"
    path.write_text(BROKEN)
    proc = nasc("compile", str(path), "--check-only")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stdout + proc.stderr
    first = proc.stderr.splitlines()[0]
    assert first == f"{path}:4:7: error: unknown operator `sennet`"
    assert "hint: did you mean `senet`?" in proc.stderr
    assert proc.stdout == ""


def test_compile_syntax_error_exits_2(tmp_path):
    path = tmp_path / "broken.nas"
    path.write_text("model m {\n  input fields categorical\n}\n")
    proc = nasc("compile", str(path), cwd=tmp_path)  # the full command stops at the front end too
    assert proc.returncode == 2
    assert "Traceback" not in proc.stdout + proc.stderr
    match = LOCATED.search(proc.stderr)
    assert match and match.groups()[1:3] == ("2", "16")
    assert not (tmp_path / "generated").exists()


def test_compile_non_utf8_exits_2(tmp_path):
    path = tmp_path / "latin1.nas"
    path.write_bytes("model m {\n  # café\n}\n".encode("latin-1"))  # é is column 8
    proc = nasc("compile", str(path), "--check-only")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"{path}:2:8: error: the file is not UTF-8 text")


def test_emit_ir_is_json_with_the_model_name():
    spec = next(p for p in SPECS if p.name == "autopi.nas")
    result = invoke("compile", str(spec), "--emit", "ir")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["model"]["name"] == "autopi"
    assert data["search"]["strategy"] == "darts"
    kinds = [s["kind"] for s in data["model"]["statements"]]
    assert kinds.count("construct") == 3 and "opset" in kinds


@pytest.mark.parametrize("emit", ["ir", "fx"])
def test_emit_prints_only_its_output_and_writes_nothing(tmp_path, emit):
    spec = next(p for p in SPECS if p.name == "deepfm.nas")
    out = tmp_path / "generated"
    result = invoke("compile", str(spec), "--emit", emit, "--out-dir", str(out))
    assert result.exit_code == 0, result.output
    assert not out.exists()
    if emit == "ir":
        json.loads(result.output)  # all of it is the JSON
    else:
        compile(result.output, "fx", "exec")  # all of it is Python
        assert "def forward" in result.output and "wrote" not in result.output


def test_emit_fx_of_a_space_points_at_the_model(tmp_path):
    spec = next(p for p in SPECS if p.name == "autopi.nas")
    result = invoke("compile", str(spec), "--emit", "fx", "--out-dir", str(tmp_path / "g"))
    assert result.exit_code == 2
    line = 1 + spec.read_text().splitlines().index(
        next(l for l in spec.read_text().splitlines() if l.startswith("model ")))
    assert f"{spec}:{line}:1: error: `--emit fx` needs a fixed architecture" in result.output
    assert "interaction.node1" in result.output
    assert not (tmp_path / "g").exists()


def test_train_on_a_space_points_at_the_model_and_names_its_choices(tmp_path):
    spec = next(p for p in SPECS if p.name == "autopi.nas")
    result = invoke("train", str(spec), "--out", str(tmp_path / "run"))
    assert result.exit_code == 2
    line = 1 + next(i for i, l in enumerate(spec.read_text().splitlines()) if l.startswith("model "))
    assert f"{spec}:{line}:1: error: model `autopi` still has choices (interaction.node1" \
        in result.output
    assert not (tmp_path / "run").exists()


NON_CANONICAL = """\
# a spec written by hand
model   m {   # the model
  input fields :categorical
    emb=embed( fields,dim=8 )   # the embedding
  opset ops = {skip,fm}
  cell c(emb) { nodes 2; edges ops }
  # the head
  head ctr( c )
}
search random { epochs 3 }
"""


def test_fmt_check_then_fmt(tmp_path):
    path = tmp_path / "spec.nas"
    path.write_text(NON_CANONICAL)
    check = nasc("fmt", "--check", str(path))
    assert check.returncode == 1, check.stderr
    assert f"would reformat {path}" in check.stdout
    assert path.read_text() == NON_CANONICAL  # --check never writes

    fmt = nasc("fmt", str(path))
    assert fmt.returncode == 0, fmt.stderr
    assert f"reformatted {path}" in fmt.stdout
    text = path.read_text()
    for comment in ("# a spec written by hand", "# the model", "# the embedding", "# the head"):
        assert comment in text
    assert "  emb = embed(fields, dim=8)  # the embedding\n" in text
    assert "  cell c(emb) {\n    nodes 2\n    edges ops\n  }\n" in text
    assert nasc("fmt", "--check", str(path)).returncode == 0
    # and the reformatted spec still compiles
    assert nasc("compile", str(path), "--check-only").returncode == 0


def test_fmt_check_passes_on_every_spec():
    result = invoke("fmt", "--check", *map(str, SPECS))
    assert result.exit_code == 0, result.output
    assert result.output == ""


def test_fmt_broken_file_is_left_alone(tmp_path):
    path = tmp_path / "broken.nas"
    raw = b"model m {  # keep me\r\n  input fields categorical\n}"
    path.write_bytes(raw)
    for args in (("fmt", str(path)), ("fmt", "--check", str(path))):
        proc = nasc(*args)
        assert proc.returncode == 2
        assert "Traceback" not in proc.stdout + proc.stderr
        assert LOCATED.search(proc.stderr)
        assert path.read_bytes() == raw
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.nas"]  # no temp file left


def test_fmt_reports_broken_and_rewrites_good_files(tmp_path):
    good, bad = tmp_path / "good.nas", tmp_path / "bad.nas"
    good.write_text(NON_CANONICAL)
    bad.write_text(BROKEN.replace("}\n", "", 1)[:-2])
    proc = nasc("fmt", str(good), str(bad))
    assert proc.returncode == 2
    assert str(bad) in proc.stderr and "Traceback" not in proc.stderr
    assert nasc("fmt", "--check", str(good)).returncode == 0


def test_identity_is_the_nothing_option_of_a_node_choice(tmp_path):
    """`identity` may stand in a node-level choice beside operators of the same kind."""
    from nasc.compiler.frontend import compile_text
    from nasc.compiler.space import choices

    text = """model m {
  input fields: categorical
  emb = embed(fields, dim=4)
  opset explicit = { identity, crossnet_v2(layers=2) }
  x = explicit(flatten(emb))
  head ctr(x)
}
search random {
  children 2
}
"""
    program = compile_text(text, "m.nas")[1]
    (choice,) = choices(program)
    assert choice.options == ("identity", "crossnet_v2(layers=2)")
