"""The flow of DESIGN.md, one package per stage.

Provider data enters at ``ingest``; a period is final at ``close``; ``build`` makes the
Draft statements, ``review`` approves (or voids) them, ``publish`` renders, delivers and
announces them, ``sync`` brings the ERP's payments back. ``reconcile`` and ``report``
only read what the others stored. ``credits`` is the customer credit ledger the build
draws on and a void gives back to; ``demo`` runs the whole flow on sample data.

Imports run one way, down these levels (tests/test_import_direction.py holds them):
close, credits < ingest, build < review < publish < sync, reconcile, report < demo.
Every stage works with ``connector.runtime`` (settings, database, plugins, tenants,
audit trail) and never imports the CLI, the API or the daemon, which call it.
"""
