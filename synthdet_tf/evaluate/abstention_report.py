"""The abstention rule as tables and risk-coverage curves: what was fitted, and what it does per source."""

import collections
import os

from synthdet_tf.evaluate import abstention

HEAD = ("| reading | source | n | before: answered | accuracy | wrong | after: answered | accuracy | wrong |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|---:|")


def rule_table(rule: dict) -> str:
    lines = []
    for level, table in rule["levels"].items():
        lines += [f"\nFacts level `{level}`:\n", "| kind | real right | fake right | lower bounds | trusted | band |",
                  "|---|---:|---:|---:|---|---|"]
        for kind, e in table.items():
            band = f"{e['band'][0]:.2f}-{e['band'][1]:.2f}" if e["trusted"] else "-"
            lines.append(f"| {kind} | {e['real']['right']}/{e['real']['n']} | {e['fake']['right']}/{e['fake']['n']} | "
                         f"{e['real']['low']:.2f} / {e['fake']['low']:.2f} | {'yes' if e['trusted'] else 'no'} | {band} |")
    return "\n".join(lines)


def _fmt(point: dict) -> str:
    return f"{point['answered']:.2f} | {point['accuracy']:.3f} | {point['wrong']:.2f}"


def by_source(rows) -> dict:
    groups = collections.defaultdict(list)
    for r in rows:
        groups[r["source"]].append(r)
    return {"all": list(rows), **dict(sorted(groups.items()))}


def points_table(readings: dict, rule: dict, band, level: str = "basic") -> str:
    """Before (the model's plain band) and after (the rule), per reading and source: share answered, accuracy
    among the answered, and confidently wrong (wrong FAKE/REAL verdicts as a share of all images)."""
    lines = [HEAD]
    t = rule["threshold"]
    for name, rows in readings.items():
        for source, group in by_source(rows).items():
            before = abstention.operating_point(group, abstention.verdicts(group, t, band=band))
            after = abstention.operating_point(group, abstention.verdicts(group, t, rule=rule, level=level))
            lines.append(f"| {name} | {source} | {len(group)} | {_fmt(before)} | {_fmt(after)} |")
    return "\n".join(lines)


def plot(readings: dict, rule: dict, band, path: str, level: str = "basic") -> None:
    """One panel per reading: each source's curve with the margin alone (dashed) and with the rule (solid), and
    where the plain band (open circle) and the rule (filled) answer."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(readings), figsize=(4.2 * len(readings), 3.8), squeeze=False)
    t = rule["threshold"]
    for ax, (name, rows) in zip(axes[0], readings.items()):
        for i, (source, group) in enumerate(by_source(rows).items()):
            colour = f"C{i % 10}"
            for r, style in ((None, "--"), (rule, "-")):
                cov, acc = abstention.risk_coverage(group, t, rule=r, level=level)
                if len(cov):
                    ax.plot(cov, acc, style, color=colour, lw=1.2, label=source if r is rule else None)
            # The operating points: the plain band (open circle) and the rule (filled), where each answers.
            for said, fill in ((abstention.verdicts(group, t, band=band), "none"),
                               (abstention.verdicts(group, t, rule=rule, level=level), colour)):
                point = abstention.operating_point(group, said)
                ax.plot([point["answered"]], [point["accuracy"]], "o", color=colour, mfc=fill, ms=5)
        ax.set(title=name, xlabel="share answered", ylabel="accuracy among answered", xlim=(0, 1), ylim=(0.3, 1.01))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6, loc="lower left")
    fig.suptitle("Risk-coverage: dashed = margin alone, solid = with the rule; open circle = plain band, filled = rule", fontsize=9)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
