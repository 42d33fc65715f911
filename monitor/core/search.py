"""Full-text search: one syntax, compiled for SQLite FTS5 and for PostgreSQL tsquery.

The index itself is migration 0006's (FTS5 `mentions_fts` on SQLite, the generated
`mentions.search_vector` on PostgreSQL). This module turns what a person types in the inbox's
search box into a condition on `Mention.id` for either, so the CLI, the web pages, the API and
the exports search the same way.

Syntax (parsed by luqum, like brand queries, but with search-box semantics):

* words side by side must **all** match (implicit AND, as in every search box — unlike brand
  queries, where Lucene's default OR is used);
* `"quoted phrase"`: the words adjacent and in that order;
* `OR`, `AND`, `NOT` (in capitals), a leading `-word` or `-"a phrase"`, parentheses;
* `camio*`: a prefix (the `*` only at the end of a word);
* case and accents never matter: `camion` finds "Camión".

A query made only of negations (`-spam`, `NOT a`) is rejected with `SearchSyntaxError`: FTS5
cannot express "everything but", and a listing of all mentions but one word is better asked
for by leaving the box empty. Field searches (`title:x`), boosts, ranges, fuzzy terms,
proximity and regexes are rejected the same way, naming the construct.

Nothing the user typed reaches the engine as syntax: every word is reduced to its letters and
digits and quoted (FTS5) or passed as a bound parameter to `phraseto_tsquery` (PostgreSQL),
so `NEAR`, `title:`, `^` or stray quotes are just words or errors, never operators.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from luqum import tree
from luqum.exceptions import ParseError
from luqum.parser import parser
from sqlalchemy import (
    Boolean,
    ColumnElement,
    Connection,
    Integer,
    bindparam,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from monitor.core.errors import VigiaError
from monitor.core.lucene import unsupported
from monitor.core.models import Mention
from monitor.core.textfold import fold

MAX_QUERY_CHARS = 500
MAX_TERMS = 32
# Letters and digits: the tokens both indexes keep (FTS5 unicode61 and PostgreSQL's parser
# treat "_" and punctuation as separators).
_TOKEN = re.compile(r"[^\W_]+")
# What to write instead, after the shared "… are not supported" (monitor.core.lucene).
_INSTEAD: dict[type, str] = {
    tree.SearchField: " — search the words",
    tree.FieldGroup: " — search the words",
    tree.Fuzzy: " — try a prefix, word*",
    tree.Regex: " — try a prefix, word*",
    tree.Boost: " — remove the ^",
}
# Brand queries read proximity; the search box does not (FTS5 and tsquery differ on it).
_PROXIMITY = 'proximity like "a b"~3 is not supported — use a "phrase" or a b'
_SIMPLE = literal_column("'simple'")
_FTS = text("SELECT rowid FROM mentions_fts WHERE mentions_fts MATCH :fts_query")
_FTS_COUNT = text("SELECT count(*) FROM (SELECT rowid FROM mentions_fts "
                  "WHERE mentions_fts MATCH :fts_query LIMIT :cap)")


class SearchSyntaxError(VigiaError):
    """The search cannot be understood; the message says what is wrong and how to write it."""


# --------------------------------------------------------------------------- the tree


@dataclass(frozen=True, slots=True)
class Term:
    """A word or phrase: its folded tokens (adjacent, in order); `prefix` on the last one.

    `raw` is the folded text as typed, for PostgreSQL's parser, which must tokenise it the
    way it tokenised the indexed text (it keeps "calderix.es" as one host token).
    """

    tokens: tuple[str, ...]
    raw: str
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class All:
    """Every `must` matches and no `must_not` does (`must` is never empty)."""

    must: tuple[Node, ...]
    must_not: tuple[Node, ...] = ()


@dataclass(frozen=True, slots=True)
class Any_:
    options: tuple[Node, ...]


Node = Term | All | Any_


def parse(q: str) -> Node:
    """The search's tree; raises SearchSyntaxError saying what is wrong and how to write it."""
    # Control, format and surrogate characters are never words, and PostgreSQL refuses NUL.
    q = "".join(" " if unicodedata.category(c).startswith("C") else c for c in q or "")
    if not q.strip():
        raise SearchSyntaxError("the search is empty — type a word, or leave the box empty")
    if len(q) > MAX_QUERY_CHARS:
        raise SearchSyntaxError(
            f"the search is {len(q)} characters long; at most {MAX_QUERY_CHARS} are allowed"
        )
    if re.sub(r"\\.", "", q).count('"') % 2:
        raise SearchSyntaxError('unclosed quote — end the phrase with a second "')
    try:
        # luqum rejects "'"; both indexes split words on it anyway ("don't" → don, t).
        parsed = parser.parse(q.replace("'", " "))
    except (ParseError, ValueError, TypeError, RecursionError) as exc:
        raise SearchSyntaxError(
            f"cannot read the search ({exc}) — write words, \"phrases\", OR, -word, (groups)"
        ) from None
    counter = [0]
    node = _convert(parsed, counter)
    if node is None:
        raise SearchSyntaxError("the search has no word to look for (only punctuation)")
    return node


