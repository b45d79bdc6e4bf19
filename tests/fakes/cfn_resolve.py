"""CloudFormation intrinsic functions evaluated for one deployment: parameter values, pseudo parameters,
conditions, and the physical names and attributes tests give to resources (a moto table, a local Redis).

Enough of the language for this template: Ref, Fn::Sub, Fn::If (and AWS::NoValue), Fn::Equals, Fn::Not,
Fn::And, Fn::Or, Condition, Fn::FindInMap, Fn::GetAtt, Fn::Select, Fn::Split, Fn::Join. Anything else is
an error, not a silent pass-through.
"""

from __future__ import annotations

import re
from typing import Any

_NO_VALUE = object()
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


class TemplateResolver:
    def __init__(
        self,
        template: dict[str, Any],
        *,
        parameters: dict[str, str] | None = None,
        stack_name: str = "textapi-test",
        region: str = "us-east-1",
        account_id: str = "123456789012",
        resources: dict[str, str] | None = None,
        attributes: dict[str, str] | None = None,
    ) -> None:
        """`resources`: logical id → what `Ref` gives; `attributes`: "Id.Attr" → what `Fn::GetAtt` gives.
        A resource without an entry resolves `Ref` to its logical id (and an ARN built from it)."""
        self._template = template
        declared = template.get("Parameters", {})
        unknown = set(parameters or {}) - declared.keys()
        if unknown:
            raise KeyError(f"not template parameters: {sorted(unknown)}")
        self.parameters = {name: str(spec.get("Default", "")) for name, spec in declared.items()}
        self.parameters.update(parameters or {})
        self._pseudo = {
            "AWS::StackName": stack_name,
            "AWS::Region": region,
            "AWS::AccountId": account_id,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
        self._resources = resources or {}
        self._attributes = attributes or {}
        self._conditions: dict[str, bool] = {}

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            self._conditions[name] = bool(self.resolve(self._template["Conditions"][name]))
        return self._conditions[name]

    def exists(self, logical_id: str) -> bool:
        """Whether a resource is created under these parameters (its `Condition` holds)."""
        condition = self._template["Resources"][logical_id].get("Condition")
        return condition is None or self.condition(condition)

    def resolve(self, value: Any) -> Any:
        resolved = self._resolve(value)
        return None if resolved is _NO_VALUE else resolved

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self._resolve(item) for item in value]
            return [item for item in items if item is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            function = _FUNCTIONS.get(key)
            if function is not None:
                return function(self, argument)
            if key.startswith("Fn::"):
                raise NotImplementedError(f"intrinsic {key} is not supported")
        resolved = {key: self._resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not _NO_VALUE}

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in self._pseudo:
            return self._pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self._resources:
            return self._resources[name]
        resource = self._template["Resources"][name]
        if resource["Type"] == "AWS::SSM::Parameter":  # Ref gives the parameter's name
            return self.resolve(resource["Properties"]["Name"])
        return name

    def _get_att(self, logical_id: str, attribute: str) -> Any:
        key = f"{logical_id}.{attribute}"
        if key in self._attributes:
            return self._attributes[key]
        if attribute == "Arn":
            kind = self._template["Resources"][logical_id]["Type"]
            service, name = kind.split("::")[1].lower(), self._ref(logical_id)
            if kind == "AWS::DynamoDB::Table":
                name = f"table/{name}"
            return f"arn:aws:{service}:{self._pseudo['AWS::Region']}:{self._pseudo['AWS::AccountId']}:{name}"
        raise KeyError(f"no value given for Fn::GetAtt {key}")

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        variables = {name: self.resolve(value) for name, value in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return str(self._get_att(logical_id, attribute))
            return str(self._ref(name))

        return _SUB_VARIABLE.sub(replace, text)


def _if(resolver: TemplateResolver, argument: list[Any]) -> Any:
    condition, when_true, when_false = argument
    return resolver._resolve(when_true if resolver.condition(condition) else when_false)


def _get_att(resolver: TemplateResolver, argument: Any) -> Any:
    logical_id, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
    return resolver._get_att(logical_id, attribute)


def _find_in_map(resolver: TemplateResolver, argument: list[Any]) -> Any:
    name, first, second = (resolver.resolve(part) for part in argument)
    return resolver._template["Mappings"][name][first][second]


_FUNCTIONS = {
    "Ref": lambda r, name: r._ref(name),
    "Condition": lambda r, name: r.condition(name),
    "Fn::If": _if,
    "Fn::Equals": lambda r, pair: str(r.resolve(pair[0])) == str(r.resolve(pair[1])),
    "Fn::Not": lambda r, items: not r.resolve(items[0]),
    "Fn::And": lambda r, items: all(r.resolve(item) for item in items),
    "Fn::Or": lambda r, items: any(r.resolve(item) for item in items),
    "Fn::Sub": lambda r, argument: r._sub(argument),
    "Fn::GetAtt": _get_att,
    "Fn::FindInMap": _find_in_map,
    "Fn::Select": lambda r, argument: r.resolve(argument[1])[int(r.resolve(argument[0]))],
    "Fn::Split": lambda r, argument: str(r.resolve(argument[1])).split(argument[0]),
    "Fn::Join": lambda r, argument: argument[0].join(str(item) for item in r.resolve(argument[1])),
}
