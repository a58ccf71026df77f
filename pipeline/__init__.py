"""cpt: a continued-pretraining pipeline (curate -> dedup -> tokenize -> mix -> train -> evaluate -> report)."""

__version__ = "0.1.0"
