"""find_inputs and output_path: which files a run picks up and where their results go."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from deblur_cli.errors import ImageWriteError
from deblur_cli.io import InputFile, check_output_folder, find_inputs, output_path


def _touch(root: Path, *names: str) -> None:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"")


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    _touch(tmp_path, "a.png", "b.JPG", "c.tiff", "notes.txt", ".hidden.png", "sub/d.webp", "sub/deeper/e.bmp",
           ".git/f.png", "out/g.png")
    return tmp_path


def test_folder_lists_images_only_at_top_level(tree: Path) -> None:
    found = find_inputs([tree])
    assert [f.relative for f in found] == [Path("a.png"), Path("b.JPG"), Path("c.tiff")]
    assert all(f.path == tree / f.relative for f in found)


def test_recursive_walks_subfolders_but_skips_hidden_and_excluded(tree: Path) -> None:
    found = find_inputs([tree], recursive=True, exclude=[tree / "out"])
    assert [f.relative.as_posix() for f in found] == [
        "a.png", "b.JPG", "c.tiff", "sub/d.webp", "sub/deeper/e.bmp",
    ]


def test_files_named_directly_are_kept_and_duplicates_dropped(tree: Path) -> None:
    found = find_inputs([tree / "notes.txt", tree / "missing.png", tree / "a.png", tree])
    assert [f.relative.name for f in found] == ["notes.txt", "missing.png", "a.png", "b.JPG", "c.tiff"]
    assert found[0] == InputFile(tree / "notes.txt", Path("notes.txt"))


def test_names_alone_do_not_make_a_photo_an_output(tree: Path) -> None:
    _touch(tree, "car_deblurred_v2.png", "a_deblurred.png")
    names = [f.relative.name for f in find_inputs([tree])]
    assert "car_deblurred_v2.png" in names and "a_deblurred.png" in names  # the run's plan tells them apart


def test_folders_that_cannot_be_listed_are_reported(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_scandir = os.scandir

    def scandir(path):  # chmod 000 does not stop root, who runs CI here
        if Path(path) == tree / "sub":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    problems: list[tuple[Path, str]] = []
    found = find_inputs([tree], recursive=True, exclude=[tree / "out"],
                        on_error=lambda *p: problems.append(p))
    assert [f.relative.as_posix() for f in found] == ["a.png", "b.JPG", "c.tiff"]
    assert problems == [(tree / "sub", f"{tree / 'sub'}: cannot list the folder (Permission denied)")]


def test_output_folder_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    check_output_folder(tmp_path / "new" / "deeper")  # missing folders are made later
    (tmp_path / "file.png").write_bytes(b"")
    with pytest.raises(ImageWriteError, match="file.png is a file, not a folder"):
        check_output_folder(tmp_path / "file.png" / "sub")

    def read_only(*args: object, **kwargs: object) -> None:
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(tempfile, "TemporaryFile", read_only)
    with pytest.raises(ImageWriteError, match=r"cannot write into .* \(Read-only file system\)"):
        check_output_folder(tmp_path)


def test_output_beside_input_with_default_and_custom_suffix(tmp_path: Path) -> None:
    item = InputFile(tmp_path / "p.JPG", Path("p.JPG"))
    assert output_path(item) == tmp_path / "p_deblurred.JPG"
    assert output_path(item, suffix="_sharp") == tmp_path / "p_sharp.JPG"
    assert output_path(item, format="png") == tmp_path / "p_deblurred.png"
    assert output_path(item, format="jpeg") == tmp_path / "p_deblurred.JPG"
    assert output_path(item, format="auto") == tmp_path / "p_deblurred.JPG"


def test_output_dir_mirrors_the_tree(tmp_path: Path) -> None:
    item = InputFile(tmp_path / "in" / "sub" / "p.png", Path("sub/p.png"))
    out = tmp_path / "out"
    assert output_path(item, out_dir=out) == out / "sub" / "p.png"
    assert output_path(item, out_dir=out, suffix="_x", format="tiff") == out / "sub" / "p_x.tiff"


def test_output_equal_to_input_is_an_error(tmp_path: Path) -> None:
    _touch(tmp_path, "p.png")
    item = InputFile(tmp_path / "p.png", Path("p.png"))
    with pytest.raises(ImageWriteError, match="overwrite the input"):
        output_path(item, suffix="")
    with pytest.raises(ImageWriteError, match="overwrite the input"):
        output_path(item, out_dir=tmp_path)
