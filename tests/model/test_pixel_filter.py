import torch

from deblur_cli.model.pixel_filter import PixelDependentFilter, deformable_filter, dynamic_filter


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
