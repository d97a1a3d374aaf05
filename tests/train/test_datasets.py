"""Datasets: pairing and its errors, the GoPro frame recipe, aligned crops and flips, seeding, held-out."""

from __future__ import annotations

import pickle
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from deblur_cli.errors import DatasetError
from deblur_cli.train.datasets import (
    FrameSequenceDataset,
    PairedFolderDataset,
    SharpFolderDataset,
    augment_pair,
    find_pairs,
    list_images,
    make_validation_set,
)
from deblur_cli.train.synthesis import SynthesisConfig

FRAMES = Path(__file__).resolve().parents[3] / "shared" / "data" / "frames" / "GOPR0477_11_00"
STILL = SynthesisConfig.clean(blur_length=(0.0, 0.0), rotation_deg=0.0, zoom=0.0, object_probability=0.0)


def _write(path: Path, rgb: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)):
        raise OSError(f"could not write {path}")
    return path


def _noise(h: int, w: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _hwc(t: torch.Tensor) -> np.ndarray:
    return t.permute(1, 2, 0).numpy()


def _paired_tree(root: Path) -> None:
    # blur = negative of sharp, so any misalignment from crops or flips shows as blur + sharp != 1.
    for i, rel in enumerate(["a/x.png", "a/y.png", "b/c/z.png"]):
        sharp = _noise(40, 48, i)
        _write(root / "sharp" / rel, sharp)
        _write(root / "blur" / rel, 255 - sharp)


def test_paired_folders_match_by_relative_path(tmp_path: Path) -> None:
    _paired_tree(tmp_path)
    pairs = find_pairs(tmp_path / "blur", tmp_path / "sharp")
    assert [(b.relative_to(tmp_path).as_posix(), s.relative_to(tmp_path).as_posix()) for b, s in pairs] == [
        ("blur/a/x.png", "sharp/a/x.png"),
        ("blur/a/y.png", "sharp/a/y.png"),
        ("blur/b/c/z.png", "sharp/b/c/z.png"),
    ]
    dataset = PairedFolderDataset(tmp_path / "blur", tmp_path / "sharp")
    item = dataset[2]
    assert item["blurred"].shape == item["sharp"].shape == (3, 40, 48)
    assert item["blurred"].dtype == torch.float32
    np.testing.assert_allclose(_hwc(item["sharp"]), _noise(40, 48, 2) / 255, atol=1e-7)


def test_paired_crops_and_flips_stay_aligned(tmp_path: Path) -> None:
    _paired_tree(tmp_path)
    dataset = PairedFolderDataset(tmp_path / "blur", tmp_path / "sharp", crop=16)
    seen = set()
    for epoch in range(4):
        dataset.set_epoch(epoch)
        for i in range(len(dataset)):
            item = dataset[i]
            assert item["blurred"].shape == (3, 16, 16)
            torch.testing.assert_close(item["blurred"] + item["sharp"], torch.ones(3, 16, 16))
            seen.add(item["sharp"].numpy().tobytes())
    assert len(seen) == 12  # every epoch draws new crops


def test_pairing_names_unpaired_and_mismatched_files(tmp_path: Path) -> None:
    _paired_tree(tmp_path)
    _write(tmp_path / "blur" / "a" / "only_blur.png", _noise(40, 48, 5))
    _write(tmp_path / "sharp" / "d" / "only_sharp.png", _noise(40, 48, 6))
    _write(tmp_path / "blur" / "a" / "y.png", _noise(40, 40, 7))  # now 40x40 against a 48x40 sharp
    with pytest.raises(DatasetError) as info:
        PairedFolderDataset(tmp_path / "blur", tmp_path / "sharp")
    message = str(info.value)
    assert "1 blurred with no sharp image: a/only_blur" in message
    assert "1 sharp with no blurred image: d/only_sharp" in message
    assert "1 pairs differ in size: a/y.png (40x40 vs 48x40)" in message


def test_pairing_lists_only_the_first_few(tmp_path: Path) -> None:
    for i in range(8):
        _write(tmp_path / "blur" / f"{i}.png", _noise(12, 12, i))
    (tmp_path / "sharp").mkdir()
    with pytest.raises(
        DatasetError, match=r"8 blurred with no sharp image: 0, 1, 2, 3, 4, \.\.\. \(3 more\)"
    ):
        find_pairs(tmp_path / "blur", tmp_path / "sharp")


def test_gopro_root_finds_every_sequence(tmp_path: Path) -> None:
    _paired_tree(tmp_path / "GOPR0001")
    _paired_tree(tmp_path / "GOPR0002")
    dataset = PairedFolderDataset.from_root(tmp_path, crop=24)
    assert len(dataset) == 6
    item = dataset[5]
    torch.testing.assert_close(item["blurred"] + item["sharp"], torch.ones(3, 24, 24))
    (tmp_path / "GOPR0002" / "sharp" / "a" / "x.png").unlink()
    with pytest.raises(DatasetError, match="a/x"):
        PairedFolderDataset.from_root(tmp_path)


def _frames(folder: Path, numbers: list[int], size: tuple[int, int] = (20, 24)) -> None:
    # Frame n is flat grey with value 5 * n (distinct, so a window can be read back from its pixels).
    for n in numbers:
        _write(folder / f"{n:06d}.png", np.full((*size, 3), 5 * n, dtype=np.uint8))


def _gopro_average(values: list[int]) -> float:
    linear = np.mean([(v / 255) ** 2.2 for v in values])
    return round(255 * linear ** (1 / 2.2)) / 255


def test_frame_average_is_taken_in_linear_light(tmp_path: Path) -> None:
    _write(tmp_path / "000001.png", np.zeros((16, 16, 3), dtype=np.uint8))
    _write(tmp_path / "000002.png", np.full((16, 16, 3), 255, dtype=np.uint8))
    item = FrameSequenceDataset(tmp_path, crop=None, n_frames=(2, 2), augment=False)[0]
    # Half the time black, half white: 0.5 in linear light = 186 / 255 in sRGB, not 128.
    np.testing.assert_allclose(item["blurred"].numpy(), 186 / 255, atol=1e-6)
    np.testing.assert_allclose(item["sharp"].numpy(), 1.0)  # frame N // 2 of the window


def test_frame_windows_never_span_a_numbering_gap(tmp_path: Path) -> None:
    runs = [[1, 2, 3, 4, 5], [9, 10, 11, 12, 13, 14]]
    _frames(tmp_path, runs[0] + runs[1])
    dataset = FrameSequenceDataset(tmp_path, crop=8, n_frames=(3, 4))
    assert len(dataset) == 3 + 4  # starts leaving room for 3 frames: 1-3 in the first run, 9-12 in the second
    for epoch in range(3):
        dataset.set_epoch(epoch)
        for i in range(len(dataset)):
            item = dataset[i]
            assert item["blurred"].shape == item["sharp"].shape == (3, 8, 8)
            sharp_number = round(float(item["sharp"][0, 0, 0]) * 255 / 5)
            blurred = float(item["blurred"][0, 0, 0])
            windows = [
                list(range(s, s + n))
                for run in runs
                for n in (3, 4)
                for s in run
                if s + n - 1 <= run[-1] and s + n // 2 == sharp_number
            ]
            assert any(abs(blurred - _gopro_average([5 * f for f in w])) < 1e-6 for w in windows), (i, epoch)


def test_frame_stride_averages_every_kth_frame(tmp_path: Path) -> None:
    _frames(tmp_path, list(range(1, 14)))
    dataset = FrameSequenceDataset(tmp_path, crop=None, n_frames=(3, 3), stride=(3, 3), augment=False)
    seen = set()
    for i in range(len(dataset)):
        item = dataset[i]
        start = dataset.windows[i][1] + 1  # frame numbers start at 1
        k = 3 if start + 6 <= 13 else (13 - start) // 2  # shrinks near the end so the window fits
        window = [start, start + k, start + 2 * k]
        seen.add(k)
        np.testing.assert_allclose(item["sharp"].numpy(), 5 * window[1] / 255, atol=1e-6)
        expected = _gopro_average([5 * f for f in window])
        np.testing.assert_allclose(item["blurred"].numpy(), expected, atol=1e-6)
    assert seen == {1, 2, 3}


def test_stride_one_draws_the_same_items_as_before(tmp_path: Path) -> None:
    _frames(tmp_path, list(range(1, 12)))
    plain = FrameSequenceDataset(tmp_path, crop=8, n_frames=(3, 5), seed=4)
    explicit = FrameSequenceDataset(tmp_path, crop=8, n_frames=(3, 5), seed=4, stride=(1, 1))
    for i in range(len(plain)):
        torch.testing.assert_close(plain[i]["blurred"], explicit[i]["blurred"])
    with pytest.raises(ValueError, match="stride"):
        FrameSequenceDataset(tmp_path, stride=(0, 2))


def test_frame_crops_and_flips_keep_blurred_and_sharp_aligned(tmp_path: Path) -> None:
    # Identical frames: the average is the frame itself, so blurred == sharp whatever crop and flip are drawn.
    image = _noise(24, 30, 1)
    for n in range(1, 8):
        _write(tmp_path / f"f{n:03d}.png", image)
    dataset = FrameSequenceDataset(tmp_path, crop=16, n_frames=(3, 5))
    for i in range(len(dataset)):
        item = dataset[i]
        torch.testing.assert_close(item["blurred"], item["sharp"], atol=1.5 / 255, rtol=0)


def test_frame_dataset_rejects_folders_without_enough_frames(tmp_path: Path) -> None:
    _frames(tmp_path, [1, 2, 3, 5, 6, 7])
    with pytest.raises(DatasetError, match="no 4 consecutively numbered frames"):
        FrameSequenceDataset(tmp_path, n_frames=(4, 6))


def test_frame_cache_gives_the_same_items(tmp_path: Path) -> None:
    _frames(tmp_path, list(range(1, 12)))
    plain = FrameSequenceDataset(tmp_path, crop=8, n_frames=(3, 5))
    cached = FrameSequenceDataset(tmp_path, crop=8, n_frames=(3, 5), cache_frames=4)
    for i in range(len(plain)):
        torch.testing.assert_close(plain[i]["blurred"], cached[i]["blurred"])
    assert len(cached._cache) == 4
    assert len(pickle.loads(pickle.dumps(cached))._cache) == 0


@pytest.mark.skipif(not FRAMES.is_dir(), reason="shared GoPro frames not present")
def test_real_gopro_frames_skip_the_removed_range() -> None:
    dataset = FrameSequenceDataset(FRAMES)
    numbers = [[int(p.stem) for p in run.frames] for run, start in dataset.windows if start == 0]
    assert numbers and all(r == list(range(r[0], r[-1] + 1)) for r in numbers)
    assert not any(160 <= n <= 210 for r in numbers for n in r)


def _photos(root: Path) -> None:
    for i in range(3):
        _write(root / "train" / f"train_{i}.png", _noise(50, 70, i))
    _write(root / "val" / "val_0.png", np.full((50, 70, 3), 7, dtype=np.uint8))


def test_sharp_folder_items_are_seeded_and_picklable(tmp_path: Path) -> None:
    _photos(tmp_path)
    dataset = SharpFolderDataset(tmp_path, crop=24, margin=8, length=10)
    assert len(dataset) == 10
    first = dataset[3]
    assert first["blurred"].shape == first["sharp"].shape == (3, 24, 24)
    assert first["blurred"].dtype == first["sharp"].dtype == torch.float32
    torch.testing.assert_close(dataset[3]["blurred"], first["blurred"], rtol=0, atol=0)
    copy = pickle.loads(pickle.dumps(dataset))
    torch.testing.assert_close(copy[3]["blurred"], first["blurred"], rtol=0, atol=0)
    dataset.set_epoch(1)
    assert not torch.equal(dataset[3]["blurred"], first["blurred"])
    batch = next(iter(DataLoader(dataset, batch_size=4)))
    assert batch["blurred"].shape == (4, 3, 24, 24)


def test_sharp_folder_crops_and_flips_keep_pairs_aligned(tmp_path: Path) -> None:
    # Without motion or degradations, the blurred crop must be exactly the sharp crop, flips included.
    _photos(tmp_path)
    dataset = SharpFolderDataset(tmp_path, crop=24, margin=8, config=STILL, length=12, scale=(0.6, 1.0))
    for i in range(len(dataset)):
        item = dataset[i]
        torch.testing.assert_close(item["blurred"], item["sharp"], atol=1e-5, rtol=0)


def test_sharp_folder_blurs_when_asked(tmp_path: Path) -> None:
    _photos(tmp_path)
    config = SynthesisConfig.clean(blur_length=(0.2, 0.2), object_probability=0.0)
    dataset = SharpFolderDataset(tmp_path, crop=24, margin=8, config=config, exclude=["val_*"])
    item = dataset[0]
    assert float((item["blurred"] - item["sharp"]).abs().mean()) > 0.02


def test_include_and_exclude_filters(tmp_path: Path) -> None:
    _photos(tmp_path)
    assert [p.name for p in list_images(tmp_path, exclude=["val_*"])] == [f"train_{i}.png" for i in range(3)]
    assert [p.name for p in list_images(tmp_path, include=["val/*"])] == ["val_0.png"]
    with pytest.raises(DatasetError, match="no images"):
        SharpFolderDataset(tmp_path, include=["nothing_*"])


def test_validation_set_is_fixed_and_held_out(tmp_path: Path) -> None:
    _photos(tmp_path)
    first = make_validation_set(tmp_path, count=3, crop=16, include=["val_*"])
    again = make_validation_set(tmp_path, count=3, crop=16, include=["val_*"])
    assert len(first) == 3
    for (b1, s1), (b2, s2) in zip(first, again, strict=True):
        assert b1.shape == s1.shape == (16, 16, 3) and b1.dtype == np.float32
        np.testing.assert_array_equal(b1, b2)
        np.testing.assert_array_equal(s1, s2)
        np.testing.assert_allclose(s1, 7 / 255, atol=1e-6)  # only the held-out photo was used


def test_augment_pair_draws_all_eight_symmetries_consistently() -> None:
    image = np.arange(12, dtype=np.float32).reshape(3, 4, 1)
    results = set()
    for seed in range(64):
        a, b = augment_pair(np.random.default_rng(seed), image, image + 100)
        np.testing.assert_array_equal(b, a + 100)
        results.add(a.tobytes() + bytes(a.shape))
    assert len(results) == 8
