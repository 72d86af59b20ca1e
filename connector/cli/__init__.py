"""The ``connector`` command, one module per command group.

``main`` is the group itself (and its exit codes, the small top-level commands and the
map of the others); ``statements``, ``credits``, ``reconcile``, ``report``, ``audit``,
``erp`` (with ``outbox``), ``api`` (``api-keys``, ``serve``), ``daemon`` (``run``) and
``db`` hold a command group each, imported only when invoked (``lazy``); ``support``
and ``unassigned`` are what they share.
"""
