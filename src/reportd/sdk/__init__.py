"""The Python SDK over the native HTTP API; import it from ``reportd.client``.

``base`` builds every request once (a ``call.Call``); ``client.Client`` sends them blocking,
``async_client.AsyncClient`` awaiting. Beside them, without I/O: ``errors`` (error bodies back
to the domain's classes), ``events`` (server-sent events), ``waiting`` (deadline and progress
of ``wait``), ``download`` (resumable, checksummed files) and ``webhooks`` (a receiver's check).
"""
