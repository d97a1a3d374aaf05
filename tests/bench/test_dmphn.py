"""The DMPHN 1-2-4 reference in benchmarks/ (loaded by path, as `deblur bench --reference` does)."""

from __future__ import annotations

import pytest
import torch

from deblur_cli.bench import load_reference


def test_dmphn_maps_an_image_to_the_same_shape_with_the_papers_size() -> None:
    net = load_reference("dmphn")
    assert not net.training
    assert sum(p.numel() for p in net.parameters()) == 5_424_393  # 21.7 MB in fp32, as the paper lists
    per_level = [sum(p.numel() for p in m.parameters()) for m in (*net.encoders, *net.decoders)]
    assert per_level == [868_288] * 3 + [939_843] * 3
    x = torch.rand(2, 3, 64, 64)
    with torch.inference_mode():
        y = net(x)
    assert y.shape == x.shape and torch.isfinite(y).all()
    with torch.inference_mode():  # the batch items do not mix: each quadrant goes back to its own image
        assert torch.allclose(net(x[1:]), y[1:], atol=1e-5)


def test_dmphn_levels_see_quadrants_halves_and_whole() -> None:
    net = load_reference("dmphn")
    seen: dict[str, tuple[int, ...]] = {}
    for level, (enc, dec) in enumerate(zip(net.encoders, net.decoders, strict=True), start=1):
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
        load_reference("dmphn")(torch.rand(1, 3, 36, 40))
