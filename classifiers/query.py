"""Brand queries: Lucene syntax parsed by luqum, compiled once into fast closures.

The pipeline runs every fetched item through every brand query, so a query is compiled to
plain Python closures over a `MatchText` (the post folded and tokenised once): a word is a set
look-up, a phrase or a trailing wildcard one substring check on a space-padded string.

Semantics (documented for users in README/settings):

* Matching is case- and accent-insensitive and on word boundaries: `Calderix` matches
  "CALDERIX", "#Calderix", "@calderix" and "Calderix's", never "Calderixa".
* `@calderix` matches only that handle and `#calderix` only that hashtag; a term with
  punctuation inside (`calderix.es`) matches that exact string between word boundaries.
* `"calderix movil"` is a phrase (adjacent words); `"a b"~3` a basic proximity: every word
  within N + len(words) − 1 positions of the first one (looser than Lucene's edit distance).
* `calderix NEAR/5 fibra`: both within 5 words of each other (0 = adjacent), in either order.
  Each side of NEAR is a word, a "phrase" or a parenthesised OR-group of them
  (`calderix NEAR/3 (caida OR "sin fibra")`); NEAR must be written in capitals, like AND/OR.
* `calder*` is a prefix wildcard; `*` / `?` inside a word are supported by a regex fallback.
* Operators as in Lucene's BooleanQuery: terms side by side with no operator are **OR**
  (Lucene's default operator); `AND`, `OR`, `NOT`, `+term` (required), `-term` (prohibited),
  parentheses. Within one group, a post matches when every required clause matches, no
  prohibited clause matches and, if there is no required clause, at least one optional does.
* **Look-alike exclusions.** When a prohibited clause is a word or phrase that *contains* one of
  the group's positive terms (`Calderix NOT "Calle Calderix"`), it is not a plain boolean NOT:
  its occurrences are masked out of the text first and the positive terms evaluated on what
  remains. So "Vivo en la Calle Calderix" does not match, but "Calle Calderix… y encima
  Calderix me cobra de más" does, because a genuine "Calderix" remains. Any other prohibited
  clause (`Calderix NOT sorteo`) is the ordinary boolean NOT: the post is dropped.
* Field searches (`title:x`), ranges, fuzzy `term~`, regexes and boosts are rejected with a
  `QuerySyntaxError` naming the construct, rather than silently ignored.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from luqum import tree
from luqum.exceptions import ParseError
from luqum.parser import parser

from classifiers.text import WORD, MatchText, positions, words
from monitor.core.lucene import unsupported
from monitor.core.textfold import fold

Check = Callable[[MatchText], tuple[str, ...] | None]
_PLAIN = re.compile(r"\w+")
_NEAR = re.compile(r"NEAR/(\d+)")
_TAG = re.compile(r"[@#]\w+")


class QuerySyntaxError(ValueError):
    """The query cannot be parsed or uses a construct Vigía does not support."""


@dataclass(frozen=True, slots=True)
class BrandQuery:
    """A compiled brand query; `match` returns the positive terms found, or None."""

    source: str
    _check: Check = field(repr=False)

    def match(self, text: MatchText | str) -> tuple[str, ...] | None:
        """The query terms that matched (for evidence), or None when the post does not match."""
        if isinstance(text, str):
            text = MatchText.of(text)
        return self._check(text)


def compile_query(query: str) -> BrandQuery:
    """Parse a Lucene-syntax query and compile it; raises QuerySyntaxError with the reason."""
    if not query or not query.strip():
        raise QuerySyntaxError("the query is empty")
    _check_quotes(query)
    try:
        node = parser.parse(query)
    except (ParseError, ValueError, TypeError) as exc:
        raise QuerySyntaxError(str(exc)) from None
    _check_near(node)
    check = _compile(node)
    if not _positive_sequences(node):
        raise QuerySyntaxError("the query has no positive term (only NOT/- clauses)")
    return BrandQuery(query, check)


def _check_quotes(query: str) -> None:
    """An unclosed phrase, said in words: luqum's lexer calls it an "illegal character"."""
    opened: int | None = None
    escaped = False
    for index, char in enumerate(query):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            opened = index if opened is None else None
    if opened is not None:
        start = query[opened : opened + 30].splitlines()[0]
        raise QuerySyntaxError(
            f"unclosed quote: the \" at position {opened} ({start}…) has no closing \" — "
            "end the phrase with a second \""
        )


def _check_near(node: tree.Item) -> None:
    """`NEAR` without a distance would otherwise be the plain word "near", OR'ed in."""
    if (
        isinstance(node, tree.Word)
        and (node.value == "NEAR" or node.value.startswith("NEAR/"))
        and not _NEAR.fullmatch(node.value)
    ):
        raise QuerySyntaxError(f"{node.value!r} needs a distance in words, like acme NEAR/5 outage")
    for child in node.children:
        _check_near(child)


# ----------------------------------------------------------------------------- terms


def _unquote(phrase: str) -> str:
    return re.sub(r"\\(.)", r"\1", phrase[1:-1])


