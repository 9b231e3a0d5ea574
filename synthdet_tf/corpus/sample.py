"""A small real/fake folder built from images that installed packages ship.

For `make demo` on a machine without data: REAL are the photographs bundled
with scikit-learn and matplotlib (and crops of them), FAKE are images that are
not photographs (matplotlib renders and its bundled illustration). It shows
the tools working end to end; it is far too small and too easy to train a
detector on. A few broken files are added on purpose so the bad-file report
has something to show.
"""

import io
import os
import shutil

import matplotlib
import numpy as np
from PIL import Image

matplotlib.use("Agg")
import matplotlib.cbook  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import sklearn.datasets  # noqa: E402

_SKLEARN_IMAGES = os.path.join(os.path.dirname(sklearn.datasets.__file__), "images")


def bundled_photos():
    """(name, path) of the photographs scikit-learn and matplotlib install with themselves."""
    yield "grace_hopper.jpg", matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    for name in ("china.jpg", "flower.jpg"):
        yield name, os.path.join(_SKLEARN_IMAGES, name)


def _render(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    fig, ax = plt.subplots(figsize=(3.2, 2.4), dpi=100)
    x = np.linspace(0, 4 * np.pi, 200)
    for _ in range(3):
        ax.plot(x, np.sin(x * rng.uniform(0.5, 2)) * rng.uniform(0.5, 2))
    ax.imshow(rng.random((8, 8)), extent=(0, 12, -2, 2), alpha=0.3, aspect="auto")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def write_sample_folder(out_dir: str, with_bad_files: bool = True) -> str:
    """Writes `out_dir/real` and `out_dir/fake`; refuses to touch a non-empty folder."""
    if os.path.exists(out_dir) and os.listdir(out_dir):
        raise FileExistsError(f"{out_dir!r} exists and is not empty; choose another --out_dir")
    real, fake = os.path.join(out_dir, "real"), os.path.join(out_dir, "fake")
    os.makedirs(real)
    os.makedirs(fake)
    for name, path in bundled_photos():
        shutil.copyfile(path, os.path.join(real, f"photo__{name}"))
        with Image.open(path) as image:
            w, h = image.size
            for i, (left, top) in enumerate([(0, 0), (w // 2, 0), (0, h // 2), (w // 2, h // 2)]):
                crop = image.convert("RGB").crop((left, top, left + w // 2, top + h // 2))
                crop.save(os.path.join(real, f"photo_crop__{os.path.splitext(name)[0]}_{i}.jpg"), quality=90)
    for seed in range(8):
        with open(os.path.join(fake, f"render__plot_{seed}.png"), "wb") as f:
            f.write(_render(seed))
    shutil.copyfile(
        matplotlib.cbook.get_sample_data("Minduka_Present_Blue_Pack.png", asfileobj=False),
        os.path.join(fake, "illustration__present.png"),
    )
    if with_bad_files:
        open(os.path.join(real, "broken__empty.jpg"), "wb").close()
        with open(os.path.join(real, "broken__notes.jpg"), "w") as f:
            f.write("this is a text file with an image extension\n")
        with open(os.path.join(real, "photo__grace_hopper.jpg"), "rb") as src:
            data = src.read()
        with open(os.path.join(fake, "broken__truncated.jpg"), "wb") as f:
            f.write(data[: len(data) // 2])
    return out_dir
