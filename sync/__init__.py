"""The sync engine: record links, sync runs and their failures (the history), one pipeline per module, locks,
Celery tasks and the beat schedule, pause and resume, instant sync, single-record fetch."""
