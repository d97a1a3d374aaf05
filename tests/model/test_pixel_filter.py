import pytest
import torch

from deblur_cli.model.pixel_filter import (
    PixelDependentFilter,
    _gathered_filter,
    _sampled_filter,
    deformable_filter,
    dynamic_filter,
)


def _weights(n, groups, taps, h, w):
    return torch.softmax(torch.randn(n, groups, taps, h, w), dim=2)


def test_zero_offsets_reproduce_plain_dynamic_filter():
    x = torch.randn(2, 8, 11, 13)
    weights = _weights(2, 4, 9, 11, 13)
    offsets = torch.zeros(2, 18, 11, 13)
    torch.testing.assert_close(deformable_filter(x, weights, offsets, 3), dynamic_filter(x, weights, 3))


def test_integer_offsets_sample_shifted_pixels():
    x = torch.randn(1, 4, 9, 10)
    weights = _weights(1, 2, 9, 9, 10)
    offsets = torch.zeros(1, 18, 9, 10)
    offsets[:, 1::2] = 1.0  # every tap looks one pixel to the right
    shifted = torch.nn.functional.pad(x[..., 1:], [0, 1])  # x(p + (0, 1)), zero outside
    # column 0's left taps read x's column 0 (inside the image) where `shifted` has padding: compare the rest
    torch.testing.assert_close(
        deformable_filter(x, weights, offsets, 3)[..., 1:], dynamic_filter(shifted, weights, 3)[..., 1:]
    )


def test_dynamic_filter_with_centre_tap_is_identity():
    x = torch.randn(1, 4, 6, 7)
    weights = torch.zeros(1, 2, 9, 6, 7)
    weights[:, :, 4] = 1.0
    torch.testing.assert_close(dynamic_filter(x, weights, 3), x)


def test_offsets_start_at_zero_and_are_learned():
    module = PixelDependentFilter(8, 3, 4, offsets=True)
    x = torch.randn(1, 8, 10, 10, requires_grad=True)
    module(x).square().sum().backward()
    assert module.to_offsets.weight.abs().sum() == 0
    assert module.to_offsets.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("channels_last", [False, True])
def test_cpu_gather_matches_grid_sample_values_and_gradients(channels_last):
    # Fractional offsets up to 3 px reach outside the image, where both read zeros.
    torch.manual_seed(0)
    x0 = torch.randn(2, 8, 9, 11)
    if channels_last:
        x0 = x0.contiguous(memory_format=torch.channels_last)
    logits0, offsets0 = torch.randn(2, 4, 9, 9, 11), torch.randn(2, 18, 9, 11) * 1.5
    results = []
    for filt in (_sampled_filter, _gathered_filter):
        x, logits, offsets = (t.clone().requires_grad_() for t in (x0, logits0, offsets0))
        out = filt(x, torch.softmax(logits, dim=2), offsets, 3)
        (out * torch.linspace(-1, 1, out.numel()).view(out.shape)).sum().backward()
        results.append((out, x.grad, logits.grad, offsets.grad))
    for sampled, gathered in zip(*results, strict=True):
        torch.testing.assert_close(gathered, sampled, atol=1e-5, rtol=1e-4)


def test_filter_keeps_the_input_dtype():
    x = torch.randn(1, 8, 6, 6).to(torch.bfloat16)
    out = deformable_filter(x, _weights(1, 4, 9, 6, 6), torch.randn(1, 18, 6, 6), 3)
    assert out.dtype == torch.bfloat16 and out.shape == x.shape


def test_non_finite_offsets_show_in_the_output_instead_of_indexing_anywhere():
    x = torch.randn(1, 8, 6, 6)
    offsets = torch.zeros(1, 18, 6, 6)
    offsets[0, 0, 2, 2] = float("nan")  # tap 0's dy at pixel (2, 2): every group reads that tap
    offsets[0, 3, 1, 1] = 1e9  # far outside the image: reads zero
    out = _gathered_filter(x, _weights(1, 4, 9, 6, 6), offsets, 3)
    assert out[0, :, 2, 2].isnan().all()
    assert out.isnan().sum() == 8 and out[0, :, 1, 1].isfinite().all()
