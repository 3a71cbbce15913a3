"""The API as a document (issue 14): /docs and /redoc work offline, every operation and every
schema field is described in Russian, and the error answers a call can get are listed."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest

from tests.conftest import Api

CYRILLIC = re.compile(r"[А-Яа-яЁё]")
METHODS = {"get", "post", "put", "patch", "delete"}
# FastAPI adds these two to the schema by itself (the 422 body of its request validation);
# this app answers validation errors with its own Problem instead, and their fields (loc, msg,
# type, input, ctx) are FastAPI's, not ours to describe.
FASTAPI_OWN = {"HTTPValidationError", "ValidationError"}


class _Assets(HTMLParser):
    """Every URL a page loads: <script src>, <link href>, <img src>."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and (tag, name) in {("script", "src"), ("link", "href"), ("img", "src")}:
                self.urls.append(value)


def _assets(html: str) -> list[str]:
    parser = _Assets()
    parser.feed(html)
    return parser.urls


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_only_local_files(api: Api, page: str) -> None:
    r = api.client.get(page)
    assert r.status_code == 200, r.text
    assert "text/html" in r.headers["content-type"]
    html = r.text
    # Nothing from a CDN or any other host: the page must work on a closed network.
    assert "http://" not in html and "https://" not in html, html
    assets = _assets(html)
    assert any(a.endswith(".js") for a in assets), assets
    for url in assets:
        assert url.startswith("/"), url
        answer = api.client.get(url)
        assert answer.status_code == 200, (url, answer.status_code)
        assert answer.content, url
    # The schema the page points at is there too.
    assert "/openapi.json" in html
    assert api.client.get("/openapi.json").status_code == 200


def test_docs_files_do_not_collide_with_the_pages_static(api: Api) -> None:
    assert api.client.get("/static-docs/swagger-ui-bundle.js").status_code == 200
    assert api.client.get("/static-docs/redoc.standalone.js").status_code == 200
    assert api.client.get("/static/swagger-ui-bundle.js").status_code == 404


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_every_operation_has_a_russian_description(api: Api) -> None:
    schema = api.client.app.openapi()
    missing = [
        f"{method.upper()} {path}"
        for method, path, operation in _operations(schema)
        if not CYRILLIC.search(operation.get("description") or "")
    ]
    assert not missing, missing
    assert len(_operations(schema)) >= 39


def _properties(name: str, schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every property of the schema and of the models in its $defs, as ("Model.field", schema)."""
    found = [(f"{name}.{p}", s) for p, s in schema.get("properties", {}).items()]
    for nested_name, nested in schema.get("$defs", {}).items():
        found += _properties(nested_name, nested)
    return found


def _inline_bodies(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Request bodies whose schema is written into the operation itself rather than referring
    to a component, by "METHOD path"."""
    found = {}
    for method, path, operation in _operations(schema):
        for content in operation.get("requestBody", {}).get("content", {}).values():
            body = content.get("schema", {})
            if "$ref" not in body:
                found[f"{method.upper()} {path}"] = body
    return found


def test_every_schema_field_has_a_russian_description(api: Api) -> None:
    schema = api.client.app.openapi()
    components = schema["components"]["schemas"]
    assert set(components) - FASTAPI_OWN, "no schemas at all?"
    schemas = {name: c for name, c in components.items() if name not in FASTAPI_OWN}
    schemas.update(_inline_bodies(schema))
    # The roster document of POST /api/v1/import is a component too, with its nested models.
    assert "RosterDocument" in schemas and "MemberDoc" in schemas, sorted(schemas)
    missing = []
    count = 0
    for name, component in schemas.items():
        for field, prop in _properties(name, component):
            count += 1
            if not CYRILLIC.search(prop.get("description") or ""):
                missing.append(field)
    assert not missing, missing
    assert count > 250


def _resolve(document: dict[str, Any], ref: str) -> Any:
    """The node a local JSON reference (#/a/b, RFC 6901) points at; KeyError if none."""
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _refs(node: Any, where: str = "#") -> list[tuple[str, str]]:
    """Every $ref in the document, as (where it is, what it names)."""
    if isinstance(node, dict):
        found = [(where, node["$ref"])] if isinstance(node.get("$ref"), str) else []
        for key, value in node.items():
            found += _refs(value, f"{where}/{key}")
        return found
    if isinstance(node, list):
        return [ref for i, value in enumerate(node) for ref in _refs(value, f"{where}/{i}")]
    return []


def test_every_ref_in_the_published_document_resolves_from_its_root(api: Api) -> None:
    r = api.client.get("/openapi.json")
    assert r.status_code == 200, r.text
    document = r.json()
    refs = _refs(document)
    assert len(refs) > 100
    broken = []
    for where, ref in refs:
        try:
            _resolve(document, ref)
        except (KeyError, IndexError, AssertionError):
            broken.append(f"{where}: {ref}")
    assert not broken, broken
    body = document["paths"]["/api/v1/import"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/RosterDocument"
    }


def test_the_roster_document_is_described_field_by_field(api: Api) -> None:
    components = api.client.app.openapi()["components"]["schemas"]
    assert components["RosterDocument"].get("title") == "RosterDocument"
    fields = dict(
        field
        for name, component in components.items()
        if name == "RosterDocument" or name.endswith("Doc")
        for field in _properties(name, component)
    )
    # Every section of the document and every model nested in it, down to a pupil's membership.
    for field in (
        "RosterDocument.organization",
        "RosterDocument.academic_year",
        "RosterDocument.assignments",
        "OrganizationDoc.timezone",
        "YearDoc.periods",
        "RulesDoc.current_mark_days",
        "RulesDoc.weights",
        "SubjectDoc.periods",
        "PersonDoc.password",
        "StaffDoc.roles",
        "ParentDoc.children",
        "GroupDoc.curator_id",
        "MemberDoc.from",
        "MemberDoc.to",
        "AssignmentDoc.teacher_id",
    ):
        assert field in fields, (field, sorted(fields))
        assert CYRILLIC.search(fields[field].get("description") or ""), field
    assert len(fields) >= 50
    # Describing a field changes nothing of its limits or defaults.
    assert fields["RulesDoc.current_mark_days"]["default"] == 7
    assert fields["RulesDoc.lowest_mark"]["maximum"] == 2
    assert fields["StaffDoc.roles"]["minItems"] == 1
    assert fields["GroupDoc.marks_enabled"]["default"] is True


def test_writes_list_payload_too_large_and_store_busy(api: Api) -> None:
    schema = api.client.app.openapi()
    posts = [(p, op) for m, p, op in _operations(schema) if m == "post" and p.startswith("/api/v1")]
    assert len(posts) > 20
    for path, operation in posts:
        responses = operation["responses"]
        for code in ("413", "503"):
            assert code in responses, (path, code)
            assert CYRILLIC.search(responses[code]["description"]), (path, code)
            content = responses[code]["content"]["application/problem+json"]
            assert content["schema"] == {"$ref": "#/components/schemas/Problem"}
    token = schema["paths"]["/api/v1/auth/token"]["post"]["responses"]
    assert "too-many-attempts" in token["429"]["description"]
    assert "application/problem+json" in token["429"]["content"]
    assert "503" in token  # the token route reads and writes the store too
