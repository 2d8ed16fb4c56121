#!/usr/bin/env python
"""Django's command-line utility.

`manage.py crm_sandbox …` runs the CRM sandbox with its own settings and its own database, so that it is a
separate "CRM" process, exactly as Zoho's hosts are separate from Books.
"""

import os
import sys


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "crm_sandbox":
        os.environ["DJANGO_SETTINGS_MODULE"] = "crm_sandbox.settings"
        if "--db" in sys.argv:
            index = sys.argv.index("--db")
            if index + 1 < len(sys.argv):
                os.environ["CRM_SANDBOX_DB"] = os.path.abspath(sys.argv[index + 1])
    else:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
