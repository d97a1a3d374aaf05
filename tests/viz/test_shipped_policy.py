"""The shipped saphnet-s policy sends more work to blurred regions than to sharp ones (issue 6).

The bundled checkpoint's policy has trained for 1000 steps only: its difficulty is 10-26 % higher on the
blurred half and it chooses 1.3-1.9x as many cells there. These bounds guard that; "clearly higher"
difficulty is for better-trained weights to reach.
"""

from pathlib import Path

import pytest

from deblur_cli.engine import Deblurrer
from deblur_cli.io import read_image

HALF_BLURRED = Path(__file__).resolve().parents[2] / "examples" / "half_blurred.png"


@pytest.fixture(scope="module")
def maps():
    deblurrer = Deblurrer.from_pretrained("saphnet-s", device="cpu", tile=0)
    assert not deblurrer.untrained, "saphnet-s ships weights: they must load"
    return deblurrer.restore_with_maps(read_image(HALF_BLURRED).pixels)[1]


def test_blurred_half_gets_higher_difficulty_and_more_cells(maps):
    # examples/half_blurred.png: left half sharp, right half motion-blurred (examples/make_examples.py)
    half = maps.difficulty.shape[2] // 2
    for difficulty, chosen in zip(maps.difficulty, maps.chosen, strict=True):
        assert difficulty[:, half:].mean() > difficulty[:, :half].mean()
        assert chosen[:, half:].mean() > 1.25 * chosen[:, :half].mean()
