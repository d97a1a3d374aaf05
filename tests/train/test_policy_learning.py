"""The dense difficulty signal teaches a policy where the blur is, on a tiny generated half-blurred photo."""

import cv2
import numpy as np
import pytest
import torch

from deblur_cli.model import create_model
from deblur_cli.train.losses import difficulty_loss


def _half_blurred(size: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """Sharp texture everywhere; the input is motion-blurred (horizontal, 9 px) on its right half only."""
    rng = np.random.default_rng(0)
    sharp = cv2.resize(rng.random((size // 4, size // 4, 3)).astype(np.float32), (size, size),
                       interpolation=cv2.INTER_NEAREST)
    kernel = np.full((1, 9), 1 / 9, dtype=np.float32)
    blurred = sharp.copy()
    blurred[:, size // 2 :] = cv2.filter2D(sharp, -1, kernel, borderType=cv2.BORDER_REFLECT)[:, size // 2 :]
    as_tensor = lambda a: torch.from_numpy(a).permute(2, 0, 1)[None]  # noqa: E731
    return as_tensor(blurred), as_tensor(sharp)


class _HalfwayRestorer(torch.nn.Module):
    """Stands in for a trained stage 1: moves every pixel 70 % of the way to the sharp image, so it moves
    the blurred half's pixels and leaves a smaller error there, as a real stage 1 does."""

    def __init__(self, sharp: torch.Tensor, channels: int) -> None:
        super().__init__()
        self.sharp, self.channels = sharp, channels

    def forward(self, x, recorder=None):
        image = x + 0.7 * (self.sharp - x)
        return image, torch.zeros(x.shape[0], self.channels, *x.shape[-2:])


@pytest.mark.parametrize("policy_input", ["features", "change"])
def test_policy_trained_on_the_dense_signal_finds_the_blurred_half(policy_input):
    torch.manual_seed(0)
    model = create_model("saphnet-test", policy_input=policy_input)
    blurred, sharp = _half_blurred()
    model.hierarchy = _HalfwayRestorer(sharp, model.config.width)  # a fresh stage 1 would move nothing
    policy = list(model.policies.parameters())
    optimizer = torch.optim.Adam(policy, lr=1e-2)
    model.train()
    for _ in range(150):  # 40 were enough for some seeds only; 150 find the blur for seeds 0-4
        out = model(blurred, budget=0.25, selection="random")
        loss = difficulty_loss(out, sharp, model.config.cell)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        out = model(blurred, budget=0.25)
    difficulty, chosen = out.difficulty[0][0, 0], out.chosen[0][0, 0]
    half = difficulty.shape[1] // 2
    assert difficulty[:, half:].mean() > 1.3 * difficulty[:, :half].mean()
    assert chosen[:, half:].sum() >= 0.75 * chosen.sum()
    # P_s reads as a probability: its mean is near the share of cells the stage refines
    assert abs(float(difficulty.mean()) - 0.25) < 0.15
