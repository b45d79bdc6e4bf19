"""The offline provider: quality against hand-labelled examples, output contracts, determinism.

Figures (accuracy, hit rate, compression) are printed (`pytest -s` or `-rA`) and repeated in each
assertion message. Timing lives in tests/bench/bench_local_provider.py, not here.
"""

from __future__ import annotations

import asyncio
import json
import re

import pytest
from unit.local_provider_data import (
    BLIND_SENTIMENT_CASES,
    HELDOUT_SENTIMENT_CASES,
    QA_CASES,
    SENTIMENT_CASES,
    SUMMARY_CASES,
    UNANSWERABLE_QA_CASES,
)

from textapi_shared.ai.local_provider import LocalProvider
from textapi_shared.ai.provider import AIRequest, AIResponse, Operation
from textapi_shared.ai.question_answering import NO_ANSWER
from textapi_shared.ai.text_analysis import content_stems, split_sentences
from textapi_shared.errors import InputValidationError

LONG_TEXTS = [case.text for case in SUMMARY_CASES]


def generate(operation: Operation, text: str, question: str | None = None, **options: int) -> AIResponse:
    request = AIRequest(operation, "system instruction", "prompt", text, question=question, options=options)
    return asyncio.run(LocalProvider().generate(request))


def answer(operation: Operation, text: str, question: str | None = None, **options: int) -> str:
    return generate(operation, text, question, **options).text


def sentiment_of(text: str) -> dict:
    return json.loads(answer(Operation.SENTIMENT, text))


def normalised(text: str) -> str:
    return " ".join(text.split())


# --- sentiment -----------------------------------------------------------------------------------------


def test_sentiment_accuracy_on_labelled_examples_is_at_least_80_percent():
    sets = {
        "tuning": SENTIMENT_CASES,
        "held-out": HELDOUT_SENTIMENT_CASES,
        "blind": BLIND_SENTIMENT_CASES,
    }
    report, hits, total, misses = [], 0, 0, []
    for name, cases in sets.items():
        correct = 0
        for case in cases:
            predicted = sentiment_of(case.text)["sentiment"]
            correct += predicted == case.label
            if predicted != case.label:
                misses.append(f"{case.domain}: gold {case.label}, got {predicted}")
        report.append(f"{name} {correct}/{len(cases)} = {correct / len(cases):.0%}")
        hits, total = hits + correct, total + len(cases)
    accuracy = hits / total
    summary = f"sentiment accuracy {accuracy:.1%} ({hits}/{total}; {', '.join(report)})"
    print(summary)
    assert accuracy >= 0.8, f"{summary}; misses: {misses}"


def test_sentiment_answers_the_documented_json_shape():
    for case in SENTIMENT_CASES[:10] + HELDOUT_SENTIMENT_CASES[:5]:
        result = sentiment_of(case.text)
        assert set(result) == {"sentiment", "confidence", "explanation"}
        assert result["sentiment"] in {"positive", "negative", "neutral", "mixed"}
        assert isinstance(result["confidence"], float)
        assert 0.0 <= result["confidence"] <= 1.0
        assert result["explanation"].strip()


def test_sentiment_confidence_is_higher_for_clear_cases():
    clear = sentiment_of("Absolutely wonderful hotel. The staff were amazing and the room was perfect.")
    faint = sentiment_of("The hotel was fine. The room was okay and breakfast was served until ten.")
    assert clear["sentiment"] == faint["sentiment"] == "positive"
    assert clear["confidence"] >= 0.8
    assert clear["confidence"] - faint["confidence"] >= 0.2
    assert "'okay'" in faint["explanation"] or "'fine'" in faint["explanation"]


def test_sentiment_explanation_names_the_cue_words():
    result = sentiment_of("The battery is terrible and the screen is awful. I regret buying this phone.")
    assert result["sentiment"] == "negative"
    assert "terrible" in result["explanation"] or "awful" in result["explanation"]


def test_sentiment_reports_mixed_when_strong_opinions_pull_both_ways():
    result = sentiment_of(
        "The food was excellent and the staff were wonderful. But the room was filthy, the bed was "
        "broken and the noise was unbearable."
    )
    assert result["sentiment"] == "mixed"
    assert "positive cues" in result["explanation"]
    assert "negative cues" in result["explanation"]


def test_sentiment_handles_negation():
    assert sentiment_of("This is not good at all. I am not happy with it.")["sentiment"] == "negative"


# --- question answering --------------------------------------------------------------------------------


def test_qa_fact_hit_rate_is_at_least_80_percent():
    misses = []
    for case in QA_CASES:
        reply = answer(Operation.QA, case.text, case.question)
        if case.fact.lower() not in reply.lower():
            misses.append(f"{case.question!r} -> {reply!r}")
    rate = 1 - len(misses) / len(QA_CASES)
    summary = f"QA fact-hit rate {rate:.1%} ({len(QA_CASES) - len(misses)}/{len(QA_CASES)})"
    print(summary)
    assert rate >= 0.8, f"{summary}; misses: {misses}"


