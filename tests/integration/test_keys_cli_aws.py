"""infra/keys_cli.py against a deployed stack's shape: SigV4 for API Gateway's IAM authorization, checked on
the wire by a loopback server that recomputes each signature from the request it received, and the stack
found through CloudFormation (outputs, parameters) and SSM (the admin key) on the moto server."""

from __future__ import annotations

import hmac
import json
import os
import re
import subprocess
import sys
import threading
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, NamedTuple

import pytest

from fakes.gateway_process import ROOT, GatewayProcess

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

pytestmark = pytest.mark.slow  # an interpreter per command

CLI = ROOT / "infra" / "keys_cli.py"
ACCESS_KEY, SECRET_KEY, SESSION_TOKEN = (
    "AKIAKEYSCLITEST00001",
    "keys-cli-test-secret-key",
    "keys-cli-session-token",
)
REGION = "eu-west-1"
ADMIN_KEY = "aws-admin-key-0123456789"
KEY_ID = "key_0123456789abcdef"
_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<access_key>[^/]+)/(?P<day>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)"
    r"/aws4_request, SignedHeaders=(?P<signed>[a-z0-9;-]+), Signature=(?P<signature>[0-9a-f]{64})"
)


def signature_problem(method: str, target: str, headers: Mapping[str, str], body: bytes) -> str | None:
    """None when the request carries a valid SigV4 signature for `execute-api` in REGION by the test
    credentials, recomputed from what was received (method, path and query as sent, the headers it says it
    signed, the body); else what is wrong."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    headers = {name.lower(): value for name, value in headers.items()}
    found = _AUTHORIZATION.fullmatch(headers.get("authorization", ""))
    if found is None:
        return "no AWS4-HMAC-SHA256 Authorization header"
    if (found["access_key"], found["region"], found["service"]) != (ACCESS_KEY, REGION, "execute-api"):
        return f"signed as {found['access_key']} for {found['service']} in {found['region']}"
    stamp = headers.get("x-amz-date", "")
    signed_at = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    if stamp[:8] != found["day"] or abs((datetime.now(UTC) - signed_at).total_seconds()) > 300:
        return f"X-Amz-Date {stamp} is not now, or not the credential's day"
    names = found["signed"].split(";")
    if not {"host", "x-amz-date", "x-amz-security-token"} <= set(names):
        return f"SignedHeaders {found['signed']} leave out host, the date or the session token"
    if any(headers.get(name) is None for name in names):
        return "a signed header is missing"
    request = AWSRequest(
        method=method,
        url=f"http://{headers['host']}{_canonical_target(target)}",
        data=body,
        headers={name: headers[name] for name in names},
    )
    request.context["timestamp"] = stamp
    signer = SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY, SESSION_TOKEN), "execute-api", REGION)
    expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    return None if hmac.compare_digest(expected, found["signature"]) else "the signature does not match"


def _canonical_target(target: str) -> str:
    """The path and the query as AWS canonicalises them: each name and value decoded (`+` is a plus, not a
    space), encoded again with only unreserved characters left as they are, sorted. botocore signs the
    query as it is written, so a client that encodes otherwise signs something the server does not
    rebuild."""
    from urllib.parse import quote, unquote

    path, _, query = target.partition("?")
    pairs = sorted(
        (quote(unquote(name), safe="-_.~"), quote(unquote(value), safe="-_.~"))
        for name, _, value in (item.partition("=") for item in query.split("&") if item)
    )
    return path + ("?" + "&".join(f"{name}={value}" for name, value in pairs) if pairs else "")


def test_the_signature_check_refuses_a_changed_request():
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    url, body = "http://127.0.0.1:9/dev/internal/keys?tenant=acme", b'{"name": "x"}'
    request = AWSRequest(method="POST", url=url, data=body, headers={"X-API-Key": ADMIN_KEY})
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY, SESSION_TOKEN), "execute-api", REGION).add_auth(request)
    headers = {"Host": "127.0.0.1:9", **dict(request.headers.items())}
    target = "/dev/internal/keys?tenant=acme"
    assert signature_problem("POST", target, headers, body) is None
    assert signature_problem("POST", target, headers, b'{"name": "y"}') == "the signature does not match"
    assert signature_problem("PATCH", target, headers, body) == "the signature does not match"
    assert signature_problem("POST", "/dev/internal/keys?tenant=acmf", headers, body) is not None
    spaced = "/dev/internal/keys?tenant=acme+corp"  # form encoding: AWS reads a plus, botocore signs it as is
    plus_request = AWSRequest(method="GET", url=f"http://127.0.0.1:9{spaced}", headers={})
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY, SESSION_TOKEN), "execute-api", REGION).add_auth(
        plus_request
    )
    plus_headers = {"Host": "127.0.0.1:9", **dict(plus_request.headers.items())}
    assert signature_problem("GET", spaced, plus_headers, b"") == "the signature does not match"
    changed_key = {**headers, "X-API-Key": "another-key"}
    assert signature_problem("POST", target, changed_key, body) == "the signature does not match"
    assert signature_problem("POST", target, {"Host": "127.0.0.1:9"}, body) is not None


class Received(NamedTuple):
    method: str
    target: str
    headers: dict[str, str]  # names in lower case
    body: bytes
    problem: str | None


class SignatureCheckingApi:
    """A loopback stand-in for API Gateway in front of the internal API with IAM auth: a request without a
    valid signature gets API Gateway's 403 `{"message": "Forbidden"}`; a signed one an answer of the
    internal API's shape. It keeps every request it received."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {name.lower(): value for name, value in self.headers.items()}
                problem = signature_problem(self.command, self.path, headers, body)
                api.received.append(Received(self.command, self.path, headers, body, problem))
                status, answer = (403, {"message": "Forbidden"}) if problem else (200, api.answer(self.path))
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PATCH = do_DELETE = _answer

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @staticmethod
    def answer(target: str) -> dict[str, object]:
        if target.split("?")[0].endswith("/internal/keys"):
            return {"keys": [], "next_token": None}
        return {"key_id": KEY_ID, "token_budget": {"daily": 10, "monthly": 20}, "days": []}

    def __enter__(self) -> SignatureCheckingApi:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


