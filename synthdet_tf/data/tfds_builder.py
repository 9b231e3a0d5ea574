"""A tensorflow-datasets builder for the same real/ + fake/ folder layout.

    import tensorflow_datasets as tfds
    from synthdet_tf.data.tfds_builder import SynthdetFolder, to_supervised

    builder = SynthdetFolder(image_dir="path/with/real_and_fake", data_dir="runs/tfds")
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(try_download_gcs=False))
    train = to_supervised(builder.as_dataset(split="train"))  # (uint8 image, label)

Differences from `tfds.folder_dataset.ImageFolder`, on purpose:
- labels are the project's REAL = 0, FAKE = 1 (ImageFolder sorts class names,
  which makes fake = 0);
- files pass discovery first (bad files are skipped and logged, splits are the
  same hash-based train / val / test as the tf.data pipeline, sources come from
  MANIFEST.csv or the file names);
- the original file bytes are stored untouched (`image_bytes`), so format and
  JPEG traces survive; decode them with `synthdet_tf.preprocess.decode_image`
  (accurate IDCT) rather than tfds.features.Image (TF's fast IDCT). Files TF
  cannot decode correctly (palette BMP) are stored as lossless PNG of Pillow's
  decode, pixel for pixel what the pipeline sees.

Preparing makes no network access; each folder (and its split settings) gets
its own builder config, so two folders never share prepared files.
"""

import hashlib
import io
import os

import tensorflow as tf
import tensorflow_datasets as tfds
from PIL import Image

from synthdet_tf import preprocess
from synthdet_tf.data.discovery import LABEL_NAMES, SPLITS, discover
from synthdet_tf.data.pillow_io import DEFAULT_MAX_PIXELS, decode_rgb


def _png_of_pillow_decode(path: str) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(decode_rgb(path)).save(buf, "PNG")
    return buf.getvalue()


class SynthdetFolder(tfds.core.GeneratorBasedBuilder):
    """real/ and fake/ images from one folder, checked and split as synthdet does."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "First release."}

    def __init__(
        self,
        *,
        image_dir: str,
        fractions=(0.8, 0.1, 0.1),
        split_salt: str = "",
        max_pixels: int = DEFAULT_MAX_PIXELS,
        source_from: str = "auto",
        **kwargs,
    ):
        self._image_dir = os.path.abspath(image_dir)
        self._discover_args = dict(
            fractions=tuple(fractions), salt=split_salt, max_pixels=max_pixels, source_from=source_from
        )
        identity = repr((self._image_dir, sorted(self._discover_args.items())))
        name = "f" + hashlib.sha256(identity.encode()).hexdigest()[:12]
        kwargs.setdefault("config", tfds.core.BuilderConfig(name=name, description=f"images from {self._image_dir}"))
        super().__init__(**kwargs)

    def _info(self) -> tfds.core.DatasetInfo:
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict(
                {
                    "image_bytes": tfds.features.Tensor(shape=(), dtype=tf.string),
                    "label": tfds.features.ClassLabel(names=list(LABEL_NAMES)),
                    "source": tfds.features.Text(),
                    "relpath": tfds.features.Text(),
                    "format": tfds.features.Text(),
                    "width": tfds.features.Scalar(dtype=tf.int32),
                    "height": tfds.features.Scalar(dtype=tf.int32),
                }
            ),
            supervised_keys=None,
            description=__doc__,
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # nothing to download
        discovery = discover(self._image_dir, **self._discover_args)
        return {s: self._generate_examples(discovery.split(s)) for s in SPLITS if discovery.split(s)}

    def _generate_examples(self, records):
        for r in records:
            if r.info.needs_pillow:
                data = _png_of_pillow_decode(r.path)
            else:
                with open(r.path, "rb") as f:
                    data = f.read()
            yield r.relpath, {
                "image_bytes": data,
                "label": r.label,
                "source": r.source,
                "relpath": r.relpath,
                "format": r.info.format,
                "width": r.info.width,
                "height": r.info.height,
            }


def to_supervised(ds: tf.data.Dataset) -> tf.data.Dataset:
    """Examples -> (uint8 image [H, W, 3], float32 label), decoded as everywhere in synthdet."""
    return ds.map(
        lambda ex: (preprocess.decode_image(ex["image_bytes"]), tf.cast(ex["label"], tf.float32)),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
