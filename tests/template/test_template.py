"""Structural assertions on template.yaml (`make validate` runs `sam validate --lint` on it)."""

from __future__ import annotations

import ast
import json
import re
import tomllib
from typing import Any

import pytest

from fakes.cfn_template import REPO_ROOT, http_api_routes, load_template
from local_gateway import ROUTES

TEMPLATE = load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
GLOBAL_FUNCTION: dict[str, Any] = TEMPLATE["Globals"]["Function"]
FUNCTIONS = sorted(name for name, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function")
# Functions behind the HTTP API (the job worker is fed by SQS instead).
ROUTED_FUNCTIONS = sorted(set(http_api_routes(TEMPLATE).values()))
HTTP_API_TIMEOUT_SECONDS = 30


def _of_type(resource_type: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in RESOURCES.items() if r["Type"] == resource_type}


def _mentions(value: Any, name: str) -> bool:
    """Whether a logical id appears anywhere in a property tree (Ref, GetAtt or ${...} in a Sub)."""
    return re.search(rf"\b{name}\b", json.dumps(value)) is not None


def _environment(function: str) -> dict[str, Any]:
    own = RESOURCES[function]["Properties"].get("Environment", {}).get("Variables", {})
    return {**GLOBAL_FUNCTION["Environment"]["Variables"], **own}


def _routes_to(function: str) -> dict[str, dict[str, Any]]:
    keys = {key for key, target in http_api_routes(TEMPLATE).items() if target == function}
    return {
        name: r
        for name, r in _of_type("AWS::ApiGatewayV2::Route").items()
        if r["Properties"]["RouteKey"] in keys
    }


def test_routes_match_local_gateway():
    assert dict(ROUTES) == http_api_routes(TEMPLATE)


def test_routes_are_all_native_so_a_stack_update_cannot_drop_them():
    # API Gateway re-imports an OpenAPI body on update and deletes native routes outside it.
    assert not _of_type("AWS::Serverless::HttpApi")
    assert not any("Body" in api["Properties"] for api in _of_type("AWS::ApiGatewayV2::Api").values())
    for function in FUNCTIONS:
        events = RESOURCES[function]["Properties"].get("Events") or {}
        assert not [e for e in events.values() if e["Type"] in ("HttpApi", "Api")], function


def test_api_resources_come_first_so_sam_local_reads_native_routes():
    api_like = (
        "AWS::Serverless::Function",
        "AWS::Serverless::Api",
        "AWS::Serverless::HttpApi",
        "AWS::ApiGatewayV2::",
    )
    first = next(r["Type"] for r in RESOURCES.values() if r["Type"].startswith(api_like))
    assert first.startswith("AWS::ApiGatewayV2::")


@pytest.mark.parametrize("function", FUNCTIONS)
def test_handler_resolves_to_a_module_exposing_lambda_handler(function):
    properties = RESOURCES[function]["Properties"]
    module, attribute = properties["Handler"].rsplit(".", 1)
    source = REPO_ROOT / properties["CodeUri"] / (module.replace(".", "/") + ".py")
    assert attribute == "lambda_handler"
    assert source.is_file(), f"{function}: {source.relative_to(REPO_ROOT)} is missing"
    assert attribute in _module_level_names(source.read_text()), f"{function}: no module-level {attribute}"


def _module_level_names(source: str) -> set[str]:
    """Names a module binds when imported: top-level defs and assignments, also inside try/if/with."""
    names: set[str] = set()
    pending = list(ast.parse(source).body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            flat = [e for t in targets for e in (t.elts if isinstance(t, ast.Tuple) else [t])]
            names.update(t.id for t in flat if isinstance(t, ast.Name))
        elif isinstance(node, ast.Try | ast.If | ast.With):
            pending.extend([*node.body, *getattr(node, "orelse", []), *getattr(node, "finalbody", [])])
            pending.extend(stmt for handler in getattr(node, "handlers", []) for stmt in handler.body)
    return names


@pytest.mark.parametrize("function", FUNCTIONS)
def test_function_names_follow_one_name_per_concept(function):
    # functions/public_api -> package public_api -> PublicApiFunction -> service textapi-public; a second
    # handler adds its module: public_api.worker -> PublicApiWorkerFunction, textapi-public-worker
    properties = RESOURCES[function]["Properties"]
    folder = properties["CodeUri"].rstrip("/").rsplit("/", 1)[-1]
    package, module, _ = properties["Handler"].split(".")
    assert package == folder
    words = folder.split("_") + ([] if module == "main" else [module])
    assert function == "".join(part.title() for part in words) + "Function"
    service = "textapi-" + folder.removesuffix("_api") + ("" if module == "main" else f"-{module}")
    assert _environment(function)["SERVICE_NAME"] == service


def test_layer_content_holds_requirements_and_the_shared_package():
    content = REPO_ROOT / RESOURCES["SharedLayer"]["Properties"]["ContentUri"]
    assert (content / "requirements.txt").is_file()
    assert (content / "textapi_shared" / "__init__.py").is_file()


def test_layer_builds_for_python313_on_arm64():
    layer = RESOURCES["SharedLayer"]
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    assert layer["Metadata"] == {"BuildMethod": "python3.13", "BuildArchitecture": "arm64"}
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]


def test_functions_get_the_layer_from_globals_only():
    assert GLOBAL_FUNCTION["Layers"] == [{"Ref": "SharedLayer"}]
    for function in FUNCTIONS:
        assert "Layers" not in RESOURCES[function]["Properties"], function


def test_runtime_and_architecture_are_global():
    assert GLOBAL_FUNCTION["Runtime"] == "python3.13"
    assert GLOBAL_FUNCTION["Architectures"] == ["arm64"]
    for function in FUNCTIONS:
        assert not {"Runtime", "Architectures"} & RESOURCES[function]["Properties"].keys(), function


def test_functions_answer_before_the_http_api_gives_up():
    for function in ROUTED_FUNCTIONS:
        timeout = RESOURCES[function]["Properties"].get("Timeout", GLOBAL_FUNCTION["Timeout"])
        assert timeout < HTTP_API_TIMEOUT_SECONDS, function
    for name, integration in _of_type("AWS::ApiGatewayV2::Integration").items():
        assert integration["Properties"].get("TimeoutInMillis", 30_000) == 30_000, name


def test_environment_names_the_code_reads():
    shared = {
        "STAGE",
        "LOG_LEVEL",
        "METRICS_NAMESPACE",
        "TRACING_ENABLED",
        "CORS_ORIGINS",
        "API_KEYS_SSM_PARAMETER",
        "AI_PROVIDER",
        "AI_MODEL",
        "AI_FALLBACK_MODELS",  # the internal function names breakers `operation@model` by them
        "GEMINI_API_KEY_SSM_PARAMETER",
        "CACHE_BACKEND",
        "CACHE_TABLE_NAME",
        "REDIS_URL",
        "REDIS_CLUSTER_MODE",
        "REDIS_READ_FROM_REPLICAS",
        "RESILIENCE_PRESET",
        "RESILIENCE_PRESET_SSM_PARAMETER",
        "RESILIENCE_CUSTOM_CONFIG_SSM_PARAMETER",
        "RESILIENCE_PRESETS_SSM_PARAMETER",
        "RESILIENCE_CONFIG_MAX_AGE",
        "KEYS_BACKEND",  # key records and billed usage: DynamoDB whatever the cache backend
        "KEYS_TABLE_NAME",
        "KEY_CACHE_SECONDS",
        "AI_MODEL_PRICES",
        "JOB_CALLBACK_SECRET_SSM_PARAMETER",  # every key's callback secret is derived from it
    }
    assert set(GLOBAL_FUNCTION["Environment"]["Variables"]) == shared
    internal = _environment("InternalApiFunction")
    assert internal["DISABLE_INTERNAL_DOCS"] == {"Fn::If": ["IsProd", "true", "false"]}
    assert "INTERNAL_API_KEYS_SSM_PARAMETER" in internal
    assert internal["INTERNAL_CORS_ORIGINS"] == {"Ref": "InternalCorsOrigins"}  # the admin API's own origins
    assert _environment("PublicApiFunction")["RATE_LIMIT_OVERRIDES"] == {"Ref": "RateLimitOverrides"}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_function_has_a_log_group_with_retention(function):
    groups = [
        group
        for group in _of_type("AWS::Logs::LogGroup").values()
        if group["Properties"].get("LogGroupName") == {"Fn::Sub": f"/aws/lambda/${{{function}}}"}
    ]
    assert len(groups) == 1, function
    assert groups[0]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert groups[0].get("Condition") == RESOURCES[function].get("Condition")


def test_lambdas_log_filter_never_drops_metrics_or_powertools_lines():
    """EMF documents carry no level (Lambda counts them as INFO): the platform filter stays at INFO or
    below whatever LOG_LEVEL is; Powertools does the filtering (tests/lambda/test_log_lines.py)."""
    logging_config = GLOBAL_FUNCTION["LoggingConfig"]
    assert logging_config["LogFormat"] == "JSON"
    assert logging_config["ApplicationLogLevel"] == {
        "Fn::FindInMap": ["LogLevels", {"Ref": "LogLevel"}, "Lambda"]
    }
    levels = TEMPLATE["Mappings"]["LogLevels"]
    assert set(levels) == set(TEMPLATE["Parameters"]["LogLevel"]["AllowedValues"])
    assert {level["Lambda"] for level in levels.values()} <= {"TRACE", "DEBUG", "INFO"}
    assert GLOBAL_FUNCTION["Environment"]["Variables"]["LOG_LEVEL"] == {"Ref": "LogLevel"}


def test_dashboard_error_widget_and_saved_queries_read_the_fields_the_code_logs():
    dashboard = RESOURCES["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    assert "filter level = 'ERROR'" in dashboard
    assert "error_code" in dashboard
    queries = {
        r["Properties"]["Name"]["Fn::Sub"]: r["Properties"]
        for r in _of_type("AWS::Logs::QueryDefinition").values()
    }
    assert set(queries) == {
        "${AWS::StackName}/errors-by-code",
        "${AWS::StackName}/slowest-requests",
        "${AWS::StackName}/one-request",
    }
    for query in queries.values():
        assert "message = 'request'" in query["QueryString"] or "correlation_id" in query["QueryString"]
        assert query["LogGroupNames"]["Fn::If"][0] == "DeployInternal"


def test_http_api_stage_throttles_and_writes_json_access_logs():
    (stage,) = _of_type("AWS::ApiGatewayV2::Stage").values()
    properties = stage["Properties"]
    assert properties["StageName"] == {"Ref": "Stage"}
    assert properties["AutoDeploy"] is True
    assert properties["DefaultRouteSettings"] == {
        "ThrottlingBurstLimit": {"Ref": "ThrottlingBurstLimit"},
        "ThrottlingRateLimit": {"Ref": "ThrottlingRateLimit"},
    }
    destination = properties["AccessLogSettings"]["DestinationArn"]["Fn::GetAtt"][0]
    assert RESOURCES[destination]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    fields = json.loads(properties["AccessLogSettings"]["Format"])
    assert {"requestId", "routeKey", "status", "responseLatency", "integrationError"} <= fields.keys()
    assert not [value for value in fields.values() if "header" in value.lower()]


def test_cors_is_left_to_the_apps():
    for api in _of_type("AWS::ApiGatewayV2::Api").values():
        assert "CorsConfiguration" not in api["Properties"]


def test_outputs_include_the_stage_url():
    outputs = TEMPLATE["Outputs"]
    assert {"ApiUrl", "PublicApiFunctionArn", "InternalApiFunctionArn", "SharedLayerArn"} <= outputs.keys()
    url = outputs["ApiUrl"]["Value"]["Fn::Sub"]
    assert url.startswith("https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/")
    assert url.endswith(("/${Stage}", "/${HttpApiStage}"))
    assert outputs["InternalApiFunctionArn"]["Condition"] == "DeployInternal"


def _role_statements(function: str) -> list[dict[str, Any]]:
    """The statements of the role a function runs with, `!If [cond, statement, NoValue]` unwrapped."""
    role = RESOURCES[function]["Properties"]["Role"]["Fn::GetAtt"][0]
    statements = []
    for policy in RESOURCES[role]["Properties"]["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            statements.append(statement["Fn::If"][1] if "Fn::If" in statement else statement)
    return statements


def _actions(statement: dict[str, Any]) -> list[str]:
    return statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]


# Actions that support no resource type (the IAM service authorization reference): "*" is their only grant.
ACTIONS_WITHOUT_RESOURCES = frozenset({"comprehend:DetectPiiEntities"})


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_function_runs_with_its_own_written_out_least_privilege_role(function):
    """No SAM policy templates (they grant Scan, BatchWriteItem, DescribeParameters on *), no wildcard
    actions or resources; tests/artifact/test_iam.py checks the grants against the calls the code makes."""
    properties = RESOURCES[function]["Properties"]
    assert "Policies" not in properties
    role = properties["Role"]["Fn::GetAtt"][0]
    assert RESOURCES[role]["Type"] == "AWS::IAM::Role"
    assert RESOURCES[role].get("Condition") == RESOURCES[function].get("Condition")
    for statement in _role_statements(function):
        assert not [a for a in _actions(statement) if "*" in a], statement
        if set(_actions(statement)) <= ACTIONS_WITHOUT_RESOURCES:
            continue  # IAM can only grant these on "*"
        assert statement["Resource"] != "*", statement
    managed = RESOURCES[role]["Properties"]["ManagedPolicyArns"]
    assert "AWSLambdaBasicExecutionRole" in json.dumps(managed[0])
    # The VPC policy only when the functions are in the VPC (SAM attached it whenever VpcConfig existed),
    # the X-Ray one only when they trace; both serve the Lambda service (ENIs, the trace daemon).
    conditional = {arn["Fn::If"][0]: arn["Fn::If"] for arn in managed[1:]}
    assert set(conditional) == {"UseRedis", "UseTracing"}
    assert "AWSLambdaVPCAccessExecutionRole" in json.dumps(conditional["UseRedis"][1])
    assert "AWSXRayDaemonWriteAccess" in json.dumps(conditional["UseTracing"][1])
    assert conditional["UseRedis"][2] == conditional["UseTracing"][2] == {"Ref": "AWS::NoValue"}


def test_public_function_cannot_read_the_internal_keys_nor_scan_nor_write_ssm():
    statements = _role_statements("PublicApiFunction")
    actions = {action for statement in statements for action in _actions(statement)}
    assert not {"dynamodb:Scan", "dynamodb:BatchWriteItem", "ssm:PutParameter"} & actions
    assert "InternalApiKeysParameterName" not in json.dumps(statements)
    assert "internal-api-keys" not in json.dumps(statements)
    # Its key check also counts admin keys, so naming a parameter it may not read would break its health.
    assert "INTERNAL_API_KEYS_SSM_PARAMETER" not in _environment("PublicApiFunction")


def test_internal_function_reads_both_key_parameters_and_writes_only_the_active_configuration():
    [reads] = [s for s in _role_statements("InternalApiFunction") if s.get("Sid") == "ReadSecrets"]
    assert _mentions(reads, "ApiKeysParameterName")
    assert _mentions(reads, "InternalApiKeysParameterName")
    [writes] = [s for s in _role_statements("InternalApiFunction") if "ssm:PutParameter" in _actions(s)]
    assert [r["Fn::Sub"].rsplit("/", 1)[-1] for r in writes["Resource"]] == ["preset", "custom-config"]


def test_a_customer_managed_key_for_the_secure_strings_can_be_granted():
    for function in FUNCTIONS:
        [decrypt] = [s for s in _role_statements(function) if "kms:Decrypt" in _actions(s)]
        assert decrypt["Resource"] == {"Ref": "SecretsKmsKeyArn"}
        assert "kms:ViaService" in decrypt["Condition"]["StringEquals"]


def test_parameter_names_include_the_stack_name_so_two_stacks_never_share_them():
    for parameter in ("ApiKeysParameterName", "InternalApiKeysParameterName"):
        assert TEMPLATE["Parameters"][parameter]["Default"] == ""
    assert _environment("PublicApiFunction")["API_KEYS_SSM_PARAMETER"]["Fn::If"][1] == {
        "Fn::Sub": "/${AWS::StackName}/api-keys"
    }
    assert _environment("InternalApiFunction")["INTERNAL_API_KEYS_SSM_PARAMETER"]["Fn::If"][1] == {
        "Fn::Sub": "/${AWS::StackName}/internal-api-keys"
    }
    names = [r["Properties"]["Name"] for r in _of_type("AWS::SSM::Parameter").values()]
    assert all(name["Fn::Sub"].startswith("/${AWS::StackName}/") for name in names)


def test_everything_internal_is_conditional():
    assert TEMPLATE["Conditions"]["DeployInternal"] == {"Fn::Equals": [{"Ref": "DeployInternalApi"}, "true"]}
    # The function, what names it, and what names those (routes name the integration).
    internal = {"InternalApiFunction"}
    for _ in range(2):
        internal |= {
            n for n, r in RESOURCES.items() if any(_mentions(r.get("Properties", {}), i) for i in internal)
        }
    kinds = {RESOURCES[name]["Type"] for name in internal}
    assert {
        "AWS::Serverless::Function",
        "AWS::Logs::LogGroup",
        "AWS::ApiGatewayV2::Integration",
        "AWS::ApiGatewayV2::Route",
        "AWS::Lambda::Permission",
    } <= kinds
    internal.add(RESOURCES["InternalApiFunction"]["Properties"]["Role"]["Fn::GetAtt"][0])
    # Saved queries cover the internal log group only under `!If DeployInternal` (checked elsewhere).
    internal -= set(_of_type("AWS::Logs::QueryDefinition"))
    for name in internal:
        assert RESOURCES[name].get("Condition") == "DeployInternal", name


def test_internal_routes_take_iam_auth_from_the_parameter():
    assert TEMPLATE["Conditions"]["UseIamAuth"] == {"Fn::Equals": [{"Ref": "InternalApiIamAuth"}, "true"]}
    internal_routes = _routes_to("InternalApiFunction")
    assert len(internal_routes) == 2
    for route in internal_routes.values():
        assert route["Properties"]["AuthorizationType"] == {"Fn::If": ["UseIamAuth", "AWS_IAM", "NONE"]}
    for route in _routes_to("PublicApiFunction").values():
        assert route["Properties"].get("AuthorizationType", "NONE") == "NONE"


@pytest.mark.parametrize("function", ROUTED_FUNCTIONS)
def test_api_gateway_may_invoke_each_routed_function(function):
    permissions = [
        p["Properties"]
        for p in _of_type("AWS::Lambda::Permission").values()
        if _mentions(p["Properties"]["FunctionName"], function)
    ]
    assert len(permissions) == 1
    assert permissions[0]["Principal"] == "apigateway.amazonaws.com"
    assert "${HttpApi}/" in permissions[0]["SourceArn"]["Fn::Sub"]


def test_samconfig_environments():
    config = tomllib.loads((REPO_ROOT / "samconfig.toml").read_text())
    parameters = TEMPLATE["Parameters"]
    overrides = {}
    for env in ("default", "staging", "prod"):
        deploy = config[env]["deploy"]["parameters"]
        overrides[env] = dict(item.split("=", 1) for item in deploy["parameter_overrides"].split())
        assert set(overrides[env]) <= parameters.keys(), env
        for name, value in overrides[env].items():
            assert value in map(str, parameters[name].get("AllowedValues", [value])), (env, name)
        assert config[env]["validate"]["parameters"]["lint"] is True
    assert overrides["default"]["Stage"] == "dev"
    assert overrides["staging"]["Stage"] == "staging"
    assert overrides["prod"]["Stage"] == "prod"
    assert overrides["prod"]["InternalApiIamAuth"] == "true"
    # Production never degrades to the offline provider: staging and prod name the Gemini key.
    for env in ("staging", "prod"):
        stack = config[env]["global"]["parameters"]["stack_name"]
        assert overrides[env]["GeminiApiKeyParameterName"] == f"/{stack}/gemini-api-key"
    assert config["prod"]["deploy"]["parameters"]["confirm_changeset"] is True
    assert config["default"]["global"]["parameters"]["stack_name"] == "textapi-dev"
    assert config["staging"]["global"]["parameters"]["stack_name"] == "textapi-staging"
    assert config["prod"]["global"]["parameters"]["stack_name"] == "textapi-prod"


def test_cache_table_is_on_demand_with_ttl_and_shared_by_both_functions():
    table = RESOURCES["CacheTable"]["Properties"]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    assert GLOBAL_FUNCTION["Environment"]["Variables"]["CACHE_TABLE_NAME"] == {"Ref": "CacheTable"}
    for function in FUNCTIONS:
        role = RESOURCES[RESOURCES[function]["Properties"]["Role"]["Fn::GetAtt"][0]]
        [table] = [
            s
            for p in role["Properties"]["Policies"]
            for s in p["PolicyDocument"]["Statement"]
            if _mentions(s, "CacheTable")
        ]
        assert table["Fn::If"][0] == "UseDynamoDB"
        assert table["Fn::If"][1]["Resource"] == {"Fn::GetAtt": ["CacheTable", "Arn"]}


def test_elasticache_and_vpc_exist_only_for_the_redis_backend():
    assert RESOURCES["RedisCache"]["Condition"] == "UseRedis"
    assert RESOURCES["RedisCache"]["Properties"]["Engine"] == "valkey"
    assert TEMPLATE["Conditions"]["UseRedis"] == {"Fn::Equals": [{"Ref": "CacheBackend"}, "redis"]}
    for function in FUNCTIONS:
        condition, _, otherwise = RESOURCES[function]["Properties"]["VpcConfig"]["Fn::If"]
        assert (condition, otherwise) == ("UseRedis", {"Ref": "AWS::NoValue"})
    redis_url = GLOBAL_FUNCTION["Environment"]["Variables"]["REDIS_URL"]["Fn::If"]
    assert redis_url[0] == "UseRedis"
    assert redis_url[1]["Fn::Sub"].startswith("rediss://")


def test_the_redis_backend_speaks_to_elasticache_serverless_in_cluster_mode():
    from textapi_shared.config import SharedSettings

    variables = GLOBAL_FUNCTION["Environment"]["Variables"]
    assert variables["REDIS_CLUSTER_MODE"] == {"Fn::If": ["UseRedis", "on", "auto"]}
    assert variables["REDIS_READ_FROM_REPLICAS"] == {"Ref": "RedisReadFromReplicas"}
    replicas = TEMPLATE["Parameters"]["RedisReadFromReplicas"]
    assert (replicas["Default"], replicas["AllowedValues"]) == ("false", ["true", "false"])
    assert "6379" in TEMPLATE["Parameters"]["CacheSecurityGroupIds"]["Description"]
    assert "6380" in TEMPLATE["Parameters"]["CacheSecurityGroupIds"]["Description"]
    # What the functions get when CacheBackend=redis is a valid configuration.
    settings = SharedSettings(
        cache_backend="redis",
        redis_url="rediss://textapi-cache-abc123.serverless.use1.cache.amazonaws.com:6379",
        redis_cluster_mode="on",
        redis_read_from_replicas=replicas["Default"],
    )
    assert (settings.redis_tls, settings.redis_cluster_mode, settings.redis_read_from_replicas) == (
        True,
        "on",
        False,
    )
    assert not any("PASSWORD" in name and "SSM" not in name for name in variables)  # never a plain password


def _watched(alarm: dict[str, Any]) -> set[tuple[str, str]]:
    """(metric, the `service` or FunctionName it is about) of each metric an alarm reads."""
    properties = alarm["Properties"]
    metrics = [m["MetricStat"]["Metric"] for m in properties.get("Metrics", []) if "MetricStat" in m]
    metrics += [properties] if "MetricName" in properties else []
    return {
        (metric["MetricName"], json.dumps(d["Value"]))
        for metric in metrics
        for d in metric["Dimensions"]
        if d["Name"] in ("service", "FunctionName", "QueueName", "ApiId")
    }


def test_alarms_cover_the_fleet():
    """Errors, latency, throttles and 5xx rates of the functions; breakers both AI callers open; the
    worker's errors and throttles, its failed items and callbacks; the job queue's age and dead letters."""
    watched = {pair for alarm in _of_type("AWS::CloudWatch::Alarm").values() for pair in _watched(alarm)}
    public, worker = '"textapi-public"', '"textapi-public-worker"'
    expected = {
        ("5xx", json.dumps({"Ref": "HttpApi"})),
        ("Latency", json.dumps({"Ref": "HttpApi"})),
        ("Throttles", json.dumps({"Ref": "PublicApiFunction"})),
        ("Errors", json.dumps({"Ref": "PublicApiFunction"})),
        ("ServerErrors", public),
        ("Errors", json.dumps({"Ref": "InternalApiFunction"})),
        ("ServerErrors", '"textapi-internal"'),
        ("BreakerOpened", public),
        ("BreakerOpened", worker),
        ("Errors", json.dumps({"Ref": "PublicApiWorkerFunction"})),
        ("Throttles", json.dumps({"Ref": "PublicApiWorkerFunction"})),
        ("JobItemsFailed", worker),
        ("JobCallbacksFailed", worker),
        (
            "ApproximateNumberOfMessagesVisible",
            json.dumps({"Fn::GetAtt": ["JobsDeadLetterQueue", "QueueName"]}),
        ),
        ("ApproximateAgeOfOldestMessage", json.dumps({"Fn::GetAtt": ["JobsQueue", "QueueName"]})),
    }
    assert expected <= watched, expected - watched
    assert _of_type("AWS::CloudWatch::Dashboard")


def test_every_alarm_reaches_the_stacks_topic_and_prod_names_who_reads_it():
    assert RESOURCES["AlarmTopic"]["Type"] == "AWS::SNS::Topic"
    for name, alarm in _of_type("AWS::CloudWatch::Alarm").items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        assert alarm["Properties"]["OKActions"] == [{"Ref": "AlarmTopic"}], name
    subscription = RESOURCES["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"] == {
        "TopicArn": {"Ref": "AlarmTopic"},
        "Protocol": "email",
        "Endpoint": {"Ref": "AlarmEmail"},
    }
    rule = TEMPLATE["Rules"]["ProdAlarmsReachSomeone"]
    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}
    assert rule["Assertions"][0]["Assert"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}
    assert TEMPLATE["Outputs"]["AlarmTopicArn"]["Value"] == {"Ref": "AlarmTopic"}


def test_a_5xx_rate_needs_a_minimum_of_requests_before_it_pages():
    rates = {
        name: alarm["Properties"]
        for name, alarm in _of_type("AWS::CloudWatch::Alarm").items()
        if any(
            "ServerErrors" in json.dumps(m) or '"5xx"' in json.dumps(m)
            for m in alarm["Properties"].get("Metrics", [])
        )
    }
    assert set(rates) == {
        "ServerErrorRateAlarm",
        "PublicApiServerErrorRateAlarm",
        "InternalApiServerErrorRateAlarm",
    }
    for name, properties in rates.items():
        [expression] = [m["Expression"] for m in properties["Metrics"] if "Expression" in m]
        assert expression == {
            "Fn::Sub": "IF(requests >= ${ServerErrorAlarmMinRequests}, 100 * FILL(errors, 0) / requests, 0)"
        }, name
    assert TEMPLATE["Parameters"]["ServerErrorAlarmMinRequests"]["Default"] >= 10


def test_snapstart_on_published_versions_per_stage_and_the_api_invokes_the_alias():
    assert GLOBAL_FUNCTION["SnapStart"] == {
        "ApplyOn": {"Fn::If": ["UseSnapStart", "PublishedVersions", "None"]}
    }
    assert TEMPLATE["Parameters"]["SnapStart"]["Default"] == "true"
    config = tomllib.loads((REPO_ROOT / "samconfig.toml").read_text())
    assert "SnapStart=false" in config["default"]["deploy"]["parameters"]["parameter_overrides"]
    alias = GLOBAL_FUNCTION["AutoPublishAlias"]
    assert alias == "live"
    for integration in _of_type("AWS::ApiGatewayV2::Integration").values():
        assert integration["Properties"]["IntegrationUri"]["Ref"].endswith(".Alias")
    for permission in _of_type("AWS::Lambda::Permission").values():
        assert permission["Properties"]["FunctionName"]["Ref"].endswith(".Alias")


def test_tracing_is_a_switch_off_by_default():
    assert TEMPLATE["Parameters"]["TracingEnabled"]["Default"] == "false"
    assert GLOBAL_FUNCTION["Tracing"] == {"Fn::If": ["UseTracing", "Active", "PassThrough"]}
    assert GLOBAL_FUNCTION["Environment"]["Variables"]["TRACING_ENABLED"] == {"Ref": "TracingEnabled"}


def test_the_jobs_table_outlives_the_stack_and_prod_can_restore_it():
    table = RESOURCES["JobsTable"]
    assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == ("Retain", "Retain")
    properties = table["Properties"]
    assert properties["DeletionProtectionEnabled"] == {"Fn::If": ["IsProd", True, False]}
    assert properties["PointInTimeRecoverySpecification"] == {
        "PointInTimeRecoveryEnabled": {"Fn::If": ["IsProd", True, False]}
    }
    assert RESOURCES["CacheTable"]["DeletionPolicy"] == "Delete"  # recomputable


def test_the_serverless_cache_has_usage_limits():
    limits = RESOURCES["RedisCache"]["Properties"]["CacheUsageLimits"]
    assert limits == {
        "DataStorage": {"Maximum": {"Ref": "CacheMaxDataStorageGB"}, "Unit": "GB"},
        "ECPUPerSecond": {"Maximum": {"Ref": "CacheMaxEcpuPerSecond"}},
    }


def test_vpc_mode_can_create_every_endpoint_the_functions_call_without_nat():
    endpoints = {
        r["Properties"]["ServiceName"]["Fn::Sub"].rsplit(".", 1)[-1]: r
        for r in _of_type("AWS::EC2::VPCEndpoint").values()
    }
    assert set(endpoints) == {"ssm", "sqs", "dynamodb"}
    assert TEMPLATE["Conditions"]["UseVpcEndpoints"] == {
        "Fn::And": [{"Condition": "UseRedis"}, {"Fn::Equals": [{"Ref": "VpcEndpoints"}, "true"]}]
    }
    for service, endpoint in endpoints.items():
        assert endpoint["Condition"] == "UseVpcEndpoints", service
        properties = endpoint["Properties"]
        if service == "dynamodb":
            assert (properties["VpcEndpointType"], properties["RouteTableIds"]) == (
                "Gateway",
                {"Ref": "CacheRouteTableIds"},
            )
        else:
            assert properties["VpcEndpointType"] == "Interface"
            assert properties["SubnetIds"] == {"Ref": "CacheSubnetIds"}
            assert properties["SecurityGroupIds"] == {"Ref": "CacheSecurityGroupIds"}
            assert properties["PrivateDnsEnabled"] is True
