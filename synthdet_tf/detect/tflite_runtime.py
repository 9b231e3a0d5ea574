"""Running synthdet .tflite files with LiteRT (`ai_edge_litert`), and their sidecar JSON.

tf.lite.Interpreter is deprecated; LiteRT's interpreter is the supported
runtime and the one Android/iOS apps embed. The sidecar `<file>.tflite.json`
carries what LiteRT's metadata would (labels, preprocessing, threshold):
tflite-support's metadata writer, the library that writes it, pins
protobuf 3.20 and cannot be installed next to TensorFlow 2.21 (protobuf 5+).
"""

import json

import numpy as np


def sidecar_path(tflite_path: str) -> str:
    return tflite_path + ".json"


def read_sidecar(tflite_path: str) -> dict:
    path = sidecar_path(tflite_path)
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{path} not found: synthdet needs the sidecar JSON written by synthdet-export next to {tflite_path} "
            "(it says how to preprocess and which threshold to use)"
        ) from None


class Runner:
    """uint8 [B, S, S, 3] -> float32 logits [B], one interpreter, any batch size."""

    def __init__(self, path: str, num_threads: int | None = None):
        from ai_edge_litert.interpreter import Interpreter

        self.interpreter = Interpreter(model_path=path, num_threads=num_threads)
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]
        self.batch = int(self.input["shape"][0])

    def _set_batch(self, n):
        if n != self.batch:
            self.interpreter.resize_tensor_input(self.input["index"], [n, *self.input["shape"][1:]])
            self.interpreter.allocate_tensors()
            self.input = self.interpreter.get_input_details()[0]
            self.output = self.interpreter.get_output_details()[0]
            self.batch = n

    def _quantize(self, images):
        dtype = self.input["dtype"]
        if dtype == np.float32:
            return images.astype(np.float32)
        scale, zero = self.input["quantization"]
        if scale in (0, 1.0) and zero == 0 and dtype == np.uint8:
            return images.astype(np.uint8)
        info = np.iinfo(dtype)
        return np.clip(np.round(images.astype(np.float32) / scale + zero), info.min, info.max).astype(dtype)

    def logits(self, images) -> np.ndarray:
        images = np.asarray(images)
        if images.ndim == 3:
            images = images[None]
        self._set_batch(len(images))
        self.interpreter.set_tensor(self.input["index"], self._quantize(images))
        self.interpreter.invoke()
        out = self.interpreter.get_tensor(self.output["index"])
        scale, zero = self.output["quantization"]
        if self.output["dtype"] != np.float32 and scale:
            out = (out.astype(np.float32) - zero) * scale
        return out.astype(np.float32).reshape(-1)
