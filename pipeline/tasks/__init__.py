"""Downstream evaluation tasks: lm-evaluation-harness task files on local data.

Below both ``curate`` (decontamination reads the tasks' items) and ``evaluate`` (scores them).
"""
