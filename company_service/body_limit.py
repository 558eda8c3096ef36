"""Refuse a declared oversize body before pyramid_retry copies it.

An execution policy around pyramid_retry's: a Content-Length above
``api.max_body_bytes`` gets the contract's 413 before any tween runs.
"""

from collections.abc import Callable, Mapping
from typing import Any

from pyramid.config import PHASE3_CONFIG, Configurator
from pyramid.interfaces import IExecutionPolicy
from pyramid.router import Router, default_execution_policy

from .problems import problem_response
from .request_id import add_standard_headers

Policy = Callable[[dict[str, Any], Router], Any]
DEFAULT_MAX_BODY_BYTES = 1024 * 1024


def max_body_bytes(settings: Mapping[str, Any]) -> int:
    """``api.max_body_bytes``: the largest body any view will read."""
    return int(settings.get("api.max_body_bytes", DEFAULT_MAX_BODY_BYTES))


def body_limit_policy(inner: Policy, limit: int) -> Policy:
    def policy(environ: dict[str, Any], router: Router) -> Any:
        declared = environ.get("CONTENT_LENGTH") or ""
        if not (declared.isdigit() and int(declared) > limit):
            return inner(environ, router)
        context = router.request_context(environ)
        request = context.begin()
        try:
            response = problem_response(request, 413, f"the body exceeds {limit} bytes")
            add_standard_headers(request, response)  # as the outermost tween would
            return response
        finally:
            context.end()

    return policy


def includeme(config: Configurator) -> None:
    limit = max_body_bytes(config.get_settings())

    def wrap_execution_policy() -> None:
        registry = config.registry
        inner = registry.queryUtility(
            IExecutionPolicy, default=default_execution_policy
        )
        registry.registerUtility(body_limit_policy(inner, limit), IExecutionPolicy)

    # pyramid_retry's own action (PHASE1) schedules set_execution_policy at
    # the default order, PHASE3; wrap only once that has run.
    config.action(None, wrap_execution_policy, order=PHASE3_CONFIG + 1)
