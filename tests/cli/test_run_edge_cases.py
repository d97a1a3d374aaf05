"""The edge cases a batch meets in the wild (issue 26): nothing lost, nothing hangs, no traceback. Each
drives the CLI through CliRunner on tiny images made here, with the tiny preset."""

from __future__ import annotations

import errno
import importlib
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner, Result

from deblur_cli.cli import app, with_default_command
from deblur_cli.engine import Deblurrer
from deblur_cli.model import create_model
from deblur_cli.weights import save_pretrained

TEST_MODEL = ("--model", "saphnet-test", "--device", "cpu")
CPU_OOM = "[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory: you tried"


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def deblur(*args: object) -> Result:
    return CliRunner().invoke(app, with_default_command([str(a) for a in args]))


def _photo(path: Path, h: int = 24, w: int = 32, seed: int = 0, mode: str = "RGB") -> Path:
    shape = (h, w) if mode == "L" else (h, w, len(mode))
    pixels = np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels, mode).save(path)
    return path


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def _flat(text: str) -> str:
    """Typer's usage errors as one line: the box drawn around them and its line breaks removed."""
    return " ".join(text.replace("│", " ").split())


def _errors(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


# 1. Out of memory on the CPU


def test_cpu_out_of_memory_fails_that_photo_and_the_batch_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big, small = _photo(tmp_path / "big.png", 72, 96), _photo(tmp_path / "small.png", seed=1)
    tile_fn = Deblurrer._tile_fn

    def starved(self: Deblurrer, img: np.ndarray, **kwargs: object):
        run_tile = tile_fn(self, img, **kwargs)

        def fn(box):
            if img.shape[0] > 60:  # no tile of the big photo fits, however small
                raise RuntimeError(CPU_OOM)
            return run_tile(box)

        return fn

    monkeypatch.setattr(Deblurrer, "_tile_fn", starved)
    result = deblur(big, small, "-o", tmp_path / "ob", "--tile", "0", *TEST_MODEL)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)  # not an uncaught RuntimeError
    assert _files(tmp_path / "ob") == ["small.png"]
    assert len(_errors(result)) == 1 and "big.png: out of memory even with" in _errors(result)[0]
    assert "1 done, 0 skipped, 1 failed" in result.stdout


# 2. A FIFO among the photos


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_with_an_image_extension_is_reported_not_waited_for(tmp_path: Path, deadline) -> None:
    shots = tmp_path / "shots"
    _photo(shots / "a.png")
    os.mkfifo(shots / "b.png")
    with deadline(60):
        result = deblur("run", shots, "-o", tmp_path / "out", *TEST_MODEL)
    assert result.exit_code == 1 and _files(tmp_path / "out") == ["a.png"]
    assert "b.png: a FIFO, not a regular file" in result.stderr


# 3. NaN or infinite weights


def test_nan_weights_are_refused_in_one_line(tmp_path: Path) -> None:
    net = create_model("saphnet-test")
    with torch.no_grad():
        next(net.parameters()).fill_(float("nan"))
    save_pretrained(net, tmp_path / "broken", preset="saphnet-test", dtype=torch.float32)
    photo = _photo(tmp_path / "p.png")
    result = deblur("run", photo, "-w", tmp_path / "broken", *TEST_MODEL)
    assert result.exit_code == 1 and len(_errors(result)) == 1
    assert "NaN or infinite values" in result.stderr and not (tmp_path / "p_deblurred.png").exists()


# 4. Unreadable files and folders


def test_unreadable_file_and_folder_are_lines_in_the_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locked, good = _photo(tmp_path / "locked.png"), _photo(tmp_path / "good.png", seed=1)
    shots = tmp_path / "shots"
    _photo(shots / "c.png", seed=2)
    _photo(shots / "closed" / "d.png", seed=3)
    real_open, real_scandir = Image.open, os.scandir

    def open_image(fp, *args, **kwargs):  # chmod 000 does not stop root, who runs CI here
        if Path(fp) == locked:
            raise PermissionError(13, "Permission denied", str(fp))
        return real_open(fp, *args, **kwargs)

    def scandir(path):
        if Path(path) == shots / "closed":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(Image, "open", open_image)
    monkeypatch.setattr(os, "scandir", scandir)
    result = deblur("run", locked, good, shots, "-r", "-o", tmp_path / "out", *TEST_MODEL)
    assert result.exit_code == 1, result.output
    assert _files(tmp_path / "out") == ["c.png", "good.png"]
    assert "2 done, 0 skipped, 2 failed" in result.stdout
    assert f"{locked}: not readable (permission denied)" in result.stdout
    assert f"{shots / 'closed'}: cannot list the folder (Permission denied)" in result.stdout


# 5. Multi-frame inputs