@pytest.fixture
def iam_api() -> Iterator[SignatureCheckingApi]:
    with SignatureCheckingApi() as api:
        yield api


def aws_env(**extra: str) -> dict[str, str]:
    """An environment with the test credentials and nothing of the developer's AWS configuration; no
    instance metadata lookups (nothing leaves 127.0.0.1)."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_SESSION_TOKEN": SESSION_TOKEN,
        "AWS_REGION": REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        **extra,
    }


def keys(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CLI), *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )


def test_every_command_is_signed_for_execute_api(iam_api):
    env = aws_env(TEXTAPI_ADMIN_KEY=ADMIN_KEY)
    where = ("--url", f"{iam_api.url}/dev", "--sigv4")
    commands = [
        (
            "create",
            "Zürich reports",
            "--tenant",
            "acme corp/ü",
            "--daily-budget",
            "10",
            "--metadata",
            "a=b&c",
        ),
        ("list", "--tenant", "acme corp/ü+1 = 2", "--limit", "5", "--next-token", "eyJpIjogMn0="),
        ("show", KEY_ID),
        ("update", KEY_ID, "--monthly-budget", "30"),  # reads the record, then changes it
        ("disable", KEY_ID),
        ("rotate", KEY_ID, "--grace-seconds", "60"),
        ("rotate", KEY_ID),  # no body
        ("revoke", KEY_ID),
        ("usage", KEY_ID, "--from", "2026-11-01", "--to", "2026-11-30"),
        ("usage", "--date", "2026-11-30"),
    ]
    for command in commands:
        result = keys(*command, *where, env=env)
        assert result.returncode == 0, f"{command}: {result.stderr}"
    received = iam_api.received
    assert [(r.method, r.target.split("?")[0]) for r in received] == [
        ("POST", "/dev/internal/keys"),
        ("GET", "/dev/internal/keys"),
        ("GET", f"/dev/internal/keys/{KEY_ID}"),
        ("GET", f"/dev/internal/keys/{KEY_ID}"),
        ("PATCH", f"/dev/internal/keys/{KEY_ID}"),
        ("PATCH", f"/dev/internal/keys/{KEY_ID}"),
        ("POST", f"/dev/internal/keys/{KEY_ID}/rotate"),
        ("POST", f"/dev/internal/keys/{KEY_ID}/rotate"),
        ("DELETE", f"/dev/internal/keys/{KEY_ID}"),
        ("GET", f"/dev/internal/keys/{KEY_ID}/usage"),
        ("GET", "/dev/internal/usage"),
    ]
    assert [r.problem for r in received] == [None] * len(received)
    for request in received:
        assert request.headers["x-api-key"] == ADMIN_KEY  # the admin key goes along, in its own header
        assert "x-api-key" in request.headers["authorization"]  # and is signed
    assert json.loads(received[0].body)["tenant"] == "acme corp/ü"
    assert json.loads(received[4].body) == {"token_budget": {"daily": 10, "monthly": 30}}


def test_region_given_on_the_command_line_wins(iam_api):
    env = aws_env(TEXTAPI_ADMIN_KEY=ADMIN_KEY, AWS_REGION="us-east-1")
    assert keys("list", "--url", iam_api.url, "--sigv4", "--region", REGION, env=env).returncode == 0
    signed_elsewhere = keys("list", "--url", iam_api.url, "--sigv4", env=env)
    assert signed_elsewhere.returncode == 1
    assert iam_api.received[-1].problem == f"signed as {ACCESS_KEY} for execute-api in us-east-1"


def test_an_unsigned_request_refused_by_api_gateway_suggests_sigv4(iam_api):
    result = keys("list", "--url", iam_api.url, env=aws_env(TEXTAPI_ADMIN_KEY=ADMIN_KEY))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: HTTP 403: Forbidden",
        "  the internal API may sit behind IAM (InternalApiIamAuth): try --sigv4",
    ]
    assert iam_api.received[-1].problem == "no AWS4-HMAC-SHA256 Authorization header"


def test_sigv4_without_credentials_says_so(iam_api):
    env = {
        name: value
        for name, value in aws_env().items()
        if name not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
    }
    result = keys("list", "--url", iam_api.url, "--sigv4", env=env)
    assert result.returncode == 3
    assert "SigV4 needs AWS credentials" in result.stderr
    assert iam_api.received == []


# -- a stack, found through CloudFormation and SSM on the moto server --------------------------------------


def create_stack(endpoint: str, name: str, *, api_url: str, **parameters: str) -> None:
    """A stack with the template's parameters the CLI reads and its `ApiUrl` output."""
    import boto3

    template = {
        "Parameters": {
            "ApiUrlValue": {"Type": "String"},
            **{parameter: {"Type": "String"} for parameter in parameters},
        },
        "Resources": {  # a template needs one; moto needs the parameter's name
            "Marker": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {"Name": f"/{name}/marker", "Type": "String", "Value": "x"},
            }
        },
        "Outputs": {"ApiUrl": {"Value": {"Ref": "ApiUrlValue"}}},
    }
    cloudformation = boto3.client("cloudformation", endpoint_url=endpoint, region_name=REGION)
    values = {"ApiUrlValue": api_url, **parameters}
    cloudformation.create_stack(
        StackName=name,
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": key, "ParameterValue": value} for key, value in values.items()],
    )


