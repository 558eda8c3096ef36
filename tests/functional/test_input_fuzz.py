"""Property-based fuzzing of what a client controls: bodies, query strings, headers.

Whatever arrives, the answer is never a 5xx: a 2xx (or a 304), or a 4xx that
is ``application/problem+json`` with the contract's fields and the response's
own request id, and no traceback anywhere.

The requests go through the real commit path (``real_app``): every request
has a session and a transaction of its own, so one refused write (a 409, a
failed flush) cannot spoil the next example, on any database.

Inputs that once gave a 500 (found by these properties) are pinned by the
regression tests at the end of this module.
"""

import io
import json
import re
import string
import uuid
from collections import Counter
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from webob import Request

from company_service.testing import bearer
from tests.support.company import HEADER

API = "/api/v1"
DEPARTMENTS = f"{API}/departments"
EMPLOYEES = f"{API}/employees"
BULK = f"{API}/employees/bulk"
PROBLEM = "application/problem+json"
# The documented rule for echoing a client's X-Request-ID (docs/usage.md, "Errors").
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")
FRESH_REQUEST_ID = re.compile(r"[0-9a-f]{32}")

# Examples tried, requests sent and the statuses they got, reported when the
# module finishes.
TRIED: Counter[str] = Counter()
STATUSES: Counter[int] = Counter()


def fuzz(max_examples: int, *, shrink: bool = True) -> Any:
    """Hypothesis settings for these tests: the fixtures are function-scoped
    on purpose (one committed database per test, shared by its examples), and
    nothing is written to an example database inside the repository. A known
    failure (the regression tests) need not be shrunk."""
    phases = list(Phase) if shrink else [Phase.explicit, Phase.generate]
    return settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        phases=phases,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )


@pytest.fixture(scope="module", autouse=True)
def report_examples(request: pytest.FixtureRequest) -> Any:
    yield
    line = (
        f"input fuzz: {TRIED['examples']} generated examples and"
        f" {TRIED['cases']} fixed cases, {TRIED['requests']} requests, no 5xx"
        " outside the regression tests; statuses seen: "
        + ", ".join(f"{code} x{n}" for code, n in sorted(STATUSES.items()))
    )
    print(line)  # in the captured output (pytest -rP)
    # And on the terminal, past pytest's output capture.
    plugins = request.config.pluginmanager
    reporter = plugins.get_plugin("terminalreporter")
    capture = plugins.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line("")
            reporter.write_line(line)


# --- what every answer must look like -----------------------------------------


def assert_sane(response: Any, *, allowed: frozenset[int] | None = None) -> Any:
    """No 5xx; a 4xx is a complete problem; nothing leaks a traceback."""
    TRIED["requests"] += 1
    status = response.status_int
    STATUSES[status] += 1
    where = f"{response.request.method} {response.request.url[:200]}"
    assert status < 500, f"{where} -> {status}: {response.text[:500]}"
    assert 200 <= status < 300 or status == 304 or 400 <= status < 500, status
    if allowed is not None:
        assert status in allowed, f"{where} -> {status}: {response.text[:500]}"
    assert "Traceback" not in response.text
    assert 'File "' not in response.text
    request_id = response.headers["X-Request-ID"]
    if 400 <= status < 500:
        assert response.content_type == PROBLEM, (where, status, response.text[:300])
        body = response.json
        assert body["type"] == "about:blank"
        assert body["title"]
        assert body["status"] == status
        assert "detail" in body
        assert body["request_id"] == request_id
        for error in body.get("errors", []):
            assert error["loc"] and error["msg"] and error["type"]
    return response


def send(app: Any, method: str, path: str, body: bytes | None, **headers: str) -> Any:
    """Any method, any bytes, any headers; the status is checked by the caller."""
    params: dict[str, Any] = {"method": method, "headers": headers}
    if body is not None:
        params["body"] = body
    return app.request(path, expect_errors=True, **params)


def run(app: Any, request: Request) -> Any:
    """A hand-built request, as is: webtest's ``request()`` would copy it and
    so buffer the body and give it a Content-Length."""
    for name, value in app.extra_environ.items():
        request.environ.setdefault(name, value)
    return app.do_request(request, expect_errors=True)


@pytest.fixture
def editor(committed_editor_token: str) -> dict[str, str]:
    return bearer(committed_editor_token)


