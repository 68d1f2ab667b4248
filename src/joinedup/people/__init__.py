"""The person index: people, their demographics, opt-outs, and who cares for them.

Person-level data lives in the direct care zone: every read goes through
``Person.objects.visible_to(user)`` (or a named system scope) and writes an
audit event. This app must never hand person data to the planning zone.
"""
