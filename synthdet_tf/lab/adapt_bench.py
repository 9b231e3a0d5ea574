"""Which adaptation method, and how many examples: k-shot learning curves on cached features.

    python -m synthdet_tf.lab.adapt_embeddings --data_dir=runs/external --output=runs/adapt/external_v2.npz
    python -m synthdet_tf.lab.adapt_embeddings --data_dir=../shared/data/dev --output=runs/adapt/dev_v2.npz
    synthdet-benchmark adapt --external=runs/adapt/external_v2.npz --dev=runs/adapt/dev_v2.npz \\
        --output=docs/adapt_tables.md --plot=docs/adapt/curves.png

(b) each external source in k-shot mode: adapt on k REAL and k FAKE images of
the source, test on the rest of it; the adapted heads are measured and thrown
away (the external check's zero-shot reading stays the shipped model's).
(a) each dev generator family: adapt on k fakes of the family and k reals of
its own repositories from the train and validation splits, test on the test
split (the family against its reals, and every other family); the base saw
these families in training, so (a) mostly measures what adapting costs.
Beside each: what the adapted head loses on the dev test split and its real
faces, the base's own test data. Every figure is a mean over draws with the
spread (half the range) beside it.
"""

import dataclasses

import numpy as np

from synthdet_tf.adapt import crossval

KS = (8, 16, 32, 64, 128)
MIN_TEST = 5  # per class left to test on, or the (source, k) cell is skipped
REPLAY_PER_CLASS = 128


@dataclasses.dataclass
class Cache:
    x: np.ndarray
    z: np.ndarray  # base logits
    y: np.ndarray
    source: np.ndarray
    split: np.ndarray
    family: np.ndarray

    @classmethod
    def load(cls, path: str) -> "Cache":
        d = np.load(path, allow_pickle=False)
        return cls(d["features"].astype(np.float64), d["base_logit"], d["label"].astype(int), d["source"], d["split"],
                   d["family"])


def adapt_once(method, x, y, base_head, seed, replay=None) -> tuple[np.ndarray, float, float]:
    """(kernel, bias, threshold) exactly as synthdet-adapt fits them (`adapt.run.fit_head`)."""
    from synthdet_tf.adapt.run import fit_head

    method, replay = (method[: -len("+replay")], replay) if method.endswith("+replay") else (method, None)
    fitted = fit_head(x, y.astype(np.float64), base_head, method, replay, seed, figures=False)
    return fitted["kernel"], fitted["bias"], fitted["threshold"]


def replay_of(dev: "Cache", per_class: int, seed: int, exclude=None):
    """(features, labels) of `per_class` REAL and FAKE dev train-split images: the base's own kind of data."""
    rng = np.random.default_rng(seed)
    ok = (dev.split == "train") & (np.ones(len(dev.y), bool) if exclude is None else ~exclude)
    idx = np.concatenate([rng.choice(np.flatnonzero(ok & (dev.y == c)), per_class, replace=False) for c in (0, 1)])
    return dev.x[idx], dev.y[idx]


def draw(rng, idx_real, idx_fake, k):
    return rng.choice(idx_real, k, replace=False), rng.choice(idx_fake, k, replace=False)


def adapt_draw(cache: "Cache", rng, reals, fakes, k, method, base_head, seed, replay):
    """(the k + k files drawn, kernel, bias, threshold): one k-shot adaptation, as both protocols make it."""
    r, f = draw(rng, reals, fakes, k)
    train = np.concatenate([r, f])
    return (train, *adapt_once(method, cache.x[train], cache.y[train], base_head, seed, replay))


def ba_at(x, y, kernel, bias, threshold) -> float:
    return crossval.balanced_accuracy(y, crossval.sigmoid(x @ kernel + bias) >= threshold)


def keeps(dev: Cache, kernel, bias, threshold, faces) -> dict:
    """The adapted head on the base's own test data: dev test split, and its real faces."""
    test = dev.split == "test"
    face = test & np.isin(dev.source, faces) & (dev.y == 0)
    return {"dev_test": ba_at(dev.x[test], dev.y[test], kernel, bias, threshold),
            "real_faces": float(np.mean(crossval.sigmoid(dev.x[face] @ kernel + bias) < threshold)) if face.any() else np.nan}


def external_curves(ext: Cache, dev: Cache | None, base_head, base_threshold, methods, draws, faces):
    """rows {method, source, k, ba, ba_spread, dev_test, real_faces} for each external source."""
    rows = []
    for source in sorted(set(ext.source)):
        here = ext.source == source
        reals, fakes = np.flatnonzero(here & (ext.y == 0)), np.flatnonzero(here & (ext.y == 1))
        base_ba = ba_at(ext.x[here], ext.y[here], *base_head, base_threshold)
        rows.append({"method": "base", "source": source, "k": 0, "ba": base_ba, "ba_spread": 0.0})
        for k in KS:
            if min(len(reals), len(fakes)) - k < MIN_TEST:
                continue
            for method in methods:
                scores, kept = [], []
                for d in range(draws):
                    replay = replay_of(dev, REPLAY_PER_CLASS, d) if dev is not None else None
                    train, kernel, bias, t = adapt_draw(ext, np.random.default_rng(1000 * k + d), reals, fakes, k,
                                                        method, base_head, d, replay)
                    test = np.setdiff1d(np.flatnonzero(here), train)
                    scores.append(ba_at(ext.x[test], ext.y[test], kernel, bias, t))
                    if dev is not None:
                        kept.append(keeps(dev, kernel, bias, t, faces))
                rows.append(_row(method, source, k, scores, kept))
    return rows


