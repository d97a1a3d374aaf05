import torch

from deblur_cli.model.capm import CAPM


def test_gate_is_the_softmax_over_both_branches():
    """The gate as the sigmoid of the logit difference equals the per-pixel softmax of the 1x1 convolution
    over [x, global, local] (DESIGN.md) that mixes the two branches."""
    torch.manual_seed(0)
    capm = CAPM(8, maps=4, groups=2)
    for layer in (capm.gate, capm.proj):
        torch.nn.init.normal_(layer.weight)
        torch.nn.init.normal_(layer.bias)
    x = torch.randn(2, 8, 6, 7)
    global_out, local_out = capm.global_branch(x), capm.local_branch(x)
    gate = torch.softmax(capm.gate(torch.cat([x, global_out, local_out], dim=1)), dim=1)
    expected = x + capm.proj(gate[:, :1] * global_out + gate[:, 1:] * local_out)
    torch.testing.assert_close(capm(x), expected, rtol=1e-4, atol=1e-5)


def test_a_fresh_capm_is_the_identity():
    x = torch.randn(1, 8, 5, 5)
    torch.testing.assert_close(CAPM(8, maps=4, groups=2)(x), x)
