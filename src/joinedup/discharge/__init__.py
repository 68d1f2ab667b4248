"""Discharge to Assess: the tracker, the delay metrics and the capacity planner.

``models``/``services``/``selectors``/``views`` are the tracker, built from the hospital
feed in the record (``services.tracker_build``) and kept current by the hub's board.
``metrics`` is the pure NumPy kernel of NHS England's delay measures. ``planner`` fits
the simulator's inputs from the record and asks ``joinedup.discharge.simulation`` (a
plain NumPy kernel, no Django) the capacity questions; ``cli`` exposes the kernel as
``joinedup discharge simulate``. Nothing here re-implements the simulation.
"""
