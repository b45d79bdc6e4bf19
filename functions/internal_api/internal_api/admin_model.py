"""The base of the admin API's models: built on first use, not at cold start."""

from pydantic import BaseModel, ConfigDict


class AdminModel(BaseModel):
    # An admin route is called rarely and never on the public hot path: its models' validators and
    # serializers are built when one is first used, not in every execution environment's init.
    model_config = ConfigDict(defer_build=True)
