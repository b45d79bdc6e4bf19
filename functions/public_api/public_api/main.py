"""Entry point of PublicApiFunction: builds the app from routers and exposes `lambda_handler`."""

from __future__ import annotations

from public_api.config import PublicApiSettings, get_settings
from public_api.routers import auth, health
from textapi_shared.monitoring.observability import build_observability
from textapi_shared.web.app_factory import create_api
from textapi_shared.web.lambda_handler import build_lambda_handler


def create_app(settings: PublicApiSettings):
    return create_api(
        settings,
        build_observability(settings),
        title="textapi",
        description="AI text processing: summarize, sentiment, key points, questions, Q&A.",
        routers=[health.router, auth.router],
    )


app = create_app(get_settings())
lambda_handler = build_lambda_handler(app, app.state.observability)
