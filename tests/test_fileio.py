"""write_atomic replaces a file in one step and keeps what the user set on it: its permission
bits, and a symbolic link stays a link to the file it named."""
from __future__ import annotations

import os
import stat

from click.testing import CliRunner

from nasc.cli import main
from nasc.fileio import write_atomic


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_replaced_file_keeps_its_mode(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("old")
    for bits in (0o644, 0o600, 0o755):
        os.chmod(path, bits)
        write_atomic(path, f"new {bits}")
        assert mode(path) == bits and path.read_text() == f"new {bits}"


def test_a_new_file_gets_the_mode_open_would_give_it(tmp_path):
    old = os.umask(0o022)
    try:
        write_atomic(tmp_path / "fresh.txt", b"x")
    finally:
        os.umask(old)
    assert mode(tmp_path / "fresh.txt") == 0o644


def test_a_symlink_stays_a_link_and_its_target_is_replaced(tmp_path):
    target = tmp_path / "real.nas"
    target.write_text("old")
    os.chmod(target, 0o640)
    link = tmp_path / "link.nas"
    link.symlink_to(target)
    write_atomic(link, "new")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == "new" and mode(target) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.nas", "real.nas"]


def test_nasc_fmt_keeps_a_specs_mode_and_link(tmp_path):
    target = tmp_path / "spec.nas"
    target.write_text("model m {\n  input fields: categorical\n"
                      "  head ctr(flatten(embed(fields,  dim=2)))\n}\n")
    os.chmod(target, 0o644)
    link = tmp_path / "via.nas"
    link.symlink_to(target)
    result = CliRunner().invoke(main, ["fmt", str(link)])
    assert result.exit_code == 0, result.output
    assert "dim=2)))" in target.read_text() and "  dim" not in target.read_text()
    assert link.is_symlink() and mode(target) == 0o644
