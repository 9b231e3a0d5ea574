"""Few-shot adaptation: refit a base model's last layer on a few labelled examples of a new generator.

`run.adapt` (synthdet-adapt, Detector.adapt) checks the set (`checks`), embeds it with the frozen base
(`base`, `embed`), fits a head (`head`) with a cross-validated threshold (`crossval`), and writes a
workdir with its exports and card (`outputs`, `card`). Above export in the house: it exports what it makes.
"""
