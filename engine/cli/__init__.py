"""`commission …`: the command line, one module per command group.

`main` (the click group, its shared options and helpers) lives in `engine.cli.main`;
`programmes`, `cases`, `database`, `doctor`, `privacy`, `report`, `schedule`, `up` and `users` add their commands to it. They import `main`,
never the other way round, and this package imports them all so every command is registered.
May import any layer below: runtime, reporting, timeline, scheduler, store and the web app.
"""

from engine.cli import cases, database, doctor, privacy, programmes, report, schedule, up, users  # noqa: F401 - each registers its commands
from engine.cli.main import main

__all__ = ["main"]
