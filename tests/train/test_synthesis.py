"""Blur synthesis: reproducible, aligned with its target, conserving light; each degradation does its job."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from deblur_cli.train.synthesis import SynthesisConfig, synthesize, to_gamma, to_linear


def _photo(size: int = 64, seed: int = 0) -> np.ndarray:
    """A textured uint8 RGB test image: smooth gradients plus random squares (sharp edges)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size] / size
    image = np.stack([x, y, 0.5 + 0.4 * np.sin(6 * x + 3 * y)], axis=-1) * 200
    for _ in range(12):
        r, c, s = rng.integers(0, size - 8, 2).tolist() + [int(rng.integers(4, 12))]
        image[r : r + s, c : c + s] = rng.integers(0, 256, 3)
    return np.clip(image, 0, 255).astype(np.uint8)


def test_same_seed_same_pair_and_different_seed_different_pair() -> None:
    photo = _photo()
    b1, s1 = synthesize(photo, 7)
    b2, s2 = synthesize(photo, np.random.default_rng(7))
    b3, _ = synthesize(photo, 8)
    np.testing.assert_array_equal(b1, b2)
    np.testing.assert_array_equal(s1, s2)
    assert np.abs(b1 - b3).mean() > 1e-3


def test_shapes_dtypes_and_range_for_uint8_and_float_inputs() -> None:
    photo = _photo(48)
    for sharp in (photo, photo.astype(np.float32) / 255):
        blurred, target = synthesize(sharp, 3)
        assert blurred.shape == target.shape == (48, 48, 3)
        assert blurred.dtype == target.dtype == np.float32
        assert blurred.min() >= 0.0 and blurred.max() <= 1.0
        assert target.min() >= 0.0 and target.max() <= 1.0


def test_non_square_image_keeps_its_shape() -> None:
    blurred, target = synthesize(_photo(64)[:40], 1)
    assert blurred.shape == target.shape == (40, 64, 3)


@pytest.mark.parametrize("seed", range(6))
def test_constant_image_blurs_to_the_constant(seed: int) -> None:
    # Warps reflect at the borders and moving segments are cut from the same image, so a flat scene must stay
    # flat whatever the trajectory: no black pulled in, no light lost or gained by the averaging.
    config = SynthesisConfig.clean(object_probability=1.0, blur_length=(0.2, 0.3), rotation_deg=3.0)
    flat = np.full((40, 56, 3), (30, 128, 220), dtype=np.uint8)
    blurred, target = synthesize(flat, seed, config)
    np.testing.assert_allclose(target, flat / 255, atol=1e-6)
    np.testing.assert_allclose(blurred, flat / 255, atol=1e-4)


def test_zero_motion_gives_the_target_itself() -> None:
    config = SynthesisConfig.clean(blur_length=(0.0, 0.0), rotation_deg=0.0, zoom=0.0, object_probability=0.0)
    photo = _photo()
    blurred, target = synthesize(photo, 5, config)
    np.testing.assert_array_equal(target, photo / np.float32(255))
    np.testing.assert_allclose(blurred, target, atol=1e-5)


def test_zero_motion_with_noise_differs_only_by_noise() -> None:
    config = dataclasses.replace(
        SynthesisConfig.clean(blur_length=(0.0, 0.0), rotation_deg=0.0, zoom=0.0, object_probability=0.0),
        noise_probability=1.0,
        shot_noise=(1e-3, 1e-3),
        read_noise=(5e-3, 5e-3),
    )
    photo = _photo()
    blurred, target = synthesize(photo, 5, config)
    diff = blurred - target
    assert abs(float(diff.mean())) < 0.01  # zero-mean noise, no shift or blur
    assert 0.005 < float(diff.std()) < 0.1


