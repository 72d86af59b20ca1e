"""Build: one Draft statement per customer × provider × closed period.

Enters: a closed period's stored charges, the configuration recorded at its close, the
customers' credit balances (:mod:`connector.pipeline.credits`) and what the provider's
bill brings beyond charges (``provider_terms``: marketplace, provider credits). Leaves:
stored Draft statements with their lines, details and credit applications, and a build
report (unassigned spend, repricing). ``build`` runs it through ``plan`` (which
statements), ``parts`` (worker processes price them) and ``store`` (bulk writes);
``purchases`` bills upfront purchases as they appear; ``documents`` reads a stored
statement back as the StatementDocument renderers and sinks receive.
"""
