import torch

from deblur_cli.model import SAPHNetOutput
from deblur_cli.train.losses import (
    LossWeights,
    charbonnier,
    difficulty_loss,
    hardest_cells,
    per_cell_error,
    policy_loss,
    restoration_loss,
    rmse,
)


def test_charbonnier_is_eps_at_zero_and_grows_with_error():
    x = torch.rand(1, 3, 8, 8)
    assert charbonnier(x, x).item() == torch.tensor(1e-3).item()
    assert charbonnier(x + 0.1, x) > charbonnier(x + 0.01, x)


def test_weighted_charbonnier_counts_weighted_pixels_more():
    target = torch.zeros(1, 1, 2, 2)
    pred = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]])
    weight = torch.tensor([[[[3.0, 1.0], [1.0, 1.0]]]])
    assert charbonnier(pred, target, weight) > charbonnier(pred, target)


def test_rmse_is_the_mean_of_each_images_rms_error():
    target = torch.zeros(2, 3, 4, 4)
    pred = target.clone()
    pred[0] += 0.3  # image 0: RMS error 0.3; image 1: exact
    assert rmse(target, target).item() < 1e-5
    assert abs(rmse(pred, target).item() - 0.15) < 1e-6  # not the batch's pooled RMS error, 0.3 / sqrt(2)


def test_rmse_prefers_the_mean_of_uncertain_pixels_where_charbonnier_prefers_the_majority():
    """Each pixel's sharp value is 0 (2 in 3 times) or 1 (1 in 3), as an edge's place under long blur: RMSE,
    like PSNR, scores the mean (1/3) better than committing to the likelier 0; Charbonnier the reverse."""
    target = (torch.rand(1, 1, 60, 60, generator=torch.Generator().manual_seed(0)) < 1 / 3).float()
    soft, commit = torch.full_like(target, 1 / 3), torch.zeros_like(target)
    assert rmse(soft, target) < rmse(commit, target)
    assert charbonnier(soft, target) > charbonnier(commit, target)


def test_weighted_rmse_counts_weighted_pixels_more():
    target = torch.zeros(1, 1, 2, 2)
    pred = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]])
    weight = torch.tensor([[[[3.0, 1.0], [1.0, 1.0]]]])
    assert rmse(pred, target, weight) > rmse(pred, target)
    assert abs(rmse(pred, target, torch.ones_like(weight)) - rmse(pred, target)) < 1e-6


def test_per_cell_error_layout():
    image = torch.zeros(1, 3, 8, 16)
    image[..., 0:4, 4:8] = 1.0  # cell (0, 1)
    err = per_cell_error(image, torch.zeros_like(image), cell=4)
    assert err.shape == (1, 8) and err[0, 1] == 1.0 and err.sum() == 1.0


def _output(logits, improved_cell):
    """Two cells chosen; `improved_cell` was restored to the target in stage 2, the other made worse."""
    target = torch.zeros(1, 3, 4, 8)
    before = torch.full_like(target, 0.5)
    after = before.clone()
    after[..., 4 * improved_cell : 4 * improved_cell + 4] = 0.0
    after[..., 4 * (1 - improved_cell) : 4 * (1 - improved_cell) + 4] = 0.9
    cells = torch.tensor([[0, 1]])
    log_probs = torch.nn.functional.logsigmoid(logits.flatten(1)).gather(1, cells)
    out = SAPHNetOutput(
        image=after,
        stages=[before, after],
        chosen=[torch.ones(1, 1, 1, 2, dtype=torch.bool)],
        cells=[cells],
        log_probs=[log_probs],
        logits=[logits],
    )
    return out, target


def test_policy_gradient_raises_the_cell_that_improved():
    logits = torch.zeros(1, 1, 1, 2, requires_grad=True)
    out, target = _output(logits, improved_cell=1)
    loss, stats = policy_loss(out, target, LossWeights(entropy=0.0), cell=4)
    loss.backward()
    assert logits.grad[0, 0, 0, 1] < 0 < logits.grad[0, 0, 0, 0]  # descent raises cell 1, lowers cell 0
    assert stats["reward"] != 0