@pytest.fixture
def employee_id(real_app: Any, editor: dict[str, str]) -> int:
    """An employee for the PATCH target to work on."""
    return real_app.post_json(
        EMPLOYEES,
        {
            "first_name": "Patch",
            "last_name": "Target",
            "email": "patch.target@example.com",
            "salary": "1000.00",
        },
        headers=editor,
        status=201,
    ).json["id"]


# --- the body targets ------------------------------------------------------------

TARGETS = {
    "post-department": ("POST", DEPARTMENTS),
    "post-employee": ("POST", EMPLOYEES),
    "patch-employee": ("PATCH", EMPLOYEES + "/{id}"),
    "post-bulk": ("POST", BULK),
}
ACCEPTED_TYPES = {
    "post-department": {"application/json"},
    "post-employee": {"application/json"},
    "patch-employee": {"application/json", "application/merge-patch+json"},
    "post-bulk": {"application/json"},
}
# Every status a body can earn on these routes (412 needs If-Match; none here).
BODY_STATUSES = frozenset({200, 201, 400, 404, 409, 413, 415, 422})


@pytest.fixture(params=list(TARGETS))
def target(request: pytest.FixtureRequest, real_app: Any, editor: dict) -> Any:
    """(name, method, path) with the PATCH target's employee created first."""
    name = request.param
    method, path = TARGETS[name]
    if "{id}" in path:
        path = path.format(id=request.getfixturevalue("employee_id"))
    return name, method, path


def post_body(real_app: Any, editor: dict, target: Any, body: bytes, **kw: str) -> Any:
    _, method, path = target
    headers = {**editor, "Content-Type": "application/json", **kw}
    return send(real_app, method, path, body, **headers)


# --- strategies: JSON values --------------------------------------------------------

# Any Unicode but surrogates (which a UTF-8 body cannot carry), control
# characters included.
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
HUGE_INTS = st.sampled_from(
    [2**31 - 1, 2**31, 2**53 + 1, 2**63, -(2**63) - 1, 10**100, -(10**300), 10**4000]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    HUGE_INTS,
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4)
    ),
    max_leaves=12,
)
PLAUSIBLE = st.one_of(
    JSON_VALUES,
    st.emails().map(str),
    st.dates().map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str),
    st.integers(min_value=-2, max_value=2**31 + 1),
    st.sampled_from(
        [
            "",
            " ",
            "null",
            "1e5",
            "-0.00",
            "0.001",
            "9999999999.99",
            "10000000000",
            "2024-02-30",
            "2024-2-3",
            "\x00",
            "a\x7fb",
            "\u00df" * 101,
            "x" * 2001,
            "A@B.C",
        ]
    ),
)
# The representation's fields (read-only ones included: a client may send
# them back), and a department's count, which an employee does not have.
EMPLOYEE_FIELDS = (*HEADER, "employee_count")
DEPARTMENT_FIELDS = ("name", "description", "id", "version", "employee_count")


def shaped(fields: tuple[str, ...]) -> st.SearchStrategy[dict]:
    """Objects with the target's real field names, so validation runs deep."""
    return st.fixed_dictionaries(
        {},
        optional={
            **{field: PLAUSIBLE for field in fields},
            "unknown_field": JSON_VALUES,
        },
    )


SHAPED = {
    "post-department": shaped(DEPARTMENT_FIELDS),
    "post-employee": shaped(EMPLOYEE_FIELDS),
    "patch-employee": shaped(EMPLOYEE_FIELDS),
    "post-bulk": st.fixed_dictionaries(
        {"items": st.lists(shaped(EMPLOYEE_FIELDS) | JSON_VALUES, max_size=4)},
        optional={"more": JSON_VALUES},
    ),
}


def encode(value: Any, ascii_only: bool) -> bytes:
    return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8")


# --- bodies ---------------------------------------------------------------------------


@fuzz(60)
@given(body=st.binary(max_size=512))
def test_arbitrary_bytes_as_a_body(real_app, editor, target, body):
    TRIED["examples"] += 1
    response = post_body(real_app, editor, target, body)
    assert_sane(response, allowed=BODY_STATUSES)


