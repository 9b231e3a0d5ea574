"""The lab: benchmarks, leave-one-out protocols, fusion searches and experiment rounds.

Apart from the product (big_vision's proj/): the lab imports the product, nothing in the product imports the lab.
"""
