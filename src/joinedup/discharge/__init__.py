"""Discharge to Assess: the capacity simulator now, the tracker and delay metrics later.

``joinedup.discharge.simulation`` is a plain NumPy kernel (no Django): it simulates the
flow from hospital through discharge pathways 1-3 and answers "how much capacity keeps
delays down". ``joinedup.discharge.cli`` exposes it as ``joinedup discharge simulate``.
The Django app (models, tracker, web pages, XLSX export, saved scenarios) comes later and
must call the kernel, never re-implement it.
"""
