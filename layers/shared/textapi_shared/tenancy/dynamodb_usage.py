"""Billed usage in DynamoDB, in the keys table: a row per key and UTC day (`pk = usage#<subject>`,
`sk = <YYYY-MM-DD>`; `day` and `subject` beside, for the `by_day` index of the billing export) and a
ledger per key and UTC month (`sk = month#<YYYY-MM>`). Every change is an `UpdateItem ADD`; a reservation
adds to a period's `committed` on condition that it stays within the budget, so two instances can never
both take the last room. Durable whatever the cache backend: flushing Redis loses no billing.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import TYPE_CHECKING, Any

from textapi_shared.aws import aws_error_code
from textapi_shared.tenancy.dynamodb_key_store import KeysTable
from textapi_shared.tenancy.usage import DAY, MONTH, USAGE_TTL_S, DayUsage, PeriodFull, Reservation

if TYPE_CHECKING:
    from textapi_shared.config import SharedSettings
    from textapi_shared.tenancy.usage import Period, TokenUsage

_CONDITION_FAILED = "ConditionalCheckFailedException"
BY_DAY_INDEX = "by_day"
_FIELDS = ("ai_calls", "prompt_tokens", "output_tokens", "tokens_billed", "cost_micros", "committed")


def _key(subject: str, sort: str) -> dict[str, Any]:
    return {"pk": {"S": f"usage#{subject}"}, "sk": {"S": sort}}


def _row(item: dict[str, Any]) -> DayUsage:
    values = {name: int(item[name]["N"]) for name in _FIELDS if name in item}
    return DayUsage(item["subject"]["S"], item["day"]["S"], **values)


class DynamoDBUsageStore:
    name = "dynamodb"

    def __init__(self, settings: SharedSettings, *, client: Any | None = None, table_name: str | None = None):
        self.table_name = table_name or settings.keys_table_name
        self._table = KeysTable(settings, self.table_name, client)

    def _sort(self, period: Period, which: str) -> str:
        return period.day if which == DAY else f"month#{period.month}"

    async def _add(
        self, subject: str, period: Period, which: str, amounts: dict[str, int], *, room: int | None = None
    ) -> None:
        names = {f"#{name}": name for name in amounts} | {"#ttl": "ttl"}
        values: dict[str, Any] = {f":{name}": {"N": str(amount)} for name, amount in amounts.items()}
        values[":ttl"] = {"N": str(math.ceil(time.time() + USAGE_TTL_S))}
        update = (
            "ADD "
            + ", ".join(f"#{name} :{name}" for name in amounts)
            + " SET #ttl = if_not_exists(#ttl, :ttl)"
        )
        if which == DAY:
            names |= {"#day": "day", "#subject": "subject"}
            values |= {":day": {"S": period.day}, ":subject": {"S": subject}}
            update += ", #day = :day, #subject = :subject"
        kwargs: dict[str, Any] = {}
        if room is not None:
            kwargs["ConditionExpression"] = "attribute_not_exists(#committed) OR #committed <= :room"
            values[":room"] = {"N": str(room)}
        await self._table.call(
            "update_item",
            Key=_key(subject, self._sort(period, which)),
            UpdateExpression=update,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            **kwargs,
        )

    async def _committed(self, subject: str, period: Period, which: str) -> int:
        response = await self._table.call(
            "get_item", Key=_key(subject, self._sort(period, which)), ConsistentRead=True
        )
        item = response.get("Item") or {}
        return int(item["committed"]["N"]) if "committed" in item else 0

    async def reserve(
        self, subject: str, tokens: int, *, period: Period, daily: int | None, monthly: int | None
    ) -> Reservation:
        """The day's and the month's conditional ADDs at once; when one is refused, the other is given
        back."""
        budgets = [
            (which, budget) for which, budget in ((DAY, daily), (MONTH, monthly)) if budget is not None
        ]
        for which, budget in budgets:
            if tokens > budget:  # never fits: no condition needed (and none would hold on a new row)
                raise PeriodFull(which, budget, await self._committed(subject, period, which))
        outcomes = await asyncio.gather(
            *(
                self._add(subject, period, which, {"committed": tokens}, room=budget - tokens)
                for which, budget in budgets
            ),
            return_exceptions=True,
        )
        taken = tuple(which for (which, _), outcome in zip(budgets, outcomes, strict=True) if outcome is None)
        refused = [
            (which, budget, outcome)
            for (which, budget), outcome in zip(budgets, outcomes, strict=True)
            if outcome is not None
        ]
        if not refused:
            return Reservation(subject, period, tokens, taken)
        if taken:
            await self.release(Reservation(subject, period, tokens, taken))
        for which, budget, outcome in refused:
            if aws_error_code(outcome) == _CONDITION_FAILED:
                raise PeriodFull(which, budget, await self._committed(subject, period, which)) from outcome
        raise refused[0][2]

    async def settle(
        self, subject: str, period: Period, usage: TokenUsage, reservation: Reservation | None
    ) -> None:
        charged = reservation.periods if reservation is not None else ()
        reserved = reservation.tokens if reservation is not None else 0
        day = {
            "committed": usage.billed - (reserved if DAY in charged else 0),
            "ai_calls": 1,
            "prompt_tokens": usage.prompt_tokens,
            "output_tokens": usage.output_tokens,
            "tokens_billed": usage.billed,
            "cost_micros": usage.cost_micros,
        }
        month = {
            "committed": usage.billed - (reserved if MONTH in charged else 0),
            "tokens_billed": usage.billed,
        }
        await asyncio.gather(self._add(subject, period, DAY, day), self._add(subject, period, MONTH, month))

    async def release(self, reservation: Reservation) -> None:
        await asyncio.gather(
            *(
                self._add(reservation.subject, reservation.period, which, {"committed": -reservation.tokens})
                for which in reservation.periods
            )
        )

    async def days(self, subject: str, first: str, last: str) -> list[DayUsage]:
        items = await self._query(
            KeyConditionExpression="pk = :pk AND sk BETWEEN :first AND :last",
            ExpressionAttributeValues={
                ":pk": {"S": f"usage#{subject}"},
                ":first": {"S": first},
                ":last": {"S": last},
            },
        )
        return [_row(item) for item in items]

    async def month_totals(self, subject: str, month: str) -> tuple[int, int]:
        response = await self._table.call(
            "get_item", Key=_key(subject, f"month#{month}"), ConsistentRead=True
        )
        item = response.get("Item") or {}
        return tuple(int(item[name]["N"]) if name in item else 0 for name in ("tokens_billed", "committed"))  # type: ignore[return-value]

    async def on_day(self, date: str) -> list[DayUsage]:
        items = await self._query(
            IndexName=BY_DAY_INDEX,
            KeyConditionExpression="#day = :day",
            ExpressionAttributeNames={"#day": "day"},
            ExpressionAttributeValues={":day": {"S": date}},
        )
        return [_row(item) for item in items]

    async def _query(self, **kwargs: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            page = await self._table.call("query", **kwargs)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
