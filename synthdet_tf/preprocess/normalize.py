"""Per-backbone normalisation of uint8-range pixels to the backbone's input.

Each backbone was (or will be) trained with one normalisation; using another at
inference silently shifts every score, so the mapping lives here and nowhere
else:

| scheme     | formula                                 | backbones                    |
|------------|-----------------------------------------|------------------------------|
| `imagenet` | (x / 255 - mean) / std, RGB             | resnet18, resnet34, tiny     |
| `caffe`    | RGB -> BGR, x - [103.939, 116.779, 123.68] | resnet50 (keras.applications) |
| `lite`     | (x - 127) / 128                         | efficientnet_lite0, _lite2, local |

`caffe` is what `keras.applications.resnet50.preprocess_input` does; it is
written out so that export and detect need not import keras.applications.
"""

import tensorflow as tf

_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)
_CAFFE_BGR_MEAN = (103.939, 116.779, 123.68)

NORMALIZATION_OF_BACKBONE = {
    "tiny": "imagenet",
    "resnet18": "imagenet",
    "resnet34": "imagenet",
    "resnet50": "caffe",
    "efficientnet_lite0": "lite",
    "efficientnet_lite2": "lite",
    "local": "lite",
}


# scheme -> (reverse channels to BGR, scale, offset): out = x * scale + offset.
# One multiply-add on a batch; the channel swap runs on uint8, before the cast
# (a float32 x[..., ::-1] alone halved the pipeline's throughput).
_SCHEMES = {
    "imagenet": (
        False,
        tuple(1.0 / (255.0 * s) for s in _IMAGENET_STD),
        tuple(-m / s for m, s in zip(_IMAGENET_MEAN, _IMAGENET_STD)),
    ),
    "caffe": (True, (1.0, 1.0, 1.0), tuple(-m for m in _CAFFE_BGR_MEAN)),
    "lite": (False, (1.0 / 128.0,) * 3, (-127.0 / 128.0,) * 3),
}


def scheme_of(backbone: str) -> str:
    """Returns the normalisation scheme name of a backbone."""
    try:
        return NORMALIZATION_OF_BACKBONE[backbone]
    except KeyError:
        raise ValueError(
            f"Unknown backbone {backbone!r} for normalisation; "
            f"known: {sorted(NORMALIZATION_OF_BACKBONE)}"
        ) from None


def normalize(images: tf.Tensor, backbone: str) -> tf.Tensor:
    """Maps uint8-range images ([..., 3], any dtype) to float32 backbone input."""
    to_bgr, scale, offset = _SCHEMES[scheme_of(backbone)]
    if to_bgr:
        images = tf.reverse(images, axis=[-1])
    return tf.cast(images, tf.float32) * tf.constant(scale) + tf.constant(offset)
