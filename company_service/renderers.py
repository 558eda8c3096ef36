"""The ``json`` renderer: where every response body is encoded, once.

A pydantic model by its own serializer, unset fields left out; anything
else by orjson.
"""

import json
from collections.abc import Callable
from typing import Any

import orjson
from pydantic import BaseModel
from pyramid.config import Configurator
from pyramid.renderers import JSON


def model_json(value: BaseModel) -> bytes:
    return value.__pydantic_serializer__.to_json(value, exclude_unset=True)


def dumps(value: Any, default: Callable[[Any], Any] | None = None, **kw: Any) -> bytes:
    if isinstance(value, BaseModel):
        return model_json(value)
    try:
        return orjson.dumps(value, default=default)
    except TypeError:  # orjson refuses integers beyond 64 bits; json does not
        return json.dumps(value, default=default).encode()


def includeme(config: Configurator) -> None:
    config.add_renderer("json", JSON(serializer=dumps))
