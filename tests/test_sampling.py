"""Group-balanced training samples."""

import collections

import pytest

from synthdet_tf.data.discovery import FAKE, REAL, Record
from synthdet_tf.data.sampling import balanced_sample, group_weights


def records(counts):
    """counts: {(label, group): n} -> records whose family (FAKE) or source (REAL) is the group."""
    out = []
    for (label, group), n in counts.items():
        for i in range(n):
            out.append(Record(relpath=f"{group}/{i}", path="", label=label, source=group, split="train", info=None,
                              family=group if label == FAKE else "real"))
    return out


def test_power_zero_weighs_every_group_alike_and_classes_half():
    rs = records({(FAKE, "SD 1.x"): 900, (FAKE, "FLUX"): 90, (FAKE, "GPT-4o"): 10, (REAL, "cam"): 300, (REAL, "faces"): 100})
    w = group_weights(rs, 0.0)
    mass = collections.Counter()
    for r, p in zip(rs, w):
        mass[(r.label, r.source)] += p
    assert mass[(FAKE, "SD 1.x")] == pytest.approx(1 / 6) and mass[(FAKE, "GPT-4o")] == pytest.approx(1 / 6)
    assert mass[(REAL, "cam")] == pytest.approx(0.25) and mass[(REAL, "faces")] == pytest.approx(0.25)
    by_count = group_weights(rs, 1.0)
    assert sum(p for r, p in zip(rs, by_count) if r.source == "SD 1.x") == pytest.approx(0.5 * 900 / 1000)
    half = group_weights(rs, 0.5)
    sd, gpt = (sum(p for r, p in zip(rs, half) if r.source == g) for g in ("SD 1.x", "GPT-4o"))
    assert sd / gpt == pytest.approx((900 / 10) ** 0.5)


def test_balanced_sample_is_deterministic_and_follows_the_weights():
    rs = records({(FAKE, "big"): 1000, (FAKE, "small"): 10, (REAL, "cam"): 500})
    a, b = balanced_sample(rs, 4000, power=0.0, seed=3), balanced_sample(rs, 4000, power=0.0, seed=3)
    assert [r.relpath for r in a] == [r.relpath for r in b] and len(a) == 4000
    share = collections.Counter(r.source for r in a)
    assert 0.2 < share["small"] / 4000 < 0.3 and 0.45 < share["cam"] / 4000 < 0.55
    assert balanced_sample(rs, 4000, power=0.0, seed=4) != a
    with pytest.raises(ValueError, match="both classes"):
        balanced_sample(records({(FAKE, "x"): 5}), 10)
