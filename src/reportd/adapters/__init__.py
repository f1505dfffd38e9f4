"""Adapters to the outside: metadata database, artifact storage, data sources, template files."""
