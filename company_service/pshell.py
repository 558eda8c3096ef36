"""``pshell CONFIG_URI``: a Python shell with the app's session and transaction.

``dbsession`` is a writer's session (db.open_session), joined to ``tm`` as a
request's is. Unlike a request, the shell's manager is implicit: after
``tm.commit()`` or ``tm.abort()`` the next statement starts a fresh
transaction, which is what someone typing at a prompt expects. Whatever is
uncommitted at exit is rolled back.
"""

from collections.abc import Iterator
from typing import Any

import transaction

from . import models
from .db import open_session


def setup(env: dict[str, Any]) -> Iterator[None]:
    manager = transaction.manager
    manager.explicit = False
    env["tm"] = manager
    env["dbsession"] = open_session(env["registry"], writes=True)
    env["models"] = models
    try:
        yield
    finally:
        manager.abort()
