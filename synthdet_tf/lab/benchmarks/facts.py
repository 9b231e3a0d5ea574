"""CPU time per file of reading a file's facts (detect.facts), per level, on folders of images.

    python -m synthdet_tf.lab.benchmarks.facts runs/external ../shared/data/dev/fake --every=10 --limit=40
"""

import argparse
import glob
import os
import time

import numpy as np


def facts_ms(files, level: str) -> float:
    from synthdet_tf.data.pillow_io import probe
    from synthdet_tf.detect.facts import read_facts

    times = []
    for path in files:
        with open(path, "rb") as f:
            contents = f.read()
        info = probe(contents)
        start = time.process_time()
        read_facts(contents, info, level)
        times.append(time.process_time() - start)
    return 1000 * float(np.mean(times))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folders", nargs="+")
    ap.add_argument("--every", type=int, default=10, help="take every n-th file, sorted")
    ap.add_argument("--limit", type=int, default=40)
    args = ap.parse_args()
    print("| folder | files | basic (ms CPU per file) | full (ms CPU per file) |\n|---|---:|---:|---:|")
    for folder in args.folders:
        files = sorted(p for p in glob.glob(os.path.join(folder, "**", "*"), recursive=True)
                       if os.path.isfile(p) and not p.endswith(".csv"))[:: args.every][: args.limit]
        print(f"| {folder} | {len(files)} | {facts_ms(files, 'basic'):.1f} | {facts_ms(files, 'full'):.1f} |")


if __name__ == "__main__":
    main()