def _row(method, source, k, scores, kept) -> dict:
    row = {"method": method, "source": source, "k": k, "ba": float(np.mean(scores)),
           "ba_spread": float((np.max(scores) - np.min(scores)) / 2)}
    for key in ("dev_test", "real_faces"):
        if kept:
            row[key] = float(np.nanmean([d[key] for d in kept]))
    return row


def family_curves(dev: Cache, base_head, base_threshold, methods, draws, ks=(8, 16, 32)):
    """rows {method, family, k, ba_family, ba_others}: adapt on one dev family, test on the test split."""
    rows = []
    test = dev.split == "test"
    for family in sorted(set(dev.family[dev.y == 1])):
        fam_fakes = dev.family == family
        repos = set(dev.source[fam_fakes])
        fam_reals = (dev.y == 0) & np.isin(dev.source, list(repos))
        if not fam_reals.any():
            fam_reals = dev.y == 0  # a fake-only repository: reals from anywhere
        pool_r, pool_f = np.flatnonzero(fam_reals & ~test), np.flatnonzero(fam_fakes & ~test)
        t_fam = test & (fam_fakes | fam_reals)
        t_other = test & ~fam_fakes
        rows.append({"method": "base", "family": family, "k": 0, "ba_family": ba_at(dev.x[t_fam], dev.y[t_fam], *base_head, base_threshold),
                     "ba_others": ba_at(dev.x[t_other], dev.y[t_other], *base_head, base_threshold)})
        for k in ks:
            if min(len(pool_r), len(pool_f)) < k or (dev.y[t_fam] == 1).sum() < MIN_TEST:
                continue
            for method in methods:
                fam, other = [], []
                for d in range(draws):
                    replay = replay_of(dev, REPLAY_PER_CLASS, d, exclude=fam_fakes)
                    _, kernel, bias, t = adapt_draw(dev, np.random.default_rng(7 * k + d), pool_r, pool_f, k, method,
                                                    base_head, d, replay)
                    fam.append(ba_at(dev.x[t_fam], dev.y[t_fam], kernel, bias, t))
                    other.append(ba_at(dev.x[t_other], dev.y[t_other], kernel, bias, t))
                rows.append({"method": method, "family": family, "k": k, "ba_family": float(np.mean(fam)),
                             "ba_family_spread": float((max(fam) - min(fam)) / 2), "ba_others": float(np.mean(other))})
    return rows


def base_reading(base_path: str):
    """(base head, the base's threshold as a probability at temperature 1, as the heads here are read)."""
    from synthdet_tf.adapt.base import load_base

    base = load_base(base_path)
    t, temperature = base.calibration["threshold"], base.calibration["temperature"]
    return base.head(), float(crossval.sigmoid(temperature * np.log(t / (1 - t))))


def markdown(ext_rows, fam_rows) -> str:
    out = ["## (b) External sources, k-shot (balanced accuracy on the rest of the source, mean ± half-range over draws)", "",
           "| method | source | k | balanced accuracy | dev test (base's split) | real faces |", "|---|---|---:|---:|---:|---:|"]
    for r in ext_rows:
        out.append(f"| {r['method']} | {r['source']} | {r['k']} | {r['ba']:.3f} ± {r['ba_spread']:.3f} | "
                   f"{r.get('dev_test', float('nan')):.3f} | {r.get('real_faces', float('nan')):.3f} |")
    out += ["", "## (a) Dev families (adapt on the train/val splits, test split; the base trained on these families)", "",
            "| method | family | k | family | every other family |", "|---|---|---:|---:|---:|"]
    for r in fam_rows:
        spread = f" ± {r['ba_family_spread']:.3f}" if "ba_family_spread" in r else ""
        out.append(f"| {r['method']} | {r['family']} | {r['k']} | {r['ba_family']:.3f}{spread} | {r['ba_others']:.3f} |")
    return "\n".join(out) + "\n"


def plot(ext_rows, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sources = sorted({r["source"] for r in ext_rows})
    fig, axes = plt.subplots(1, len(sources), figsize=(4.2 * len(sources), 3.6), sharey=True)
    for ax, source in zip(np.atleast_1d(axes), sources):
        base = next(r["ba"] for r in ext_rows if r["source"] == source and r["method"] == "base")
        for method in sorted({r["method"] for r in ext_rows} - {"base"}):
            rs = [r for r in ext_rows if r["source"] == source and r["method"] == method]
            ks = [0] + [r["k"] for r in rs]
            ax.errorbar(ks, [base] + [r["ba"] for r in rs], yerr=[0] + [r["ba_spread"] for r in rs], marker="o",
                        label=method, capsize=3)
        ax.set_title(source), ax.set_xlabel("k per class"), ax.set_xscale("symlog", linthresh=8), ax.grid(alpha=0.3)
    np.atleast_1d(axes)[0].set_ylabel("balanced accuracy"), np.atleast_1d(axes)[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
