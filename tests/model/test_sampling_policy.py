import pytest
import torch

from deblur_cli.model import create_model
from deblur_cli.model.sampling_policy import SamplingPolicy, change_statistics


def test_change_statistics_mark_the_cells_the_previous_stage_moved():
    blurred = torch.rand(1, 3, 32, 48)
    previous = blurred.clone()
    previous[..., 16:, 32:] += 0.2  # the stage moved one cell's pixels by 51 levels, the others not at all
    stats = change_statistics(blurred, previous, cell=16)
    assert stats.shape == (1, 2, 2, 3)
    level, relative = stats[0]
    moved = torch.log1p(torch.tensor(51.0))
    assert torch.allclose(level[1, 2], moved, atol=1e-3) and torch.allclose(relative[1, 2], moved, atol=1e-3)
    assert level.flatten()[:5].abs().max() < 1e-5  # unmoved cells: 0 on both (the median is 0)
    # a uniform change everywhere else (denoising, say) lifts the level but not the relative statistic
    stats = change_statistics(blurred, previous + 0.02, cell=16)[0]
    assert stats[0].min() > 1.5 and torch.allclose(stats[1][0], torch.zeros(3), atol=1e-4)
    assert stats[1][1, 2] > 1.0


@pytest.mark.parametrize("inputs", ["features", "change"])
def test_policy_gives_one_logit_per_cell_from_either_input(inputs):
    policy = SamplingPolicy(feature_channels=8, cell=8, hidden=4, inputs=inputs)
    logits = policy(torch.rand(2, 3, 32, 40), torch.rand(2, 3, 32, 40), torch.rand(2, 8, 32, 40))
    assert logits.shape == (2, 1, 4, 5)


def test_change_policy_never_scores_a_cell_lower_for_moving_it_further():
    policy = SamplingPolicy(feature_channels=8, cell=8, inputs="change")
    with torch.no_grad():
        policy.slope.copy_(torch.tensor([0.5, -3.0]))  # whatever training sets, the weights are >= 0
    blurred = torch.rand(1, 3, 32, 32)
    moved = torch.linspace(0, 0.3, 16).view(1, 1, 4, 4)
    logits = policy(blurred, blurred + torch.nn.functional.interpolate(moved, scale_factor=8), blurred)
    assert torch.all(logits.flatten().diff() >= 0)


def test_change_policy_learns_probabilities_that_separate_the_hard_cells():
    # Any non-negative weights already rank cells by how far they moved (the test above); training sets
    # the scale, so P_s reads as a probability: at the start every cell scores about 0.6.
    torch.manual_seed(0)
    policy = SamplingPolicy(feature_channels=8, cell=8, hidden=4, inputs="change")
    blurred = torch.rand(1, 3, 32, 32)
    moved = torch.rand(1, 1, 4, 4)  # how far the previous stage moved each cell
    previous = blurred + 0.2 * torch.nn.functional.interpolate(moved, scale_factor=8)
    target = (moved.flatten() > moved.flatten().median()).float()
    optimizer = torch.optim.Adam(policy.parameters(), lr=3e-2)
    for _ in range(150):
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            policy(blurred, previous, torch.rand(1, 8, 32, 32)).flatten(), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    p = torch.sigmoid(policy(blurred, previous, torch.zeros(1, 8, 32, 32)).flatten()).detach()
    assert p[target == 1].mean() > 0.7 and p[target == 0].mean() < 0.3


def test_policy_input_changes_only_the_policies():
    change, paper = create_model("saphnet-test"), create_model("saphnet-test", policy_input="features")
    a, b = change.state_dict(), paper.state_dict()
    differ = {k for k in a if k not in b or a[k].shape != b[k].shape} | {k for k in b if k not in a}
    assert differ and all(k.startswith("policies.") for k in differ)
    with pytest.raises(ValueError, match="policy_input"):
        create_model("saphnet-test", policy_input="pixels")
