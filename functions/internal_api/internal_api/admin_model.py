"""The base of the admin API's answers: built on first use, not at cold start. Request bodies stay
plain models: FastAPI reads a body through an adapter that must be built with the route."""

from pydantic import BaseModel, ConfigDict


class AdminModel(BaseModel):
    # An admin answer is called rarely and never on the public hot path: its models' validators and
    # serializers are built when one is first used, not in every execution environment's init.
    model_config = ConfigDict(defer_build=True)
