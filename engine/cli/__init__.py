"""`commission …`: the command line, one module per command group.

`main` (the click group, its shared options and the programme and case commands) lives in
`engine.cli.main`; `report`, `schedule` and `up` add their commands to it. They import `main`,
never the other way round, and this package imports them all so every command is registered.
May import any layer below: runtime, reporting, timeline, scheduler, store and the web app.
"""

from engine.cli import report, schedule, up  # noqa: F401 - each registers its commands on `main`
from engine.cli.main import main

__all__ = ["main"]
