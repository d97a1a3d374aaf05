import pytest
import torch

from deblur_cli.model import create_model
from deblur_cli.model.dmphn import DMPHN124, StackDMPHN
from deblur_cli.weights.dmphn_import import load_dmphn_into


def test_saphnet_b_with_dmphn_weights_is_dmphn() -> None:
    """With DMPHN's (here random) weights and SAPHNet's branches at zero, saphnet-b computes DMPHN 1-2-4."""
    torch.manual_seed(0)
    dmphn = DMPHN124().eval()
    model = create_model("saphnet-b").eval()
    load_dmphn_into(model, dmphn.state_dict())
    x = torch.rand(1, 3, 64, 96)
    with torch.no_grad():
        expected, out = dmphn(x), model(x)
    torch.testing.assert_close(out.stages[0], expected, rtol=0, atol=1e-5)
    torch.testing.assert_close(out.image, expected, rtol=0, atol=1e-5)
    assert (expected - x).abs().mean() > 1e-3  # random DMPHN weights do change the image


def test_woken_branches_move_saphnet_b_away_from_dmphn() -> None:
    torch.manual_seed(0)
    dmphn = DMPHN124().eval()
    model = create_model("saphnet-b").eval()
    load_dmphn_into(model, dmphn.state_dict())
    with torch.no_grad():
        capm = model.hierarchy.encoders[0].stacks[2].blocks[0].capm
        capm.proj.weight.normal_(0, 0.05)
        x = torch.rand(1, 3, 32, 32)
        assert (model(x).stages[0] - dmphn(x)).abs().max() > 1e-4


def test_stack_dmphn_loads_the_authors_layout_and_later_stages_act() -> None:
    torch.manual_seed(0)
    stack = StackDMPHN(stages=2).eval()
    state = {}
    for k, stage in enumerate(stack.stages, start=1):
        for key, value in stage.state_dict().items():
            part, _, rest = key.partition(".")
            kind, level = part.split("_")
            state[f"{kind}_s{k}_{level}.{rest}"] = value.clone()
    fresh = StackDMPHN(stages=2).eval()
    fresh.load_authors_state_dict(state)
    x = torch.rand(1, 3, 32, 48)
    with torch.no_grad():
        out = fresh(x)
        torch.testing.assert_close(out, stack(x))
        assert (out - fresh.stages[0](x)).abs().max() > 1e-4


def _parts(net: DMPHN124) -> list[torch.nn.Module]:
    return [getattr(net, f"{kind}_lv{level}") for kind in ("encoder", "decoder") for level in (1, 2, 3)]


def test_dmphn_maps_an_image_to_the_same_shape_with_the_papers_size() -> None:
    net = DMPHN124().eval()
    assert not net.training
    assert sum(p.numel() for p in net.parameters()) == 5_424_393  # 21.7 MB in fp32, as the paper lists
    per_level = [sum(p.numel() for p in m.parameters()) for m in _parts(net)]
    assert per_level == [868_288] * 3 + [939_843] * 3
    x = torch.rand(2, 3, 64, 64)
    with torch.inference_mode():
        y = net(x)
    assert y.shape == x.shape and torch.isfinite(y).all()
    with torch.inference_mode():  # the batch items do not mix: each quadrant goes back to its own image
        assert torch.allclose(net(x[1:]), y[1:], atol=1e-5)


def test_dmphn_levels_see_quadrants_halves_and_whole() -> None:
    net = DMPHN124().eval()
    seen: dict[str, tuple[int, ...]] = {}
    for level, (enc, dec) in enumerate(zip(_parts(net)[:3], _parts(net)[3:], strict=True), start=1):
        enc.register_forward_hook(lambda m, i, o, k=f"enc{level}": seen.__setitem__(k, tuple(i[0].shape)))
        dec.register_forward_hook(lambda m, i, o, k=f"dec{level}": seen.__setitem__(k, tuple(o.shape)))
    with torch.inference_mode():
        net(torch.rand(1, 3, 32, 48))
    assert seen == {
        "enc3": (4, 3, 16, 24), "dec3": (2, 3, 16, 48),  # 4 quadrants in, top and bottom halves out
        "enc2": (2, 3, 16, 48), "dec2": (1, 3, 32, 48),  # 2 halves in, the whole image out
        "enc1": (1, 3, 32, 48), "dec1": (1, 3, 32, 48),
    }


def test_dmphn_rejects_sides_not_divisible_by_8() -> None:
    with pytest.raises(ValueError, match="divisible by 8"):
        DMPHN124()(torch.rand(1, 3, 36, 40))
