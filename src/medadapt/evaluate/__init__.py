"""Evaluation: metrics with confidence intervals, studies, reports."""
