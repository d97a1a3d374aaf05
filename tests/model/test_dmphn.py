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
