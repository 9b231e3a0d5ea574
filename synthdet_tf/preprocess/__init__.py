"""What the model sees: the one preprocessing definition.

Training (`synthdet_tf.data.pipeline`), export and inference all import this
package, so a served model sees exactly the pixels the trained one saw:

    bytes --decode_image--> uint8 [H, W, 3]
          --apply_policy--> uint8 [S, S, 3]      (resize / crop, at `image_size`)
          --Normalize-----> float32 [S, S, 3]   (per backbone; the model's first layer)

Training adds augmentation (`synthdet_tf.data.augment`) between the policy and
the model; evaluation and serving never do. Every step here is plain
TensorFlow, so it runs inside a `tf.data` map and inside an exported graph.
Models take uint8-range pixels and normalise inside (`Normalize`), so what a
phone app or a TF Serving client hands over is plain RGB.

A `PreprocessSpec` names the three choices (policy, image size, backbone) and
round-trips through a dict, so it can travel with an exported model.
"""

from synthdet_tf.preprocess.decode import decode_image
from synthdet_tf.preprocess.layer import Normalize
from synthdet_tf.preprocess.normalize import NORMALIZATION_OF_BACKBONE, normalize
from synthdet_tf.preprocess.policy import POLICIES, apply_policy
from synthdet_tf.preprocess.spec import PreprocessSpec, eval_transform

__all__ = [
    "NORMALIZATION_OF_BACKBONE",
    "Normalize",
    "POLICIES",
    "PreprocessSpec",
    "apply_policy",
    "decode_image",
    "eval_transform",
    "normalize",
]
