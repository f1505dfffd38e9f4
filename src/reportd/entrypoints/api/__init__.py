"""The HTTP edge: FastAPI app factory, auth, native routes, dialects and the console."""
