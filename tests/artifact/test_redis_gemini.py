"""As deployed with CacheBackend=redis and Gemini: both functions of the `sam build` layout, in isolated
interpreters, against a three-primary TLS-only Redis cluster (what ElastiCache Serverless is), the fake
Gemini server and SSM on moto (keys, the Gemini key and the resilience configuration). Cache entries,
counters and statistics must be in the cluster: the internal function reads what the public one wrote."""

from __future__ import annotations

from artifact.scenarios import REPLIES


def test_every_operation_and_a_batch_answer_200_from_gemini(redis_scenario):
    for operation in REPLIES:
        response = redis_scenario[operation]
        assert response.status_code == 200, response.text
        assert response.json()["metadata"]["provider"] == "gemini"
    assert redis_scenario["batch"].status_code == 200
    assert redis_scenario["batch"].json()["completed"] == 3
    assert redis_scenario["repeat"].json()["cache_hit"] is True
    assert redis_scenario["upstream"] == 8, "the repeat came from the cache"
    assert redis_scenario["retried"].status_code == 200
    assert redis_scenario["upstream_after_retry"] == 10, "a 503, then the retry"


def test_the_template_points_the_functions_at_a_tls_cluster(redis_scenario):
    environment = redis_scenario["environment"]
    assert environment["REDIS_URL"].startswith("rediss://127.0.0.1:")
    assert environment["REDIS_CLUSTER_MODE"] == "on"


def test_cache_entries_and_counters_are_in_redis_not_in_an_instance(redis_scenario):
    status = redis_scenario["cache_status"].json()
    assert (status["backend"], status["connected"]) == ("tiered(memory+redis)", True)
    assert len(redis_scenario["entries"]) >= 8
    # Counted by the public function, read by the internal one: only possible through Redis.
    metrics = redis_scenario["monitoring_metrics"].json()
    assert metrics["scope"] == "fleet"
    assert metrics["totals"]["requests"] >= 9
    assert metrics["totals"]["cache_hit_ratio"] > 0


def test_admin_health_finds_every_component_working(redis_scenario):
    health = redis_scenario["health"].json()
    assert health["status"] == "healthy", health
    assert health["components"]["ai"]["provider"] == "gemini"


def test_no_module_was_missing_and_nothing_fell_back_silently(redis_scenario):
    assert redis_scenario["silent_failures"] == []
