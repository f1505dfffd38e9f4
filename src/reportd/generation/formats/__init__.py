"""Report file formats: one streaming writer per format behind ``FormatWriter``.

Nothing is imported here on purpose: ``reportd.generation.formats.registry`` loads writers on
first use.
"""
