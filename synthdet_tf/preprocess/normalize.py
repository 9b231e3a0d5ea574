"""Per-backbone normalisation of uint8-range pixels to the backbone's input.

Each backbone was (or will be) trained with one normalisation; using another at
inference silently shifts every score, so the mapping lives here and nowhere
else:

| scheme     | formula                                 | backbones                    |
|------------|-----------------------------------------|------------------------------|
| `imagenet` | (x / 255 - mean) / std, RGB             | resnet18, resnet34, tiny     |
| `caffe`    | RGB -> BGR, x - [103.939, 116.779, 123.68] | resnet50 (keras.applications) |
| `lite`     | (x - 127) / 128                         | efficientnet_lite0           |

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
}


def _imagenet(x):
    return (x / 255.0 - tf.constant(_IMAGENET_MEAN)) / tf.constant(_IMAGENET_STD)


def _caffe(x):
    return x[..., ::-1] - tf.constant(_CAFFE_BGR_MEAN)


def _lite(x):
    return (x - 127.0) / 128.0


_SCHEMES = {"imagenet": _imagenet, "caffe": _caffe, "lite": _lite}


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
    return _SCHEMES[scheme_of(backbone)](tf.cast(images, tf.float32))
