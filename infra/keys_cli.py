"""Tenants' keys and usage from the command line (the `make keys-*` targets), through the internal API.

    python infra/keys_cli.py create acme-reports --tenant acme --daily-budget 3500
    python infra/keys_cli.py list [--tenant acme] [--limit 50] [--next-token T | --all]
    python infra/keys_cli.py show KEY_ID
    python infra/keys_cli.py update KEY_ID --daily-budget 200000 --rate-limit 120
    python infra/keys_cli.py disable KEY_ID            # `enable` undoes it; `revoke` is for good
    python infra/keys_cli.py rotate KEY_ID [--grace-seconds 3600]
    python infra/keys_cli.py revoke KEY_ID
    python infra/keys_cli.py usage KEY_ID [--from 2026-12-01] [--to 2026-12-07]
    python infra/keys_cli.py usage --date 2026-12-07   # every key's use that UTC day: the billing export

Where: `--url` (default: TEXTAPI_URL, else http://127.0.0.1:8000, `make run`), or a deployed stack,
`--env dev|staging|prod` (its name from samconfig.toml) or `--stack NAME`, at its `ApiUrl` output; a stack
deployed with InternalApiIamAuth=true gets SigV4-signed requests (service execute-api), as does `--sigv4`.
Admin key: `--admin-key`, else TEXTAPI_ADMIN_KEY, else (a stack) the first key of its admin-key parameter
in SSM. Answers are printed as JSON; a new secret is in them once, with a warning on stderr.

Exit status: 0 on success, 1 when the API answers with an error (printed), 2 on a usage error, 3 when the
API cannot be reached or the stack cannot be read.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Callable

    # (method, url, headers, body) -> the headers with the signature
    Sign = Callable[[str, str, dict[str, str], bytes | None], dict[str, str]]

LOCAL_URL = "http://127.0.0.1:8000"
SAMCONFIG = Path(__file__).resolve().parents[1] / "samconfig.toml"
ADMIN_KEY_ENV = "TEXTAPI_ADMIN_KEY"
URL_ENV = "TEXTAPI_URL"
MAX_PAGES = 1000  # `list --all`: a bound, never an endless loop on a store that keeps answering a token
_REGION_IN_URL = re.compile(r"\.execute-api\.([a-z0-9-]+)\.amazonaws\.com")


class ApiError(Exception):
    """The API answered with an error status."""

    def __init__(self, status: int, body: object) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


class Unreachable(Exception):
    """No answer: nothing listens, the stack cannot be read, no credentials."""


class UsageError(Exception):
    """The command line asks for something that cannot be done."""


class Target(NamedTuple):
    base_url: str
    admin_key: str | None
    sign: Sign | None = None
    timeout_s: float = 30.0

    def call(
        self, method: str, path: str, *, query: dict[str, Any] | None = None, body: object = None
    ) -> Any:
        """The JSON answer of one request; `ApiError` for an error status, `Unreachable` without one."""
        url = self.base_url.rstrip("/") + path
        chosen = {name: value for name, value in (query or {}).items() if value is not None}
        if chosen:
            # Encoded as SigV4 encodes its canonical query string, so a signature covers it as sent.
            url += "?" + urllib.parse.urlencode(chosen, quote_via=urllib.parse.quote, safe="")
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if self.admin_key:
            # Always this header: under IAM auth, `Authorization` carries the signature.
            headers["X-API-Key"] = self.admin_key
        if self.sign is not None:
            headers = self.sign(method, url, headers, data)
        request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise ApiError(exc.code, _parsed(exc.read())) from None
        except urllib.error.URLError as exc:
            raise Unreachable(self._unreachable(exc.reason)) from None
        except (TimeoutError, ConnectionError) as exc:
            raise Unreachable(self._unreachable(exc)) from None
        try:
            return json.loads(raw)
        except ValueError:
            raise Unreachable(f"{url} answered something other than JSON: is it textapi's API?") from None

    def _unreachable(self, reason: object) -> str:
        message = f"cannot reach {self.base_url}: {reason}"
        host = urllib.parse.urlsplit(self.base_url).hostname
        if isinstance(reason, ConnectionRefusedError) and host in ("127.0.0.1", "localhost", "::1"):
            message += " (nothing listens there: is `make run` running?)"
        return message


def _parsed(raw: bytes) -> object:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace").strip()


# -- where the API is -------------------------------------------------------------------------------------


def stack_of_env(env: str, samconfig: Path = SAMCONFIG) -> tuple[str, str | None]:
    """The stack name and region samconfig.toml gives an environment (`dev` is its `default`, as in
    the Makefile)."""
    import tomllib

    config_env = "default" if env == "dev" else env
    try:
        config = tomllib.loads(samconfig.read_text())
    except (OSError, ValueError) as exc:
        raise Unreachable(f"cannot read {samconfig}: {exc}") from None
    parameters = config.get(config_env, {}).get("global", {}).get("parameters", {})
    if "stack_name" not in parameters:
        known = sorted("dev" if name == "default" else name for name in config if name != "version")
        raise UsageError(f"no environment {env!r} in {samconfig.name}; known: {', '.join(known)}")
    return parameters["stack_name"], parameters.get("region")


def stack_target(stack: str, region: str | None, args: argparse.Namespace) -> Target:
    """The internal API of a deployed stack: its `ApiUrl` output, SigV4 when it puts the internal routes
    behind IAM, and an admin key (given, or the first one in its SSM parameter)."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    session = boto3.Session(region_name=region)
    if session.region_name is None:
        raise UsageError("no AWS region: pass --region or set AWS_REGION")
    try:
        found = session.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    except (BotoCoreError, ClientError) as exc:
        raise Unreachable(f"cannot read stack {stack} in {session.region_name}: {exc}") from None
    outputs = {item["OutputKey"]: item["OutputValue"] for item in found.get("Outputs", [])}
    parameters = {item["ParameterKey"]: item.get("ParameterValue", "") for item in found["Parameters"]}
    if parameters.get("DeployInternalApi") == "false":
        raise Unreachable(f"stack {stack} has no internal API (DeployInternalApi=false)")
    if "ApiUrl" not in outputs:
        raise Unreachable(f"stack {stack} has no ApiUrl output (status {found.get('StackStatus')})")
    admin_key = args.admin_key or os.environ.get(ADMIN_KEY_ENV)
    if not admin_key:
        name = parameters.get("InternalApiKeysParameterName") or f"/{stack}/internal-api-keys"
        admin_key = _first_key_in(session, name)
    sigv4 = args.sigv4 if args.sigv4 is not None else parameters.get("InternalApiIamAuth") == "true"
    signer = sigv4_signer(session, session.region_name) if sigv4 else None
    return Target(outputs["ApiUrl"], admin_key, signer, args.timeout)


