"""The ``tamas`` command, run as a real subprocess (``python -m tamas.cli.main``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tamas import __version__
from tamas.config import load_config, parse_config


def tamas(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tamas.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        check=False,
    )


def test_help_documents_every_command_with_examples() -> None:
    result = tamas("--help")
    assert result.returncode == 0
    for words in ("serve", "config check", "config show", "config demo", "examples:"):
        assert words in result.stdout


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("serve",), ["--config", "--data", "--bind", "--sip-port", "--http-port", "--sip-trace"]),
        (("config",), ["check", "show", "demo", "examples:"]),
        (("config", "check"), ["FILE", "exits 2", "example:"]),
        (("config", "show"), ["--config", "example:"]),
        (("config", "demo"), ["example:"]),
    ],
)
def test_subcommand_help(args: tuple[str, ...], words: list[str]) -> None:
    result = tamas(*args, "--help")
    assert result.returncode == 0
    for word in words:
        assert word in result.stdout


def test_version() -> None:
    result = tamas("--version")
    assert (result.returncode, result.stdout.strip()) == (0, f"tamas {__version__}")


def test_no_command_is_a_usage_error() -> None:
    result = tamas()
    assert result.returncode == 2
    assert "usage: tamas" in result.stderr


def test_config_check_ok(tmp_path: Path) -> None:
    path = tmp_path / "tamas.yaml"
    path.write_text("extensions:\n  - {number: '1001', password: secret}\n", encoding="utf-8")
    result = tamas("config", "check", str(path))
    assert result.returncode == 0
    assert result.stdout.strip() == f"{path}: OK"


def test_config_check_bad_file_names_file_line_and_key(tmp_path: Path) -> None:
    path = tmp_path / "tamas.yaml"
    path.write_text(
        "server:\n  bind: 127.0.0.1\ntrunks:\n  - name: provider\n    host: 192.0.2.1\n"
        "    port: abc\n",
        encoding="utf-8",
    )
    result = tamas("config", "check", str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert f"{path}:6:5: trunks[0].port: Input should be a valid integer" in result.stderr
    assert "use a number 1-65535" in result.stderr
    assert "Traceback" not in result.stderr


def test_config_check_yaml_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("server:\n  bind: [127.0.0.1\n", encoding="utf-8")
    result = tamas("config", "check", str(path))
    assert result.returncode == 2
    assert result.stderr.startswith(f"{path}:3:1: YAML syntax error")


def test_config_check_missing_file(tmp_path: Path) -> None:
    result = tamas("config", "check", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    assert "nope.yaml: cannot read the file" in result.stderr


def test_config_demo_prints_the_demo_file() -> None:
    result = tamas("config", "demo")
    assert result.returncode == 0
    assert parse_config(result.stdout, "stdout") == load_config(None)
    assert "demo1001" in result.stdout


def test_config_show_prints_effective_yaml(tmp_path: Path) -> None:
    path = tmp_path / "tamas.yaml"
    path.write_text("server: {sip_port: 5070}\n", encoding="utf-8")
    result = tamas("config", "show", "--config", str(path))
    assert result.returncode == 0
    shown = parse_config(result.stdout, "stdout")
    assert shown.server.sip_port == 5070 and shown.server.http_port == 8080
    assert shown == load_config(path)


def test_config_show_defaults_to_demo() -> None:
    result = tamas("config", "show")
    assert result.returncode == 0
    assert parse_config(result.stdout, "stdout") == load_config(None)


def test_serve_with_invalid_config_exits_2_before_starting(tmp_path: Path) -> None:
    path = tmp_path / "tamas.yaml"
    path.write_text("server:\n  sip_prot: 5060\n", encoding="utf-8")
    result = tamas("serve", "--config", str(path))
    assert result.returncode == 2
    assert f"{path}:2:3: server.sip_prot: unknown key — did you mean 'sip_port'?" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_with_invalid_override_exits_2() -> None:
    result = tamas("serve", "--bind", "example.com")
    assert result.returncode == 2
    assert "command line: --bind: must be an IP address" in result.stderr
