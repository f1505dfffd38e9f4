"""Report file formats: one streaming writer per format behind ``FormatWriter``.

Nothing is imported here on purpose: ``reportd.formats.registry`` loads writers on first use.
"""