@fuzz(60)
@given(value=JSON_VALUES, ascii_only=st.booleans())
def test_arbitrary_json_values_as_a_body(real_app, editor, target, value, ascii_only):
    TRIED["examples"] += 1
    response = post_body(real_app, editor, target, encode(value, ascii_only))
    assert_sane(response, allowed=BODY_STATUSES - {400})


@fuzz(80)
@given(data=st.data(), ascii_only=st.booleans())
def test_objects_shaped_like_the_resource(real_app, editor, target, data, ascii_only):
    TRIED["examples"] += 1
    value = data.draw(SHAPED[target[0]], label="body")
    response = post_body(real_app, editor, target, encode(value, ascii_only))
    assert_sane(response, allowed=BODY_STATUSES - {400})


@fuzz(30)
@given(code=st.integers(min_value=0xD800, max_value=0xDFFF), where=st.booleans())
def test_lone_surrogate_escapes_are_refused_not_stored(
    real_app, editor, target, code, where
):
    """JSON's syntax allows "\\ud800"; no database can store the result."""
    TRIED["examples"] += 1
    text = f"a\\u{code:04x}" if where else f"\\u{code:04x}b"
    name, _, _ = target
    field = "name" if name == "post-department" else "first_name"
    item = (
        f'{{"{field}": "{text}", "last_name": "L", "email": "s@example.com",'
        ' "salary": 1}'
    )
    body = f'{{"items": [{item}]}}' if name == "post-bulk" else item
    response = post_body(real_app, editor, target, body.encode())
    assert_sane(response, allowed=frozenset({400, 422}))


UNTRUSTED_JSON = {
    "deep-arrays": b"[" * 10_000 + b"]" * 10_000,
    "deep-objects": b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
    "deep-in-a-field": b'{"name": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
    "huge-integer": b'{"salary": 1' + b"0" * 5000 + b"}",
    "huge-negative-integer": b'{"salary": -1' + b"0" * 5000 + b"}",
    "nan": b'{"salary": NaN}',
    "infinity": b'{"salary": Infinity}',
    "minus-infinity": b'{"salary": -Infinity}',
    "duplicate-keys": b'{"name": "a", "name": "b"}',
    "duplicate-keys-in-an-item": (
        b'{"items": [{"email": "a@example.com", "email": "b@example.com"}]}'
    ),
    "invalid-utf8": b'{"name": "\xff\xfe"}',
    "overlong-utf8": b'{"name": "\xc0\xaf"}',
    "utf8-encoded-surrogate": b'{"name": "\xed\xa0\x80"}',
    "truncated-utf8": b'{"name": "\xe2\x82"}',
    "utf8-bom": b'\xef\xbb\xbf{"name": "x"}',
    "utf16": '{"name": "x"}'.encode("utf-16"),
    "empty": b"",
    "whitespace": b" \r\n\t",
    "trailing-garbage": b'{"name": "x"} x',
    "trailing-comma": b'{"name": "x",}',
    "single-quotes": b"{'name': 'x'}",
    "comment": b'{"name": "x" /* c */}',
    "nul-after": b'{"name": "x"}\x00',
    "raw-control-character-in-a-string": b'{"name": "a\x01b"}',
    "unterminated": b'{"name": "x',
}


def test_json_that_cannot_be_trusted_is_a_400(real_app, editor, target):
    """Deep nesting, 10**5000, NaN, duplicate keys, bad UTF-8 and friends."""
    for case, raw in UNTRUSTED_JSON.items():
        TRIED["cases"] += 1
        response = post_body(real_app, editor, target, raw)
        assert response.status_int == 400, (case, response.status, response.text)
        assert_sane(response, allowed=frozenset({400}))


VALID_JSON_INVALID_VALUES = {
    "huge-float": b"1e5000",
    "tiny-float": b"-1e-5000",
    "integer-of-4001-digits": b"1" + b"0" * 4000,
    "lone-high-surrogate": b'"\\ud800"',
    "lone-low-surrogate": b'"x\\udfff"',
    "nul": b'"a\\u0000b"',
    "object": b'{"a": [1, {"b": null}]}',
}


