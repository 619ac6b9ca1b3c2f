"""The JSON error of the consoles' API: ``{"error": {"code": "...", "message": "..."}}``.

`code` is stable and meant for programs (the console's JavaScript branches on it); `message` is a
sentence for the person at the screen. Raise `ApiError` anywhere in a request; the blueprint's
handler turns it into the response.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra

    def response(self) -> Response:
        return error_response(self.status, self.code, self.message, **self.extra)


def error_response(status: int, code: str, message: str, **extra: Any) -> Response:
    body = {"error": {"code": code, "message": message, **extra}}
    response = jsonify(body)
    response.status_code = status
    return response


def json_fields(allowed: set[str]) -> dict[str, Any]:
    """The request's JSON object, refused (400 ``bad_request``) when it is not one or names a
    field outside `allowed`: a misspelt field is an error, never silently ignored."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "bad_request", "send a JSON object")
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ApiError(400, "bad_request", f"unknown fields: {', '.join(unknown)}")
    return data
