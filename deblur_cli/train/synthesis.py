"""Motion-blur synthesis from one sharp photo, following the GoPro recipe of averaging frames in linear light.

A camera-shake trajectory (a Boracchi & Foi 2012 random walk with inertia, traversed with a random
acceleration, plus in-plane rotation and a little zoom) and, sometimes, independently moving foreground
segments give a pose for every sub-frame of a simulated 240 fps burst. Each sub-frame is the photo warped to
its pose (borders reflected, never black); the sub-frames are averaged in linear light, so the blur kernel
varies across the image. Then come bright lights that saturate and streak, Poisson-Gaussian sensor noise,
8-bit quantisation and JPEG compression. The sharp target is the scene at the centre of the exposure, where
every pose is the identity: it is the input itself (with any pasted segments), never resampled, and it is
aligned with the blur (blurring a constant image gives the constant).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import cv2
import numpy as np

from ..errors import ImageWriteError
from ..overrides import parse_field_override

__all__ = ["SynthesisConfig", "synthesize", "to_linear", "to_gamma"]


@dataclass(frozen=True)
class SynthesisConfig:
    """Ranges that each synthesis draws from; ``(lo, hi)`` pairs are sampled uniformly unless noted.

    Lengths are fractions of the image's longer side, so the same config suits any crop size.
    """

    n_frames: tuple[int, int] = (7, 13)
    """Frames averaged (inclusive range), as in GoPro's 7-13 frames at 240 fps."""
    blur_length: tuple[float, float] = (0.01, 0.15)
    """Camera path length over the exposure (pixels / longer side)."""
    shake: tuple[float, float] = (0.0, 0.4)
    """Boracchi-Foi 'anxiety': 0 gives a straight sweep, higher values a jittery, curved path."""
    acceleration: tuple[float, float] = (-0.8, 0.8)
    """Speed change over the exposure: the path is traversed at speed proportional to 1 + a (2t - 1)."""
    rotation_deg: float = 1.0
    """Largest in-plane rotation over the exposure, in degrees (drawn in [-r, r])."""
    zoom: float = 0.01
    """Largest relative scale change over the exposure (drawn in [-z, z])."""
    object_probability: float = 0.5
    """Probability that the scene has independently moving foreground segments (1 or 2 of them)."""
    still_probability: float = 0.0
    """Probability that the camera holds still, so only the moving segments blur on a sharp background (a
    moving subject shot from a tripod): blur that covers part of the frame, where the sampling policy must
    learn that sharp detail is not hard. Such scenes always get moving segments."""
    object_size: tuple[float, float] = (0.1, 0.35)
    """Radius of a moving segment (fraction of the longer side)."""
    object_blur_length: tuple[float, float] = (0.02, 0.15)
    """Path length of a moving segment over the exposure, relative to the camera (fraction of longer side)."""
    object_rotation_deg: float = 5.0
    """Largest rotation of a moving segment over the exposure, in degrees."""
    object_zoom: float = 0.05
    """Largest relative scale change of a moving segment over the exposure (approaching / receding)."""
    duty_cycle: tuple[float, float] = (0.5, 1.0)
    """Fraction of each frame interval the shutter is open: below 1 leaves faint gaps between copies."""
    max_step_px: float = 2.0
    """Largest displacement between two rendered sub-samples; frames are subdivided to stay under it."""
    max_samples: int = 32
    """Cap on rendered sub-samples (frames x subdivisions), bounding the cost of very long blurs."""
    gamma: float = 2.2
    """Camera response undone before averaging and redone after (GoPro used about 2.2)."""
    highlight_probability: float = 0.5
    """Probability of boosting near-white pixels above 1 in linear light, so they streak when averaged."""
    highlight_threshold: float = 0.9
    """sRGB luminance from which the boost ramps in."""
    highlight_gain: tuple[float, float] = (2.0, 6.0)
    """Linear-light gain of the brightest pixels before the final clip."""
    noise_probability: float = 0.9
    """Probability of adding sensor noise."""
    shot_noise: tuple[float, float] = (1e-4, 5e-3)
    """Poisson gain a in var = a x + b (linear light; log-uniform)."""
    read_noise: tuple[float, float] = (5e-4, 5e-3)
    """Read-noise standard deviation sqrt(b) (linear light; log-uniform)."""
    quantize: bool = True
    """Round the blurred image to 8 bits, as every camera file is."""
    jpeg_probability: float = 0.6
    """Probability of a JPEG round trip (implies 8-bit quantisation)."""
    jpeg_quality: tuple[int, int] = (60, 98)
    """JPEG quality range (inclusive)."""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple) and (len(value) != 2 or value[0] > value[1]):
                raise ValueError(f"SynthesisConfig.{f.name} must be a (lo, hi) pair, lo <= hi; got {value}")
        if self.n_frames[0] < 1:
            raise ValueError(f"SynthesisConfig.n_frames must be >= 1, got {self.n_frames}")
        if min(self.blur_length[0], self.object_blur_length[0], self.rotation_deg, self.zoom) < 0:
            raise ValueError("SynthesisConfig lengths, rotation and zoom must be >= 0")
        if not 0 < self.duty_cycle[0] <= self.duty_cycle[1] <= 1:
            raise ValueError(f"SynthesisConfig.duty_cycle must lie in (0, 1], got {self.duty_cycle}")
        if self.max_step_px <= 0 or self.max_samples < 1 or self.gamma <= 0:
            raise ValueError("SynthesisConfig.max_step_px, max_samples and gamma must be positive")
        if min(self.shot_noise[0], self.read_noise[0]) <= 0:
            raise ValueError("SynthesisConfig noise ranges must be positive (they are drawn log-uniformly)")
        if not 1 <= self.jpeg_quality[0] <= self.jpeg_quality[1] <= 100:
            raise ValueError(f"SynthesisConfig.jpeg_quality must lie in [1, 100], got {self.jpeg_quality}")
        for name in ("object_probability", "still_probability", "highlight_probability", "noise_probability",
                     "jpeg_probability"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"SynthesisConfig.{name} must lie in [0, 1]")

    @classmethod
    def clean(cls, **overrides: object) -> SynthesisConfig:
        """Blur only: no highlights, noise, quantisation or JPEG (for tests and for studying the blur)."""
        settings: dict[str, object] = {
            "highlight_probability": 0.0,
            "noise_probability": 0.0,
            "quantize": False,
            "jpeg_probability": 0.0,
        }
        settings.update(overrides)
        return cls(**settings)  # type: ignore[arg-type]

    @classmethod
    def parse_override(cls, text: str) -> tuple[str, object]:
        """``"blur_length=0.01,0.3"`` as ``("blur_length", (0.01, 0.3))``, typed like the field's default, so
        a command line can change any range; raises ValueError naming the fields on a bad name or value."""
        return parse_field_override(cls, text, pairs=True)


