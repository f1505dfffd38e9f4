"""The application layer: every use case once, over the store ports."""