def _centroid_shift(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ys, xs = np.mgrid[0 : a.shape[0], 0 : a.shape[1]]
    wa, wb = a.mean(axis=2), b.mean(axis=2)
    return np.array(
        [
            (ys * wb).sum() / wb.sum() - (ys * wa).sum() / wa.sum(),
            (xs * wb).sum() / wb.sum() - (xs * wa).sum() / wa.sum(),
        ]
    )


def test_target_is_the_middle_of_a_straight_constant_speed_blur() -> None:
    # A bright dot on black, blurred by a straight, steady sweep: the blur must be centred on the target's dot
    # (the target is the middle sub-frame), and long (it really moved).
    config = SynthesisConfig.clean(
        blur_length=(0.3, 0.3),
        shake=(0.0, 0.0),
        acceleration=(0.0, 0.0),
        rotation_deg=0.0,
        zoom=0.0,
        object_probability=0.0,
        n_frames=(9, 9),
        gamma=1.0,
    )
    dot = np.zeros((65, 65, 3), dtype=np.float32)
    dot[30:35, 30:35] = 1.0
    for seed in range(4):
        blurred, target = synthesize(dot, seed, config)
        np.testing.assert_array_equal(target, dot)
        np.testing.assert_allclose(_centroid_shift(target, blurred), 0.0, atol=0.05)
        assert np.count_nonzero(blurred.mean(axis=2) > 1e-3) > 3 * 25
        np.testing.assert_allclose(blurred.sum(), dot.sum(), rtol=1e-3)  # light is conserved


def test_blur_is_averaged_in_linear_light() -> None:
    # Half the exposure on black, half on white gives 0.5 in linear light, which is 0.5 ** (1 / 2.2) in sRGB.
    config = SynthesisConfig.clean(
        blur_length=(0.5, 0.5),
        shake=(0.0, 0.0),
        acceleration=(0.0, 0.0),
        rotation_deg=0.0,
        zoom=0.0,
        object_probability=0.0,
    )
    edge = np.zeros((64, 64, 3), dtype=np.float32)
    edge[:, 32:] = 1.0
    blurred, _ = synthesize(edge, 0, config)
    assert blurred.min() < 0.05 and blurred.max() > 0.95
    # the average over the image is preserved in linear light (reflection keeps the black/white balance)
    assert abs(float(to_linear(blurred).mean()) - 0.5) < 0.02
    assert abs(float(blurred.mean()) - 0.5) > 0.05  # so the sRGB mean is not 0.5


def test_moving_objects_make_the_blur_spatially_varying() -> None:
    # With no camera motion, an object moves alone: part of the image stays exactly sharp, part changes.
    config = SynthesisConfig.clean(
        blur_length=(0.0, 0.0),
        rotation_deg=0.0,
        zoom=0.0,
        object_probability=1.0,
        object_size=(0.2, 0.2),
        object_blur_length=(0.2, 0.2),
    )
    photo = _photo(96)
    blurred, target = synthesize(photo, 2, config)
    changed = np.abs(blurred - target).max(axis=2) > 0.02
    assert 0.02 < changed.mean() < 0.9


def test_a_still_camera_blurs_only_the_moving_segments() -> None:
    # Camera shake drawn long, but the camera holds still: most of the frame stays exactly sharp and the
    # moving segments blur; shaken, almost no pixel keeps its value.
    still = SynthesisConfig.clean(blur_length=(0.2, 0.2), object_probability=0.0, still_probability=1.0,
                                  object_size=(0.2, 0.2), object_blur_length=(0.2, 0.2))
    photo = _photo(96)
    for seed in range(3):
        blurred, target = synthesize(photo, seed, still)
        diff = np.abs(blurred - target).max(axis=2)
        assert (diff < 1e-4).mean() > 0.6 and (diff > 0.02).mean() > 0.02
        shaken, target = synthesize(photo, seed, dataclasses.replace(still, still_probability=0.0))
        assert (np.abs(shaken - target).max(axis=2) < 1e-4).mean() < 0.1


def test_highlights_saturate_and_streak() -> None:
    # A small white lamp on a dark scene: with the boost its streak stays saturated; without it, it fades.
    base = dict(blur_length=(0.4, 0.4), shake=(0.0, 0.0), rotation_deg=0.0, zoom=0.0, object_probability=0.0)
    lamp = np.full((64, 64, 3), 0.1, dtype=np.float32)
    lamp[30:34, 30:34] = 1.0
    plain, _ = synthesize(lamp, 4, SynthesisConfig.clean(**base))
    boosted, target = synthesize(
        lamp, 4, SynthesisConfig.clean(**base, highlight_probability=1.0, highlight_gain=(8.0, 8.0))
    )
    np.testing.assert_allclose(target, lamp, atol=1e-6)  # the target shows the lamp clipped, as it was
    assert plain.max() < 0.9
    assert np.count_nonzero(boosted.min(axis=2) > 0.99) > np.count_nonzero(lamp.min(axis=2) > 0.99)


def test_jpeg_and_quantisation_give_8_bit_values() -> None:
    config = SynthesisConfig(jpeg_probability=1.0, jpeg_quality=(50, 50))
    blurred, _ = synthesize(_photo(), 0, config)
    np.testing.assert_allclose(blurred * 255, np.round(blurred * 255), atol=1e-3)


def test_gamma_round_trip() -> None:
    codes = np.arange(256, dtype=np.uint8).reshape(16, 16)
    np.testing.assert_allclose(to_gamma(to_linear(codes)), codes / 255, atol=1e-6)
    np.testing.assert_allclose(to_linear(codes), (codes / 255) ** 2.2, rtol=1e-5)


def test_invalid_inputs_and_configs_are_rejected() -> None:
    with pytest.raises(ValueError, match="H x W x 3"):
        synthesize(np.zeros((8, 8), dtype=np.uint8), 0)
    with pytest.raises(ValueError, match="dtype"):
        synthesize(np.zeros((8, 8, 3), dtype=np.int32), 0)
    with pytest.raises(ValueError, match="n_frames"):
        SynthesisConfig(n_frames=(9, 7))
    with pytest.raises(ValueError, match="jpeg_quality"):
        SynthesisConfig(jpeg_quality=(0, 90))


def test_overrides_parse_to_the_field_type() -> None:
    assert SynthesisConfig.parse_override("blur_length=0.01,0.3") == ("blur_length", (0.01, 0.3))
    assert SynthesisConfig.parse_override("n_frames=5,9") == ("n_frames", (5, 9))
    assert SynthesisConfig.parse_override("max_samples=48") == ("max_samples", 48)
    assert SynthesisConfig.parse_override("quantize=false") == ("quantize", False)
    with pytest.raises(ValueError, match="FIELD one of n_frames, blur_length"):
        SynthesisConfig.parse_override("blur=0.3")
    with pytest.raises(ValueError, match="blur_length takes LO,HI"):
        SynthesisConfig.parse_override("blur_length=0.3")
    with pytest.raises(ValueError, match="n_frames takes LO,HI"):
        SynthesisConfig.parse_override("n_frames=7.5,9")
