"""The platform core: users, organisations, teams, roles, access, break-glass and the audit trail.

Every other app builds on this one; it imports none of them.
"""
