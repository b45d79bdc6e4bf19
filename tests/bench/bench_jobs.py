"""`make bench` (jobs): 1,000 items through 10 worker execution environments at once.

Each environment is a worker handler of its own (`create_worker`: its own cache, AI client and event
loop) invoked with SQS events in the recorded shape, BatchSize messages at a time as the template's
event source delivers them; the environments pull from one queue and share one job store (the
in-memory one, served to all of them as DynamoDB would be). The fake Gemini server, in a process of
its own, answers every call after 200 ms. Texts are about 1,000 characters.

The ideal is 1000 × 0.2 s / (10 × BATCH_AI_CONCURRENCY_LIMIT): the script prints the wall time, the
ratio and the target, and exits 1 when the ratio is above 1.3. The environments are threads of this
interpreter (`--processes`: one process each, as Lambda's are). The report adds the CPU time the
environments used and how busy the whole machine was: the worker waits on the AI concurrently, but
every item also costs a few milliseconds of CPU (mostly google-genai building the request), and
threads share one core's worth of it under the GIL.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import multiprocessing
import os
import queue
import subprocess
import sys
import threading
import time
import uuid
import warnings
from multiprocessing.managers import SyncManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

ROOT = Path(__file__).resolve().parents[2]
for folder in ("layers/shared", "functions/public_api", "infra/local", "tests"):
    sys.path.insert(0, str(ROOT / folder))
# As in Lambda: Powertools' batch processor then keeps one event loop per execution environment.
os.environ.setdefault("LAMBDA_TASK_ROOT", str(ROOT / "functions/public_api"))

from fakes.cfn_template import load_template  # noqa: E402
from fakes.lambda_context import FakeLambdaContext  # noqa: E402
from fakes.loops import run  # noqa: E402
from fakes.sqs_events import sqs_event  # noqa: E402
from public_api.config import PublicApiSettings  # noqa: E402
from public_api.job_consumer import create_worker  # noqa: E402
from public_api.schemas import TextProcessingRequest  # noqa: E402
from public_api.services.jobs.quota import JobQuota  # noqa: E402
from public_api.services.jobs.service import JobService  # noqa: E402
from public_api.services.jobs.store import MemoryJobStore  # noqa: E402
from textapi_shared.cache.memory_cache import MemoryCache  # noqa: E402
from textapi_shared.monitoring.observability import build_observability  # noqa: E402

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:textapi-jobs"
TARGET = 1.3
TEXT = (
    "Offshore wind farms are moving into deeper water on floating foundations anchored to the seabed. "
    "The turbines are larger than ever, and a single rotation of the biggest blades can power a house "
    "for two days. Engineers still struggle with maintenance: storms limit the days a crew can reach a "
    "turbine, and spare parts travel by ship. Grid operators, meanwhile, must carry the power ashore "
    "through long cables and balance it against demand on calm evenings. "
) * 2  # about 1,000 characters


# -- the fake Gemini server, in its own process --------------------------------------------------------

_SERVE_GEMINI = """
import sys
from fakes.gemini_server import Delay, FakeGeminiServer, Reply
with FakeGeminiServer() as server:
    server.default = Delay(0.2, Reply(text="Floating wind farms go deeper; maintenance lags."))
    print(server.base_url, server.api_key, flush=True)
    for line in sys.stdin:
        print(server.request_count, flush=True)
