from __future__ import annotations

import cv2
import numpy as np
import pytest

from deblur_cli.viz.canvas import to_display_rgb
from deblur_cli.viz.figures import (
    STAGE_COLOURS,
    offset_colours,
    render_attention,
    render_compare,
    render_heatmap,
    render_offsets,
    render_sampled,
)

GRAY = 120


def _flat(height: int, width: int) -> np.ndarray:
    return np.full((height, width, 3), GRAY, np.uint8)


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(np.float64) @ np.array([0.299, 0.587, 0.114])


@pytest.mark.parametrize("size", [(40, 56), (37, 53)])  # exact grid, and a photo the grid overhangs
def test_heatmap_puts_a_hot_cell_on_its_block(maps_for, size: tuple[int, int]) -> None:
    h, w = size
    maps = maps_for(h, w, cell=8)
    maps.difficulty[0, 4, 3] = 1.0  # last row of cells: photo rows 32..h
    fig = render_heatmap(_flat(h, w), maps)
    assert fig.shape[0] >= h and fig.shape[1] > w  # panel at the top left, colour bar beside it
    panel = fig[:h, :w]
    hot = np.zeros((h, w), bool)
    hot[32:40, 24:32] = True
    hot_colours = np.unique(panel[hot], axis=0)
    cold_colours = np.unique(panel[~hot], axis=0)
    assert len(hot_colours) == 1 and len(cold_colours) == 1  # flat blocks, no bleeding across cell edges
    assert _luma(hot_colours)[0] > _luma(cold_colours)[0] + 100  # magma: P=1 is near white, P=0 near black
    r, g, b = hot_colours[0].astype(int)
    assert r > b  # the warm end of magma


def test_heatmap_stage_choice_and_fixed_scale(maps_for) -> None:
    maps = maps_for(40, 56, cell=8)
    maps.difficulty[0] = 0.5
    maps.difficulty[1] = 0.5
    maps.difficulty[1, 0, 0] = 1.0
    stage2 = render_heatmap(_flat(40, 56), maps)[:40, :56]
    stage3 = render_heatmap(_flat(40, 56), maps, stage=3)[:40, :56]
    assert len(np.unique(stage2.reshape(-1, 3), axis=0)) == 1
    # a map of 0.5 everywhere is not stretched: it is drawn with the middle colour, not the top one
    assert _luma(stage2[20:21, 20])[0] < _luma(stage3[0:1, 0])[0] - 40
    np.testing.assert_array_equal(stage2[20, 20], stage3[20, 20])
    with pytest.raises(ValueError, match="stage"):
        render_heatmap(_flat(40, 56), maps, stage=4)


def test_sampled_colours_exactly_the_chosen_cells(maps_for) -> None:
    h, w, c = 40, 56, 8
    maps = maps_for(h, w, cell=c)
    maps.chosen[0, 0, 0] = maps.chosen[0, 1, 2] = True
    maps.chosen[1, 1, 2] = maps.chosen[1, 3, 5] = True
    fig = render_sampled(_flat(h, w), maps)
    panel = fig[:h, :w].astype(int)
    background = panel[h - 1, 0]
    assert background[0] == background[1] == background[2]  # a grey photo stays grey outside chosen cells
    expected = np.zeros((h, w), bool)
    for i, j in [(0, 0), (1, 2), (3, 5)]:
        expected[i * c:(i + 1) * c, j * c:(j + 1) * c] = True
    changed = np.any(panel != background, axis=2)
    np.testing.assert_array_equal(changed, expected)
    # borders are the stage's exact colour; the later stage is drawn over the earlier one
    assert tuple(panel[0, 0]) == STAGE_COLOURS[0]
    assert tuple(panel[c, 2 * c]) == STAGE_COLOURS[1]
    assert tuple(panel[3 * c, 5 * c]) == STAGE_COLOURS[1]
    orange_fill, blue_fill = panel[4, 4], panel[c + 4, 2 * c + 4]
    assert orange_fill[0] > orange_fill[2] and blue_fill[2] > blue_fill[0]


def test_offset_colours_opposite_directions_have_opposite_hues() -> None:
    right = offset_colours(np.zeros((1, 1)), np.ones((1, 1)), 1.0)
    left = offset_colours(np.zeros((1, 1)), -np.ones((1, 1)), 1.0)
    down = offset_colours(np.ones((1, 1)), np.zeros((1, 1)), 1.0)
    hue = [float(cv2.cvtColor(c.astype(np.float32) / 255, cv2.COLOR_RGB2HSV)[0, 0, 0])
           for c in (right, left, down)]
    assert abs(hue[0] - 0.0) < 2 and abs(hue[1] - 180.0) < 2 and abs(hue[2] - 90.0) < 2
    still = offset_colours(np.zeros((1, 1)), np.zeros((1, 1)), 1.0)
    assert tuple(still[0, 0]) == (255, 255, 255)  # no shift: white
    half = offset_colours(np.zeros((1, 1)), np.full((1, 1), 0.5), 1.0)
    assert 120 <= half[0, 0, 1] <= 135  # half the limit: half saturation


