"""The shipped saphnet-s policy sends more work to blurred regions than to sharp ones (issue 6).

With the bundled checkpoint (weights/saphnet-s/README.md; its policy's scale calibrated after training) the
blurred half's mean P_s is 4.5 % higher at stage 2 (0.817 against 0.782) and 8 % higher at stage 3 (0.693
against 0.643), and it gets 1.37x and 1.39x as many chosen cells. The bounds below guard those margins. The
GPU-trained weights separate the halves less than the session-5 weights did (7 % and 17 %, 1.5x and 1.6x the
cells), for +0.08 dB on val/gopro; the P_s bounds went from 1.05 and 1.1 to 1.03 and 1.05 with them.
"""

from pathlib import Path

import pytest

from deblur_cli import Deblurrer
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
    for difficulty, chosen, margin in zip(maps.difficulty, maps.chosen, (1.03, 1.05), strict=True):
        assert difficulty[:, half:].mean() > margin * difficulty[:, :half].mean()
        assert chosen[:, half:].mean() > 1.3 * chosen[:, :half].mean()
