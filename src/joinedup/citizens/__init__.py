"""Citizens: the volunteer register, panel selection, surveys and focus groups.

The pure selection kernel is ``joinedup.citizens.selection`` (no Django); everything else
here is the Django app around it: the public sign-up and self-service pages, the
engagement officers' register, imports, panels (which call the kernel and store its audit
record, never re-implement it), invitations, surveys and "you said, we did". Volunteers
are read only through ``Volunteer.objects.visible_to(user)`` or ``for_system(purpose)``.
See docs/citizens.md and ADR 14.
"""
