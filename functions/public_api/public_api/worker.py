"""Entry point of PublicApiWorkerFunction: runs job messages from SQS with this package's domain code
(the same text processor, cache and resilience as `main`), and exposes `lambda_handler`."""

import gc

gc.disable()  # for the cold start: `finish_init` resumes it

from public_api.config import get_settings
from public_api.job_consumer import create_worker
from textapi_shared.web.lambda_handler import finish_init

lambda_handler = finish_init(lambda: create_worker(get_settings()))
