"""`monitor eval`'s breakdowns: the lists a team reads, and the figures per group of items.

Why: a pooled F1 hides where the mistakes land. A customer-care reader sees the
`complaints` list, HR the `employees` list, security the leak alerts; a press piece put on
any of them is noise that someone has to read. So the report scores each routed list as
a list (precision: how much of what it shows belongs there; recall: how much of what
belongs there it shows), and `--by FIELD` repeats every figure per value of a field the
items carry (`channel`, `lang`, `source`...), so news and blog items can be told from posts.

Groups: `--by channel` makes one group per value; `--by "channel=news+blog,social+forum"`
merges values into named groups ("news+blog"), the rest going to "other". Items without
the field go to "(none)".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from classifiers.eval_scores import Counts, EvaluationInputError, LabelledItem, Prediction, score
from monitor.core.routes import DAILY_LISTS, is_high_severity

NO_VALUE, OTHER = "(none)", "other"


def _on_family_list(families: tuple[str, ...]) -> Callable[[Prediction], bool]:
    return lambda predicted: any(predicted.labels[family] for family in families)


def _alerted(predicted: Prediction) -> bool:
    return any(
        tag.family == "leak" and is_high_severity(tag.label, [e.as_dict() for e in tag.evidence])
        for tag in predicted.tags
    )


#: list → (the label families that make an item belong there, whether Vigía puts it there).
#: The daily lists route by tag family (monitor.core.routes.DAILY_LISTS); a leak is sent to
#: `alerts` and `leaks` at once when the tag is high-severity, and any real leak belongs there.
ROUTED_LISTS: dict[str, tuple[tuple[str, ...], Callable[[Prediction], bool]]] = {
    **{name: (families, _on_family_list(families)) for name, families in DAILY_LISTS.items()},
    "leak alerts": (("leak",), _alerted),
}


def _belongs(item: LabelledItem, families: tuple[str, ...]) -> bool | None:
    """Whether the gold labels put the item on the list; None when one family is unlabelled."""
    if any(family not in item.labels for family in families):
        return None
    return any(bool(item.labels[family]) for family in families)


def routed_scores(items: Sequence[LabelledItem],
                  predictions: Sequence[Prediction]) -> dict[str, dict[str, Any] | None]:
    """list → precision, recall, F1, `listed` (items Vigía put there) and `belong` (items
    that belong there); None for a list whose families no item labels."""
    report: dict[str, dict[str, Any] | None] = {}
    for name, (families, listed) in ROUTED_LISTS.items():
        counts, seen = Counts(), False
        for item, predicted in zip(items, predictions, strict=True):
            gold = _belongs(item, families)
            if gold is None:
                continue
            seen = True
            counts.add(gold, listed(predicted))
        report[name] = ({**counts.scores(), "listed": counts.tp + counts.fp,
                         "belong": counts.tp + counts.fn} if seen else None)
    return report


def parse_groups(spec: str) -> tuple[str, dict[str, str]]:
    """(field, value → group name) from `FIELD` or `FIELD=a+b,c+d`; {} for one group a value.

    Raises EvaluationInputError naming the option and the form to use."""
    field, equals, grouping = spec.partition("=")
    field = field.strip()
    if not field or (equals and not grouping.strip()):
        raise EvaluationInputError(
            f"--by {spec!r}: write a field name, like --by channel, or merge its values into "
            'groups, like --by "channel=news+blog,social+forum+review"'
        )
    names: dict[str, str] = {}
    for group in filter(None, (g.strip() for g in grouping.split(","))):
        values = [v.strip() for v in group.split("+") if v.strip()]
        for value in values:
            if value in names:
                raise EvaluationInputError(f"--by {spec!r}: {value!r} is in two groups")
            names[value] = "+".join(values)
    return field, names


def group_of(item: LabelledItem, field: str, names: dict[str, str]) -> str:
    value = item.fields.get(field)
    if value is None:
        return NO_VALUE
    return names.get(value, OTHER) if names else value


def breakdown(items: Sequence[LabelledItem], predictions: Sequence[Prediction],
              spec: str) -> dict[str, Any]:
    """{"field": …, "groups": {group: report}}: every figure of `score` plus "routed", per
    group, largest group first."""
    field, names = parse_groups(spec)
    if not any(field in item.fields for item in items):
        raise EvaluationInputError(
            f"--by {field!r}: no item has a {field!r} field — use a string field the items "
            "carry, like lang or channel"
        )
    members: dict[str, list[int]] = {}
    for index, item in enumerate(items):
        members.setdefault(group_of(item, field, names), []).append(index)
    groups = {}
    for group, indices in sorted(members.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        sub_items = [items[i] for i in indices]
        sub_predictions = [predictions[i] for i in indices]
        report = score(sub_items, sub_predictions, seconds=0.0)
        del report["docs_per_second"]
        report["routed"] = routed_scores(sub_items, sub_predictions)
        groups[group] = report
    return {"field": field, "groups": groups}
