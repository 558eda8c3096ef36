"""``pshell CONFIG_URI``: a Python shell with the app's session and transaction.

``dbsession`` is joined to ``tm`` exactly as in a request. Unlike a request,
the shell uses an implicit transaction manager: after ``tm.commit()`` or
``tm.abort()`` the next statement starts a fresh transaction, which is what
someone typing at a prompt expects. Whatever is uncommitted at exit is
rolled back.
"""

from collections.abc import Iterator
from typing import Any

import transaction

from . import models
from .replicas import READ_PRIMARY


def setup(env: dict[str, Any]) -> Iterator[None]:
    request = env["request"]
    request.tm = transaction.TransactionManager(explicit=False)
    request.environ[READ_PRIMARY] = True  # a shell reads what it writes
    env["tm"] = request.tm
    env["dbsession"] = request.dbsession
    env["models"] = models
    try:
        yield
    finally:
        request.tm.abort()