def _first_key_in(session: Any, parameter: str) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        value = session.client("ssm").get_parameter(Name=parameter, WithDecryption=True)["Parameter"]["Value"]
    except (BotoCoreError, ClientError) as exc:
        raise Unreachable(
            f"no admin key: pass --admin-key or set {ADMIN_KEY_ENV}, or make SSM parameter {parameter} "
            f"readable ({exc})"
        ) from None
    keys = [key.strip() for key in value.split(",") if key.strip()]
    if not keys:
        raise Unreachable(f"SSM parameter {parameter} holds no admin key")
    return keys[0]


def sigv4_signer(session: Any, region: str) -> Sign:
    """Signs each request for API Gateway's IAM authorization (service `execute-api`) with the session's
    credentials, read again per request so refreshed credentials are used."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    credentials = session.get_credentials()
    if credentials is None:
        raise Unreachable("SigV4 needs AWS credentials: none found (environment, profile, SSO, role)")

    def sign(method: str, url: str, headers: dict[str, str], data: bytes | None) -> dict[str, str]:
        request = AWSRequest(method=method, url=url, data=data, headers=headers)
        SigV4Auth(credentials.get_frozen_credentials(), "execute-api", region).add_auth(request)
        return dict(request.headers.items())

    return sign


def resolve_target(args: argparse.Namespace) -> Target:
    if args.env or args.stack:
        stack, config_region = (args.stack, None) if args.stack else stack_of_env(args.env)
        region = args.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        region = region or config_region
        return stack_target(stack, region, args)
    url = args.url or os.environ.get(URL_ENV) or LOCAL_URL
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise UsageError(f"--url must be an http(s) URL, not {url!r}")
    admin_key = args.admin_key or os.environ.get(ADMIN_KEY_ENV) or None
    signer = None
    if args.sigv4:
        import botocore.session

        session = botocore.session.get_session()
        in_url = _REGION_IN_URL.search(url)
        region = (
            args.region
            or (in_url.group(1) if in_url else None)
            or os.environ.get("AWS_REGION")
            or session.get_config_variable("region")
        )
        if not region:
            raise UsageError("--sigv4 needs a region: pass --region or set AWS_REGION")
        signer = sigv4_signer(session, region)
    return Target(url, admin_key, signer, args.timeout)


# -- commands ---------------------------------------------------------------------------------------------


def _key_path(key_id: str, suffix: str = "") -> str:
    return f"/internal/keys/{urllib.parse.quote(key_id, safe='')}{suffix}"


def _settings(args: argparse.Namespace, *, budget_base: dict[str, Any] | None = None) -> dict[str, Any]:
    """The key settings the options name (only those given)."""
    body: dict[str, Any] = {}
    for option, field in (
        ("name", "name"),
        ("tenant", "tenant"),
        ("rate_limit", "rate_limit_per_minute"),
        ("expires_at", "expires_at"),
        ("prompt_guard", "prompt_guard"),
        ("pii", "pii"),
    ):
        value = getattr(args, option, None)
        if value is not None:
            body[field] = value
    if args.scopes is not None:
        body["scopes"] = [scope.strip() for scope in args.scopes.split(",") if scope.strip()]
    if args.metadata:
        body["metadata"] = dict(args.metadata)
    if args.daily_budget is not None or args.monthly_budget is not None:
        budget = dict(budget_base or {})
        for period in ("daily", "monthly"):
            value = getattr(args, f"{period}_budget")
            if value is not None:
                budget[period] = None if value == "none" else value
        body["token_budget"] = budget
    return body


def cmd_create(target: Target, args: argparse.Namespace) -> Any:
    return target.call("POST", "/internal/keys", body=_settings(args))


def cmd_list(target: Target, args: argparse.Namespace) -> Any:
    query = {"tenant": args.tenant, "limit": args.limit, "next_token": args.next_token}
    page = target.call("GET", "/internal/keys", query=query)
    if not args.all:
        return page
    keys = list(page["keys"])
    for _ in range(MAX_PAGES):
        if not page.get("next_token"):
            return {"keys": keys, "next_token": None}
        page = target.call("GET", "/internal/keys", query={**query, "next_token": page["next_token"]})
        keys += page["keys"]
    raise UsageError(f"more than {MAX_PAGES} pages: page with --next-token instead of --all")


def cmd_show(target: Target, args: argparse.Namespace) -> Any:
    return target.call("GET", _key_path(args.key_id))


def cmd_update(target: Target, args: argparse.Namespace) -> Any:
    base = None
    if args.daily_budget is not None or args.monthly_budget is not None:
        # The API sets a budget whole: keep the period the command line does not name.
        base = target.call("GET", _key_path(args.key_id))["token_budget"]
    body = _settings(args, budget_base=base)
    if not body:
        raise UsageError("nothing to change: name at least one setting")
    return target.call("PATCH", _key_path(args.key_id), body=body)


def cmd_status(status: str) -> Callable[[Target, argparse.Namespace], Any]:
    def change(target: Target, args: argparse.Namespace) -> Any:
        return target.call("PATCH", _key_path(args.key_id), body={"status": status})

    return change


def cmd_rotate(target: Target, args: argparse.Namespace) -> Any:
    body = {"grace_seconds": args.grace_seconds} if args.grace_seconds is not None else None
    return target.call("POST", _key_path(args.key_id, "/rotate"), body=body)


def cmd_revoke(target: Target, args: argparse.Namespace) -> Any:
    return target.call("DELETE", _key_path(args.key_id))


def cmd_usage(target: Target, args: argparse.Namespace) -> Any:
    if args.date is not None:
        if args.key_id or args.first or args.last:
            raise UsageError("--date exports every key's day: it takes no KEY_ID, --from or --to")
        return target.call("GET", "/internal/usage", query={"date": args.date})
    if not args.key_id:
        raise UsageError("usage needs a KEY_ID (its days), or --date (every key on that day)")
    query = {"from": args.first, "to": args.last}
    return target.call("GET", _key_path(args.key_id, "/usage"), query=query)


def secret_note(command: str, answer: Any) -> str | None:
    """The warning that goes with an answer holding a new secret (create, rotate)."""
    if command not in ("create", "rotate"):
        return None
    note = "warning: api_key is shown this once: store it now"
    if command == "rotate":
        until = answer.get("previous_valid_until")
        note += f"; the previous one works until {until}" if until else "; the previous one no longer works"
    return note + "."


# -- errors -----------------------------------------------------------------------------------------------


def describe_error(error: ApiError, *, signed: bool) -> str:
    """An error answer as lines an operator reads: status, code, message, the fields or details, the
    request id for the logs."""
    body = error.body
    if not isinstance(body, dict) or "error_code" not in body:
        # Not the API's own error shape: API Gateway's (`{"message": "Forbidden"}`) or a proxy's.
        text = body.get("message", json.dumps(body)) if isinstance(body, dict) else str(body)
        line = f"error: HTTP {error.status}: {text or '(empty body)'}"
        if error.status == 403 and not signed:
            line += "\n  the internal API may sit behind IAM (InternalApiIamAuth): try --sigv4"
        return line
    details = body.get("details") or {}
    fields = details.get("errors") if isinstance(details, dict) else None
    if fields:
        lines = [f"error: HTTP {error.status} {body['error_code']}: invalid request"]
        lines += [f"  {item.get('field', '?')}: {item.get('message', '')}" for item in fields]
    else:
        lines = [f"error: HTTP {error.status} {body['error_code']}: {body.get('error', '')}"]
        if isinstance(details, dict):
            lines += [f"  {name}: {json.dumps(value)}" for name, value in details.items()]
    if body.get("request_id"):
        lines.append(f"  request_id: {body['request_id']}")
    return "\n".join(lines)


# -- command line -----------------------------------------------------------------------------------------


def _positive(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def _budget(text: str) -> int | str:
    return "none" if text.lower() == "none" else _positive(text)


def _pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError("expected NAME=VALUE")
    return name, value


def _parser() -> argparse.ArgumentParser:
    where = argparse.ArgumentParser(add_help=False)
    group = where.add_argument_group("where and as whom")
    target = group.add_mutually_exclusive_group()
    target.add_argument("--url", help=f"the API's base URL (default: ${URL_ENV}, else {LOCAL_URL})")
    target.add_argument("--env", help="a deployed environment of samconfig.toml: dev, staging, prod")
    target.add_argument("--stack", help="a deployed stack by name")
    group.add_argument("--region", help="AWS region (default: AWS_REGION, then samconfig.toml)")
    group.add_argument("--admin-key", help=f"admin key (default: ${ADMIN_KEY_ENV}, then the stack's SSM)")
    group.add_argument(
        "--sigv4",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="sign requests for IAM auth (default: as the stack's InternalApiIamAuth; off for --url)",
    )
    group.add_argument("--timeout", type=float, default=30.0, help="seconds per request (default 30)")

    settings = argparse.ArgumentParser(add_help=False)
    key = settings.add_argument_group("key settings")
    key.add_argument("--tenant")
    key.add_argument("--scopes", help="comma-separated operations and `jobs` (default: all)")
    key.add_argument("--rate-limit", type=_positive, help="requests a minute (default RATE_LIMIT_PER_MINUTE)")
    key.add_argument("--daily-budget", type=_budget, help="tokens per UTC day; `none` lifts it")
    key.add_argument("--monthly-budget", type=_budget, help="tokens per UTC month; `none` lifts it")
    key.add_argument("--expires-at", help="ISO 8601 with a time zone, e.g. 2027-01-01T00:00:00Z")
    key.add_argument("--prompt-guard", choices=("block", "log"))
    key.add_argument("--pii", choices=("off", "redact"))
    key.add_argument("--metadata", type=_pair, action="append", metavar="NAME=VALUE", help="repeatable")

    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, run: Callable[[Target, argparse.Namespace], Any], text: str, *parents: Any) -> Any:
        sub = commands.add_parser(name, help=text, description=text, parents=[where, *parents])
        sub.set_defaults(run=run, command_parser=sub)
        return sub

    create = command("create", cmd_create, "create a key; its secret is printed this once", settings)
    create.add_argument("name")
    listing = command("list", cmd_list, "the keys (never their secrets), a page at a time")
    listing.add_argument("--tenant")
    listing.add_argument("--limit", type=int, help="keys per page (1-200, default 50)")
    pages = listing.add_mutually_exclusive_group()
    pages.add_argument("--next-token", help="the page after the one that answered this token")
    pages.add_argument("--all", action="store_true", help="every page, as one list")
    command("show", cmd_show, "one key's record").add_argument("key_id")
    update = command("update", cmd_update, "change a key's settings (only those named)", settings)
    update.add_argument("key_id")
    update.add_argument("--name")
    command("disable", cmd_status("disabled"), "refuse the key (401) until enabled").add_argument("key_id")
    command("enable", cmd_status("active"), "accept a disabled key again").add_argument("key_id")
    rotate = command("rotate", cmd_rotate, "a new secret; the current one works for --grace-seconds")
    rotate.add_argument("key_id")
    rotate.add_argument("--grace-seconds", type=_positive, help="0 to 604800 (default 86400)")
    command("revoke", cmd_revoke, "revoke a key for good (401 from then on)").add_argument("key_id")
    usage = command("usage", cmd_usage, "a key's use per UTC day, or every key's on one day (--date)")
    usage.add_argument("key_id", nargs="?")
    usage.add_argument("--from", dest="first", help="YYYY-MM-DD (default: 29 days before --to)")
    usage.add_argument("--to", dest="last", help="YYYY-MM-DD (default: today, UTC)")
    usage.add_argument("--date", help="YYYY-MM-DD: the billing export of that day, one row per key")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    target: Target | None = None
    try:
        target = resolve_target(args)
        answer = args.run(target, args)
    except UsageError as exc:
        args.command_parser.error(str(exc))  # exits 2
    except Unreachable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except ApiError as exc:
        print(describe_error(exc, signed=target is not None and target.sign is not None), file=sys.stderr)
        return 1
    print(json.dumps(answer, indent=2), flush=True)
    note = secret_note(args.command, answer)
    if note is not None:
        print(note, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
