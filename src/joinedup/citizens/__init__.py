"""Citizens: the volunteer register, panel selection, surveys and focus groups.

Only the pure panel-selection kernel (``joinedup.citizens.selection``) and its command
(``joinedup.citizens.cli``) live here so far; the Django app (register, pages, stored
audit records) comes later and must call the kernel, never re-implement it.
"""