def test_json_values_no_field_accepts_are_a_422(real_app, editor, target):
    name = target[0]
    for case, value in VALID_JSON_INVALID_VALUES.items():
        TRIED["cases"] += 1
        item = (
            b'{"first_name": %s, "last_name": "L", "email": "v@example.com",'
            b' "salary": 1}' % value
        )
        if name == "post-department":
            item = b'{"name": %s}' % value
        body = b'{"items": [%s]}' % item if name == "post-bulk" else item
        response = post_body(real_app, editor, target, body)
        assert response.status_int == 422, (case, response.status, response.text)
        assert_sane(response, allowed=frozenset({422}))


def padded_body(target_name: str, size: int) -> bytes:
    """A syntactically valid body of exactly ``size`` bytes: one long string."""
    field = "description" if target_name == "post-department" else "title"
    head = f'{{"name": "x", "{field}": "'.encode()
    if target_name == "post-bulk":
        head = b'{"items": [{"title": "'
        tail = b'"}]}'
    else:
        tail = b'"}'
    return head + b"y" * (size - len(head) - len(tail)) + tail


def test_a_megabyte_string_at_the_limit(real_app, editor, target):
    """Up to api.max_body_bytes the body is read (and refused as too long a
    field: 422); one byte more is a 413 before anything is read."""
    limit = int(real_app.app.registry.settings["api.max_body_bytes"])
    for offset, status in [(-1, 422), (0, 422), (1, 413)]:
        TRIED["cases"] += 1
        body = padded_body(target[0], limit + offset)
        assert len(body) == limit + offset
        response = post_body(real_app, editor, target, body)
        assert response.status_int == status, (offset, response.text[:300])
        assert_sane(response)


def test_an_oversize_body_without_content_length_is_a_413_problem(
    real_app, editor, target
):
    """Chunked: no length to judge up front, so the app counts what it read."""
    TRIED["cases"] += 1
    _, method, path = target
    limit = int(real_app.app.registry.settings["api.max_body_bytes"])
    request = Request.blank(
        path,
        method=method,
        headers={
            **editor,
            "Content-Type": "application/json",
            "Transfer-Encoding": "chunked",
        },
    )
    request.environ.pop("CONTENT_LENGTH", None)
    request.environ["wsgi.input"] = io.BytesIO(padded_body(target[0], limit + 1))
    request.environ["wsgi.input_terminated"] = True
    assert_sane(run(real_app, request), allowed=frozenset({413}))


# --- Content-Type ---------------------------------------------------------------------

LATIN1 = st.characters(min_codepoint=0, max_codepoint=255, exclude_characters="\r\n")
CONTENT_TYPE_VARIANTS = [
    "application/json",
    "APPLICATION/JSON",
    "Application/Json ",
    " application/json",
    "application/json; charset=utf-8",
    "application/json;charset=UTF8",
    'application/json; charset="utf-8"',
    "application/json; charset=latin-1",
    "application/json; charset=utf-16",
    "application/json; charset=",
    "application/json; charset",
    "application/json;;",
    "application/json; q=1; charset=utf-8; x",
    "application/json, text/plain",
    "application/merge-patch+json",
    "application/merge-patch+json; charset=utf-8",
    "application/problem+json",
    "application/jsonx",
    "application/json-patch+json",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "text/json",
    "text/plain",
    "application/*",
    "*/*",
    "",
    ";",
    "=",
    "application/json\x00",
    "application/json\xa0",
    "\xe9/\xe9",
]
CONTENT_TYPES = st.one_of(
    st.sampled_from(CONTENT_TYPE_VARIANTS),
    st.text(LATIN1, max_size=60),
    st.builds(
        lambda kind, parameters: f"{kind};{parameters}",
        st.sampled_from(["application/json", "application/merge-patch+json"]),
        st.text(LATIN1, max_size=30),
    ),
)
VALID_BODIES = {
    "post-department": lambda: {"name": f"Typed {uuid.uuid4().hex}"},
    "post-employee": lambda: {
        "first_name": "T",
        "last_name": "Y",
        "email": f"{uuid.uuid4().hex}@example.com",
        "salary": 1,
    },
    "patch-employee": lambda: {"title": "Typed"},
    "post-bulk": lambda: {
        "items": [
            {
                "first_name": "T",
                "last_name": "Y",
                "email": f"{uuid.uuid4().hex}@example.com",
                "salary": 1,
            }
        ]
    },
}


