"""The Python SDK over the native HTTP API."""