def test_restoration_loss_sums_stages():
    out, target = _output(torch.zeros(1, 1, 1, 2), improved_cell=0)
    total, terms = restoration_loss(out, target, LossWeights(stages=(1.0, 1.0), hard_cells=1.0), cell=4)
    assert len(terms) == 2 and abs(total.item() - sum(terms)) < 1e-6
    only_first, terms1 = restoration_loss(out, target, LossWeights(stages=(1.0, 1.0)), cell=4, stages=1)
    assert len(terms1) == 1 and only_first < total


def test_restoration_loss_uses_the_named_pixel_loss():
    out, target = _output(torch.zeros(1, 1, 1, 2), improved_cell=0)
    weights = LossWeights(stages=(1.0, 1.0), hard_cells=1.0, pixel="rmse")
    total, terms = restoration_loss(out, target, weights, cell=4)
    expected = [rmse(stage, target).item() for stage in out.stages]
    assert torch.allclose(torch.tensor(terms), torch.tensor(expected))
    assert abs(total.item() - sum(expected)) < 1e-6


def test_budget_prior_lifts_a_collapsed_policy_towards_the_budget():
    image = torch.full((1, 3, 4, 16), 0.5)  # no cell changed: zero rewards, zero advantages
    cells = torch.tensor([[0, 1]])  # half the cells chosen: budget fraction 0.5

    def gradient(prior: float) -> torch.Tensor:
        logits = torch.full((1, 1, 1, 4), -30.0, requires_grad=True)  # P_s ~ 1e-13 everywhere
        log_probs = torch.nn.functional.logsigmoid(logits.flatten(1)).gather(1, cells)
        chosen = torch.zeros(1, 1, 1, 4, dtype=torch.bool)
        out = SAPHNetOutput(image=image, stages=[image, image], chosen=[chosen], cells=[cells],
                            log_probs=[log_probs], logits=[logits])
        weights = LossWeights(entropy=0.0, budget_prior=prior)
        loss, _ = policy_loss(out, torch.zeros_like(image), weights, cell=4)
        loss.backward()
        return logits.grad

    assert torch.allclose(gradient(0.1), torch.full((1, 1, 1, 4), -0.1 * 0.5 / 4), atol=1e-6)  # descent lifts
    assert gradient(0.0).abs().max() < 1e-9  # without it nothing pulls the logits back


def test_hardest_cells_marks_the_k_largest_errors_of_each_image():
    error = torch.tensor([[0.1, 0.9, 0.5, 0.2], [0.7, 0.0, 0.3, 0.8]])
    assert hardest_cells(error, 2).tolist() == [[0, 1, 1, 0], [1, 0, 0, 1]]
    # a floor: the second image's cells are all nearly right, so none of them is hard
    scaled = error * torch.tensor([[1.0], [0.01]])
    assert hardest_cells(scaled, 2, floor=0.05).tolist() == [[0, 1, 1, 0], [0, 0, 0, 0]]


def test_difficulty_loss_teaches_the_policy_where_the_previous_stage_erred():
    """Every cell gets a gradient, chosen or not: the blurred (wrong) half is pushed up, the rest down."""
    target = torch.zeros(1, 3, 4, 16)
    before = target.clone()
    before[..., 8:] = 0.5  # cells 2 and 3 are wrong after the previous stage
    logits = torch.zeros(1, 1, 1, 4, requires_grad=True)
    cells = torch.tensor([[0, 2]])  # the stage refined two cells, one of them an easy one
    chosen = torch.ones(1, 1, 1, 4, dtype=torch.bool)
    out = SAPHNetOutput(image=before, stages=[before, before], chosen=[chosen], cells=[cells],
                        log_probs=[torch.zeros(1, 2)], logits=[logits])
    difficulty_loss(out, target, cell=4).backward()
    assert (logits.grad[0, 0, 0, 2:] < 0).all() and (logits.grad[0, 0, 0, :2] > 0).all()
