"""The daemon: the schedule loop, work claiming through leases, signals, health, metrics.

* :mod:`.loop` – :class:`~.loop.Daemon`, one replica: claims due units, isolates
  failures, backs off, shuts down on SIGTERM/SIGINT within a bound.
* :mod:`.units` – what each unit of work (billing, outbox, payments) does.
* :mod:`.leases` – ``work_leases`` rows: claims that are safe across replicas.
* :mod:`.singleton` – one daemon per SQLite database.
* :mod:`.health`, :mod:`.metrics`, :mod:`.logs` – probes, Prometheus, JSON logs.
* :mod:`.api_server` – the billing API in the daemon (``api.enabled``).
* :mod:`.options`, :mod:`.clock` – knobs and the injectable clock.
"""
