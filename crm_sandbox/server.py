"""`crm_sandbox serve`: the sandbox under waitress (a real multi-threaded WSGI server), with the notification
deliverer running as background threads of the same process.

Waitress's task gets a small subclass that puts its channel into the WSGI environ, so that the "drop" fault can
close the client's socket with no HTTP answer at all (crm_sandbox/apis.py::drop_connection).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from waitress import create_server  # type: ignore[import-untyped]
from waitress.channel import HTTPChannel  # type: ignore[import-untyped]
from waitress.task import WSGITask  # type: ignore[import-untyped]

log = logging.getLogger(__name__)


class SandboxTask(WSGITask):
    def get_environment(self) -> dict[str, Any]:
        environ: dict[str, Any] = super().get_environment()
        environ["crm_sandbox.channel"] = self.channel
        return environ


def serve(*, host: str, port: int, threads: int) -> None:
    from django.core.wsgi import get_wsgi_application

    from crm_sandbox import deliverer

    os.environ["CRM_SANDBOX_HOST"] = host
    os.environ["CRM_SANDBOX_PORT"] = str(port)
    application = get_wsgi_application()
    HTTPChannel.task_class = SandboxTask
    server = create_server(
        application,
        host=host,
        port=port,
        threads=threads,
        connection_limit=max(100, threads * 4),
        channel_timeout=120,
        ident="crm-sandbox",
        clear_untrusted_proxy_headers=True,
    )
    deliverer.start()
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        deliverer.stop()
        server.close()
