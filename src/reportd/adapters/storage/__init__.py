"""Artifact storage backends (local disk, S3-compatible, in-memory) and signed links.

``build_storage(id, settings)`` makes one from its ``[storage.NAME]`` config. The S3
backend's boto3 is imported only when an S3 storage is built (the ``reportd[s3]`` extra).
"""

from __future__ import annotations

from reportd.adapters.storage.base import ArtifactStorage, InvalidKeyError, content_disposition
from reportd.adapters.storage.local import LocalStorage
from reportd.adapters.storage.memory import MemoryStorage
from reportd.adapters.storage.registry import build_storage
from reportd.adapters.storage.signing import LinkSigner

__all__ = [
    "ArtifactStorage",
    "InvalidKeyError",
    "LinkSigner",
    "LocalStorage",
    "MemoryStorage",
    "build_storage",
    "content_disposition",
]
