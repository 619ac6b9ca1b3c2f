"""The JSON error of the consoles' API: ``{"error": {"code": "...", "message": "..."}}``.

`code` is stable and meant for programs (the console's JavaScript branches on it); `message` is a
sentence for the person at the screen. Raise `ApiError` anywhere in a request; the blueprint's
handler turns it into the response.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify


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
