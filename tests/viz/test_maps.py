from __future__ import annotations

import numpy as np
import pytest

from deblur_cli.viz.maps import (
    cells_on_display,
    default_name,
    hardest_cell,
    map_on_display,
    map_scale,
    mean_offset,
    resolve_name,
    stage_index,
)


def test_cells_fill_exactly_their_pixel_blocks_and_crop() -> None:
    grid = np.arange(12).reshape(3, 4)
    out = cells_on_display(grid, 8, (20, 30))
    assert out.shape == (20, 30)
    for (i, j), value in np.ndenumerate(grid):
        block = out[i * 8:(i + 1) * 8, j * 8:(j + 1) * 8]
        assert block.size and np.all(block == value)


def test_cells_on_a_smaller_display() -> None:
    grid = np.arange(4).reshape(2, 2)
    out = cells_on_display(grid, 8, (16, 16), (8, 8))
    np.testing.assert_array_equal(out, np.kron(grid, np.ones((4, 4), int)))


def test_cells_must_cover_the_photo() -> None:
    with pytest.raises(ValueError, match="does not cover"):
        cells_on_display(np.zeros((2, 2)), 8, (17, 16))


def test_map_upsampling_is_centred() -> None:
    ramp = np.tile(np.arange(6, dtype=np.float32), (5, 1))  # value = column index
    out = map_on_display(ramp, 2, (10, 12))
    assert out.shape == (10, 12)
    # photo pixels 2j and 2j+1 lie a quarter map pixel either side of map pixel j's centre
    np.testing.assert_allclose(out[:, 2:10].reshape(10, 4, 2).mean(axis=2), np.tile(np.arange(1, 5), (10, 1)),
                               atol=1e-5)
    np.testing.assert_allclose(out[0, 2:4], [0.75, 1.25], atol=1e-5)


def test_map_is_area_averaged_on_a_coarser_display() -> None:
    checker = (np.indices((16, 16)).sum(axis=0) % 2).astype(np.float32)
    out = map_on_display(checker, 1, (16, 16), (4, 4))
    np.testing.assert_allclose(out, 0.5, atol=1e-5)


def test_map_scale_from_the_cell_grid(maps_for) -> None:
    maps = maps_for(37, 53, cell=8)  # grid covers 40 x 56
    assert map_scale(maps, "a", 40, 37) == 1
    assert map_scale(maps, "a", 20, 37) == 2
    assert map_scale(maps, "a", 10, 37) == 4
    maps.scale = {"a": 8}  # what the engine recorded wins
    assert map_scale(maps, "a", 10, 37) == 8


def test_stage_numbers(maps_for) -> None:
    maps = maps_for(stages=3)
    assert stage_index(maps, None) == 0
    assert stage_index(maps, 3) == 1
    for bad in (1, 4):
        with pytest.raises(ValueError, match="between 2 and 3"):
            stage_index(maps, bad)


def test_default_and_named_maps(maps_for) -> None:
    maps = maps_for()
    names = list(maps.attention)
    assert default_name(names, "global_branch") == "hierarchy.decoders.0.stacks.0.blocks.0.capm.global_branch"
    prefix = "hierarchy.decoders.0.stacks.1.blocks.0.capm"
    assert resolve_name(names, prefix, "global_branch") == prefix + ".global_branch"
    assert resolve_name(list(maps.offsets), prefix, "local_branch") == prefix + ".local_branch"
    assert resolve_name(names, names[2], "global_branch") == names[2]
    with pytest.raises(ValueError, match="no single recorded map"):
        resolve_name(names, "hierarchy.encoders", "global_branch")
    with pytest.raises(ValueError, match="recorded no maps"):
        default_name([], "global_branch")


def test_mean_offset_averages_taps() -> None:
    offsets = np.zeros((18, 2, 3), np.float32)
    offsets[0::2] = np.arange(9, dtype=np.float32)[:, None, None]  # dy = 0..8 -> mean 4
    offsets[1::2] = -1.0
    mean = mean_offset(offsets)
    assert mean.shape == (2, 2, 3)
    np.testing.assert_allclose(mean[0], 4.0)
    np.testing.assert_allclose(mean[1], -1.0)
    with pytest.raises(ValueError):
        mean_offset(np.zeros((3, 2, 2)))


def test_hardest_cell_ignores_cells_outside_the_photo(maps_for) -> None:
    maps = maps_for(40, 56, cell=8)
    maps.difficulty = np.zeros((2, 6, 8), np.float32)  # a grid larger than the photo needs
    maps.difficulty[0, 5, 7] = 1.0  # outside a 40 x 56 photo
    maps.difficulty[0, 2, 3] = 0.7
    assert hardest_cell(maps, 0, 40, 56) == (2, 3)