def test_qa_answers_are_sentences_of_the_text():
    for case in QA_CASES:
        reply = answer(Operation.QA, case.text, case.question)
        for sentence in split_sentences(reply):
            assert sentence.text in normalised(case.text)


@pytest.mark.parametrize("case", UNANSWERABLE_QA_CASES, ids=lambda case: case.question)
def test_qa_says_so_when_the_text_holds_no_answer(case):
    assert answer(Operation.QA, case.text, case.question) == NO_ANSWER


@pytest.mark.parametrize("question", [None, "", "   "])
def test_qa_without_a_question_is_a_validation_error(question):
    with pytest.raises(InputValidationError, match="question"):
        answer(Operation.QA, QA_CASES[0].text, question)


# --- summaries -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("max_length", [10, 25, 50, 100, 200])
def test_summary_never_exceeds_the_word_budget(max_length):
    ratios = []
    for text in LONG_TEXTS:
        summary = answer(Operation.SUMMARIZE, text, max_length=max_length)
        words = len(summary.split())
        assert 0 < words <= max_length, f"{words} words for a budget of {max_length}"
        ratios.append(words / len(text.split()))
    average = sum(ratios) / len(ratios)
    print(f"summary max_length={max_length}: average compression {average:.0%} of the original words")
    assert average <= 1.0, f"average compression {average:.0%} at max_length={max_length}"


@pytest.mark.parametrize("max_length", [25, 50, 100])
def test_summary_sentences_come_from_the_text(max_length):
    for text in LONG_TEXTS:
        summary = answer(Operation.SUMMARIZE, text, max_length=max_length)
        if summary.endswith("\u2026"):
            assert summary[:-1] in normalised(text)
            continue
        for sentence in split_sentences(summary):
            assert sentence.text in normalised(text), sentence.text


@pytest.mark.parametrize("case", SUMMARY_CASES, ids=lambda case: case.name)
def test_summary_keeps_the_central_topic(case):
    summary = answer(Operation.SUMMARIZE, case.text, max_length=50)
    assert case.central.lower() in summary.lower(), summary


def test_summary_keeps_sentences_in_text_order():
    text = SUMMARY_CASES[0].text
    summary = answer(Operation.SUMMARIZE, text, max_length=60)
    positions = [normalised(text).index(s.text) for s in split_sentences(summary)]
    assert positions == sorted(positions)


def test_summary_of_a_short_text_is_the_text_itself():
    text = 'She said: "It\'s fine."  Prices rose 3.5% in the U.S. last year.\nNo final stop here'
    assert answer(Operation.SUMMARIZE, text, max_length=100) == normalised(text)


def test_summary_puts_headings_and_list_items_on_their_own_line():
    text = "Release notes\n\nVersion 2 is out.\n- faster start\n- new icons"
    assert answer(Operation.SUMMARIZE, text) == "Release notes\nVersion 2 is out. faster start\nnew icons"


def test_summary_cuts_an_overlong_best_sentence_at_a_word_boundary():
    text = (
        "The committee, after months of deliberation involving dozens of experts from several countries, "
        "finally published a long report on the future of regional rail transport. It was long."
    )
    summary = answer(Operation.SUMMARIZE, text, max_length=10)
    assert summary.endswith("\u2026")
    assert len(summary.split()) <= 10
    assert normalised(text).startswith(summary[:-1])


def test_summary_defaults_to_100_words():
    text = " ".join(case.text for case in SUMMARY_CASES[:4])
    summary = answer(Operation.SUMMARIZE, text)
    assert 50 < len(summary.split()) <= 100


# --- key points ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("max_points", [1, 3, 5, 20])
def test_key_points_respect_the_limit_and_are_distinct_sentences(max_points):
    for text in LONG_TEXTS:
        points = json.loads(answer(Operation.KEY_POINTS, text, max_points=max_points))["key_points"]
        assert 1 <= len(points) <= max_points
        assert len(set(points)) == len(points)
        for point in points:
            assert point == point.strip()
            assert point in normalised(text)
        positions = [normalised(text).index(point) for point in points]
        assert positions == sorted(positions)


def test_key_points_default_to_five():
    points = json.loads(answer(Operation.KEY_POINTS, LONG_TEXTS[0]))["key_points"]
    assert len(points) == 5


def test_key_points_of_a_one_sentence_text():
    assert json.loads(answer(Operation.KEY_POINTS, "Only one short sentence here"))["key_points"] == [
        "Only one short sentence here"
    ]