@fuzz(60)
@given(content_type=CONTENT_TYPES)
def test_every_content_type_variant(real_app, editor, target, content_type):
    """A type the route does not take is a 415; nothing is a 5xx."""
    TRIED["examples"] += 1
    _, method, path = target
    request = Request.blank(path, method=method, headers=editor)
    request.body = json.dumps(VALID_BODIES[target[0]]()).encode()
    request.environ["CONTENT_TYPE"] = content_type  # as is, even when empty
    response = assert_sane(run(real_app, request))
    kind = content_type.split(";")[0].strip().lower()
    if kind not in ACCEPTED_TYPES[target[0]]:
        assert response.status_int == 415, (content_type, response.status)
    else:
        assert response.status_int in {200, 201, 415}, (content_type, response.text)


# --- query strings --------------------------------------------------------------------

EMPLOYEE_PARAMETERS = [
    "limit",
    "cursor",
    "sort",
    "count",
    "department_id",
    "manager_id",
    "active",
    "hired_after",
    "hired_before",
    "q",
]
DEPARTMENT_PARAMETERS = ["limit", "cursor", "sort", "count"]
SORT_FIELDS = ["id", "first_name", "last_name", "email", "hire_date", "salary"]
SORT_FIELDS += ["created_at", "name", "updated_at", "version", "", " ", "ID", "-"]
# Stand-ins replaced by real cursors (intact or damaged) once the data exist.
CURSOR_STANDINS = [
    "@cursor",
    "@cursor-truncated",
    "@cursor-extended",
    "@cursor-flipped",
    "@cursor-unsigned",
    "@cursor-of-the-other-collection",
    "@cursor-of-another-sort",
]
# Short enough never to reach Python's 4300-digit limit (see the regressions).
DIGITS = st.text(string.digits, min_size=1, max_size=60)
QUERY_VALUES = st.one_of(
    st.text(max_size=40),
    st.text(LATIN1, max_size=20),
    st.binary(max_size=6),  # percent-encoded as is: often not UTF-8
    DIGITS,
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.dates().map(str),
    st.sampled_from(CURSOR_STANDINS),
    st.lists(
        st.tuples(st.sampled_from(["", "-", "+", "--"]), st.sampled_from(SORT_FIELDS)),
        max_size=4,
    ).map(lambda keys: ",".join(sign + name for sign, name in keys)),
    st.sampled_from(
        [
            "",
            "null",
            "NULL",
            "true",
            "false",
            "True",
            "1",
            "0",
            "-1",
            "+1",
            " 1",
            "1.0",
            "1e3",
            "0x10",
            "١٢",  # Arabic-Indic digits: isdigit(), but not ASCII
            "²",
            "2147483647",
            "2147483648",
            "500",
            "501",
            "2024-02-30",
            "2024-13-01",
            "0000-01-01",
            "9999-12-31",
            "%",
            "_",
            "%_%",
            "\\",
            "'; DROP TABLE employees; --",
            "\x00",
            "a\x1fb",
        ]
    ),
)


def cursor_value(standin: Any, cursors: dict[str, str], collection: str) -> Any:
    own = cursors[collection]
    other = cursors["departments" if collection == "employees" else "employees"]
    body, _, _ = own.partition(".")
    flipped = own[:-1] + ("A" if own[-1] != "A" else "B")
    return {
        "@cursor": own,
        "@cursor-truncated": own[:-1],
        "@cursor-extended": own + "A",
        "@cursor-flipped": flipped,
        "@cursor-unsigned": body,
        "@cursor-of-the-other-collection": other,
        "@cursor-of-another-sort": cursors[f"{collection}-by-created"],
    }.get(standin, standin)


@pytest.fixture
def cursors(real_app: Any, editor: dict[str, str]) -> dict[str, str]:
    """Some rows, and real cursors into both collections."""
    departments = [
        real_app.post_json(DEPARTMENTS, {"name": name}, headers=editor).json["id"]
        for name in ("Fuzz A", "Fuzz B", "Fuzz C")
    ]
    boss = None
    for n in range(4):
        boss = real_app.post_json(
            EMPLOYEES,
            {
                "first_name": f"F{n}",
                "last_name": "Q",
                "email": f"fuzz{n}@example.com",
                "salary": 100 * n,
                "hire_date": f"202{n}-01-01",
                "department_id": departments[n % 3],
                "manager_id": boss,
            },
            headers=editor,
        ).json["id"]
    found = {}
    for collection in ("employees", "departments"):
        path = f"{API}/{collection}"
        found[collection] = real_app.get(path, {"limit": "1"}, headers=editor).json[
            "next_cursor"
        ]
        found[f"{collection}-by-created"] = real_app.get(
            path, {"limit": "1", "sort": "created_at"}, headers=editor
        ).json["next_cursor"]
    assert all(found.values())
    return found


