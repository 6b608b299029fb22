"""The OpenAPI 3.1 document of the JSON API, served at /api/v1/openapi.json.

Kept by hand next to the views it describes (survey/views/api.py); the test suite runs
Schemathesis against it (tests/test_openapi.py), so a response that drifts from this document fails the tests.
"""

from __future__ import annotations

from typing import Any

from reports.dimensions import DIMENSION_COLUMNS, GROUPS

#: Body section of POST …/responses -> questionnaire section code.
SUBMISSION_SECTIONS = {
    "profile": "profile",
    "adoption": "adoption",
    "challenges": "challenges",
    "indicators": "indicators",
    "comments": "comments",
}

_NUMBER_OR_NULL = {"type": ["number", "null"]}
_INT_OR_NULL = {"type": ["integer", "null"]}
_INTERVAL = {"type": ["array", "null"], "items": {"type": "number"}, "minItems": 2, "maxItems": 2}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


SLUG = {
    "name": "slug",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "The survey wave's slug",
}
FILTERS = [
    {
        "name": name,
        "in": "query",
        "required": False,
        "style": "form",
        "explode": True,
        "schema": {"type": "array", "items": {"type": "string"}},
        "description": f"Filter on {name} (several values only with by={name})",
    }
    for name in DIMENSION_COLUMNS
]
BY = {
    "name": "by",
    "in": "query",
    "required": False,
    "schema": {"type": "string", "enum": ["", *GROUPS]},
    "description": "Break the figures down by this dimension (empty, as a form sends it: no breakdown)",
}
WAVE = {
    "name": "wave",
    "in": "query",
    "required": False,
    "style": "form",
    "explode": True,
    "schema": {"type": "array", "items": {"type": "string"}},
    "description": "Waves compared (only with by=wave)",
}

READ_ERRORS = {
    "400": _json(_ref("QueryError"), "Unknown parameter or value"),
    "401": _error("No valid API token"),
    "403": _error("Not for this role"),
    "404": _error("Unknown survey, or a cluster the user may not see"),
}


def _group_properties() -> dict[str, Any]:
    return {name: {"type": ["string", "integer"]} for name in GROUPS}