"""


class RemoteGemini:
    def __init__(self, base_url: str, api_key: str, process: subprocess.Popen[str]) -> None:
        self.base_url = base_url
        self.api_key = api_key
        self._process = process

    @property
    def request_count(self) -> int:
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        self._process.stdin.write("count\n")
        self._process.stdin.flush()
        return int(self._process.stdout.readline())


@contextlib.contextmanager
def gemini_process() -> Iterator[RemoteGemini]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "tests")}
    process = subprocess.Popen(
        [sys.executable, "-c", _SERVE_GEMINI],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        base_url, api_key = process.stdout.readline().split()
        yield RemoteGemini(base_url, api_key, process)
    finally:
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


# -- one job store for every environment ---------------------------------------------------------------


class StoreHost:
    """The shared MemoryJobStore, served by the manager process to environments that are processes."""

    def __init__(self) -> None:
        self._store = MemoryJobStore()

    def call(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        # The memory store's coroutines never wait: one step runs them (no event loop per call).
        coroutine = getattr(self._store, method)(*args, **kwargs)
        try:
            coroutine.send(None)
        except StopIteration as finished:
            return finished.value
        coroutine.close()
        raise RuntimeError(f"MemoryJobStore.{method} waited")


class RemoteJobStore:
    """The JobStore protocol over a `StoreHost` proxy: each call is a round trip, as to DynamoDB."""

    def __init__(self, host: Any) -> None:
        self._host = host

    def __getattr__(self, method: str) -> Callable[..., Any]:
        async def call(*args: Any, **kwargs: Any) -> Any:
            return await asyncio.to_thread(self._host.call, method, args, kwargs)

        return call


class BenchManager(SyncManager):
    """Queues, the start barrier and the shared store, served to environments that are processes."""


BenchManager.register("StoreHost", StoreHost)


# -- submitting, and the environments ------------------------------------------------------------------


def sqs_message(body: str) -> dict[str, Any]:
    """A message as ReceiveMessage returns it (first receive)."""
    now_ms = str(int(time.time() * 1000))
    return {
        "MessageId": str(uuid.uuid4()),
        "ReceiptHandle": uuid.uuid4().hex,
        "Body": body,
        "MD5OfBody": hashlib.md5(body.encode()).hexdigest(),  # noqa: S324 (SQS's checksum)
        "Attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": now_ms,
            "SenderId": "123456789012",
            "ApproximateFirstReceiveTimestamp": now_ms,
        },
    }


class QueueOf:
    """What the job service sends to: the bench's stand-in for SQS."""

    def __init__(self, messages: Any) -> None:
        self._messages = messages

    async def send(self, messages: Any) -> None:
        for message in messages:
            self._messages.put(sqs_message(message.to_json()))


def submit(settings: PublicApiSettings, store: Any, messages: Any, items: int, tag: str) -> str:
    service = JobService(
        store=store,
        queue=QueueOf(messages),
        quota=JobQuota(MemoryCache(), per_hour=10**6),
        callbacks=None,
        settings=settings,
        observability=build_observability(settings),
    )
    requests = [
        TextProcessingRequest(text=f"{TEXT} ({tag} {i})", operation="summarize") for i in range(items)
    ]
    return run(service.submit("bench-owner", requests, batch_id=None, callback_url=None)).job_id


def take(messages: Any, count: int) -> list[dict[str, Any]]:
    batch: list[dict[str, Any]] = []
    with contextlib.suppress(queue.Empty):
        while len(batch) < count:
            batch.append(messages.get_nowait())
    return batch


def invocations(handler: Any, messages: Any, batch_size: int, limit: int | None = None) -> list[str]:
    """One execution environment: invocations one after another while messages remain."""
    failures: list[str] = []
    done = 0
    while (limit is None or done < limit) and (batch := take(messages, batch_size)):
        response = handler(sqs_event(batch, QUEUE_ARN), FakeLambdaContext(timeout_ms=120_000))
        failures += [failure["itemIdentifier"] for failure in response["batchItemFailures"]]
        done += 1
    return failures


def environment(
    values: dict[str, Any],
    store: Any,
    warm_up: Any,
    messages: Any,
    batch_size: int,
    start: Any,
    results: Any,
) -> None:
    """An execution environment: warmed (SDK import, AI client, loop) on one message, then at work.

    Appends its message failures and, as a process, the CPU time it used while timed."""
    if not isinstance(store, MemoryJobStore):
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # a process: its JSON logs and EMF lines
        store = RemoteJobStore(store)
    handler = create_worker(PublicApiSettings(**values), store=store)
    failures = invocations(handler, warm_up, 1, limit=1)
    start.wait()
    cpu = time.process_time()
    failures += invocations(handler, messages, batch_size)
    results.append((failures, time.process_time() - cpu))


def machine_busy_s() -> float | None:
    """CPU seconds every core of the machine has spent busy since boot (Linux), for the load report."""
    try:
        fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return None
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")  # all but idle and iowait


class Fleet(NamedTuple):
    elapsed_s: float
    job: Any
    failures: list[str]
    cpu_s: float  # what the environments used while timed
    machine_busy_s: float | None  # what the whole machine used meanwhile (other processes included)