def query_pairs(known: list[str]) -> st.SearchStrategy[list[tuple[str, Any]]]:
    """Known names (so repeats are common), unknown and odd names, any values."""
    names = st.one_of(
        st.sampled_from(known),
        st.sampled_from(known).map(str.upper),
        st.text(max_size=12),
        st.sampled_from(["", "limit[]", "q ", " q", "sort.x", "__class__", "&", "="]),
    )
    return st.lists(st.tuples(names, QUERY_VALUES), max_size=6)


def encode_pairs(pairs: list[tuple[str, Any]], plus_for_space: bool) -> str:
    def enc(text: str | bytes) -> str:
        encoded = quote(text, safe="")
        return encoded.replace("%20", "+") if plus_for_space else encoded

    return "&".join(f"{enc(name)}={enc(value)}" for name, value in pairs)


def is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# Raw query strings as a client may put them on the request line: printable
# ASCII (percent signs included, so broken escapes and escapes of bytes that
# are not UTF-8), percent-encoded text, unescaped UTF-8 as the server hands it
# over (bytes as latin-1 characters), and raw bytes that are not UTF-8.
RAW_PIECES = st.one_of(
    st.text(
        st.sampled_from(sorted(set(string.printable) - set(" #\t\n\r\x0b\x0c"))),
        max_size=12,
    ),
    st.text(max_size=8).map(lambda s: quote(s, safe="")),
    st.text(
        st.characters(min_codepoint=0x80, exclude_categories=("Cs",)), max_size=8
    ).map(lambda s: s.encode("utf-8").decode("latin-1")),
    st.binary(min_size=1, max_size=3).map(lambda b: b.decode("latin-1")),
    st.sampled_from(["%", "%%", "%G1", "%2", "%0", "%00", "%7F", "%ff", "&&", "=="]),
)
RAW_QUERIES = st.lists(RAW_PIECES, max_size=8).map("".join)


def assert_collection_answer(response: Any) -> None:
    """200 with a page, 400 (not UTF-8) or 422 naming query parameters."""
    assert_sane(response, allowed=frozenset({200, 400, 422}))
    if response.status_int == 200:
        body = response.json
        assert isinstance(body["items"], list)
        assert body["next_cursor"] is None or isinstance(body["next_cursor"], str)
    elif response.status_int == 422:
        assert all(e["loc"][0] == "query" for e in response.json["errors"])


@pytest.mark.parametrize("collection", ["employees", "departments"])
@fuzz(150)
@given(data=st.data(), plus_for_space=st.booleans())
def test_query_strings_of_the_collections(
    real_app, editor, cursors, collection, data, plus_for_space
):
    TRIED["examples"] += 1
    known = EMPLOYEE_PARAMETERS if collection == "employees" else DEPARTMENT_PARAMETERS
    pairs = data.draw(query_pairs(known), label="pairs")
    pairs = [(name, cursor_value(v, cursors, collection)) for name, v in pairs]
    raw = encode_pairs(pairs, plus_for_space)
    response = real_app.get(f"{API}/{collection}?{raw}", headers=editor, status="*")
    assert_collection_answer(response)


@pytest.mark.parametrize("collection", ["employees", "departments"])
@fuzz(100)
@given(raw=RAW_QUERIES)
def test_raw_query_strings_of_the_collections(real_app, editor, collection, raw):
    TRIED["examples"] += 1
    response = real_app.get(f"{API}/{collection}?{raw}", headers=editor, status="*")
    assert_collection_answer(response)


# --- headers --------------------------------------------------------------------------

