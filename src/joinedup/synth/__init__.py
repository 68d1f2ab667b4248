"""The synthetic borough generator (`joinedup synth`).

Builds a Stockport-like borough — residents, organisations, five years of health and
care history — and writes what each organisation's system would export, messy as
real feeds are, with a separate ground truth. Pure Python and NumPy/Arrow: no Django.

It must never read real patient data, and the platform must never read `truth/`.
"""

from joinedup.synth.borough import SynthError, SynthSummary, generate_borough

__all__ = ["SynthError", "SynthSummary", "generate_borough"]
