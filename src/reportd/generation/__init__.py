"""Report generation: one pass from a source's record batches through every writer."""