def put_admin_keys(endpoint: str, parameter: str, value: str) -> None:
    import boto3

    ssm = boto3.client("ssm", endpoint_url=endpoint, region_name=REGION)
    ssm.put_parameter(Name=parameter, Value=value, Type="SecureString", Overwrite=True)


def test_a_stack_behind_iam_is_signed_with_the_admin_key_from_its_parameter(moto_endpoint, iam_api):
    stack = f"textapi-iam-{uuid.uuid4().hex[:8]}"
    create_stack(
        moto_endpoint,
        stack,
        api_url=f"{iam_api.url}/prod",
        InternalApiIamAuth="true",
        DeployInternalApi="true",
        InternalApiKeysParameterName="",
    )
    put_admin_keys(moto_endpoint, f"/{stack}/internal-api-keys", " first-admin-key , second-admin-key")
    result = keys("list", "--stack", stack, env=aws_env(AWS_ENDPOINT_URL=moto_endpoint))
    assert result.returncode == 0, result.stderr
    [request] = iam_api.received
    assert (request.method, request.target, request.problem) == ("GET", "/prod/internal/keys", None)
    assert request.headers["x-api-key"] == "first-admin-key"

    unsigned = keys("list", "--stack", stack, "--no-sigv4", env=aws_env(AWS_ENDPOINT_URL=moto_endpoint))
    assert unsigned.returncode == 1
    assert iam_api.received[-1].problem == "no AWS4-HMAC-SHA256 Authorization header"


