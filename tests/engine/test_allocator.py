import ctypes
import os
import subprocess
import sys

import pytest

from deblur_cli.engine import allocator

GLIBC = allocator._is_glibc()


def _run(code: str, **env: str) -> str:
    environ = {k: v for k, v in os.environ.items() if k not in allocator._ENV} | env
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environ,
                            check=True)
    return result.stdout.strip()


@pytest.mark.skipif(not GLIBC, reason="glibc only")
def test_thresholds_raised_once_on_glibc():
    code = "from deblur_cli.engine.allocator import keep_freed_memory as k; print(k(), k())"
    assert _run(code) == "True True"


_MAPPED_BLOCKS = """
import ctypes
from deblur_cli.engine.allocator import keep_freed_memory
if {raise_thresholds}:
    keep_freed_memory()
class Info(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
libc = ctypes.CDLL(None)
libc.mallinfo2.restype = Info
libc.malloc.restype = ctypes.c_void_p
before = libc.mallinfo2().hblks
block = libc.malloc(64 << 20)
print(libc.mallinfo2().hblks - before)
"""


@pytest.mark.skipif(not GLIBC or not hasattr(ctypes.CDLL(None), "mallinfo2"), reason="glibc 2.33+ only")
def test_large_blocks_come_from_the_heap_not_from_new_mappings():
    # hblks counts the blocks glibc serves by mmap (and unmaps when freed)
    assert _run(_MAPPED_BLOCKS.format(raise_thresholds=False)) == "1"
    assert _run(_MAPPED_BLOCKS.format(raise_thresholds=True)) == "0"


def test_user_settings_in_the_environment_are_left_alone():
    code = "from deblur_cli.engine.allocator import keep_freed_memory as k; print(k())"
    assert _run(code, MALLOC_MMAP_THRESHOLD_="131072") == "False"


def test_no_glibc_means_nothing_is_changed(monkeypatch):
    monkeypatch.setattr(allocator, "_is_glibc", lambda: False)
    assert allocator._raise_thresholds() is False
