"""The TAESD port: PyTorch zip weights read without torch, and Keras layers that compute what torch's do."""

import collections
import glob
import os
import pickle
import sys
import types
import zipfile

import numpy as np
import pytest

from synthdet_tf.models import taesd
from synthdet_tf.models.torch_pickle import load_state_dict


# --- a zip-format .pth written the way torch.save writes it (a fake `torch` module only while pickling) ---

class _StorageRef:
    def __init__(self, key, storage_cls, numel):
        self.key, self.storage_cls, self.numel = key, storage_cls, numel


def _write_torch_zip(path, tensors: dict, monkeypatch):
    torch_mod, utils = types.ModuleType("torch"), types.ModuleType("torch._utils")

    def _rebuild_tensor_v2(*args):
        raise AssertionError("never called while writing")

    _rebuild_tensor_v2.__module__, _rebuild_tensor_v2.__qualname__ = "torch._utils", "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    storage_cls = {np.dtype(np.float16): type("HalfStorage", (), {}), np.dtype(np.float32): type("FloatStorage", (), {})}
    for cls in storage_cls.values():
        cls.__module__ = "torch"
        setattr(torch_mod, cls.__name__, cls)
    monkeypatch.setitem(sys.modules, "torch", torch_mod)
    monkeypatch.setitem(sys.modules, "torch._utils", utils)

    class _Tensor:
        def __init__(self, ref, shape, strides):
            self.ref, self.shape, self.strides = ref, shape, strides

        def __reduce__(self):
            return _rebuild_tensor_v2, (self.ref, 0, self.shape, self.strides, False, collections.OrderedDict())

    class _Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            return ("storage", obj.storage_cls, obj.key, "cpu", obj.numel) if isinstance(obj, _StorageRef) else None

    state, blobs = collections.OrderedDict(), {}
    for i, (name, (array, order)) in enumerate(tensors.items()):
        order = order or tuple(range(array.ndim))
        flat = np.ascontiguousarray(array.transpose(order))  # the storage holds the tensor in this axis order
        flat_strides = [s // array.itemsize for s in flat.strides]
        strides = [flat_strides[order.index(axis)] for axis in range(array.ndim)]
        blobs[str(i)] = flat.astype(flat.dtype.newbyteorder("<")).tobytes()
        state[name] = _Tensor(_StorageRef(str(i), storage_cls[array.dtype], array.size), list(array.shape), strides)
    with zipfile.ZipFile(path, "w") as z:
        buf = __import__("io").BytesIO()
        _Pickler(buf, protocol=2).dump(state)
        z.writestr("archive/data.pkl", buf.getvalue())
        z.writestr("archive/byteorder", "little")
        for key, raw in blobs.items():
            z.writestr(f"archive/data/{key}", raw)
    monkeypatch.delitem(sys.modules, "torch")
    monkeypatch.delitem(sys.modules, "torch._utils")


def test_zip_state_dict_is_read_without_torch_including_strided_tensors(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    conv = rng.normal(size=(4, 3, 3, 3)).astype(np.float16)
    bias = rng.normal(size=(4,)).astype(np.float32)
    stored_transposed = rng.normal(size=(5, 2)).astype(np.float32)  # storage holds its transpose: strides (1, 5)
    path = tmp_path / "w.pth"
    _write_torch_zip(path, {"0.weight": (conv, None), "0.bias": (bias, None), "1.weight": (stored_transposed, (1, 0))}, monkeypatch)
    assert "torch" not in sys.modules
    state = load_state_dict(str(path))
    assert list(state) == ["0.weight", "0.bias", "1.weight"]
    np.testing.assert_array_equal(state["0.weight"], conv)
    np.testing.assert_array_equal(state["0.bias"], bias)
    np.testing.assert_array_equal(state["1.weight"], stored_transposed)


def test_a_zip_that_asks_for_code_is_refused(tmp_path):
    with zipfile.ZipFile(tmp_path / "evil.pth", "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps(os.system, protocol=2))
    with pytest.raises(pickle.UnpicklingError, match="refusing to load"):
        load_state_dict(str(tmp_path / "evil.pth"))


# --- the Keras model against a NumPy transcription of taesd.py's torch modules ---

def _conv(x, state, name, stride=1):
    """torch Conv2d (padding 1 for 3x3, 0 for 1x1) on an HWC array, weights OIHW."""
    w, b = state[f"{name}.weight"], state.get(f"{name}.bias")
    k = w.shape[2]
    x = np.pad(x, ((k // 2, k // 2), (k // 2, k // 2), (0, 0)))
    h, wd = (x.shape[0] - k) // stride + 1, (x.shape[1] - k) // stride + 1
    out = sum(x[i : i + stride * h : stride, j : j + stride * wd : stride] @ w[:, :, i, j].T for i in range(k) for j in range(k))
    return out + (b if b is not None else 0)


def _group_norm(x, weight, bias, groups=4, eps=1e-5):
    h, w, c = x.shape
    g = x.reshape(h, w, groups, c // groups)
    g = (g - g.mean(axis=(0, 1, 3), keepdims=True)) / np.sqrt(g.var(axis=(0, 1, 3), keepdims=True) + eps)
    return g.reshape(h, w, c) * weight + bias


def _block(x, state, idx, gn):
    relu = lambda t: np.maximum(t, 0)  # noqa: E731
    if gn:
        p = relu(_group_norm(_conv(x, state, f"{idx}.pool.0"), state[f"{idx}.pool.1.weight"], state[f"{idx}.pool.1.bias"]))
        x = x + _conv(p, state, f"{idx}.pool.3")
    h = relu(_conv(relu(_conv(x, state, f"{idx}.conv.0")), state, f"{idx}.conv.2"))
    return relu(_conv(h, state, f"{idx}.conv.4") + x)


def _reference_encoder(x, state):
    x = _block(_conv(x, state, "0"), state, 1, False)
    for stage, first in enumerate((2, 6, 10)):
        x = _conv(x, state, str(first), stride=2)
        for idx in range(first + 1, first + 4):
            x = _block(x, state, idx, stage == 2)
    return _conv(x, state, "14")


def _reference_decoder(z, state):
    x = np.maximum(_conv(np.tanh(z / 3) * 3, state, "1"), 0)
    for idx in (3, 4, 5):
        x = _block(x, state, idx, True)
    for first in (7, 12, 17):
        x = _conv(x.repeat(2, axis=0).repeat(2, axis=1), state, str(first))
        for idx in range(first + 1, first + (4 if first < 17 else 2)):
            x = _block(x, state, idx, False)
    return np.clip(_conv(x, state, "19"), 0, 1)


def _random_state(model, rng) -> dict:
    """A state_dict in torch's layout (OIHW) for every weighted layer of the Keras model."""
    state = {}
    for layer in model.layers:
        if not layer.weights:
            continue
        key = layer.name[1:].replace("_", ".")
        for weight in layer.weights:
            kind = "bias" if ("bias" in weight.path or "beta" in weight.path) else "weight"
            shape = tuple(weight.shape)
            torch_shape = (shape[3], shape[2], shape[0], shape[1]) if len(shape) == 4 else shape
            scale = 1.0 if len(shape) == 1 and kind == "weight" else 0.3 / np.sqrt(np.prod(shape[:-1]) or 1)
            state[f"{key}.{kind}"] = (1.0 if kind == "weight" and len(shape) == 1 else 0.0) + rng.normal(size=torch_shape) * scale
    return state


def test_keras_taef2_layers_compute_what_the_torch_modules_compute():
    rng = np.random.default_rng(1)
    encoder, decoder = taesd.build_encoder(4, True), taesd.build_decoder(4, True)
    enc_state, dec_state = _random_state(encoder, rng), _random_state(decoder, rng)
    taesd.load_weights(encoder, enc_state)
    taesd.load_weights(decoder, dec_state)
    image = rng.uniform(size=(16, 24, 3)).astype(np.float32)  # odd multiples of 8: stride-2 padding must match torch's
    latents = np.asarray(encoder(image[None]))[0]
    assert latents.shape == (2, 3, 4)
    np.testing.assert_allclose(latents, _reference_encoder(image.astype(np.float64), enc_state), rtol=1e-3, atol=1e-3)
    z = rng.normal(size=(2, 3, 4)).astype(np.float32) * 2
    decoded = np.asarray(decoder(z[None]))[0]
    assert decoded.shape == (16, 24, 3)
    np.testing.assert_allclose(decoded, _reference_decoder(z.astype(np.float64), dec_state), rtol=1e-3, atol=1e-3)


def test_weight_files_must_fit_the_model():
    encoder = taesd.build_encoder(4, False)
    state = _random_state(encoder, np.random.default_rng(0))
    with pytest.raises(ValueError, match="has no layer"):
        taesd.load_weights(encoder, {**state, "99.weight": np.zeros((1, 1, 1, 1))})
    with pytest.raises(ValueError, match="got no weights"):
        taesd.load_weights(encoder, {k: v for k, v in state.items() if not k.startswith("14.")})
    with pytest.raises(ValueError, match="cannot tell the TAESD variant"):
        taesd.variant_of("/x/my_vae.pth")
    assert taesd.variant_of("/x/taef2_encoder.pth") == (32, True) and taesd.variant_of("taesdxl_decoder.pth") == (4, False)


def _pinned_taef2(cache_dir):
    """The pinned TAEF2 weights from a snapshot of madebyollin/taesd, if this machine has one (CI does not)."""
    from synthdet_tf.corpus import reconstruct

    repos_dir = os.environ.get("SYNTHDET_REPOS_DIR", "/work/.mirror")
    if not glob.glob(os.path.join(repos_dir, "madebyollin+taesd*")) and not glob.glob(os.path.join(repos_dir, "madebyollin", "taesd*")):
        pytest.skip("no snapshot of madebyollin/taesd (set SYNTHDET_REPOS_DIR)")
    return reconstruct.weight_files("taef2", repos_dir=repos_dir, cache_dir=str(cache_dir))


def test_pinned_taef2_reconstructs_a_real_photo_faithfully(tmp_path):
    from synthdet_tf.corpus.reconstruct import psnr, taesd_round_trip
    from synthdet_tf.data.pillow_io import decode_rgb

    photo = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "dev", "real")
    files = sorted(glob.glob(os.path.join(photo, "*.png")))
    if not files:
        pytest.skip("needs ../shared/data/dev")
    run = taesd_round_trip(*_pinned_taef2(tmp_path))
    crop = decode_rgb(files[0])[:64, :64]
    assert psnr(crop, run(crop[None])[0]) > 25.0  # a faithful autoencoder; random weights give ~10 dB