def test_an_animation_is_refused_with_a_reason(tmp_path: Path) -> None:
    frames = [Image.fromarray(np.full((24, 32, 3), 40 * i, np.uint8)) for i in range(3)]
    frames[0].save(tmp_path / "anim.webp", save_all=True, append_images=frames[1:])
    result = deblur("run", tmp_path / "anim.webp", *TEST_MODEL)
    assert result.exit_code == 1 and "has 3 frames" in result.stderr
    assert _files(tmp_path) == ["anim.webp"]


# 6. --suffix


@pytest.mark.parametrize("suffix", ["/../../escaped", "_a/b", "..", "x\\y", "a\0b"])
def test_a_suffix_that_is_not_a_name_part_is_bad_usage(tmp_path: Path, suffix: str) -> None:
    photo = _photo(tmp_path / "in" / "p.png")
    result = deblur("run", photo, "-o", tmp_path / "in" / "o", "--suffix", suffix, *TEST_MODEL)
    assert result.exit_code == 2, result.output
    assert _files(tmp_path) == ["in/p.png"]


# 8. Grey + alpha


def test_grey_alpha_stays_grey_alpha(tmp_path: Path) -> None:
    photo = _photo(tmp_path / "la.png", mode="LA")
    result = deblur("run", photo, *TEST_MODEL)
    assert result.exit_code == 0, result.output
    with Image.open(tmp_path / "la_deblurred.png") as im, Image.open(photo) as original:
        assert im.mode == "LA"
        np.testing.assert_array_equal(np.asarray(im)[:, :, 1], np.asarray(original)[:, :, 1])


# 9. -q keeps warnings; -o FILE must agree with --format


def test_quiet_keeps_warnings(tmp_path: Path) -> None:
    photo = _photo(tmp_path / "a.png", mode="RGBA")
    result = deblur("run", photo, "--format", "jpg", "-q", *TEST_MODEL)
    assert result.exit_code == 0 and result.stdout == ""
    assert "flattened onto white" in result.stderr


def test_output_file_extension_must_agree_with_format(tmp_path: Path) -> None:
    photo = _photo(tmp_path / "p.png")
    result = deblur("run", photo, "-o", tmp_path / "out.jpg", "--format", "png", *TEST_MODEL)
    assert result.exit_code == 2 and "names a JPEG file, not png" in _flat(result.output)
    assert _files(tmp_path) == ["p.png"]


# 10. A failed photo leaves nothing behind


def test_an_existing_view_fails_the_photo_before_anything_is_written(tmp_path: Path) -> None:
    photo = _photo(tmp_path / "p.png")
    (tmp_path / "p_deblurred.heatmap.png").write_bytes(b"mine")
    result = deblur("run", photo, "--viz", "heatmap,compare", *TEST_MODEL)
    assert result.exit_code == 1 and "p_deblurred.heatmap.png: already exists" in result.stderr
    assert "UNTRAINED" not in result.stderr  # refused before the network was even loaded
    assert _files(tmp_path) == ["p.png", "p_deblurred.heatmap.png"]


def test_heatmap_with_an_unknown_map_leaves_no_figure(tmp_path: Path) -> None:
    photo = _photo(tmp_path / "p.png")
    result = deblur("heatmap", photo, "-o", tmp_path / "figs", "--capm", "nope", *TEST_MODEL)
    assert result.exit_code == 1 and "no single recorded map" in result.stderr
    assert not (tmp_path / "figs").exists() or _files(tmp_path / "figs") == []


def test_heatmap_stage_beyond_the_network_is_refused_before_restoring(tmp_path: Path) -> None:
    photo = _photo(tmp_path / "p.png")
    result = deblur("heatmap", photo, "-o", tmp_path / "figs", "--stage", "9", *TEST_MODEL)
    assert result.exit_code == 1 and "stage must be between 2 and 3" in result.stderr
    assert not (tmp_path / "figs").exists() or _files(tmp_path / "figs") == []


# 11. Output problems found before the work


def test_output_folder_that_is_a_file_is_refused_before_restoring(tmp_path: Path) -> None:
    _photo(tmp_path / "in" / "a.png")
    _photo(tmp_path / "in" / "b.png", seed=1)
    (tmp_path / "taken").write_text("a file")
    result = deblur("run", tmp_path / "in", "-o", tmp_path / "taken", *TEST_MODEL)
    assert result.exit_code == 1 and "taken is a file, not a folder" in result.stderr
    assert "UNTRAINED" not in result.stderr