def run_fleet(args: argparse.Namespace, values: dict[str, Any], batch_size: int) -> Fleet:
    settings = PublicApiSettings(**values)
    with contextlib.ExitStack() as stack:
        if args.processes:
            context = multiprocessing.get_context("spawn")  # fresh interpreters, as environments are
            manager = stack.enter_context(BenchManager(ctx=context))
            host, warm_up, messages = manager.StoreHost(), manager.Queue(), manager.Queue()
            start, results = manager.Barrier(args.environments + 1), manager.list()
            store, spawn = RemoteJobStore(host), context.Process
        else:
            store, warm_up, messages, results = MemoryJobStore(), queue.Queue(), queue.Queue(), []
            start, host, spawn = threading.Barrier(args.environments + 1), store, threading.Thread
        warm_up_settings = settings.model_copy(update={"job_items_per_message": 1})
        submit(warm_up_settings, store, warm_up, args.environments, "warm-up")
        workers = [
            spawn(target=environment, args=(values, host, warm_up, messages, batch_size, start, results))
            for _ in range(args.environments)
        ]
        for worker in workers:
            worker.start()
        job_id = submit(settings, store, messages, args.items, "bench")
        start.wait()  # every environment is warm: the clock starts
        started, cpu, busy = time.perf_counter(), time.process_time(), machine_busy_s()
        for worker in workers:
            worker.join()
        elapsed = time.perf_counter() - started
        busy_after = machine_busy_s()
        cpu_s = sum(used for _, used in results) if args.processes else time.process_time() - cpu
        return Fleet(
            elapsed_s=elapsed,
            job=run(store.get(job_id)),
            failures=[failure for failures, _ in results for failure in failures],
            cpu_s=cpu_s,
            machine_busy_s=None if busy is None or busy_after is None else busy_after - busy,
        )


def sdk_cpu_ms(gemini: RemoteGemini, calls: int = 100) -> float:
    """CPU per call of google-genai's own `generate_content` on these texts (5 at a time, no worker)."""
    from google import genai
    from google.genai import types

    async def measure() -> float:
        options = types.HttpOptions(
            base_url=gemini.base_url, retry_options=types.HttpRetryOptions(attempts=1)
        )
        client = genai.Client(api_key=gemini.api_key, http_options=options).aio
        config = types.GenerateContentConfig(system_instruction="Summarize the text.", temperature=0.7)
        limit = asyncio.Semaphore(5)

        async def call(i: int) -> None:
            async with limit:
                await client.models.generate_content(model="m", contents=f"{TEXT} (sdk {i})", config=config)

        await call(-1)
        started = time.process_time()
        await asyncio.gather(*(call(i) for i in range(calls)))
        return (time.process_time() - started) / calls * 1000

    return run(measure())


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--environments", type=int, default=10)
    parser.add_argument("--processes", action="store_true", help="each environment a process, as in Lambda")
    args = parser.parse_args()
    # Powertools keeps metrics in one set per interpreter: threads standing for separate environments
    # flush each other's, and the one left with none says so.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    batch_size = int(load_template()["Resources"]["PublicApiWorkerEventSource"]["Properties"]["BatchSize"])
    report = os.fdopen(os.dup(1), "w")
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # Powertools' JSON logs and EMF go to stdout
    with gemini_process() as gemini:
        values = {
            "stage": "dev",
            "jobs_backend": "sqs",
            "jobs_queue_url": "https://sqs.us-east-1.amazonaws.com/123456789012/textapi-jobs",
            "jobs_table_name": "unused: the bench shares an in-memory store",
            "ai_provider": "gemini",
            "gemini_api_key": gemini.api_key,
            "gemini_base_url": gemini.base_url,
            "max_job_requests": max(1000, args.items),
        }
        calls_before = gemini.request_count
        fleet = run_fleet(args, values, batch_size)
        calls = gemini.request_count - calls_before - args.environments
        sdk_ms = sdk_cpu_ms(gemini)
    concurrency = PublicApiSettings(**values).batch_ai_concurrency_limit
    ideal = args.items * 0.2 / (args.environments * concurrency)
    ratio = fleet.elapsed_s / ideal
    kind = "processes" if args.processes else "threads of this interpreter"
    cores = os.cpu_count() or 1
    machine = (
        f"the machine's {cores} cores were busy {fleet.machine_busy_s / fleet.elapsed_s:.1f} cores' worth"
        if fleet.machine_busy_s is not None
        else "machine load unknown"
    )
    status = fleet.job.status if fleet.job else None
    per_item_ms = fleet.cpu_s / args.items * 1000
    report.write(
        f"job of {args.items} items (~{len(TEXT)} chars), {args.environments} worker environments ({kind}) "
        f"x concurrency {concurrency}, BatchSize {batch_size}, fake Gemini 200 ms (own process)\n"
        f"  status {status}, AI calls {calls}, message failures {len(fleet.failures)}\n"
        f"  wall {fleet.elapsed_s:6.2f} s, ideal {ideal:.2f} s, ratio {ratio:.2f} (target <= {TARGET})\n"
        f"  CPU: the environments {fleet.cpu_s:.1f} s ({per_item_ms:.1f} ms per item, of which "
        f"google-genai's generate_content alone takes {sdk_ms:.1f} ms); {machine}\n"
    )
    report.flush()
    completed = fleet.job is not None and fleet.job.status == "completed" and calls == args.items
    return 0 if completed and not fleet.failures and ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
