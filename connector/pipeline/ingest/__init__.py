"""Ingest: a provider's billing data in, stored canonical charges out.

Enters: the tenant's provider plugin (made with its settings) and a period, or none
for every period the provider has. Leaves: per period, one current charge batch with
its source hash (a source seen before is skipped, nothing stored twice), and whether
the period is final and why (:mod:`connector.pipeline.close.finality`), closing nothing.
"""
