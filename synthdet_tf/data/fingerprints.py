"""Upsampler fingerprints synthesised on the fly: FAKE examples made from real photos.

A generator writes its image through upsampling layers, and each kind leaves a
periodic trace in how neighbouring pixels depend on each other (NPR, Tan et al.
CVPR 2024). Randomly initialised upsamplers leave traces of the same kinds
(FingerprintNet, Jeong et al. ECCV 2022), so a stream of them gives the local
model generation traces in a volume no public corpus holds here.

The trace is added to the real photo rather than replacing it: a photo pushed
through a down/up path loses its fine detail, and a model fed that learns
"blurry = fake" (issue 17's probe). Here

    d     = 2x2 (or 4x4) mean of the real photo x
    trace = U(d) - bilinear(d)     U: a random upsampler, nearest / transposed
                                   convolution / pixel shuffle / bilinear, each
                                   followed by a random near-identity 3x3 conv
    fake  = x + a * trace          a sets the PSNR against x (drawn, 30-42 dB)

so the fake keeps every pixel of detail of its real and differs from it only by
the upsampler's trace, at a strength a decoder's would have. Config
`data.synth` (see `configs/synthdet_v4_local.py`): `share` of the FAKE draws,
`psnr` range, `jitter` range of the random weights, `factors`.
"""

import tensorflow as tf

from synthdet_tf.preprocess.policy import to_uint8

KINDS = ("nearest", "transposed", "pixel_shuffle", "bilinear")


def _bilinear_kernel():
    """The 4x4 transposed-convolution kernel of exact bilinear 2x upsampling (per channel)."""
    taps = tf.constant([0.25, 0.75, 0.75, 0.25], tf.float32)
    return tf.tensordot(taps, taps, axes=0)


def _upsample_once(d, kind, seed, jitter):
    """float [1, h, w, 3] -> [1, 2h, 2w, 3] through a random upsampler of `kind` (int tensor)."""
    seeds = tf.random.experimental.stateless_split(seed, 3)
    shape = tf.shape(d)
    size = 2 * shape[1:3]

    def nearest():
        return tf.image.resize(d, size, method="nearest")

    def bilinear():
        return tf.image.resize(d, size, method="bilinear")

    def transposed():
        base = _bilinear_kernel()[:, :, None, None] * tf.eye(3)[None, None]
        kernel = base + tf.random.stateless_normal([4, 4, 3, 3], seed=seeds[0]) * jitter * 0.25
        padded = tf.pad(d, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="SYMMETRIC")
        up = tf.nn.conv2d_transpose(padded, kernel, [1, 2 * shape[1] + 4, 2 * shape[2] + 4, 3], 2, padding="SAME")
        return up[:, 2:-2, 2:-2, :]

    def pixel_shuffle():
        # depth_to_space reads channel (row * 2 + col) * 3 + colour: each sub-pixel starts as a copy.
        eye = tf.tile(tf.eye(3), [1, 4])
        kernel = (eye + tf.random.stateless_normal([3, 12], seed=seeds[0]) * jitter)[None, None]
        return tf.nn.depth_to_space(tf.nn.conv2d(d, kernel, 1, "SAME"), 2)

    up = tf.switch_case(kind, [nearest, transposed, pixel_shuffle, bilinear])
    up = tf.ensure_shape(up, [1, None, None, 3])
    identity = tf.eye(3)[None, None] * tf.pad(tf.ones([1, 1]), [[1, 1], [1, 1]])[:, :, None, None]  # 3x3, centre tap
    kernel = identity + tf.random.stateless_normal([3, 3, 3, 3], seed=seeds[1]) * jitter * 0.25
    return tf.nn.conv2d(tf.pad(up, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="SYMMETRIC"), kernel, 1, "VALID")


def _draw(seed, low, high):
    return tf.random.stateless_uniform([], seed=seed, minval=float(low), maxval=float(high))


def trace(image, seed, jitter=(0.05, 0.5), factors=(2, 4)):
    """The random upsampler's trace for uint8 [H, W, 3] `image` (H, W multiples of max(factors)).

    Returns float32 [H, W, 3]: U(d) - bilinear(d), zero where U is bilinear
    with identity weights.
    """
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 8)
    x = tf.cast(image, tf.float32)[None]
    kind = tf.random.stateless_uniform([], seed=seeds[0], maxval=len(KINDS), dtype=tf.int32)
    stages = tf.random.stateless_uniform([], seed=seeds[1], maxval=len(factors), dtype=tf.int32)
    strength = _draw(seeds[2], *jitter)
    shape = tf.shape(x)

    def through(n_stages):
        def run():
            factor = 2**n_stages
            d = tf.nn.avg_pool2d(x, factor, factor, "VALID")
            up = d
            for stage in range(n_stages):
                up = _upsample_once(up, kind, seeds[3 + stage], strength)
            return up - tf.image.resize(d, shape[1:3], method="bilinear")
        return run

    branches = [through(f.bit_length() - 1) for f in factors]
    return tf.switch_case(stages, branches)[0]


def synthesize(image, seed, psnr=(30.0, 42.0), jitter=(0.05, 0.5), factors=(2, 4)):
    """uint8 [H, W, 3] real photo -> uint8 [H', W', 3] fake with a random upsampler's trace.

    H', W' are H, W cut down to multiples of max(factors) (a few pixels at
    most). The trace is scaled so the fake's PSNR against the real is drawn
    uniformly from `psnr` (before rounding to uint8).
    """
    if any(f < 2 or f & (f - 1) for f in factors):
        raise ValueError(f"factors are total upsampling factors built from 2x stages (2, 4, 8, ...); got {factors}")
    multiple = max(factors)
    shape = tf.shape(image)
    image = image[: shape[0] // multiple * multiple, : shape[1] // multiple * multiple]
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 2)
    t = trace(image, seeds[0], jitter, factors)
    target_mse = 255.0**2 / 10.0 ** (_draw(seeds[1], *psnr) / 10.0)
    scale = tf.sqrt(target_mse / tf.maximum(tf.reduce_mean(tf.square(t)), 1e-6))
    return to_uint8(tf.cast(image, tf.float32) + scale * t)

