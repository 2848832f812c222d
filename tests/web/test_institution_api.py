"""``/api/v1`` (wizard/institutions/views/api.py): institutions' own systems check a share code
or, where allowed, query without one, with a Bearer API key made by ``flask institution
api-key``. The same rules, refusals and records as the staff pages (channel "api"), in JSON;
and docs/openapi.json describes exactly these routes and refusals."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from tests.accounts import login_as
from tests.web.test_institutions import (
    AGENCY,
    OTHER,
    PERSON,
    check,
    make_share,
    staff_login,
)
from wizard.clock import FrozenClock
from wizard.database.models import ApiKey, DataCheck, Institution, Share
from wizard.institutions import shares
from wizard.institutions.views import api
from wizard.ops.seed import seed_institutions
from wizard.web import limits

ROOT = Path(__file__).resolve().parents[2]
OPENAPI = ROOT / "docs" / "openapi.json"


@pytest.fixture
def app(app: Flask) -> Flask:
    with app.app_context(), app.extensions["db_sessionmaker"]() as database:
        seed_institutions(database, app.config["SECRET_KEY"], app.extensions["hasher"])
        database.commit()
    return app


@pytest.fixture
def citizen(app: Flask) -> FlaskClient:
    client = app.test_client()
    login_as(app, client, PERSON)
    return client


def new_key(app: Flask, institution: str = "DEMO-TRAINING") -> str:
    result = app.test_cli_runner().invoke(
        args=["institution", "api-key", institution, "--label", "x"]
    )
    assert result.exit_code == 0, result.output
    key = result.output.strip()
    assert key.startswith("bli_k_") and len(key) > 40
    return key


@pytest.fixture
def key(app: Flask) -> str:
    return new_key(app)


def call(app: Flask, path: str, body: Any, key: str | None, **headers: str) -> TestResponse:
    if key is not None:
        headers.setdefault("Authorization", f"Bearer {key}")
    return app.test_client().post(f"/api/v1/{path}", json=body, headers=headers)


def share_check(app: Flask, key: str | None, national_id: str, code: str) -> TestResponse:
    return call(app, "share-checks", {"national_id": national_id, "share_code": code}, key)


def checks_in_db(app: Flask) -> list[DataCheck]:
    with app.extensions["db_sessionmaker"]() as database:
        rows = list(database.scalars(select(DataCheck).order_by(DataCheck.id)))
        database.expunge_all()
        return rows


# --- authentication -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer bli_k_not-a-key-anyone-was-given",
        "Bearer not-even-the-prefix",
    ],
)
def test_no_or_a_wrong_key_is_401(app: Flask, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = call(
        app, "share-checks", {"national_id": PERSON, "share_code": "K7P"}, None, **headers
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["error"] == "unauthorized"
    assert checks_in_db(app) == []


def test_a_revoked_key_is_401(app: Flask, key: str) -> None:
    assert share_check(app, key, PERSON, "KKK-KKK-KKK").status_code == 404  # the key works
    with app.extensions["db_sessionmaker"]() as database:
        database.execute(update(ApiKey).values(revoked_at=dt.datetime.now(dt.UTC)))
        database.commit()
    response = share_check(app, key, PERSON, "KKK-KKK-KKK")
    assert response.status_code == 401 and "WWW-Authenticate" in response.headers
    assert response.get_json()["error"] == "unauthorized"


def test_only_the_hash_of_a_key_is_kept(app: Flask, key: str) -> None:
    with app.extensions["db_sessionmaker"]() as database:
        row = database.scalars(select(ApiKey)).one()
        assert key not in (row.key_hash, row.prefix, row.label)
        assert key.startswith(row.prefix)


# --- share checks ---------------------------------------------------------------------------


def test_a_share_is_checked_and_recorded_as_api(
    app: Flask, clock: FrozenClock, citizen: FlaskClient, key: str
) -> None:
    code = make_share(app, citizen)
    response = share_check(app, key, PERSON, code.lower())
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    answer = response.get_json()
    assert re.fullmatch(r"CHK-\d{4}-\d{6}", answer["check_number"])
    assert answer["national_id"] == "A12345****"
    assert answer["institution"] == "示範職業訓練中心"
    assert answer["purpose"] == "training" and answer["case_number"] is None
    assert dt.datetime.fromisoformat(answer["checked_at"]) == clock.now()
    shown = answer["shown"]
    assert shown["scope"] == "status" and "periods" not in shown
    assert shown["status"]["labor"]["insured"] is True
    assert PERSON not in response.get_data(as_text=True)
    (row,) = checks_in_db(app)
    assert (row.channel, row.kind, row.staff_id) == ("api", "share", None)
    assert row.check_number == answer["check_number"]
    assert json.loads(row.shown) == shown
    # The person sees it.
    assert answer["check_number"] in citizen.get("/portal/checks").get_data(as_text=True)
    # Used once: now unknown.
    assert share_check(app, key, PERSON, code).status_code == 404


def test_the_api_answer_is_what_the_staff_page_shows(
    app: Flask, clock: FrozenClock, citizen: FlaskClient, key: str
) -> None:
    code = make_share(app, citizen, scope="periods", years="3", max_uses="2")
    by_api = share_check(app, key, PERSON, code)
    assert by_api.status_code == 201
    staff = staff_login(app, clock)
    location = check(staff, PERSON, code).headers["Location"]
    page = staff.get(location).get_data(as_text=True)
    api_row, web_row = checks_in_db(app)
    assert (api_row.channel, web_row.channel) == ("api", "web")
    shown = by_api.get_json()["shown"]
    assert json.loads(web_row.shown) == shown  # the same facts, both ways
    facts = re.search(r'id="result-facts".*?</dl>(.*?)(?:<p|</main)', page, re.S)
    assert facts, page
    block = facts.group(0)
    assert shown["as_of"] in block
    for kind, status in shown["status"].items():
        if status["insured"]:
            assert f"投保中，自 {status['since']} 起" in block, kind
    assert shown["periods"]
    for period in shown["periods"]:
        assert period["from"] in block
        assert (period["to"] or "至今") in block


@pytest.mark.parametrize(
    ("national_id", "code", "reason", "detail"),
    [
        ("A12345678", "K7P-Q4M-X9T", "malformed_id", "身分證號格式不正確"),
        ("", "K7P-Q4M-X9T", "malformed_id", "身分證號格式不正確"),
        (PERSON, "K7P-Q4M", "malformed_code", "分享碼是 9 個字元"),
        (PERSON, "K0P-Q4M-X9T", "malformed_code", "沒有 0、1、I、L、O"),
        (PERSON, "", "malformed_code", "請輸入分享碼"),
    ],
)
def test_malformed_input_is_422(
    app: Flask, key: str, national_id: str, code: str, reason: str, detail: str
) -> None:
    response = share_check(app, key, national_id, code)
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == reason and detail in body["message"]


@pytest.mark.parametrize("body", [None, [], "text", {"national_id": 42}])
def test_a_body_that_is_not_the_object_is_422(app: Flask, key: str, body: Any) -> None:
    response = call(app, "share-checks", body, key)
    assert response.status_code == 422 and response.get_json()["error"] == "malformed_id"


def test_unknown_and_wrong_id_codes_get_the_same_404(
    app: Flask, citizen: FlaskClient, key: str
) -> None:
    code = make_share(app, citizen)
    unknown = share_check(app, key, PERSON, "KKK-KKK-KKK")
    wrong_id = share_check(app, key, OTHER, code)
    assert unknown.status_code == wrong_id.status_code == 404
    assert unknown.get_json() == wrong_id.get_json()
    assert unknown.get_data() == wrong_id.get_data()
    assert unknown.get_json()["error"] == "unknown"
    with app.extensions["db_sessionmaker"]() as database:
        assert database.scalars(select(Share.failures)).one() == 1
        failed = select(Institution.failed_checks).where(Institution.code == "DEMO-TRAINING")
        assert database.scalars(failed).one() == 2
    assert checks_in_db(app) == []


def test_a_blocked_code_answers_as_unknown(app: Flask, citizen: FlaskClient, key: str) -> None:
    code = make_share(app, citizen)
    for _ in range(shares.MAX_WRONG_IDS):
        assert share_check(app, key, OTHER, code).status_code == 404
    assert share_check(app, key, PERSON, code).status_code == 404


def test_a_purpose_not_allowed_is_403(app: Flask, citizen: FlaskClient, key: str) -> None:
    code = make_share(app, citizen, purpose="subsidy_review")
    response = share_check(app, key, PERSON, code)
    assert response.status_code == 403
    body = response.get_json()
    assert body["error"] == "purpose" and "政府補助資格審查" in body["message"]
    assert checks_in_db(app) == []
    # The code was not used up by the refusal: the agency, which may, can check it.
    agency_key = new_key(app, "DEMO-WDA")
    assert share_check(app, agency_key, PERSON, code).status_code == 201


def test_a_disabled_institutions_key_is_403_disabled(
    app: Flask, citizen: FlaskClient, key: str
) -> None:
    code = make_share(app, citizen)
    result = app.test_cli_runner().invoke(args=["institution", "disable", "DEMO-TRAINING"])
    assert result.exit_code == 0
    response = share_check(app, key, PERSON, code)
    assert response.status_code == 403 and response.get_json()["error"] == "disabled"
    agency = call(app, "agency-queries", {"national_id": PERSON}, key)
    assert agency.status_code == 403 and agency.get_json()["error"] == "disabled"
    assert checks_in_db(app) == []


def test_answers_are_not_cached(app: Flask, citizen: FlaskClient, key: str) -> None:
    code = make_share(app, citizen)
    for response in (share_check(app, key, PERSON, code), share_check(app, key, PERSON, code)):
        assert "no-store" in response.headers.get("Cache-Control", ""), response.headers


# --- agency queries -------------------------------------------------------------------------


def agency_query(app: Flask, key: str, **body: str) -> TestResponse:
    data = {"national_id": PERSON, "purpose": "training_allowance", "case_number": "WDA-115-7"}
    data.update(body)
    return call(app, "agency-queries", data, key)


def test_a_training_institution_may_not_query_without_a_code(app: Flask, key: str) -> None:
    response = agency_query(app, key)
    assert response.status_code == 403 and response.get_json()["error"] == "not_allowed"
    assert checks_in_db(app) == []


def test_the_agency_queries_status_only(app: Flask, citizen: FlaskClient) -> None:
    key = new_key(app, "DEMO-WDA")
    response = agency_query(app, key)
    assert response.status_code == 201, response.get_data(as_text=True)
    answer = response.get_json()
    assert answer["case_number"] == "WDA-115-7" and answer["purpose"] == "training_allowance"
    assert answer["institution"] == "勞動部勞動力發展署（示範）"
    assert answer["national_id"] == "A12345****"
    assert set(answer["shown"]) == {"as_of", "scope", "status"}
    assert answer["shown"]["scope"] == "status"
    (row,) = checks_in_db(app)
    assert (row.kind, row.channel, row.case_number) == ("agency", "api", "WDA-115-7")
    assert "WDA-115-7" in citizen.get("/portal/checks").get_data(as_text=True)


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        ({"case_number": ""}, 422, "case_number"),
        ({"case_number": "   "}, 422, "case_number"),
        ({"case_number": "x" * 41}, 422, "case_number"),
        ({"case_number": "a\tb"}, 422, "case_number"),
        ({"national_id": "A12345678"}, 422, "malformed_id"),
        ({"purpose": "marketing"}, 403, "purpose"),
    ],
)
def test_agency_query_refusals(app: Flask, body: dict[str, str], status: int, reason: str) -> None:
    key = new_key(app, "DEMO-WDA")
    response = agency_query(app, key, **body)
    assert response.status_code == status and response.get_json()["error"] == reason
    assert checks_in_db(app) == []


@pytest.mark.parametrize("lang", ["", "?lang=en"])
@pytest.mark.parametrize("purpose", ["", "marketing"])
def test_an_unknown_purpose_is_named_as_given_in_either_language(
    app: Flask, lang: str, purpose: str
) -> None:
    """The message names the purpose the request gave; an empty one is not looked up in the
    catalogue (gettext("") is the catalogue's header: Project-Id-Version, Last-Translator...)."""
    key = new_key(app, "DEMO-WDA")
    response = app.test_client().post(
        f"/api/v1/agency-queries{lang}",
        json={"national_id": PERSON, "purpose": purpose, "case_number": "WDA-115-7"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 403
    body = response.get_json()
    assert body["error"] == "purpose"
    assert "Project-Id-Version" not in body["message"] and "\n" not in body["message"]
    assert len(body["message"]) < 200


# --- limits and CSRF ------------------------------------------------------------------------


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True}], indirect=True)
def test_a_key_is_rate_limited_with_json_and_retry_after(
    app: Flask, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(limits.LIMITS, "api.key", "3 per minute")
    for _ in range(3):
        assert share_check(app, key, PERSON, "KKK-KKK-KKK").status_code == 404
    refused = share_check(app, key, PERSON, "KKK-KKK-KKK")
    assert refused.status_code == 429 and refused.mimetype == "application/json"
    assert refused.get_json()["error"] == "rate_limited"
    # What is left of the one-minute window, in seconds (the limiter runs on real time: the
    # app's frozen clock must not enter into it).
    assert 1 <= int(refused.headers["Retry-After"]) <= 61
    # Another key of the same institution has its own count.
    assert share_check(app, new_key(app), PERSON, "KKK-KKK-KKK").status_code == 404


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True}], indirect=True)
def test_the_limit_counts_per_key_not_per_address(
    app: Flask, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(limits.LIMITS, "api.key", "2 per minute")
    for n in range(2):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"192.0.2.{n + 1}"
        response = client.post(
            "/api/v1/share-checks",
            json={"national_id": PERSON, "share_code": "KKK-KKK-KKK"},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert response.status_code == 404
    assert share_check(app, key, PERSON, "KKK-KKK-KKK").status_code == 429


def test_the_api_needs_no_csrf_token_but_the_staff_pages_do(
    app: Flask, clock: FrozenClock, citizen: FlaskClient, key: str
) -> None:
    code = make_share(app, citizen, max_uses="2")
    staff = staff_login(app, clock)
    refused = staff.post("/institution/", data={"national_id": PERSON, "code": code})
    assert refused.status_code == 400
    assert checks_in_db(app) == []
    assert share_check(app, key, PERSON, code).status_code == 201
    # The staff member's session does not make an API call either.
    with_session = staff.post(
        "/api/v1/share-checks", json={"national_id": PERSON, "share_code": code}
    )
    assert with_session.status_code == 401


def test_the_staff_session_is_no_api_key_and_an_agency_staff_login_is_separate(
    app: Flask, clock: FrozenClock
) -> None:
    agency = staff_login(app, clock, AGENCY)
    response = agency.post("/api/v1/agency-queries", json={"national_id": PERSON})
    assert response.status_code == 401


# --- the OpenAPI document ---------------------------------------------------------------------


def _resolve(document: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _error_reasons(document: dict[str, Any], schema: Any) -> set[str]:
    """The ``error`` values a response schema allows (through $ref; allOf: all must hold)."""
    schema = _resolve(document, schema)
    allowed: list[set[str]] = [_error_reasons(document, part) for part in schema.get("allOf", [])]
    error = _resolve(document, schema.get("properties", {}).get("error", {}))
    if "enum" in error:
        allowed.append(set(error["enum"]))
    if "const" in error:
        allowed.append({error["const"]})
    allowed = [reasons for reasons in allowed if reasons]
    return set.intersection(*allowed) if allowed else set()


def _documented(document: dict[str, Any]) -> dict[tuple[str, str], dict[int, set[str]]]:
    """(path, method) → status → the error reasons documented for it."""
    result: dict[tuple[str, str], dict[int, set[str]]] = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            statuses: dict[int, set[str]] = {}
            for status, response in operation["responses"].items():
                response = _resolve(document, response)
                content = response.get("content", {}).get("application/json", {})
                statuses[int(status)] = _error_reasons(document, content.get("schema", {}))
            result[(path, method)] = statuses
    return result


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    return dict(json.loads(OPENAPI.read_text(encoding="utf-8")))


def test_openapi_paths_exist_in_the_app(app: Flask, openapi: dict[str, Any]) -> None:
    assert openapi["openapi"].startswith("3.1")
    adapter = app.url_map.bind("localhost")
    documented = _documented(openapi)
    assert {(p, m) for p, m in documented} == {
        ("/api/v1/share-checks", "post"),
        ("/api/v1/agency-queries", "post"),
    }
    for path, method in documented:
        endpoint, _args = adapter.match(path, method=method.upper())
        assert endpoint.startswith("api."), (path, method, endpoint)
    # And every route of the API blueprint is documented.
    routes = {
        (rule.rule, method.lower())
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
        for method in rule.methods - {"HEAD", "OPTIONS"}  # type: ignore[operator]
    }
    assert routes == set(documented)


def test_openapi_documents_every_refusal_with_its_status(openapi: dict[str, Any]) -> None:
    documented = _documented(openapi)
    everywhere: dict[int, set[str]] = {}
    for statuses in documented.values():
        for status, reasons in statuses.items():
            everywhere.setdefault(status, set()).update(reasons)
            # No reason documented under a status the API does not answer it with.
            for reason in reasons:
                expected = {**api.STATUS, "unauthorized": 401, "rate_limited": 429}
                assert expected.get(reason) == status, (reason, status)
    for reason, status in api.STATUS.items():
        assert reason in everywhere.get(status, set()), (reason, status)
    for statuses in documented.values():
        assert "unauthorized" in statuses[401] and "rate_limited" in statuses[429]
        assert 201 in statuses
    assert openapi["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert openapi["security"] == [{"bearer": []}]


def test_the_openapi_answer_schema_matches_a_real_answer(
    app: Flask, citizen: FlaskClient, key: str, openapi: dict[str, Any]
) -> None:
    """Every field of a real 201 is in the schema, and every required one is in the answer."""
    code = make_share(app, citizen, scope="periods", years="2")
    answer = share_check(app, key, PERSON, code).get_json()
    schema = _resolve(openapi, openapi["components"]["schemas"]["CheckAnswer"])
    assert set(answer) == set(schema["properties"]) and set(schema["required"]) <= set(answer)
    shown = _resolve(openapi, schema["properties"]["shown"])
    assert set(answer["shown"]) <= set(shown["properties"])
    assert set(shown["required"]) <= set(answer["shown"])
    status = _resolve(openapi, shown["properties"]["status"])
    assert set(answer["shown"]["status"]) == set(status["properties"])
    period = _resolve(openapi, shown["properties"]["periods"]["items"])
    assert set(answer["shown"]["periods"][0]) == set(period["properties"])