def document() -> dict[str, Any]:
    """The OpenAPI document (a fresh dict each call)."""
    schemas: dict[str, Any] = {
        "Error": {
            "type": "object",
            "required": ["error", "status"],
            "properties": {"error": {"type": "string"}, "status": {"type": "integer"}},
        },
        "QueryError": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {"type": "string"},
                "parameter": {"type": "string"},
                "allowed": {"type": "array", "items": {"type": "string"}},
                "status": {"type": "integer"},
            },
        },
        "Survey": {
            "type": "object",
            "required": ["slug", "title", "state", "opens_on", "closes_on", "questionnaire"],
            "properties": {
                "slug": {"type": "string"},
                "title": {"type": "string"},
                "state": {"type": "string", "enum": ["open", "closed"]},
                "opens_on": {"type": ["string", "null"], "format": "date"},
                "closes_on": {"type": ["string", "null"], "format": "date"},
                "questionnaire": {
                    "type": "object",
                    "required": ["code", "version"],
                    "properties": {"code": {"type": "string"}, "version": {"type": "integer"}},
                },
            },
        },
        "AdoptionRow": {
            "type": "object",
            "required": [
                "technology",
                "n",
                "using",
                "planning",
                "not_planned",
                "dont_know",
                "share_using",
                "share_planning",
                "ci_using",
                "suppressed",
            ],
            "properties": {
                "technology": {"type": "string"},
                "n": _INT_OR_NULL,
                "using": _INT_OR_NULL,
                "planning": _INT_OR_NULL,
                "not_planned": _INT_OR_NULL,
                "dont_know": _INT_OR_NULL,
                "share_using": _NUMBER_OR_NULL,
                "share_planning": _NUMBER_OR_NULL,
                "ci_using": _INTERVAL,
                "suppressed": {"type": "boolean"},
                **_group_properties(),
            },
        },
        "ChallengeRow": {
            "type": "object",
            "required": ["challenge", "n", "counts", "share_important", "ci_important", "suppressed"],
            "properties": {
                "challenge": {"type": "string"},
                "n": _INT_OR_NULL,
                "counts": {"type": ["object", "null"], "additionalProperties": {"type": "integer"}},
                "share_important": _NUMBER_OR_NULL,
                "ci_important": _INTERVAL,
                "suppressed": {"type": "boolean"},
                **_group_properties(),
            },
        },
        "Submission": {
            "type": "object",
            "additionalProperties": False,
            "description": "Answers by item code, grouped by questionnaire section. Values are answer codes "
            "(choice items), lists of codes (tick-all-that-apply), integers or text. `confirm_unusual`: true once "
            "the figures a 422 called unusual (`warnings`) have been checked and are right.",
            "properties": {
                "confirm_unusual": {"type": "boolean"},
                **{
                    name: {
                        "type": "object",
                        "additionalProperties": {
                            "anyOf": [
                                {"type": "string"},
                                {"type": "integer"},
                                {"type": "null"},
                                {"type": "array", "items": {"type": "string"}},
                            ]
                        },
                    }
                    for name in SUBMISSION_SECTIONS
                },
            },
        },
    }
    rows = {
        "type": "object",
        "required": ["survey", "min_cell", "by", "rows"],
        "properties": {
            "survey": {"type": "string"},
            "min_cell": {"type": "integer"},
            "by": {"type": ["string", "null"]},
        },
    }
    paths: dict[str, Any] = {
        "/api/v1/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "security": [],
                "responses": {"200": _json({"type": "object"}, "The OpenAPI document")},
            }
        },
        "/api/v1/surveys": {
            "get": {
                "operationId": "listSurveys",
                "summary": "Survey waves that have opened",
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["surveys"],
                            "properties": {"surveys": {"type": "array", "items": _ref("Survey")}},
                        },
                        "The waves, newest first",
                    ),
                    "401": READ_ERRORS["401"],
                    "403": READ_ERRORS["403"],
                },
            }
        },
        "/api/v1/surveys/{slug}": {
            "get": {
                "operationId": "getSurvey",
                "summary": "One survey wave",
                "parameters": [SLUG],
                "responses": {
                    "200": _json(_ref("Survey"), "The wave"),
                    "401": READ_ERRORS["401"],
                    "403": READ_ERRORS["403"],
                    "404": READ_ERRORS["404"],
                },
            }
        },
        "/api/v1/surveys/{slug}/questionnaire": {
            "get": {
                "operationId": "getQuestionnaire",
                "summary": "The questionnaire document: sections, item and answer codes",
                "parameters": [SLUG],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["survey", "document"],
                            "properties": {"survey": {"type": "string"}, "document": {"type": "object"}},
                        },
                        "The document",
                    ),
                    "401": READ_ERRORS["401"],
                    "403": READ_ERRORS["403"],
                    "404": READ_ERRORS["404"],
                },
            }
        },
        "/api/v1/surveys/{slug}/adoption": {
            "get": {
                "operationId": "getAdoption",
                "summary": "Adoption per technology (and group), suppressed",
                "parameters": [SLUG, BY, WAVE, *FILTERS],
                "responses": {
                    "200": _json(
                        {
                            **rows,
                            "properties": {
                                **rows["properties"],
                                "rows": {"type": "array", "items": _ref("AdoptionRow")},
                            },
                        },
                        "Rows",
                    ),
                    **READ_ERRORS,
                },
            }
        },
        "/api/v1/surveys/{slug}/challenges": {
            "get": {
                "operationId": "getChallenges",
                "summary": "Pandemic challenges by importance (and group), suppressed",
                "parameters": [SLUG, BY, WAVE, *FILTERS],
                "responses": {
                    "200": _json(
                        {
                            **rows,
                            "properties": {
                                **rows["properties"],
                                "rows": {"type": "array", "items": _ref("ChallengeRow")},
                            },
                        },
                        "Rows",
                    ),
                    **READ_ERRORS,
                },
            }
        },
        "/api/v1/surveys/{slug}/status": {
            "get": {
                "operationId": "getStatus",
                "summary": "Invitations and responses per cluster (managers: their clusters)",
                "parameters": [SLUG],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["survey", "state", "clusters"],
                            "properties": {
                                "survey": {"type": "string"},
                                "state": {"type": "string"},
                                "clusters": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "required": ["cluster", "name", "invited", "responses"],
                                        "properties": {
                                            "cluster": {"type": "string"},
                                            "name": {"type": "string"},
                                            "invited": {"type": "integer"},
                                            "responses": {"type": "integer"},
                                        },
                                    },
                                },
                                "total": {
                                    "type": "object",
                                    "properties": {"invited": {"type": "integer"}, "responses": {"type": "integer"}},
                                },
                            },
                        },
                        "Status",
                    ),
                    "400": _error("Parameters given"),
                    "401": READ_ERRORS["401"],
                    "403": READ_ERRORS["403"],
                    "404": READ_ERRORS["404"],
                },
            }
        },
        "/api/v1/surveys/{slug}/responses": {
            "post": {
                "operationId": "submitResponse",
                "summary": "Submit an organisation's answers, authorised by its invitation token",
                "description": "Authorization: Bearer <the secret part of the invitation link>. The same checks as the "
                "questionnaire form. The first submission's answer carries an `edit_key`, given once; sent back as "
                "X-Edit-Key it replaces the answers while the wave is open. Without it nobody can replace them.",
                "security": [{"invitationToken": []}],
                "parameters": [
                    SLUG,
                    {
                        "name": "X-Edit-Key",
                        "in": "header",
                        "required": False,
                        "description": "The edit_key of the first submission, to replace its answers",
                        "schema": {"type": "string", "maxLength": 200},
                    },
                ],
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("Submission")}}},
                "responses": {
                    "201": _json(_ref("Submitted"), "First submission stored"),
                    "200": _json(_ref("Submitted"), "Earlier answers replaced"),
                    "400": _error("Malformed body"),
                    "401": _error("No invitation token"),
                    "404": _error("Unknown invitation token (or another survey's)"),
                    "409": _error("Answers were submitted already and X-Edit-Key is missing or wrong"),
                    "410": _error("The wave no longer (or not yet) takes answers, or the invitation was revoked"),
                    "413": _error("Body too large"),
                    "422": _json(
                        {
                            "type": "object",
                            "required": ["error", "status", "errors"],
                            "properties": {
                                "error": {"type": "string"},
                                "status": {"type": "integer"},
                                "errors": {
                                    "type": "object",
                                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                                },
                                "warnings": {
                                    "type": "object",
                                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                                },
                            },
                        },
                        "Answers missing or not valid, per field (section.item); or figures that are unusual "
                        "together (`warnings`), taken once sent again with confirm_unusual: true",
                    ),
                    "429": _error("Too many submissions"),
                },
            }
        },
    }
    schemas["Submitted"] = {
        "type": "object",
        "required": ["survey", "status", "submitted_at"],
        "properties": {
            "survey": {"type": "string"},
            "status": {"type": "string", "enum": ["created", "replaced"]},
            "submitted_at": {"type": "string"},
            "edit_key": {"type": "string", "description": "First submission only: the key to replace the answers"},
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Cluster technology adoption survey API",
            "version": "1.0.0",
            "description": "Aggregated, suppressed survey results, and submission of answers. See "
            "docs/reports.md for how figures are counted and withheld.",
        },
        "servers": [{"url": "/"}],
        "security": [{"apiToken": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "apiToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A personal API token (cts_…) from the account page",
                },
                "invitationToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The secret part of an organisation's invitation link",
                },
            },
        },
    }
