"""The doors onto the application: HTTP API (native, dialects, console), CLI, worker, demo."""
