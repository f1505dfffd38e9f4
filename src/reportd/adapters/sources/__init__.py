"""Data sources: each runs a query and yields Arrow record batches."""