def _term(raw: str, label: str, wildcard: bool) -> Check:
    """Compile one word or phrase (already unquoted) into a check returning (label,) or None."""
    folded = fold(raw).strip()
    result = (label,)
    if wildcard and ("*" in folded or "?" in folded):
        return _wildcard(folded, result)
    parts = folded.split()
    if not parts:
        raise QuerySyntaxError(f"empty term {label!r}")
    if len(parts) == 1 and _TAG.fullmatch(parts[0]):
        tag = parts[0]
        return lambda text: result if tag in text.tags else None
    if all(_PLAIN.fullmatch(part) for part in parts):
        if len(parts) == 1:
            word = parts[0]
            return lambda text: result if word in text.vocab else None
        padded = f" {' '.join(parts)} "
        return lambda text: result if padded in text.padded else None
    if len(parts) == 1 and WORD.fullmatch(parts[0].strip(".,;:!?'\"")):
        word = parts[0].strip(".,;:!?'\"")  # "Calderix's" or "Calderix," typed in a query
        return lambda text: result if word in text.vocab else None
    # Punctuation inside (domains, e-mail, "wi-fi"): exact string between word boundaries.
    pattern = re.compile(
        r"(?<!\w)" + r"\s+".join(re.escape(part) for part in parts) + r"(?!\w)"
    )
    return lambda text: result if pattern.search(text.folded) else None


def _wildcard(folded: str, result: tuple[str, ...]) -> Check:
    letters = re.sub(r"[*?]", "", folded)
    if len(letters) < 2:
        raise QuerySyntaxError(f"wildcard {folded!r} needs at least two letters besides * and ?")
    if " " in folded:
        raise QuerySyntaxError(f"wildcards are not supported inside phrases ({folded!r})")
    stem = folded[:-1]
    if folded.endswith("*") and _PLAIN.fullmatch(stem):
        prefix = f" {stem}"  # a word starting with stem: one substring check
        return lambda text: result if prefix in text.padded else None
    body = "".join(r"\w*" if c == "*" else r"\w" if c == "?" else re.escape(c) for c in folded)
    if folded[0] in "@#":
        pattern = re.compile(r"(?<!\w)" + body + r"(?!\w)")
        return lambda text: result if pattern.search(text.folded) else None
    pattern = re.compile(r"(?<= )" + body + r"(?= )")
    return lambda text: result if pattern.search(text.padded) else None


def _proximity(node: tree.Proximity) -> Check:
    if not isinstance(node.term, tree.Phrase):
        raise QuerySyntaxError(f"proximity applies to phrases, like \"a b\"~3, not {node!s}")
    label = str(node)
    tokens = words(_unquote(node.term.value))
    if not tokens:
        raise QuerySyntaxError(f"empty phrase in {label!r}")
    slop = int(float(node.degree or 1))
    window = slop + len(tokens) - 1
    result = (label,)

    def check(text: MatchText) -> tuple[str, ...] | None:
        if not all(token in text.vocab for token in tokens):
            return None
        index = positions(text)
        for start in index[tokens[0]]:
            if all(
                any(abs(p - start) <= window for p in index[token]) for token in tokens[1:]
            ):
                return result
        return None

    return check


def _near_operand(node: tree.Item, label: str) -> tuple[tuple[str, ...], ...]:
    """The word sequences one side of NEAR/n stands for (a word, phrase or OR-group)."""
    phrases = _exclusion_phrases(node)
    if not phrases or not all(phrases):
        raise QuerySyntaxError(
            f"NEAR/n joins words, \"phrases\" or (a OR b) groups, not {str(node).strip()!r} "
            f"(in {label!r}); put anything else in parentheses around the NEAR clause"
        )
    return tuple(phrases)


def _near(left: tree.Item, operator: tree.Word, right: tree.Item) -> Check:
    """`left NEAR/n right`: an occurrence of each with at most n words between, either order."""
    label = f"{str(left).strip()} {operator.value} {str(right).strip()}"
    distance = int(_NEAR.fullmatch(operator.value).group(1))  # type: ignore[union-attr]
    lefts, rights = _near_operand(left, label), _near_operand(right, label)
    needed = {word for phrase in lefts + rights for word in phrase}
    result = (label,)

    def spans(tokens: list[str], phrases: tuple[tuple[str, ...], ...]) -> list[tuple[int, int]]:
        found = []
        for phrase in phrases:
            size = len(phrase)
            found += [
                (i, i + size)
                for i, token in enumerate(tokens)
                if token == phrase[0] and tuple(tokens[i : i + size]) == phrase
            ]
        return found

    def check(text: MatchText) -> tuple[str, ...] | None:
        if not any(phrase[0] in text.vocab for phrase in lefts) or not any(
            phrase[0] in text.vocab for phrase in rights
        ) or not needed & text.vocab:
            return None
        tokens = text.padded.split()
        right_spans = spans(tokens, rights)
        for a_start, a_end in spans(tokens, lefts):
            for b_start, b_end in right_spans:
                gap = b_start - a_end if b_start >= a_end else a_start - b_end
                if gap <= distance and (a_start, a_end) != (b_start, b_end):
                    return result
        return None

    return check