def _convert(item: tree.Item, counter: list[int]) -> Node | None:
    """luqum's tree → ours; None for a term without letters or digits (nothing to find)."""
    if isinstance(item, tree.Proximity):
        raise SearchSyntaxError(_PROXIMITY)
    construct = unsupported(item)
    if construct:
        raise SearchSyntaxError(f"{construct} are not supported{_INSTEAD.get(type(item), '')}")
    if isinstance(item, tree.Word | tree.Phrase):
        counter[0] += 1
        if counter[0] > MAX_TERMS:
            raise SearchSyntaxError(f"the search has more than {MAX_TERMS} terms — shorten it")
        return _term(item)
    if isinstance(item, tree.Group):
        return _convert(item.expr, counter)
    if isinstance(item, tree.Plus):
        return _convert(item.a, counter)
    if isinstance(item, tree.Not | tree.Prohibit):
        raise SearchSyntaxError(
            "a search cannot be only NOT or -word clauses — add a word to look for, "
            "like: calderix -sorteo"
        )
    if isinstance(item, tree.OrOperation):
        options = [_convert(child, counter) for child in item.children]
        kept = tuple(o for o in options if o is not None)
        return kept[0] if len(kept) == 1 else (Any_(kept) if kept else None)
    if isinstance(item, tree.AndOperation | tree.UnknownOperation):
        must: list[Node] = []
        must_not: list[Node] = []
        for child in item.children:
            negated = isinstance(child, tree.Not | tree.Prohibit)
            converted = _convert(child.a if negated else child, counter)
            if converted is not None:
                (must_not if negated else must).append(converted)
        if not must:
            if must_not:
                raise SearchSyntaxError(
                    "a group of only NOT or -word clauses matches nothing it could list — "
                    "add a word to look for, like: calderix -sorteo"
                )
            return None
        if len(must) == 1 and not must_not:
            return must[0]
        return All(tuple(must), tuple(must_not))
    raise SearchSyntaxError(f"{item!s} is not supported in a search")  # pragma: no cover


def _term(item: tree.Word | tree.Phrase) -> Term | None:
    if isinstance(item, tree.Phrase):
        raw = fold(re.sub(r"\\(.)", r"\1", item.value[1:-1]))
        prefix = False
    else:
        raw = fold(re.sub(r"\\(.)", r"\1", item.value))
        prefix = raw.endswith("*")
        if "?" in raw or "*" in raw.rstrip("*"):
            raise SearchSyntaxError(
                f"{item.value!r}: a wildcard works only at the end of a word, like camio*"
            )
        raw = raw.rstrip("*")
    tokens = tuple(_TOKEN.findall(raw))
    if not tokens:
        if prefix:
            raise SearchSyntaxError("a lone * matches everything — put it after letters: camio*")
        return None
    return Term(tokens, raw, prefix)


# --------------------------------------------------------------------------- SQLite FTS5


def fts5_match(node: Node) -> str:
    """An FTS5 MATCH expression: every token double-quoted, so none is ever an operator."""
    if isinstance(node, Term):
        phrase = '"' + " ".join(node.tokens) + '"'
        return phrase + ("*" if node.prefix else "")
    if isinstance(node, Any_):
        return "(" + " OR ".join(fts5_match(o) for o in node.options) + ")"
    positive = "(" + " AND ".join(fts5_match(m) for m in node.must) + ")"
    if not node.must_not:
        return positive
    return f"({positive} NOT ({' OR '.join(fts5_match(n) for n in node.must_not)}))"


