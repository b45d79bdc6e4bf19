"""The baseline of `make bench`: a bare FastAPI + Mangum hello handler, nothing else."""

from fastapi import FastAPI
from mangum import Mangum

app = FastAPI()


@app.get("/v1/health")
async def health() -> dict:
    return {"status": "healthy"}


lambda_handler = Mangum(app, lifespan="off")
