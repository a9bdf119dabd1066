"""Training: the loop, the optimizer, adaptation strategies."""