HEADER_VALUES = st.one_of(
    st.text(LATIN1, max_size=300),
    st.text(string.ascii_letters + string.digits + "._:@/+=-", max_size=140),
    st.sampled_from(
        [
            "",
            " ",
            "*",
            '"1"',
            'W/"1"',
            'W/"1", "2"',
            '"1", "2", *',
            '"0"',
            '"-1"',
            '"01"',
            '" 1"',
            '"١"',
            '"²"',
            '"',
            '""',
            ",,,",
            '"2147483648"',
            '"' + "9" * 100 + '"',
            "x" * 200,
            "x" * 201,
            "\x7f",
            "\xff" * 200,
        ]
    ),
)
HEADER_NAMES = [
    "If-Match",
    "If-None-Match",
    "Idempotency-Key",
    "X-Request-ID",
    "Authorization",
]
REQUEST_KINDS = ["GET item", "PATCH item", "DELETE item", "POST collection", "GET list"]


@fuzz(250)
@given(
    name=st.sampled_from(HEADER_NAMES),
    value=HEADER_VALUES,
    kind=st.sampled_from(REQUEST_KINDS),
)
def test_conditional_idempotency_and_request_id_headers(
    real_app, editor, employee_id, name, value, kind
):
    TRIED["examples"] += 1
    headers = {**editor, name: value}
    item = f"{EMPLOYEES}/{employee_id}"
    if kind == "GET item":
        response = send(real_app, "GET", item, None, **headers)
    elif kind == "GET list":
        response = send(real_app, "GET", EMPLOYEES, None, **headers)
    elif kind == "PATCH item":
        headers["Content-Type"] = "application/merge-patch+json"
        response = send(real_app, "PATCH", item, b'{"title": "H"}', **headers)
    elif kind == "DELETE item":
        # A department of its own each time, so a successful DELETE costs nothing.
        department = real_app.post_json(
            DEPARTMENTS, {"name": f"Doomed {uuid.uuid4().hex}"}, headers=editor
        ).json["id"]
        response = send(
            real_app, "DELETE", f"{DEPARTMENTS}/{department}", None, **headers
        )
    else:
        headers["Content-Type"] = "application/json"
        body = json.dumps({"name": f"Keyed {uuid.uuid4().hex}"}).encode()
        response = send(real_app, "POST", DEPARTMENTS, body, **headers)
    assert_sane(response)
    status = response.status_int
    if name == "Authorization":
        assert status == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    if status == 304:
        assert (kind, name) == ("GET item", "If-None-Match")
    if status == 412:
        # RFC 9110 §13.1: If-Match that fails, on any item method; If-None-Match
        # that matches (here only "*" can), on a write.
        assert kind in ("GET item", "PATCH item", "DELETE item")
        assert name == "If-Match" or (name == "If-None-Match" and kind != "GET item")
    returned_id = response.headers["X-Request-ID"]
    if name == "X-Request-ID" and SANE_REQUEST_ID.fullmatch(value):
        assert returned_id == value
    else:
        assert FRESH_REQUEST_ID.fullmatch(returned_id), returned_id


# --- query strings that are not UTF-8 -------------------------------------------------
# A 500 (UnicodeDecodeError from webob's request.GET) when this module was
# written; fixed in views/query.py while it was being written. Kept as a
# regression test on every route that reads a query string.

BAD_UTF8_QUERIES = [
    (f"{EMPLOYEES}", "q=%ff"),
    (f"{EMPLOYEES}", "%ff=1"),
    (f"{EMPLOYEES}", "q=%ED%A0%80"),  # an encoded surrogate
    (f"{EMPLOYEES}", "q=%C0%AF"),  # an overlong encoding
    (f"{EMPLOYEES}", "q=\xe9"),  # a raw latin-1 byte, as waitress passes it on
    (f"{EMPLOYEES}", "limit=%ff"),
    (f"{EMPLOYEES}", "cursor=%ff%fe"),
    (f"{DEPARTMENTS}", "sort=%ff"),
    (f"{EMPLOYEES}.csv", "q=%ff"),
    (f"{API}/stats/departments", "%ff"),
    (f"{API}/departments/1/employees", "q=%ff"),
    (f"{EMPLOYEES}/1/reports", "recursive=%ff"),
    (f"{EMPLOYEES}/1/chain", "x=%ff"),
]


@pytest.mark.parametrize(("path", "raw"), BAD_UTF8_QUERIES)
def test_a_query_string_that_is_not_utf8_is_a_400_problem(real_app, editor, path, raw):
    TRIED["cases"] += 1
    response = real_app.get(f"{path}?{raw}", headers=editor, status="*")
    assert_sane(response, allowed=frozenset({400}))