_LUT_CACHE: dict[float, np.ndarray] = {}


def _uint8_lut(gamma: float) -> np.ndarray:
    """Linear-light values of the 256 sRGB codes (gamma curve), cached per gamma."""
    lut = _LUT_CACHE.get(gamma)
    if lut is None:
        lut = ((np.arange(256, dtype=np.float64) / 255.0) ** gamma).astype(np.float32)
        _LUT_CACHE[gamma] = lut
    return lut


def to_linear(image: np.ndarray, gamma: float = 2.2) -> np.ndarray:
    """Undo the camera's gamma: uint8 or float [0, 1] sRGB -> float32 linear light."""
    if image.dtype == np.uint8:
        return _uint8_lut(gamma)[image]
    return np.power(np.clip(image, 0.0, None, dtype=np.float32), np.float32(gamma))


def to_gamma(linear: np.ndarray, gamma: float = 2.2) -> np.ndarray:
    """Redo the camera's gamma: float linear light -> float32 sRGB (values above 1 are clipped first)."""
    return np.power(np.clip(linear, 0.0, 1.0, dtype=np.float32), np.float32(1.0 / gamma))


def _as_float_rgb(image: np.ndarray) -> np.ndarray:
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an H x W x 3 RGB image, got shape {image.shape}")
    if image.dtype == np.uint8:
        return image
    if image.dtype in (np.float32, np.float64):
        return image.astype(np.float32, copy=False)
    raise ValueError(f"expected uint8 or float [0, 1] pixels, got dtype {image.dtype}")


def _rng(rng: np.random.Generator | int) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _log_uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    return float(math.exp(rng.uniform(math.log(bounds[0]), math.log(bounds[1]))))


