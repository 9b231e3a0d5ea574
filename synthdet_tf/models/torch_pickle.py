"""Read a PyTorch state_dict without torch: the zip format (torch >= 1.6) and the legacy one.

The zip format holds data.pkl (the state_dict, tensors referring to storages
by key) and one raw little-endian file per storage under data/.

The legacy format (torch < 1.6, `_use_new_zipfile_serialization=False`) is a
sequence on one stream: four pickles (magic number, protocol version, system
info, the state_dict itself, whose tensors refer to storages by key through
pickle's persistent ids), a pickled list of storage keys, then each storage's
raw bytes in that order, each preceded by its element count (int64).

Only what a state_dict of float tensors needs is understood; anything else
(modules, code) raises rather than being executed: `find_class` allows a
fixed list of globals, so loading cannot run arbitrary code.
"""

import collections
import io
import pickle
import zipfile

import numpy as np

_MAGIC = 0x1950A86A20F9469CFC6C
_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class _StorageType:
    def __init__(self, name):
        self.dtype = np.dtype(_STORAGE_DTYPES[name])


class _TensorRef:
    """A tensor still waiting for its storage's bytes."""

    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

    def to_numpy(self, data: dict) -> np.ndarray:
        key, dtype = self.storage
        flat = data[key]
        if not self.size:
            return flat[self.offset].copy()
        item = dtype.itemsize
        view = np.lib.stride_tricks.as_strided(
            flat[self.offset :], shape=self.size, strides=tuple(s * item for s in self.stride)
        )
        return np.ascontiguousarray(view)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None, *args):
    del requires_grad, backward_hooks, args
    return _TensorRef(storage, storage_offset, size, stride)


class _Unpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a weights file")

    def persistent_load(self, saved_id):
        kind, storage_type, key, _location, numel, view = saved_id[:6] if len(saved_id) >= 6 else (*saved_id, None)
        if kind != "storage" or view is not None:
            raise pickle.UnpicklingError(f"unsupported persistent id {saved_id[:1]} (views of storages)")
        self.storages[key] = (storage_type.dtype, int(numel))
        return key, storage_type.dtype


def load_legacy_state_dict(path: str) -> "collections.OrderedDict[str, np.ndarray]":
    """name -> numpy array, from a legacy-format PyTorch .pth/.pt state_dict file."""
    with open(path, "rb") as f:
        magic = pickle.load(f)
        if magic != _MAGIC:
            raise ValueError(
                f"{path} is not a legacy PyTorch file (it may be the newer zip format, which this reader does not handle)"
            )
        pickle.load(f)  # protocol version
        pickle.load(f)  # system info (endianness, type sizes)
        unpickler = _Unpickler(f)
        unpickler.storages = {}
        state = unpickler.load()
        keys = pickle.load(f)
        data = {}
        for key in keys:
            dtype, numel = unpickler.storages[key]
            count = int(np.frombuffer(f.read(8), "<i8")[0])
            if count != numel:
                raise ValueError(f"{path}: storage {key} holds {count} elements, expected {numel}")
            data[key] = np.frombuffer(f.read(count * dtype.itemsize), dtype=dtype.newbyteorder("<"))
    return collections.OrderedDict((name, ref.to_numpy(data)) for name, ref in state.items())


class _ZipUnpickler(_Unpickler):
    """The zip format's data.pkl: persistent ids name a file under <archive>/data/."""

    def persistent_load(self, saved_id):
        kind, storage_type, key, _location, numel = saved_id[:5]
        if kind != "storage":
            raise pickle.UnpicklingError(f"unsupported persistent id {saved_id[:1]}")
        self.storages[key] = (storage_type.dtype, int(numel))
        return key, storage_type.dtype


def load_zip_state_dict(path: str) -> "collections.OrderedDict[str, np.ndarray]":
    """name -> numpy array, from a zip-format (torch >= 1.6) .pth state_dict file."""
    with zipfile.ZipFile(path) as archive:
        pkl = next((n for n in archive.namelist() if n.endswith("/data.pkl")), None)
        if pkl is None:
            raise ValueError(f"{path}: no data.pkl inside, not a PyTorch zip file")
        root = pkl[: -len("data.pkl")]
        if archive.namelist().count(root + "byteorder") and archive.read(root + "byteorder") != b"little":
            raise ValueError(f"{path}: big-endian tensors are not supported")
        unpickler = _ZipUnpickler(io.BytesIO(archive.read(pkl)))
        unpickler.storages = {}
        state = unpickler.load()
        data = {}
        for key, (dtype, numel) in unpickler.storages.items():
            raw = archive.read(f"{root}data/{key}")
            data[key] = np.frombuffer(raw, dtype=dtype.newbyteorder("<"), count=numel)
    return collections.OrderedDict((name, ref.to_numpy(data)) for name, ref in state.items())


def load_state_dict(path: str) -> "collections.OrderedDict[str, np.ndarray]":
    """Either PyTorch format (zip since torch 1.6, legacy before), read without torch."""
    return load_zip_state_dict(path) if zipfile.is_zipfile(path) else load_legacy_state_dict(path)
