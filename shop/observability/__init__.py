"""Logs, metrics and the per-request bookkeeping that feeds both."""
