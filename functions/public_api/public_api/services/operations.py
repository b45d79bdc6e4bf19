"""The catalogue of operations, in the order the API lists them."""

from __future__ import annotations

from public_api.schemas import OPTION_FIELDS, OperationInfo

OPERATIONS = [
    OperationInfo(
        id="summarize",
        name="Summarize",
        description="A concise summary of the text, at most `max_length` words.",
        options=list(OPTION_FIELDS["summarize"]),
    ),
    OperationInfo(
        id="sentiment",
        name="Sentiment analysis",
        description="Overall sentiment (positive, negative, neutral or mixed), confidence and explanation.",
        options=list(OPTION_FIELDS["sentiment"]),
    ),
    OperationInfo(
        id="key_points",
        name="Key points",
        description="The most important points of the text, at most `max_points`.",
        options=list(OPTION_FIELDS["key_points"]),
    ),
    OperationInfo(
        id="questions",
        name="Question generation",
        description="Questions about the text, at most `num_questions`, each ending in '?'.",
        options=list(OPTION_FIELDS["questions"]),
    ),
    OperationInfo(
        id="qa",
        name="Question answering",
        description="Answers `question` from the text only.",
        options=list(OPTION_FIELDS["qa"]),
        requires_question=True,
    ),
]
