"""Every error FastAPI, Starlette or the code raises leaves in the one error shape."""

from __future__ import annotations

from typing import Literal

import pytest
from fastapi import APIRouter, HTTPException
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field

from fakes.api_contract import assert_error_shape
from public_api.config import PublicApiSettings
from textapi_shared.errors import ServiceUnavailableError
from textapi_shared.monitoring.observability import build_observability
from textapi_shared.web.app_factory import create_api
from textapi_shared.web.services import WebServices


class EchoRequest(BaseModel):
    text: str = Field(min_length=10)
    operation: Literal["summarize", "sentiment"]
    count: int = Field(5, ge=1, le=20)


router = APIRouter()


@router.post("/echo")
async def echo(request: EchoRequest) -> dict:
    return request.model_dump()


@router.get("/boom")
async def boom() -> dict:
    raise RuntimeError("secret database password in a stack trace")


@router.get("/busy")
async def busy() -> dict:
    raise ServiceUnavailableError(retry_after=7)


@router.get("/gone")
async def gone() -> dict:
    raise HTTPException(status_code=404, detail="Preset 'x' does not exist.")


@pytest.fixture(scope="module")
def client():
    settings = PublicApiSettings(stage="dev")
    services = WebServices.create(settings, build_observability(settings))
    app = create_api(services, title="t", description="d", routers=[router])
    return TestClient(app, raise_server_exceptions=False)


def test_422_lists_every_failing_field(client):
    response = client.post("/echo", json={"text": "short", "operation": "dance", "count": 99})
    assert response.status_code == 422
    body = response.json()
    assert_error_shape(body, "VALIDATION_ERROR", response.headers["x-request-id"])
    fields = {e["field"] for e in body["details"]["errors"]}
    assert fields == {"text", "operation", "count"}
    assert all(e["location"][0] == "body" and e["message"] for e in body["details"]["errors"])


def test_invalid_json_is_400_malformed_request_with_the_position(client):
    response = client.post("/echo", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400
    body = response.json()
    assert_error_shape(body, "MALFORMED_REQUEST")
    assert body["details"] == {"reason": "invalid_json", "position": 1}
    assert "not valid JSON" in body["error"]


def test_unhandled_exception_is_500_without_its_text(client):
    response = client.get("/boom")
    assert response.status_code == 500
    assert_error_shape(response.json(), "INTERNAL_ERROR", response.headers["x-request-id"])
    assert "secret" not in response.text
    assert response.headers["x-content-type-options"] == "nosniff"


def test_service_unavailable_carries_retry_after(client):
    response = client.get("/busy")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "7"
    assert_error_shape(response.json(), "SERVICE_UNAVAILABLE")


def test_route_specific_404_text_is_kept(client):
    response = client.get("/gone")
    assert response.status_code == 404
    assert response.json()["error"] == "Preset 'x' does not exist."


def test_local_request_ids_are_unique(client):
    ids = {client.get("/nowhere").headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5