def _with_near(children: list[tree.Item]) -> list[tree.Item | Check]:
    """Children with every `a NEAR/n b` triple replaced by its compiled check."""
    if not any(isinstance(c, tree.Word) and _NEAR.fullmatch(c.value) for c in children):
        return list(children)
    out: list[tree.Item | Check] = []
    i = 0
    while i < len(children):
        child = children[i]
        if isinstance(child, tree.Word) and _NEAR.fullmatch(child.value):
            if not out or i + 1 >= len(children) or not isinstance(out[-1], tree.Item):
                raise QuerySyntaxError(
                    f"{child.value} needs a word, phrase or group on each side, like "
                    "calderix NEAR/5 fibra"
                )
            out[-1] = _near(out[-1], child, children[i + 1])
            i += 2
            continue
        out.append(child)
        i += 1
    return out


# ------------------------------------------------------------------------- booleans


def _positive_sequences(node: tree.Item) -> list[tuple[str, ...]]:
    """Folded word sequences of the positive terms under node (not under NOT / -)."""
    if isinstance(node, tree.Not | tree.Prohibit):
        return []
    if isinstance(node, tree.Word):
        if _NEAR.fullmatch(node.value):
            return []
        return [tuple(words(node.value.replace("*", " ").replace("?", " ")))]
    if isinstance(node, tree.Phrase):
        return [tuple(words(_unquote(node.value)))]
    if isinstance(node, tree.Proximity):
        return _positive_sequences(node.term)
    found: list[tuple[str, ...]] = []
    for child in node.children:
        found.extend(_positive_sequences(child))
    return [seq for seq in found if seq]


def _exclusion_phrases(node: tree.Item) -> list[tuple[str, ...]] | None:
    """Word sequences if node is a plain word/phrase or an OR-group of them, else None."""
    if isinstance(node, tree.Word) and not any(c in node.value for c in "*?"):
        return [tuple(words(node.value))]
    if isinstance(node, tree.Phrase):
        return [tuple(words(_unquote(node.value)))]
    if isinstance(node, tree.Group):
        return _exclusion_phrases(node.expr)
    if isinstance(node, tree.OrOperation | tree.UnknownOperation):
        found: list[tuple[str, ...]] = []
        for child in node.children:
            sub = _exclusion_phrases(child)
            if sub is None:
                return None
            found.extend(sub)
        return found
    return None


def _contains(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    n = len(needle)
    return any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


def _boolean(node: tree.BoolOperation | tree.Item) -> Check:
    """Lucene BooleanQuery semantics over the children (MUST / SHOULD / MUST_NOT)."""
    default_must = isinstance(node, tree.AndOperation)
    children = _with_near(list(node.children) if isinstance(node, tree.BaseOperation) else [node])
    must: list[Check] = []
    should: list[Check] = []
    prohibited: list[tree.Item] = []
    for child in children:
        if not isinstance(child, tree.Item):  # a compiled NEAR clause
            (must if default_must else should).append(child)
        elif isinstance(child, tree.Not | tree.Prohibit):
            prohibited.append(child.a)
        elif isinstance(child, tree.Plus):
            must.append(_compile(child.a))
        else:
            (must if default_must else should).append(_compile(child))
    positives = _positive_sequences(node)
    masks: list[str] = []
    must_not: list[Check] = []
    for excluded in prohibited:
        phrases = _exclusion_phrases(excluded)
        if phrases and all(any(_contains(p, pos) for pos in positives) for p in phrases):
            masks.extend(f" {' '.join(p)} " for p in phrases)
        else:
            must_not.append(_compile(excluded))
    mask_tuple = tuple(masks)

    def check(text: MatchText) -> tuple[str, ...] | None:
        if mask_tuple:
            text = text.masked(mask_tuple)
        for test in must_not:
            if test(text) is not None:
                return None
        terms: list[str] = []
        for test in must:
            found = test(text)
            if found is None:
                return None
            terms.extend(found)
        matched_optional = False
        for test in should:
            found = test(text)
            if found is not None:
                matched_optional = True
                terms.extend(found)
        if should and not must and not matched_optional:
            return None
        return tuple(dict.fromkeys(terms))

    return check


def _compile(node: tree.Item) -> Check:
    construct = unsupported(node)
    if construct:
        raise QuerySyntaxError(f"{construct} are not supported (in {str(node).strip()!r})")
    if isinstance(node, tree.Word):
        return _term(node.value, node.value, wildcard=True)
    if isinstance(node, tree.Phrase):
        return _term(_unquote(node.value), _unquote(node.value), wildcard=False)
    if isinstance(node, tree.Proximity):
        return _proximity(node)
    if isinstance(node, tree.Group):
        return _compile(node.expr)
    if isinstance(node, tree.BaseOperation | tree.Not | tree.Prohibit | tree.Plus):
        return _boolean(node)
    raise QuerySyntaxError(f"unsupported query construct {type(node).__name__}: {node!s}")
