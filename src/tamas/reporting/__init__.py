"""Reporting: CDRs, KPIs and reports as pure folds over the event log."""