def _random_walk(rng: np.random.Generator, length: float, anxiety: float, n_points: int = 64) -> np.ndarray:
    """Boracchi & Foi (2012) camera trajectory: a constant-speed random walk with inertia, centripetal pull
    and rare abrupt shakes, ``n_points`` x 2 positions whose path length is ``length`` pixels."""
    step = length / (n_points - 1)
    centripetal = 0.7 * rng.random()
    gaussian_term = 10.0 * rng.random()
    freq_big_shakes = 0.2 * rng.random()
    angle = rng.uniform(0.0, 2.0 * math.pi)
    velocity = complex(math.cos(angle), math.sin(angle)) * step
    points = np.zeros(n_points, dtype=np.complex128)
    for t in range(n_points - 1):
        shake = 0j
        if rng.random() < freq_big_shakes * anxiety:
            turn = math.pi + rng.random() - 0.5
            shake = 2.0 * velocity * complex(math.cos(turn), math.sin(turn))
        pull = gaussian_term * complex(rng.standard_normal(), rng.standard_normal()) - centripetal * points[t]
        velocity += shake + anxiety * pull * step
        speed = abs(velocity)
        velocity = velocity / speed * step if speed > 0 else complex(step, 0.0)
        points[t + 1] = points[t] + velocity
    return np.stack([points.real, points.imag], axis=1)


class _Motion:
    """A similarity-transform path over normalised exposure time s in [0, 1], the identity at s = 0.5."""

    def __init__(
        self,
        rng: np.random.Generator,
        *,
        length: float,
        anxiety: float,
        acceleration: float,
        rotation: float,
        zoom: float,
        center: tuple[float, float],
    ) -> None:
        self.path = _random_walk(rng, length, anxiety) if length > 0 else np.zeros((2, 2))
        self.grid = np.linspace(0.0, 1.0, len(self.path))
        self.acceleration = acceleration
        self.rotation = rotation
        self.zoom = zoom
        self.center = center

    def _progress(self, s: np.ndarray) -> np.ndarray:
        # Fraction of the path covered at time s: u(s) = s + a s (s - 1), monotone for |a| <= 1, with speed
        # u'(s) = 1 + a (2 s - 1): the camera accelerates (a > 0) or slows down (a < 0).
        return s + self.acceleration * s * (s - 1.0)

    def matrices(self, times: np.ndarray) -> np.ndarray:
        """T x 3 x 3 poses: rotate and zoom about ``center``, then translate along the path."""
        u = self._progress(np.concatenate([[0.5], times]))
        x = np.interp(u, self.grid, self.path[:, 0])
        y = np.interp(u, self.grid, self.path[:, 1])
        du, tx, ty = u[1:] - u[0], x[1:] - x[0], y[1:] - y[0]
        scale = np.exp(self.zoom * du)
        cos, sin = scale * np.cos(self.rotation * du), scale * np.sin(self.rotation * du)
        cx, cy = self.center
        out = np.zeros((len(times), 3, 3))
        out[:, 0, 0], out[:, 0, 1], out[:, 0, 2] = cos, -sin, cx - cos * cx + sin * cy + tx
        out[:, 1, 0], out[:, 1, 1], out[:, 1, 2] = sin, cos, cy - sin * cx - cos * cy + ty
        out[:, 2, 2] = 1.0
        return out


def _blob_mask(
    rng: np.random.Generator, shape: tuple[int, int], center: np.ndarray, radius: float
) -> np.ndarray:
    """A random star-shaped blob (float32 in [0, 1], anti-aliased edge) around ``center``."""
    n = int(rng.integers(5, 12))
    angles = np.sort(rng.uniform(0.0, 2.0 * math.pi, n))
    radii = radius * rng.uniform(0.5, 1.0, n)
    pts = np.stack([center[0] + radii * np.cos(angles), center[1] + radii * np.sin(angles)], axis=1)
    mask = np.zeros(shape, dtype=np.float32)
    cv2.fillPoly(mask, [np.round(pts * 16).astype(np.int32)], 1.0, lineType=cv2.LINE_AA, shift=4)
    return cv2.GaussianBlur(mask, (0, 0), sigmaX=max(1.0, 0.03 * radius))


