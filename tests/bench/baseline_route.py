"""The hot path's baseline in `make bench`: a bare FastAPI + Mangum route that reads the same body into
the same request model and answers the same response model with a fixed answer. What a cache hit costs
beyond it is what the product adds (key check, rate limit, cache, metrics, logs). (The cold-start
baseline is `baseline_app`, which imports nothing of the product.)"""

from fastapi import FastAPI
from mangum import Mangum

from public_api.schemas import TextProcessingRequest, TextProcessingResponse

app = FastAPI()

ANSWER = {
    "sentiment": {"sentiment": "neutral", "confidence": 0.5, "explanation": "A plain description."},
    "metadata": {"word_count": 160, "provider": "local", "model": "local-extractive-v1", "stale": False},
    "processing_time": 0.0001,
    "timestamp": "2026-11-28T00:00:00.000Z",
    "cache_hit": True,
}


@app.post("/v1/text_processing/process", response_model=TextProcessingResponse)
async def process(body: TextProcessingRequest) -> TextProcessingResponse:
    return TextProcessingResponse(operation=body.operation, **ANSWER)


lambda_handler = Mangum(app, lifespan="off")
