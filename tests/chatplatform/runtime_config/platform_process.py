"""A process of its own that reads and changes runtime config and flags on commands, one JSON
object per line on stdin, each answered by one line on stdout. Run by the tests as a
subprocess against the same database as its siblings."""

import json
import os
import sys

import django


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatplatform.settings")
    django.setup()
    from chatplatform import flags, runtime_config
    from chatplatform.flags.services import flag_update
    from chatplatform.runtime_config.services import config_revert, config_set

    print(json.dumps({"ready": os.getpid()}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        op = command.pop("op")
        if op == "get":
            result = runtime_config.get(command["key"])
        elif op == "set":
            result = config_set(
                command["key"], command["value"], author=None, reason=command["reason"]
            ).number
        elif op == "revert":
            result = config_revert(
                command["key"], command["version"], author=None, reason=command["reason"]
            ).number
        elif op == "flag":
            result = flags.is_enabled(command["key"], subject=tuple(command["subject"]))
        elif op == "flag_update":
            flag_update(command["key"], enabled=command["enabled"], percentage=command["percentage"])
            result = True
        else:
            raise SystemExit(f"unknown op {op}")
        print(json.dumps({"result": result}), flush=True)


if __name__ == "__main__":
    main()