def test_read_only_output_folder_is_refused_before_restoring(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    photo = _photo(tmp_path / "p.png")

    def read_only(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "TemporaryFile", read_only)
    result = deblur("run", photo, "-o", tmp_path / "out", *TEST_MODEL)
    assert result.exit_code == 1 and "Read-only file system" in result.stderr
    assert "UNTRAINED" not in result.stderr


def test_a_full_disk_stops_the_batch_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(3):
        _photo(tmp_path / "in" / f"p{i}.png", seed=i)
    restored: list[int] = []
    restore = Deblurrer.restore
    monkeypatch.setattr(Deblurrer, "restore",
                        lambda self, img, **kw: restored.append(1) or restore(self, img))

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    result = deblur("run", tmp_path / "in", "-o", tmp_path / "out", *TEST_MODEL)
    assert result.exit_code == 1 and len(restored) == 1
    assert "the disk is full: stopping; 2 photos not started" in result.stderr
    assert "0 done, 0 skipped, 3 failed" in result.stdout
    assert _files(tmp_path / "out") == []


# 12. Smaller ones


def test_misspelt_device_is_bad_usage(tmp_path: Path) -> None:
    result = deblur("run", _photo(tmp_path / "p.png"), "--model", "saphnet-test", "-d", "gpu")
    assert result.exit_code == 2 and "unknown device 'gpu'" in _flat(result.output)


def test_output_folder_may_be_the_input_folder(tmp_path: Path) -> None:
    shots = tmp_path / "shots"
    _photo(shots / "a.png")
    first = deblur("run", shots, "-o", shots, "--suffix", "_sharp", *TEST_MODEL)
    assert first.exit_code == 0, first.output
    assert _files(shots) == ["a.png", "a_sharp.png"]
    again = deblur("run", shots, "-o", shots, "--suffix", "_sharp", "--skip-existing", *TEST_MODEL)
    assert again.exit_code == 0 and "0 done, 2 skipped, 0 failed" in again.stdout
    assert f"skipped {shots / 'a_sharp.png'}: a result of {shots / 'a.png'}" in again.stdout


def test_only_this_tools_results_are_skipped_and_counted(tmp_path: Path) -> None:
    a = _photo(tmp_path / "a.png")
    assert deblur("run", a, *TEST_MODEL).exit_code == 0
    car = _photo(tmp_path / "car_deblurred_v2.png", seed=1)
    result = deblur("run", a, tmp_path / "a_deblurred.png", car, "--format", "jpg", *TEST_MODEL)
    assert result.exit_code == 0, result.output
    assert _files(tmp_path) == ["a.png", "a_deblurred.jpg", "a_deblurred.png", "car_deblurred_v2.png",
                                "car_deblurred_v2_deblurred.jpg"]
    assert "2 done, 1 skipped, 0 failed" in result.stdout
    assert f"skipped {tmp_path / 'a_deblurred.png'}: a result of {a}" in result.stdout


def test_verbose_says_wrote_once(tmp_path: Path) -> None:
    result = deblur("run", _photo(tmp_path / "p.png"), "-v", *TEST_MODEL)
    assert result.exit_code == 0
    assert [line.split()[0] for line in result.stdout.splitlines()] == ["wrote"]


def test_ctrl_c_before_the_work_is_exit_130_without_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(importlib.import_module("deblur_cli.batch.plan"), "find_inputs", interrupted)
    result = deblur("run", _photo(tmp_path / "p.png"), *TEST_MODEL)
    assert result.exit_code == 130 and "stopped" in result.stderr and "Traceback" not in result.output


def test_large_photos_give_one_line_and_a_limit_the_user_can_raise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big, small = _photo(tmp_path / "big.png", 40, 56), _photo(tmp_path / "small.png", 8, 16, seed=1)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1500)  # big is "a bomb" to Pillow's warning
    refused = deblur("run", big, small, "--max-megapixels", "0.001", *TEST_MODEL)
    assert refused.exit_code == 1 and "Warning" not in refused.stderr
    assert "big.png: 56x40 is 0 MP, more than the limit of 0.001 MP" in refused.stderr
    assert (tmp_path / "small_deblurred.png").exists() and not (tmp_path / "big_deblurred.png").exists()
    raised = deblur("run", big, "--max-megapixels", "0.01", *TEST_MODEL)
    assert raised.exit_code == 0 and "Warning" not in raised.stderr


# 13. --threads


@pytest.mark.parametrize("command", ["run", "heatmap", "eval"])
def test_threads_sets_torch_threads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str) -> None:
    calls: list[int] = []
    monkeypatch.setattr(torch, "set_num_threads", calls.append)
    photo = _photo(tmp_path / "blur" / "p.png")
    if command == "eval":
        shutil.copytree(tmp_path / "blur", tmp_path / "sharp")
        args: tuple[object, ...] = (tmp_path / "blur", tmp_path / "sharp")
    else:
        args = (photo, "-o", tmp_path / "out")
    result = deblur(command, *args, "--threads", "1", *TEST_MODEL)
    assert result.exit_code == 0, result.output
    assert calls == [1]
    assert deblur(command, *args, "--threads", "0", *TEST_MODEL).exit_code == 2