def test_offsets_figure_shows_the_field_direction(maps_for) -> None:
    h, w = 40, 56
    maps = maps_for(h, w, cell=8)
    name = "hierarchy.decoders.0.stacks.0.blocks.0.capm.local_branch"
    field = maps.offsets[name]
    field[1::2, :, : w // 2] = 2.0  # dx > 0 on the left half: pointing right
    field[1::2, :, w // 2:] = -2.0  # pointing left on the right half
    fig = render_offsets(_flat(h, w), maps, name=name)
    assert fig.shape[0] > h and fig.shape[1] > w
    top = int(np.argmax(np.any(fig[:, 4] != 255, axis=1)))  # the panel starts under the title band
    panel = fig[top:top + h, :w].astype(int)
    # medians skip the sparse dark arrows drawn over the colours
    left_px = np.median(panel[:, : w // 2 - 4].reshape(-1, 3), axis=0)
    right_px = np.median(panel[:, w // 2 + 4:].reshape(-1, 3), axis=0)
    assert left_px[0] > left_px[1] + 50 and left_px[0] > left_px[2] + 50  # red: pointing right
    assert right_px[1] > right_px[0] + 50 and right_px[2] > right_px[0] + 50  # cyan: pointing left


def test_attention_grid_has_one_tile_per_map(maps_for) -> None:
    maps = maps_for(40, 56, cell=8, maps_m=6)
    name = "hierarchy.decoders.0.stacks.0.blocks.0.capm.global_branch"
    maps.attention[name][2, 0:8, 0:8] = 1.0  # map 3 peaks in the top-left corner
    fig = render_attention(_flat(40, 56), maps)
    tiles = render_attention(_flat(40, 56), maps, columns=1)
    assert fig.shape[1] > 3 * 56  # 6 maps -> 3 columns x 2 rows
    assert tiles.shape[0] > 6 * 40
    with pytest.raises(ValueError, match="no single recorded map"):
        render_attention(_flat(40, 56), maps, name="nothing.like.this")


def _contains(figure: np.ndarray, part: np.ndarray) -> bool:
    windows = np.lib.stride_tricks.sliding_window_view(figure, part.shape)
    return bool(np.any(np.all(windows == part, axis=(-3, -2, -1))))


def test_compare_enlarges_the_hardest_cell_of_both_images(maps_for) -> None:
    rng = np.random.default_rng(1)
    photo = rng.integers(0, 256, (96, 128, 3), dtype=np.uint8)
    result = 255 - photo
    maps = maps_for(96, 128, cell=8)
    maps.difficulty[0] = 0.2
    maps.difficulty[0, 5, 9] = 0.9
    fig = render_compare(photo, result, maps)
    y0, y1, x0, x1 = 32, 56, 64, 88  # cell (5, 9) with one cell of context
    factor = 2  # the largest whole factor that keeps the 24-pixel crop within half the photo's height
    for source in (photo, result):
        zoom = np.kron(source[y0:y1, x0:x1], np.ones((factor, factor, 1), np.uint8))
        assert _contains(fig, zoom)
        assert _contains(fig, source[:y0 - 4, :])  # the full image is there too, above the outline
        off_by_a_cell = np.kron(source[y0 - 8:y1 - 8, x0:x1], np.ones((factor, factor, 1), np.uint8))
        assert not _contains(fig, off_by_a_cell)
    with pytest.raises(ValueError, match="differ in shape"):
        render_compare(photo, result[:, :-1], maps)


@pytest.mark.parametrize("image, expected", [
    (np.full((2, 3), 65535, np.uint16), 255),
    (np.full((2, 3, 1), 128, np.uint8), 128),
    (np.full((2, 3, 4), 0.5, np.float32), 128),
    (np.full((2, 3, 4), 7, np.uint8), 7),
])
def test_photos_of_any_kind_become_uint8_rgb(image: np.ndarray, expected: int) -> None:
    out = to_display_rgb(image)
    assert out.shape == (2, 3, 3) and out.dtype == np.uint8
    assert np.all(out == expected)


def test_unsupported_photos_are_refused() -> None:
    with pytest.raises(ValueError):
        to_display_rgb(np.zeros((2, 3, 2), np.uint8))
    with pytest.raises(ValueError):
        to_display_rgb(np.zeros((2, 3), np.int32))