@pytest.mark.parametrize("collection", ["employees", "departments"])
@fuzz(40)
@given(
    good=RAW_QUERIES,
    # Bytes that URL syntax would reinterpret (# starts a fragment, & and =
    # split parameters) could hide the invalid UTF-8 from the server.
    bad=st.binary(min_size=1, max_size=4).filter(
        lambda b: not is_utf8(b) and not set(b) & set(b"#&=+%;? \t\r\n")
    ),
    escaped=st.booleans(),
)
def test_fuzzed_query_strings_with_invalid_utf8(
    real_app, editor, collection, good, bad, escaped
):
    TRIED["examples"] += 1
    junk = quote(bad, safe="") if escaped else bad.decode("latin-1")
    # The invalid part first: a "#" in the generated rest would make the
    # remainder a fragment, never sent.
    raw = f"q={junk}&{good}" if good else f"q={junk}"
    response = real_app.get(f"{API}/{collection}?{raw}", headers=editor, status="*")
    assert_sane(response, allowed=frozenset({400}))


# --- regressions: each of these once answered 500 ---

# Python refuses int() of a string of more than 4300 digits (ValueError,
# CVE-2020-10735 mitigation); each of these once reached such an int().
TOO_MANY_DIGITS = "9" * 4301


@pytest.mark.parametrize(
    ("method", "where"),
    [
        ("GET", f"{EMPLOYEES}?limit={TOO_MANY_DIGITS}"),
        ("GET", f"{EMPLOYEES}?department_id={TOO_MANY_DIGITS}"),
        ("GET", f"{EMPLOYEES}?manager_id={TOO_MANY_DIGITS}"),
        ("GET", f"{DEPARTMENTS}?limit={TOO_MANY_DIGITS}"),
        ("GET", f"{EMPLOYEES}/{TOO_MANY_DIGITS}"),
        ("GET", f"{DEPARTMENTS}/{TOO_MANY_DIGITS}"),
        ("GET", f"{DEPARTMENTS}/{TOO_MANY_DIGITS}/employees"),
        ("GET", f"{EMPLOYEES}/{TOO_MANY_DIGITS}/reports"),
        ("DELETE", f"{EMPLOYEES}/{TOO_MANY_DIGITS}"),
        ("PATCH", "If-Match"),
        ("DELETE", "If-Match"),
    ],
    ids=[
        "limit",
        "department_id",
        "manager_id",
        "departments-limit",
        "employee-path-id",
        "department-path-id",
        "department-employees-path-id",
        "reports-path-id",
        "delete-path-id",
        "patch-if-match",
        "delete-if-match",
    ],
)
def test_integers_of_more_than_4300_digits_are_a_4xx_problem(
    real_app, editor, employee_id, method, where
):
    TRIED["cases"] += 1
    if where == "If-Match":
        headers = {
            **editor,
            "If-Match": f'"{TOO_MANY_DIGITS}"',
            "Content-Type": "application/json",
        }
        body = b'{"title": "x"}' if method == "PATCH" else None
        response = send(real_app, method, f"{EMPLOYEES}/{employee_id}", body, **headers)
    else:
        response = send(real_app, method, where, None, **editor)
    assert_sane(response, allowed=frozenset({400, 404, 412, 422}))


# --- known bug: C1 control characters in one-line fields ------------------------------

C1_CONTROLS = ["\x80", "\x85", "\x9b", "\x9f"]  # U+0085 is NEXT LINE, a line break


@pytest.mark.parametrize(
    "control", C1_CONTROLS, ids=[f"U+{ord(c):04X}" for c in C1_CONTROLS]
)
@pytest.mark.parametrize("field", ["department-name", "first_name", "title"])
def test_one_line_fields_refuse_c1_control_characters(real_app, editor, field, control):
    TRIED["cases"] += 1
    text = f"a{control}b"
    if field == "department-name":
        response = real_app.post_json(
            DEPARTMENTS, {"name": text}, headers=editor, status="*"
        )
    else:
        body = {
            "first_name": "C",
            "last_name": "One",
            "email": f"{uuid.uuid4().hex}@example.com",
            "salary": 1,
            field: text,
        }
        response = real_app.post_json(EMPLOYEES, body, headers=editor, status="*")
    assert_sane(response, allowed=frozenset({422}))
