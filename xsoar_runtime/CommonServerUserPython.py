"""Stand-in for ``CommonServerUserPython``: on the platform it holds a tenant's own shared code.

Integrations star-import it after ``CommonServerPython``; an empty module is what they get
when the tenant defines nothing, so this file stays empty on purpose.
"""
