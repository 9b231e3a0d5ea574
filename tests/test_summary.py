from synthdet_tf.data.discovery import discover
from synthdet_tf.data.summary import format_summary, summarize


def test_summary_counts_and_planted_format_shortcut(tiny_folder):
    s = summarize(discover(str(tiny_folder)))
    assert s["per_class"] == {"REAL": 12, "FAKE": 12}
    assert sum(sum(v.values()) for v in s["per_split"].values()) == 24
    assert s["formats_per_class"] == {"REAL": {"JPEG": 12}, "FAKE": {"PNG": 12}}
    assert any("JPEG means REAL" in x for x in s["shortcuts"]) and any("PNG means FAKE" in x for x in s["shortcuts"])
    text = format_summary(s)
    assert "cam0" in text and "Possible shortcuts" in text