# --- questions -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("num_questions", [1, 3, 5, 10])
def test_questions_end_with_a_question_mark_and_relate_to_the_text(num_questions):
    for text in LONG_TEXTS:
        questions = json.loads(answer(Operation.QUESTIONS, text, num_questions=num_questions))["questions"]
        assert len(questions) == num_questions, questions
        assert len({q.lower() for q in questions}) == len(questions)
        text_terms = set(content_stems(text))
        for question in questions:
            assert question.endswith("?")
            assert set(content_stems(question)) & text_terms, question


def test_questions_use_varied_templates():
    questions = json.loads(answer(Operation.QUESTIONS, LONG_TEXTS[2], num_questions=5))["questions"]
    openings = {" ".join(q.split()[:3]) for q in questions}
    assert len(openings) >= 4, questions


@pytest.mark.parametrize(
    "text", ["Short text", "Hello there, world!", "the of and to a in is", "1234567890 42", "Dr. Who?"]
)
def test_questions_for_any_text_of_ten_characters_are_never_empty(text):
    questions = json.loads(answer(Operation.QUESTIONS, text, num_questions=5))["questions"]
    assert 1 <= len(questions) <= 5
    assert all(q.endswith("?") for q in questions)


def test_questions_default_to_five():
    assert len(json.loads(answer(Operation.QUESTIONS, LONG_TEXTS[1]))["questions"]) == 5


def test_questions_keep_a_pii_placeholder_whole_so_it_can_be_restored():
    text = (
        "My e-mail is [EMAIL_1] and my card [CARD_1] was charged twice. [NAME_1] from billing promised "
        "a refund to [EMAIL_1] but nothing came. The duplicate charge is still on the statement."
    )
    questions = json.loads(answer(Operation.QUESTIONS, text, num_questions=10))["questions"]
    assert any("[EMAIL_1]" in q for q in questions), questions
    for question in questions:  # never the bare type name of a placeholder broken into words
        assert not re.search(r"(?<!\[)\b(EMAIL|CARD|NAME)\b(?!_)", question), question


# --- sentence splitting --------------------------------------------------------------------------------


SPLITTING_CASES = {
    "titles and times": (
        "Dr. Smith met Mr. Jones at 3 p.m. on Friday. They talked.",
        ["Dr. Smith met Mr. Jones at 3 p.m. on Friday.", "They talked."],
    ),
    "decimals and e.g.": (
        "Rates rose to 3.5 percent, e.g. in March. Then they fell.",
        ["Rates rose to 3.5 percent, e.g. in March.", "Then they fell."],
    ),
    "initialism ending a sentence": (
        "He moved to the U.S. The rest is history.",
        ["He moved to the U.S.", "The rest is history."],
    ),
    "initialism and initials inside": (
        "The U.S. Army won. J. K. Rowling wrote it.",
        ["The U.S. Army won.", "J. K. Rowling wrote it."],
    ),
    "quotes, questions, no final stop": (
        'He said "Stop." Then he left. Was it fair? Yes',
        ['He said "Stop."', "Then he left.", "Was it fair?", "Yes"],
    ),
    "list items": (
        "Shopping list:\n- eggs\n- milk and\n  bread\n2) apples",
        ["Shopping list:", "eggs", "milk and bread", "apples"],
    ),
    "wrapped line": ("A line that wraps\nonto the next one", ["A line that wraps onto the next one"]),
}


@pytest.mark.parametrize(("text", "expected"), SPLITTING_CASES.values(), ids=SPLITTING_CASES.keys())
def test_sentence_splitting(text, expected):
    assert [sentence.text for sentence in split_sentences(text)] == expected


def test_sentences_keep_the_users_characters():
    text = "“Smart quotes” stay — as do 'single' ones, ümlauts & symbols (#1)!  Really?"
    assert " ".join(s.text for s in split_sentences(text)) == normalised(text)


# --- provider contract ---------------------------------------------------------------------------------


def test_provider_identity_and_response_metadata():
    response = generate(Operation.SUMMARIZE, LONG_TEXTS[0])
    assert (LocalProvider.name, LocalProvider.model) == ("local", "local-extractive-v1")
    assert (response.provider, response.model) == ("local", "local-extractive-v1")
    # Its own estimate of what a model would count, about four characters a token (priced at 0).
    assert response.prompt_tokens == -(-len("system instruction" + "prompt") // 4)
    assert response.output_tokens == -(-len(response.text) // 4)


@pytest.mark.parametrize("operation", list(Operation))
def test_every_operation_is_deterministic(operation):
    question = "What threatens the reefs?" if operation == Operation.QA else None
    first = answer(operation, LONG_TEXTS[0], question)
    second = asyncio.run(
        LocalProvider().generate(AIRequest(operation, "other", "other", LONG_TEXTS[0], question=question))
    ).text
    assert first == second
