"""The console script: a light package import, and Ctrl-C while the command line loads is one line."""

import subprocess
import sys
import types

import pytest

from deblur_cli import entry


def test_importing_the_package_does_not_load_torch_until_a_name_is_used():
    code = ("import sys, deblur_cli; print('torch' in sys.modules); "
            "deblur_cli.Deblurrer; print('torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "True"]


def test_ctrl_c_while_loading_is_exit_130_in_one_line(monkeypatch, capsys):
    class Loading(types.ModuleType):
        def __getattr__(self, name):
            raise KeyboardInterrupt  # arrives while torch and the commands are being imported

    monkeypatch.setitem(sys.modules, "deblur_cli.cli", Loading("deblur_cli.cli"))
    with pytest.raises(SystemExit) as stop:
        entry.main()
    assert stop.value.code == 130
    assert capsys.readouterr().err == "deblur: interrupted\n"
