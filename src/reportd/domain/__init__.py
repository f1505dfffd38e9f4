"""Pure rules of reportd: entities, states, errors, the filter language, file naming.

Imports nothing outside the standard library and itself.
"""
