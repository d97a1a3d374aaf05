import dataclasses

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from deblur_cli.model import SAPHNetConfig, create_model, get_config, list_presets


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    model = create_model("saphnet-test").eval()
    _wake(model)
    return model


def _wake(model):
    """Perturb the zero-initialised heads so the network is no longer the identity."""
    with torch.no_grad():
        for p in model.parameters():
            if p.abs().sum() == 0:
                p.normal_(0, 0.02)


def test_odd_sizes_and_batch(net):
    x = torch.rand(2, 3, 97, 131)
    out = net(x, record=True)
    assert out.image.shape == x.shape
    assert len(out.stages) == net.config.stages >= 2
    assert all(s.shape == x.shape for s in out.stages)
    rows, cols = (
        -(-97 // net.config.size_multiple) * net.config.size_multiple // net.config.cell,
        -(-131 // net.config.size_multiple) * net.config.size_multiple // net.config.cell,
    )
    assert len(out.difficulty) == len(out.chosen) == net.config.stages - 1
    for difficulty, chosen in zip(out.difficulty, out.chosen, strict=True):
        assert difficulty.shape == chosen.shape == (2, 1, rows, cols)
        assert chosen.dtype == torch.bool
        assert difficulty.min() >= 0 and difficulty.max() <= 1


def test_attention_maps_sum_to_one_and_offsets_recorded(net):
    out = net(torch.rand(1, 3, 40, 56), record=True)
    assert out.attention and out.offsets
    for maps in out.attention.values():
        assert maps.dim() == 4 and maps.shape[1] == net.config.attention_maps
        torch.testing.assert_close(maps.sum(dim=(2, 3)), torch.ones(maps.shape[:2]), rtol=1e-4, atol=1e-4)
    k2 = net.config.filter_size**2
    assert all(o.shape[1] == 2 * k2 for o in out.offsets.values())


def test_nothing_recorded_by_default(net):
    out = net(torch.rand(1, 3, 32, 32))
    assert out.attention == {} and out.offsets == {}


def test_fresh_network_is_identity():
    x = torch.rand(1, 3, 45, 61)
    out = create_model("saphnet-test").eval()(x)
    torch.testing.assert_close(out.image, x)


def test_eval_is_deterministic(net):
    x = torch.rand(1, 3, 64, 64)
    a, b = net(x), net(x)
    torch.testing.assert_close(a.image, b.image, rtol=0, atol=0)
    assert all(torch.equal(c, d) for c, d in zip(a.chosen, b.chosen, strict=True))


def test_chosen_fraction_follows_budget(net):
    x = torch.rand(1, 3, 64, 64)  # 8 x 8 = 64 cells
    for budget in [(0.5, 0.25), (0.25, 0.125), (1.0, 0.0)]:
        out = net(x, budget=budget)
        fractions = [c.float().mean().item() for c in out.chosen]
        assert fractions == pytest.approx(list(budget), abs=1 / 64)


def test_single_number_budget_scales_preset_proportions(net):
    assert net.resolve_budget(0.2) == pytest.approx((0.2, 0.1))
    with pytest.raises(ValueError):
        net.resolve_budget((0.5,))


def test_smaller_budget_costs_less(net):
    x = torch.rand(1, 3, 64, 64)

    def flops(budget):
        with FlopCounterMode(display=False) as counter:
            net(x, budget=budget)
        return counter.get_total_flops()

    assert flops((0.25, 0.125)) < flops((0.5, 0.25)) < flops((1.0, 1.0))


def test_training_samples_cells_and_exposes_log_probs():
    model = create_model("saphnet-test").train()
    x = torch.rand(2, 3, 32, 32)
    torch.manual_seed(1)
    first = model(x)
    torch.manual_seed(2)
    second = model(x)
    assert any(not torch.equal(a, b) for a, b in zip(first.cells, second.cells, strict=True))
    for cells, log_probs in zip(first.cells, first.log_probs, strict=True):
        assert cells.shape == log_probs.shape and log_probs.requires_grad
        assert torch.all(log_probs <= 0)


def test_gradients_reach_every_parameter_group():
    model = create_model("saphnet-test").train()
    _wake(model)
    x, target = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    out = model(x)
    restoration = sum((stage - target).abs().mean() for stage in out.stages)
    policy = -sum(lp.sum() for lp in out.log_probs)
    (restoration + policy).backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or p.grad.abs().sum() == 0]
    assert missing == []


def test_policy_gets_no_restoration_gradient():
    model = create_model("saphnet-test").train()
    _wake(model)
    out = model(torch.rand(1, 3, 32, 32))
    sum(stage.mean() for stage in out.stages).backward()
    assert all(p.grad is None for p in model.policies.parameters())


@pytest.mark.parametrize(
    "overrides",
    [
        {"use_local": False},
        {"use_global": False},
        {"use_offsets": False},
        {"cross_attention": False},
        {"sampling": False},
        {"levels": 1},
        {"levels": 2},
        {"capm_scales": ()},
    ],
)
def test_ablations_build_and_run(overrides):
    model = create_model("saphnet-test", **overrides).eval()
    out = model(torch.rand(1, 3, 40, 40), record=True)
    assert out.image.shape == (1, 3, 40, 40)
    if overrides.get("sampling") is False:
        assert all(c.all() for c in out.chosen)
    if overrides.get("use_offsets") is False or overrides.get("use_local") is False:
        assert out.offsets == {}


def test_cross_attention_switch_removes_attention_modules():
    with_cross = create_model("saphnet-test")
    without = create_model("saphnet-test", cross_attention=False)
    assert sum(p.numel() for p in without.parameters()) < sum(p.numel() for p in with_cross.parameters())


@pytest.mark.parametrize("preset", list_presets())
def test_presets_fit_the_parameter_limit_and_size_contract(preset):
    model = create_model(preset).eval()
    assert sum(p.numel() for p in model.parameters()) <= 8_000_000  # 16 MiB in fp16
    multiple = model.descriptor.size_multiple
    x = torch.rand(1, 3, multiple * 2, multiple * 3)
    with torch.inference_mode():
        assert model(x).image.shape == x.shape


def test_config_round_trip_rebuilds_exactly():
    cfg = get_config("saphnet-b", budget=(0.3, 0.1))
    again = SAPHNetConfig.from_dict(cfg.to_dict())
    assert again == cfg
    with pytest.raises(ValueError, match="unknown"):
        SAPHNetConfig.from_dict({**cfg.to_dict(), "bogus": 1})
    with pytest.raises(ValueError):
        dataclasses.replace(cfg, budget=(0.5,))


def test_tiny_overfit_lowers_the_loss():
    torch.manual_seed(0)
    sharp = torch.rand(1, 3, 32, 32)
    blurred = torch.nn.functional.avg_pool2d(torch.nn.functional.pad(sharp, [2] * 4, mode="reflect"), 5, 1)
    model = create_model("saphnet-test").train()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)

    def loss_of(out):
        return sum((stage - sharp).abs().mean() for stage in out.stages)

    with torch.no_grad():
        start = loss_of(model.eval()(blurred)).item()
    model.train()
    for _ in range(40):
        opt.zero_grad()
        loss_of(model(blurred)).backward()
        opt.step()
    with torch.no_grad():
        end = loss_of(model.eval()(blurred)).item()
    assert end < 0.8 * start
