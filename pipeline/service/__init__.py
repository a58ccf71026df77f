"""cpt as a service: a REST API (``api``), a durable job queue in SQLite or PostgreSQL (``db``,
``queue``), workers that run each job as a ``cpt`` process of its own (``worker``), and the checks
that make a submitted config safe to run (``submission``). ``cpt serve`` puts them in one process."""
