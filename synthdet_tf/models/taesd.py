"""Tiny AutoEncoder (madebyollin/taesd, MIT) in Keras, weights read from its .pth files without torch.

The project uses it to make content-aligned fakes: a real photo passed through a
generator's (distilled) autoencoder differs from the photo only by the decoder's
upsampling trace, which is what a local-evidence detector should learn.

Only the 8x variants are built: taesd / taesdxl / taesd3 / taef1 (plain blocks)
and taef2 (FLUX.2, 32 latent channels, a GroupNorm "pool" branch in the
mid-blocks). Layer order follows the torch `nn.Sequential`, so state-dict keys
such as ``11.pool.1.weight`` name the Keras layer ``l11_pool_1`` directly.
Images are in [0, 1]; latents are raw (TAESD's scale is 1, no shift).
"""

import keras
import numpy as np
from keras import layers, ops

from synthdet_tf.models.torch_pickle import load_state_dict

# (latent channels, mid-blocks have the GroupNorm pool branch), by weight-file prefix.
VARIANTS = {"taef2": (32, True), "taef1": (16, False), "taesd3": (16, False), "taesdxl": (4, False), "taesd": (4, False)}


def variant_of(path: str) -> tuple:
    """Latent channels and the mid-block flag, from a weight file's name (as taesd.py guesses them)."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    for prefix, spec in VARIANTS.items():
        if name.startswith(prefix):
            return spec
    raise ValueError(f"{path}: cannot tell the TAESD variant from the file name (expected one of {sorted(VARIANTS)})")


def _conv(x, filters, name, stride=1, bias=True, kernel=3):
    if stride > 1:  # torch pads 1 on every side; Keras "same" would pad only bottom/right
        x = layers.ZeroPadding2D(1, name=f"{name}_pad")(x)
        return layers.Conv2D(filters, kernel, strides=stride, use_bias=bias, name=name)(x)
    return layers.Conv2D(filters, kernel, padding="same", use_bias=bias, name=name)(x)


def _block(x, idx, filters, gn):
    if gn:
        p = layers.Conv2D(filters * 4, 1, use_bias=False, name=f"l{idx}_pool_0")(x)
        p = layers.GroupNormalization(4, epsilon=1e-5, name=f"l{idx}_pool_1")(p)
        p = layers.Conv2D(filters, 1, use_bias=False, name=f"l{idx}_pool_3")(layers.ReLU()(p))
        x = layers.Add()([x, p])
    h = layers.ReLU()(_conv(x, filters, f"l{idx}_conv_0"))
    h = layers.ReLU()(_conv(h, filters, f"l{idx}_conv_2"))
    h = _conv(h, filters, f"l{idx}_conv_4")
    skip = x if x.shape[-1] == filters else layers.Conv2D(filters, 1, use_bias=False, name=f"l{idx}_skip")(x)
    return layers.ReLU()(layers.Add()([h, skip]))


def build_encoder(latent_channels: int = 32, midblock_gn: bool = True) -> keras.Model:
    """Image in [0, 1] -> latents at 1/8 the size (H and W multiples of 8)."""
    image = keras.Input((None, None, 3), name="image")
    x = _block(_conv(image, 64, "l0"), 1, 64, False)
    for stage, first in enumerate((2, 6, 10)):
        x = _conv(x, 64, f"l{first}", stride=2, bias=False)
        for idx in range(first + 1, first + 4):
            x = _block(x, idx, 64, midblock_gn and stage == 2)
    return keras.Model(image, _conv(x, latent_channels, "l14"), name="taesd_encoder")


def build_decoder(latent_channels: int = 32, midblock_gn: bool = True) -> keras.Model:
    """Latents -> image in [0, 1], 8x the size."""
    latents = keras.Input((None, None, latent_channels), name="latents")
    x = layers.Lambda(lambda t: ops.tanh(t / 3.0) * 3.0, name="clamp")(latents)
    x = layers.ReLU()(_conv(x, 64, "l1"))
    for idx in (3, 4, 5):
        x = _block(x, idx, 64, midblock_gn)
    for first in (7, 12, 17):
        x = _conv(layers.UpSampling2D(2, interpolation="nearest")(x), 64, f"l{first}", bias=False)
        for idx in range(first + 1, first + (4 if first < 17 else 2)):
            x = _block(x, idx, 64, False)
    x = _conv(x, 3, "l19")
    return keras.Model(latents, ops.clip(x, 0.0, 1.0), name="taesd_decoder")


def _keras_name(torch_key: str) -> tuple:
    prefix, kind = torch_key.rsplit(".", 1)
    return "l" + prefix.replace(".", "_"), kind


def load_weights(model: keras.Model, state: dict) -> None:
    """Copies a TAESD state_dict into `model`; every tensor and every weighted layer must match."""
    pending = {layer.name: dict() for layer in model.layers if layer.weights}
    for key, value in state.items():
        name, kind = _keras_name(key)
        if name not in pending:
            raise ValueError(f"weight {key} has no layer {name} in {model.name}")
        pending[name][kind] = value.astype(np.float32)
    for name, tensors in pending.items():
        layer = model.get_layer(name)
        weight = tensors.get("weight")
        if weight is None:
            raise ValueError(f"layer {name} of {model.name} got no weights from the file")
        if weight.ndim == 4:  # torch OIHW -> Keras HWIO
            weight = weight.transpose(2, 3, 1, 0)
        values = [weight] + ([tensors["bias"]] if "bias" in tensors else [])
        layer.set_weights(values)


def load_taesd(encoder_path: str, decoder_path: str) -> tuple:
    """(encoder, decoder) Keras models with the weights of a TAESD pair of .pth files."""
    channels, gn = variant_of(encoder_path)
    encoder, decoder = build_encoder(channels, gn), build_decoder(channels, gn)
    load_weights(encoder, load_state_dict(encoder_path))
    load_weights(decoder, load_state_dict(decoder_path))
    return encoder, decoder
