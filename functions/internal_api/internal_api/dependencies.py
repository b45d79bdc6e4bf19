"""`Annotated` dependency aliases for the internal routes."""

from typing import Annotated

from fastapi import Depends

from internal_api.composition import InternalServices
from textapi_shared.resilience.factory import Resilience
from textapi_shared.web.dependencies import app_services

Services = Annotated[InternalServices, Depends(app_services)]


async def resilience_of(services: Services) -> Resilience:
    return services.resilience


ResilienceServices = Annotated[Resilience, Depends(resilience_of)]
