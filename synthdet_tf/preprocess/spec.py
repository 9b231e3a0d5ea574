"""The preprocessing choices of one model, as a value that travels with it."""

import dataclasses

import tensorflow as tf

from synthdet_tf.preprocess.decode import decode_image
from synthdet_tf.preprocess.normalize import scheme_of
from synthdet_tf.preprocess.policy import apply_policy, check_policy, decode_min_side


@dataclasses.dataclass(frozen=True)
class PreprocessSpec:
    """policy + image size + backbone: everything between bytes and the model.

    `crops`: how many native-resolution crops inference scores per image and
    pools (a crop model's tiling; 1 = the policy's one view).
    """

    policy: str = "resize"
    image_size: int = 224
    backbone: str = "resnet50"
    crops: int = 1

    def __post_init__(self):
        check_policy(self.policy)
        scheme_of(self.backbone)
        if int(self.image_size) < 8:
            raise ValueError(f"image_size must be at least 8, got {self.image_size}")
        if int(self.crops) < 1:
            raise ValueError(f"crops must be at least 1, got {self.crops}")

    @classmethod
    def from_config(cls, config) -> "PreprocessSpec":
        """From a run config (`config.data.policy`, `.data.image_size`, `.model.backbone`)."""
        return cls(
            policy=config.data.policy,
            image_size=int(config.data.image_size),
            backbone=config.model.backbone,
            crops=int(config.data.get("crops", 1)),
        )

    @classmethod
    def from_train_config(cls, train_config: dict) -> "PreprocessSpec":
        """From the config.json a run wrote (a plain dict)."""
        d = train_config["data"]
        return cls(d["policy"], int(d["image_size"]), train_config["model"]["backbone"], int(d.get("crops", 1)))

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self), "normalization": scheme_of(self.backbone)}

    @classmethod
    def from_dict(cls, d: dict) -> "PreprocessSpec":
        return cls(policy=d["policy"], image_size=int(d["image_size"]), backbone=d["backbone"], crops=int(d.get("crops", 1)))


def eval_transform(contents: tf.Tensor, spec: PreprocessSpec) -> tf.Tensor:
    """Encoded bytes -> uint8 [S, S, 3] model input, exactly as in evaluation.

    The model normalises it (its first layer is `Normalize(spec.backbone)`).
    """
    image = decode_image(contents, decode_min_side(spec.policy, spec.image_size))
    return apply_policy(image, spec.policy, spec.image_size, training=False)
