"""Demo data and templates, so a fresh `reportd serve` or `reportd demo` has something to report on.

The data set (``reportd.entrypoints.demo.data``) gives one domain per vendor whose API a dialect
speaks, and the templates (``templates/*.yaml``) are ordinary template files over it, loaded from
the ``demo`` source.
"""
