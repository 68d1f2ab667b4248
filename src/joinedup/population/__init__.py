"""Population-health methods: pure kernels the population module builds on.

Kernels here take arrays and return dataclasses; they never import Django.
"""
