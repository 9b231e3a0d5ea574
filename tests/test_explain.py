"""Grad-CAM finds a planted cue: a bright patch that alone decides the label."""

import keras
import numpy as np
from ml_collections import ConfigDict

from synthdet_tf.detect.explain import cam_model, grad_cam
from synthdet_tf.models import build_model

SIZE = 32


def patch_images(n, seed):
    """Noise images; FAKE ones carry a bright 8 x 8 patch at a random place. Returns images, labels, patch masks."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 120, (n, SIZE, SIZE, 3)).astype(np.uint8)
    labels = np.arange(n) % 2
    masks = np.zeros((n, SIZE, SIZE), bool)
    for i in np.flatnonzero(labels):
        top, left = rng.integers(0, SIZE - 8, 2)
        images[i, top : top + 8, left : left + 8] = 255
        masks[i, top : top + 8, left : left + 8] = True
    return images, labels.astype(np.float32), masks


def test_grad_cam_highlights_the_patch_that_decides_the_label():
    keras.utils.set_random_seed(0)
    model = build_model(ConfigDict({"backbone": "tiny", "weights": "", "dropout": 0.0, "npr": False}), SIZE)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss=keras.losses.BinaryCrossentropy(from_logits=True))
    x, y, _ = patch_images(512, seed=0)
    model.fit(x, y, epochs=8, batch_size=32, verbose=0)
    x, y, masks = patch_images(32, seed=1)
    cams, logits = grad_cam(cam_model(model), x)
    cams, logits = cams.numpy(), logits.numpy()
    fake = np.flatnonzero(y == 1)
    assert np.mean((logits[fake] > 0) == 1) > 0.9  # the model learned the cue
    inside = np.array([cams[i][masks[i]].mean() for i in fake])
    outside = np.array([cams[i][~masks[i]].mean() for i in fake])
    assert cams.shape == (32, SIZE, SIZE) and 0.0 <= cams.min() and cams.max() <= 1.0 + 1e-6
    assert np.mean(inside > 2 * outside) > 0.8, (inside, outside)