# --------------------------------------------------------------------------- PostgreSQL


def _tsquery(node: Node) -> ColumnElement[Any]:
    """A tsquery expression; every user text is a bound parameter, never tsquery syntax."""
    if isinstance(node, Term):
        if node.prefix:
            # Tokens are letters and digits only, so quoting them cannot be escaped from.
            words = [f"'{token}'" for token in node.tokens]
            words[-1] += ":*"
            return func.to_tsquery(_SIMPLE, bindparam("ts", " <-> ".join(words), unique=True))
        # The same parser as the index, so the text is tokenised as the indexed text was.
        return func.phraseto_tsquery(_SIMPLE, bindparam("ts", node.raw, unique=True))
    if isinstance(node, Any_):
        return _fold_with(func.tsquery_or, [_tsquery(o) for o in node.options])
    result = _fold_with(func.tsquery_and, [_tsquery(m) for m in node.must])
    for negated in node.must_not:
        result = func.tsquery_and(result, func.tsquery_not(_tsquery(negated)))
    return result


def _fold_with(combine: Any, parts: list[ColumnElement[Any]]) -> ColumnElement[Any]:
    result = parts[0]
    for part in parts[1:]:
        result = combine(result, part)
    return result


# --------------------------------------------------------------------------- entry point


def search_condition(q: str, dialect: str, *, walk: bool = False) -> ColumnElement[bool]:
    """A condition on mentions (usable in any select over Mention) for the search `q`.

    `dialect` is the engine's dialect name (session.get_bind().dialect.name). Raises
    SearchSyntaxError for a search that cannot be understood.

    `walk` chooses the plan; the rows are the same either way and monitor.core.inbox chooses
    (on the number of matches). With `walk` the condition cannot drive the query, so the
    planner reads the rows in the ORDER BY's index and tests each against the search:
    right for a common search, whose first page is found after a few hundred rows. Without
    it the query starts from the matches and sorts them: right for a rare one, where a walk
    would read the whole index to find a handful.

    * SQLite: the walk writes the id `+id`, SQLite's documented way to keep a term from
      choosing the plan (the matches are collected once into a temporary b-tree); without
      it the FTS5 index drives.
    * PostgreSQL: the walk is the plain `search_vector @@ tsquery`, which its planner
      walks the date index with when it estimates many matches; FTS-first reads the GIN
      index into a MATERIALIZED CTE of ids, which the planner cannot merge back and walk,
      and probes the page's few rows by primary key. (Without it a rare word, estimated at
      0.5% of the rows whatever its real count, is walked over the whole index: 60 ms for 1
      match in 200,000 mentions, against 2 ms.)
    """
    return _condition(parse(q), dialect, walk)


def _condition(node: Node, dialect: str, walk: bool = False) -> ColumnElement[bool]:
    if dialect == "postgresql":
        vector = literal_column("mentions.search_vector")
        matches = vector.op("@@", return_type=Boolean)(_tsquery(node))
        if walk:
            return matches
        hits = select(Mention.id).where(matches).cte("search_hits").prefix_with("MATERIALIZED")
        return Mention.id.in_(select(hits.c.id))
    match = _FTS.bindparams(bindparam("fts_query", fts5_match(node), unique=True))
    mention_id = UnaryExpression(Mention.id, operator=custom_op("+"), type_=Integer) if walk \
        else Mention.id
    return mention_id.in_(match.columns(rowid=Integer))


def count_matches(connection: Connection, q: str, dialect: str, cap: int) -> int:
    """How many mentions the search `q` matches, counted no further than `cap`.

    A cheap selectivity estimate for choosing a page's plan (monitor.core.inbox): on SQLite
    it reads the FTS5 doclists only (no mention row), about 0.1 ms for a cap of thousands;
    on PostgreSQL a common word is counted by a sequential scan that stops at the cap
    (about 1.4 µs a match: keep the cap low) and a rare one off the GIN index.
    Raises SearchSyntaxError like search_condition.
    """
    node = parse(q)
    if dialect == "postgresql":
        matches = _condition(node, dialect, walk=True)
        matching = select(Mention.id).where(matches).limit(cap).subquery()
        return connection.execute(select(func.count()).select_from(matching)).scalar_one()
    return connection.execute(_FTS_COUNT, {"fts_query": fts5_match(node), "cap": cap}).scalar_one()
