"""``Idempotency-Key`` on every POST, as a view deriver no POST view can
forget: a repeat gets the stored answer; the key with another body is a 422.
"""

import logging
from datetime import timedelta
from typing import Any

from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response

from ..problems import invalid
from ..services.idempotency import IdempotencyStore, StoredAnswer, fingerprint

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200


def key_of(request: Request) -> str | None:
    key: str | None = request.headers.get(HEADER)
    if key is None:
        return None
    if not 1 <= len(key) <= MAX_KEY_LENGTH or any(c < " " for c in key):
        message = f"must be 1 to {MAX_KEY_LENGTH} printable characters"
        raise invalid(("header", HEADER), message)
    return key


def replay(answer: Any) -> Response:
    response = Response(
        status=answer.status_code,
        body=answer.body.encode(),
        content_type="application/json",
        charset=None,
    )
    if answer.location:
        response.headers["Location"] = answer.location
    if answer.etag:
        response.headers["ETag"] = answer.etag
    response.headers["Idempotent-Replayed"] = "true"
    return response


def idempotent(view: Any, info: Any) -> Any:
    methods = info.options.get("request_method") or ()
    if "POST" not in ((methods,) if isinstance(methods, str) else methods):
        return view
    ttl = timedelta(
        hours=float(info.registry.settings.get("api.idempotency_ttl_hours", 24))
    )

    def idempotent_view(context: Any, request: Request) -> Any:
        key = key_of(request)
        if key is None or request.method != "POST":
            return view(context, request)
        store = IdempotencyStore(request.dbsession, ttl)
        token_id = request.identity.token_id
        print_ = fingerprint(request.method, request.path_qs, request.body)
        stored = store.find(token_id, key)
        if stored is not None:
            if stored.fingerprint != print_:
                message = "this key was used with a different request"
                raise invalid(("header", HEADER), message)
            # NULL: claimed by a process older than revision c8e1a4f2d6b3.
            log.info(
                "replaying the answer to request %s",
                stored.request_id or "(not recorded)",
            )
            return replay(stored)
        claim = store.claim(token_id, key, print_, request.request_id)
        response = view(context, request)
        if response.status_code < 300:
            store.record(
                claim,
                StoredAnswer(
                    status_code=response.status_code,
                    body=response.body.decode(),
                    location=response.headers.get("Location"),
                    etag=response.headers.get("ETag"),
                ),
            )
        return response

    return idempotent_view


def includeme(config: Configurator) -> None:
    # Inside the permission check and ``writes`` (for the session), outside
    # the renderer, so it stores the final response.
    config.add_view_deriver(idempotent, name="idempotency", under="writes")
