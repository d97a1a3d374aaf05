"""Self-ensemble: the views and their inverses, and the Deblurrer averaging them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from deblur_cli.engine import Deblurrer
from deblur_cli.engine.ensemble import ENSEMBLE_SIZES, ensemble_views
from deblur_cli.model import create_model


def test_every_view_is_undone_and_the_eight_differ() -> None:
    x = torch.arange(2 * 3 * 5 * 7, dtype=torch.float32).view(2, 3, 5, 7)
    views = ensemble_views(8)
    seen = [view.apply(x) for view in views]
    assert not views[0].transpose and not views[0].flip
    for view, s in zip(views, seen, strict=True):
        assert s.shape == ((2, 3, 7, 5) if view.transpose else x.shape)
        assert torch.equal(view.undo(s), x)
    flat = {tuple(s.flatten().tolist()) for s in seen}
    assert len(flat) == 8


@pytest.mark.parametrize("size", [0, 3, 16, True])
def test_other_sizes_are_rejected(size) -> None:
    with pytest.raises(ValueError, match="1, 2, 4, 8"):
        ensemble_views(size)


def test_sizes_nest() -> None:
    for small, large in zip(ENSEMBLE_SIZES, ENSEMBLE_SIZES[1:], strict=False):
        assert ensemble_views(large)[:small] == ensemble_views(small)


def test_two_passes_average_the_image_and_its_mirror(perturbed_model, smooth_image) -> None:
    """ensemble=2 is the mean of the plain result and the mirrored image's result mirrored back (in mid-grey
    values, where no result is clipped to [0, 1])."""
    img = 0.2 + 0.6 * smooth_image(40, 56)
    net = perturbed_model()
    plain = Deblurrer(net, device="cpu", tile=0)
    one = plain.restore(img)
    mirrored = plain.restore(np.ascontiguousarray(img[:, ::-1]))[:, ::-1]
    two = Deblurrer(net, device="cpu", tile=0, ensemble=2).restore(img)
    assert np.abs(one - mirrored).mean() > 1e-4  # the network is not symmetric: the views disagree
    np.testing.assert_allclose(two, (one + mirrored) / 2, atol=1e-5)


@pytest.mark.parametrize("size", ENSEMBLE_SIZES)
def test_an_image_of_odd_size_comes_back_in_place(size: int) -> None:
    """An untrained network returns its input, so every view, padded and cropped, must land back in place
    (transposed views swap the sides to pad)."""
    torch.manual_seed(0)
    img = np.random.default_rng(1).integers(0, 256, (37, 53, 3), dtype=np.uint8)
    for tile in (0, 32):
        d = Deblurrer(create_model("saphnet-test"), device="cpu", tile=tile, tile_overlap=8, ensemble=size)
        assert np.array_equal(d.restore(img), img)


def test_maps_come_from_the_plain_pass(perturbed_model, smooth_image) -> None:
    img = smooth_image(40, 56)
    net = perturbed_model()
    _, single = Deblurrer(net, device="cpu", tile=0).restore_with_maps(img)
    out, four = Deblurrer(net, device="cpu", tile=0, ensemble=4).restore_with_maps(img)
    assert np.array_equal(single.difficulty, four.difficulty)
    assert np.array_equal(single.chosen, four.chosen)
    assert np.array_equal(out, Deblurrer(net, device="cpu", tile=0, ensemble=4).restore(img))
