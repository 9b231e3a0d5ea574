"""Print the per-epoch and per-source validation tables of finished training runs (Markdown).

    python scripts/lab/report_runs.py runs/real/efficientnet_lite0_ft runs/real/resnet18
"""

import csv
import json
import os
import sys


def main(workdirs):
    for workdir in workdirs:
        config = json.load(open(os.path.join(workdir, "config.json")))
        print(f"### {os.path.basename(workdir.rstrip('/'))}\n")
        print(
            f"model {config['model']['backbone']} (weights: {config['model']['weights'] or 'scratch'}), "
            f"{config['data']['image_size']} px {config['data']['policy']}, batch {config['data']['batch_size']}, "
            f"lr {config['train']['lr']}, weight decay {config['train']['weight_decay']}, "
            f"precision {config['resolved']['precision_policy']}\n"
        )
        print("| epoch | train acc | train AUC | val acc | val AUC | val loss |\n|---:|---:|---:|---:|---:|---:|")
        for row in csv.DictReader(open(os.path.join(workdir, "log.csv"))):
            e = int(row["epoch"]) + 1
            print(f"| {e} | {float(row['accuracy']):.4f} | {float(row['auc']):.4f} | {float(row['val_accuracy']):.4f} | {float(row['val_auc']):.4f} | {float(row['val_loss']):.4f} |")
        rows = list(csv.DictReader(open(os.path.join(workdir, "per_source_val.csv"))))
        epochs = sorted({int(r["epoch"]) for r in rows})
        sources = sorted({r["source"] for r in rows})
        print("\nPer source, validation split (accuracy / AUC at each epoch; one-class sources' AUC is against all images of the other class):\n")
        print("| source | classes | n | " + " | ".join(f"epoch {e}" for e in epochs) + " |")
        print("|---|---|---:|" + "---:|" * len(epochs))
        for s in sources:
            by_epoch = {int(r["epoch"]): r for r in rows if r["source"] == s}
            first = by_epoch[epochs[0]]
            cells = [f"{float(by_epoch[e]['accuracy']):.3f} / {float(by_epoch[e]['auc']):.3f}" for e in epochs]
            print(f"| {s} | {first['classes']} | {first['n']} | " + " | ".join(cells) + " |")
        print()


if __name__ == "__main__":
    main(sys.argv[1:])
