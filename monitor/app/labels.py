"""The team's corrections as labelled examples, and `monitor labels export`.

Every review action that says something about a post (not about the brand, its sentiment, a
tag added or removed) leaves a `Label`: the team's current answer for one family of one
post for one brand. The latest answer wins (one row per mention, brand and family, written
with one upsert), because a second reviewer correcting the first is the better label.

The export writes those answers in exactly the JSONL format `monitor eval` reads
(classifiers.evaluation), so the team can score the classifiers on its own reviewed posts,
and a learned model can later train on them. A family nobody answered is left out of the
line, which `monitor eval` reads as "not labelled" (it scores that item for the other
families only). Each line also carries `id`, which ties it back to the mention, and `brand`,
which says whose labels it holds (one line per mention and brand): `monitor eval` scores
each line for that brand (`--brand` keeps one; pass `brand=` to export one). A mention with
a headline also has `title`, so that `monitor eval` reads it as the article it was.

The file holds the posts' raw, unmasked text: the classifiers must read what they would read
in production, masked identifiers would score a leak classifier on asterisks. Treat the file
as the database itself (security and admin material).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from classifiers.tags import BOOLEAN_FAMILIES, MULTI_LABEL
from monitor.core.models import Label, Mention, Tag
from monitor.core.rawpost import RawPost, post_author
from monitor.core.storage import insert_ignoring_conflicts, upsert

#: The families a Label may hold, in the order `monitor eval` documents them.
FAMILIES = ("about_brand", "sentiment", "leak", "employee", "policy", "complaint")


def set_label(
    session: Session,
    *,
    mention_id: int,
    brand: str,
    family: str,
    value: Any,
    user_name: str,
    now: datetime,
    replace: bool = True,
) -> None:
    """Record the team's answer for `family`; `replace=False` keeps an existing answer.

    `replace=False` is for answers implied rather than given: marking a post reviewed
    implies it is about the brand, but must not undo an explicit "not about the brand".
    """
    if family not in FAMILIES:
        raise ValueError(f"unknown label family {family!r}")
    values = {"mention_id": mention_id, "brand": brand, "family": family, "value": value,
              "user_name": user_name, "created_at": now}
    if replace:
        upsert(session, Label, (Label.mention_id, Label.brand, Label.family), values,
               update=("value", "user_name", "created_at"))
    else:
        session.execute(insert_ignoring_conflicts(session, Label).values(**values))


def family_answer(session: Session, mention_id: int, brand: str, family: str) -> Any:
    """The family's full current answer from the mention's tags, as `monitor eval` spells it:
    the list of labels for leak and policy, true/false for employee and complaint."""
    session.flush()
    labels = set(session.scalars(select(Tag.label).where(
        Tag.mention_id == mention_id, Tag.brand == brand, Tag.family == family
    )))
    if family in MULTI_LABEL:
        return [label for label in MULTI_LABEL[family] if label in labels]
    if family in BOOLEAN_FAMILIES:
        return bool(labels)
    raise ValueError(f"{family!r} is not a tag family with a label answer")


def labelled_rows(session: Session, brand: str | None = None) -> list[dict[str, Any]]:
    """One `monitor eval` row per (mention, brand) with at least one label, by mention id."""
    query = select(Label).order_by(Label.mention_id, Label.brand, Label.id)
    if brand is not None:
        query = query.where(Label.brand == brand)
    answers: dict[tuple[int, str], dict[str, Any]] = {}
    for label in session.scalars(query):
        answers.setdefault((label.mention_id, label.brand), {})[label.family] = label.value
    mentions = {
        m.id: m for m in session.scalars(
            select(Mention).where(Mention.id.in_({mention_id for mention_id, _ in answers}))
        )
    }
    rows = []
    for (mention_id, brand_name), families in answers.items():
        mention = mentions[mention_id]
        post = RawPost(source="", external_id="", title=mention.title, text=mention.text or "",
                       author=mention.author, author_handle=mention.author_handle)
        row: dict[str, Any] = {
            "id": mention_id,
            "brand": brand_name,
            "text": post.full_text(),
            "lang": mention.lang,
            "author": post_author(post),
        }
        if mention.title:  # the headline marks an article, read as such by `monitor eval`
            row["title"] = mention.title
        row.update({family: families[family] for family in FAMILIES if family in families})
        rows.append(row)
    return rows


def export_labels(session: Session, out: TextIO, brand: str | None = None) -> int:
    """Write the labelled posts to `out` as JSONL (unmasked text); the number of lines."""
    count = 0
    for row in labelled_rows(session, brand):
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    return count
