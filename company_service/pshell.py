"""``pshell CONFIG_URI``: a shell with a writer's ``dbsession`` joined to ``tm``.

The manager is implicit, so after ``tm.commit()`` the next statement starts a
fresh transaction; whatever is uncommitted at exit is rolled back.
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