@pytest.fixture
def dev_stack_gateway(moto_endpoint):
    """A gateway whose admin key is in a custom parameter of a stack named as samconfig.toml names dev's."""
    import boto3

    with GatewayProcess({"INTERNAL_API_KEYS": "dev-admin-key", "LOG_LEVEL": "ERROR"}) as gateway:
        cloudformation = boto3.client("cloudformation", endpoint_url=moto_endpoint, region_name=REGION)
        cloudformation.delete_stack(StackName="textapi-dev")  # a no-op when there is none
        create_stack(
            moto_endpoint,
            "textapi-dev",
            api_url=gateway.url,
            InternalApiIamAuth="false",
            InternalApiKeysParameterName="/custom/admin-keys",
        )
        put_admin_keys(moto_endpoint, "/custom/admin-keys", "dev-admin-key")
        yield gateway
        cloudformation.delete_stack(StackName="textapi-dev")


def test_env_finds_its_stack_through_samconfig_and_make_passes_it(moto_endpoint, dev_stack_gateway):
    env = aws_env(AWS_ENDPOINT_URL=moto_endpoint)
    created = keys("create", "from-dev", "--tenant", "dev-tenant", "--env", "dev", env=env)
    assert created.returncode == 0, created.stderr
    key_id = json.loads(created.stdout)["key_id"]
    listed = subprocess.run(
        ["make", "-s", "--no-print-directory", "keys-list", "ENV=dev", "TENANT=dev-tenant"],
        cwd=ROOT,
        env=env | {"HOME": os.environ.get("HOME", "/tmp")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert [record["key_id"] for record in json.loads(listed.stdout)["keys"]] == [key_id]


def test_a_stack_that_cannot_be_used_is_named(moto_endpoint, iam_api):
    env = aws_env(AWS_ENDPOINT_URL=moto_endpoint)
    missing = keys("list", "--stack", "textapi-nowhere", env=env)
    assert missing.returncode == 3
    assert missing.stderr.startswith(f"error: cannot read stack textapi-nowhere in {REGION}: ")

    stack = f"textapi-public-only-{uuid.uuid4().hex[:8]}"
    create_stack(moto_endpoint, stack, api_url=iam_api.url, DeployInternalApi="false")
    no_internal = keys("list", "--stack", stack, env=env)
    assert (no_internal.returncode, no_internal.stderr) == (
        3,
        f"error: stack {stack} has no internal API (DeployInternalApi=false)\n",
    )

    keyless = f"textapi-keyless-{uuid.uuid4().hex[:8]}"
    create_stack(moto_endpoint, keyless, api_url=iam_api.url, DeployInternalApi="true")
    no_key = keys("list", "--stack", keyless, env=env)
    assert no_key.returncode == 3
    assert no_key.stderr.startswith(
        f"error: no admin key: pass --admin-key or set TEXTAPI_ADMIN_KEY, or make SSM parameter "
        f"/{keyless}/internal-api-keys readable"
    )
    assert iam_api.received == []
