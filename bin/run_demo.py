"""`make run`: migrate, seed the demo (Books org and CRM sandbox), then run the web app on 127.0.0.1:8000, the
CRM sandbox on 127.0.0.1:8090 and a Celery worker with beat. Ctrl-C stops all three."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
WEB_PORT = int(os.environ.get("LB_WEB_PORT", "8000"))
SANDBOX_PORT = int(os.environ.get("LB_SANDBOX_PORT", "8090"))


def run(*args: str) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, check=True)


def _zoho_client_env() -> dict[str, str]:
    """Settings › Zoho Apps › Connect starts from the sandbox's OAuth client, so the demo's admin only clicks Connect
    and Accept (settings.LB_ZOHO_*). Values already in the environment win."""
    out = subprocess.run(
        [PY, "manage.py", "crm_sandbox", "credentials", "--port", str(SANDBOX_PORT)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    creds = json.loads(out)
    defaults = {
        "LB_ZOHO_DATA_CENTER": "custom",
        "LB_ZOHO_ACCOUNTS_URL": creds["accounts_url"],
        "LB_ZOHO_API_DOMAIN": creds["api_domain"],
        "LB_ZOHO_CLIENT_ID": creds["client_id"],
        "LB_ZOHO_CLIENT_SECRET": creds["client_secret"],
    }
    return {k: v for k, v in defaults.items() if not os.environ.get(k)}


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    # Ctrl-C reaches the whole process group; a plain `kill` reaches only us, so treat it the same way and stop
    # the children ourselves.
    signal.signal(signal.SIGTERM, _stop)
    env = dict(os.environ)
    env.setdefault("CRM_SANDBOX_URL", f"http://127.0.0.1:{SANDBOX_PORT}")
    env.setdefault("LB_PUBLIC_URL", f"http://127.0.0.1:{WEB_PORT}")
    os.environ.update(env)
    run("migrate", "--no-input", "-v", "0")
    run("demo_seed")
    run("crm_sandbox", "seed")
    env.update(_zoho_client_env())
    procs = [
        subprocess.Popen([PY, "manage.py", "crm_sandbox", "serve", "--port", str(SANDBOX_PORT)], cwd=ROOT, env=env),
        subprocess.Popen(
            [PY, "-m", "celery", "-A", "config", "worker", "--beat", "--loglevel", "INFO", "--concurrency", "2"],
            cwd=ROOT,
            env=env,
        ),
        subprocess.Popen(
            [PY, "-m", "waitress", "--listen", f"127.0.0.1:{WEB_PORT}", "--threads", "8", "config.wsgi:application"],
            cwd=ROOT,
            env=env,
        ),
    ]
    time.sleep(1.5)
    print(
        "\n"
        f"  Ledgerbridge (Books)   http://127.0.0.1:{WEB_PORT}/   sign in as admin@demo.test / demo\n"
        f"  CRM sandbox            http://127.0.0.1:{SANDBOX_PORT}/   (its admin pages: /admin/, admin / admin)\n"
        f"  Books API docs         http://127.0.0.1:{WEB_PORT}/books/v3/docs/\n"
        "  Press Ctrl-C to stop.\n",
        flush=True,
    )
    try:
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for p in procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
