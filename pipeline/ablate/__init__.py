"""Filtering ablations: variants of the new data continued from one base, compared in one report."""
