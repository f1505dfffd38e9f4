"""The ``reportd`` command line."""
