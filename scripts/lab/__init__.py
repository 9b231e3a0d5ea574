"""Lab commands: benchmarks, leave-one-out protocols, fusion searches. Apart from the product commands."""