def _warp(image: np.ndarray, matrix: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return cv2.warpAffine(image, matrix[:2], size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)


def _largest_step(poses: np.ndarray, corners: np.ndarray) -> float:
    """Largest displacement of an image corner between consecutive poses (T x 3 x 3)."""
    moved = np.einsum("tij,cj->tci", poses[:, :2], corners)
    return float(np.abs(np.diff(moved, axis=0)).max()) if len(poses) > 1 else 0.0


class _ObjectLayer:
    """A moving segment rendered only inside the box its mask sweeps over the exposure (saves most warps)."""

    def __init__(self, poses: np.ndarray, texture: np.ndarray, mask: np.ndarray) -> None:
        h, w = mask.shape
        ys, xs = np.nonzero(mask > 0)
        box = np.array(
            [
                [xs.min(), ys.min(), 1.0],
                [xs.max() + 1, ys.min(), 1.0],
                [xs.min(), ys.max() + 1, 1.0],
                [xs.max() + 1, ys.max() + 1, 1.0],
            ]
        )
        swept = np.einsum("tij,cj->tci", poses[:, :2], box).reshape(-1, 2)
        self.x0, self.y0 = (max(0, int(np.floor(v)) - 1) for v in swept.min(axis=0))
        self.x1 = min(w, int(np.ceil(swept[:, 0].max())) + 1)
        self.y1 = min(h, int(np.ceil(swept[:, 1].max())) + 1)
        shift = np.array([[1.0, 0.0, -self.x0], [0.0, 1.0, -self.y0], [0.0, 0.0, 1.0]])
        self.poses = shift @ poses
        self.texture = texture
        self.mask = mask

    def composite(self, frame: np.ndarray, t: int) -> None:
        """Paint the segment at sub-sample ``t`` over ``frame`` (in place)."""
        if self.x1 <= self.x0 or self.y1 <= self.y0:
            return
        size = (self.x1 - self.x0, self.y1 - self.y0)
        alpha = _warp(self.mask, self.poses[t], size)
        texture = _warp(self.texture, self.poses[t], size)
        roi = frame[self.y0 : self.y1, self.x0 : self.x1]
        roi[...] = cv2.blendLinear(texture, roi, alpha, 1.0 - alpha)


def synthesize(
    sharp: np.ndarray, rng: np.random.Generator | int, config: SynthesisConfig | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Blur a sharp H x W x 3 RGB photo (uint8, or float in [0, 1]) by camera shake and moving objects.

    Returns ``(blurred, sharp_target)``, both H x W x 3 float32 in [0, 1]; the same seed gives the same pair.
    """
    config = config or SynthesisConfig()
    rng = _rng(rng)
    image = _as_float_rgb(sharp)
    h, w = image.shape[:2]
    size = (w, h)
    longer = float(max(h, w))
    lin = to_linear(image, config.gamma)
    boosted = False
    if rng.random() < config.highlight_probability:
        lin, boosted = _boost_highlights(rng, image, lin, config)

    n_frames = int(rng.integers(config.n_frames[0], config.n_frames[1] + 1))
    duty = float(rng.uniform(*config.duty_cycle))
    camera = _Motion(
        rng,
        length=float(rng.uniform(*config.blur_length)) * longer,
        anxiety=float(rng.uniform(*config.shake)),
        acceleration=float(rng.uniform(*config.acceleration)),
        rotation=math.radians(float(rng.uniform(-config.rotation_deg, config.rotation_deg))),
        zoom=float(rng.uniform(-config.zoom, config.zoom)),
        center=(float(rng.uniform(0, w)), float(rng.uniform(0, h))),
    )

    # no draw at probability 0, so recipes without it keep their random stream
    still = bool(config.still_probability) and rng.random() < config.still_probability
    if still:
        camera = _Motion(
            rng, length=0.0, anxiety=0.0, acceleration=0.0, rotation=0.0, zoom=0.0, center=(0.0, 0.0)
        )

    # Moving segments: texture taken from elsewhere in the photo, cut out by a blob, on their own path.
    objects: list[tuple[_Motion, np.ndarray, np.ndarray]] = []
    if still or rng.random() < config.object_probability:
        for _ in range(int(rng.integers(1, 3))):
            center = np.array([rng.uniform(0, w), rng.uniform(0, h)])
            mask = _blob_mask(rng, (h, w), center, float(rng.uniform(*config.object_size)) * longer)
            if not mask.any():  # too small to cover a pixel (tiny images)
                continue
            source = np.array([rng.uniform(0, w), rng.uniform(0, h)])
            dx, dy = center - source
            texture = _warp(lin, np.array([[1.0, 0.0, dx], [0.0, 1.0, dy], [0.0, 0.0, 1.0]]), size)
            motion = _Motion(
                rng,
                length=float(rng.uniform(*config.object_blur_length)) * longer,
                anxiety=float(rng.uniform(*config.shake)) * 0.5,
                acceleration=float(rng.uniform(*config.acceleration)),
                rotation=math.radians(float(rng.uniform(-1.0, 1.0)) * config.object_rotation_deg),
                zoom=float(rng.uniform(-config.object_zoom, config.object_zoom)),
                center=(float(center[0]), float(center[1])),
            )
            objects.append((motion, texture, mask))

    # Sub-sample times: frame k is centred at k, its shutter open for `duty` of the frame interval; the whole
    # exposure maps to s in [0, 1] with the centre (the target) at s = 0.5.
    start, end = -duty / 2.0, n_frames - 1 + duty / 2.0
    frame_times = (np.arange(n_frames) - start) / (end - start)
    corners = np.array([[0.0, 0.0, 1.0], [w, 0.0, 1.0], [0.0, h, 1.0], [w, h, 1.0]])
    step = max(_largest_step(m.matrices(frame_times), corners) for m in [camera] + [o[0] for o in objects])
    per_frame = max(1, min(math.ceil(step * duty / config.max_step_px), config.max_samples // n_frames))
    offsets = ((np.arange(per_frame) + 0.5) / per_frame - 0.5) * duty / (end - start)
    times = (frame_times[:, None] + offsets[None, :]).ravel()

    camera_poses = camera.matrices(times)
    layers = [
        _ObjectLayer(camera_poses @ motion.matrices(times), texture, mask)
        for motion, texture, mask in objects
    ]
    total = np.zeros_like(lin)
    for t, pose in enumerate(camera_poses):
        frame = _warp(lin, pose, size)
        for layer in layers:
            layer.composite(frame, t)
        cv2.accumulate(frame, total)
    blurred_lin = total / np.float32(len(times))

    target_lin = lin
    for _, texture, mask in objects:
        target_lin = target_lin + mask[..., None] * (texture - target_lin)

    if rng.random() < config.noise_probability:
        a = _log_uniform(rng, config.shot_noise)
        b = _log_uniform(rng, config.read_noise) ** 2
        clipped = np.clip(blurred_lin, 0.0, 1.0)
        noise = rng.standard_normal(clipped.shape, dtype=np.float32)
        blurred_lin = clipped + np.sqrt(a * clipped + b).astype(np.float32) * noise

    blurred = to_gamma(blurred_lin, config.gamma)
    if rng.random() < config.jpeg_probability:
        quality = int(rng.integers(config.jpeg_quality[0], config.jpeg_quality[1] + 1))
        blurred = _jpeg_round_trip(blurred, quality)
    elif config.quantize:
        blurred = np.round(blurred * 255.0) / np.float32(255.0)
    if objects or boosted:
        target = to_gamma(target_lin, config.gamma)
    else:  # the input itself, bit for bit (no gamma round trip)
        target = image / np.float32(255) if image.dtype == np.uint8 else np.clip(image, 0.0, 1.0)
    return blurred.astype(np.float32, copy=False), target.astype(np.float32, copy=False)


def _boost_highlights(
    rng: np.random.Generator, image: np.ndarray, lin: np.ndarray, config: SynthesisConfig
) -> tuple[np.ndarray, bool]:
    """Make near-white pixels brighter than the sensor's clip in linear light, so their average streaks.

    Photos store bright lights clipped at 1; a real lamp is many times brighter, so its blur is a saturated
    streak rather than a grey smear. Pixels ramp from gain 1 at ``highlight_threshold`` luma to ``gain`` at
    white. Both the blurred image and the target come from this scene, so the target shows it clipped.
    """
    srgb = image.astype(np.float32) / np.float32(255) if image.dtype == np.uint8 else image
    luma = srgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    ramp = np.clip((luma - config.highlight_threshold) / (1.0 - config.highlight_threshold), 0.0, 1.0)
    if not ramp.any():
        return lin, False
    gain = np.float32(rng.uniform(*config.highlight_gain))
    return lin * (1.0 + (gain - 1.0) * ramp)[..., None], True


def _jpeg_round_trip(image: np.ndarray, quality: int) -> np.ndarray:
    """Encode and decode an RGB float image as JPEG at ``quality`` (4:2:0, as cameras and the web do)."""
    bgr = cv2.cvtColor(np.round(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8), cv2.COLOR_RGB2BGR)
    ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ImageWriteError("OpenCV failed to encode a JPEG in memory")
    decoded = cv2.imdecode(data, cv2.IMREAD_COLOR)
    return cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB).astype(np.float32) / np.float32(255)
