"""Training: blur synthesis, datasets, metrics (and, from the lead, losses and the trainer)."""
