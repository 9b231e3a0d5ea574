"""Experiment rounds and benchmarks (the lab): not shipped recipes; docs/lab/ logs what each reproduced."""
