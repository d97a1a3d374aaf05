"""find_inputs and output_path: which files a run picks up and where their results go."""

from __future__ import annotations

from pathlib import Path

import pytest

from deblur_cli.errors import ImageWriteError
from deblur_cli.io import InputFile, find_inputs, output_path


def _touch(root: Path, *names: str) -> None:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"")


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    _touch(tmp_path, "a.png", "b.JPG", "c.tiff", "notes.txt", ".hidden.png", "a_deblurred.png",
           "a_deblurred_heatmap.png",
           "a_deblurred.compare.png", "sub/d.webp", "sub/deeper/e.bmp", ".git/f.png", "out/g.png")
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


def test_custom_skip_suffix(tree: Path) -> None:
    _touch(tree, "h_sharp.png")
    names = [f.relative.name for f in find_inputs([tree], skip_suffix="_sharp")]
    assert "h_sharp.png" not in names and "a_deblurred.png" in names


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
