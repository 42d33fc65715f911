"""The parts of Lucene syntax (as luqum parses it) that Vigía reads nowhere.

Brand queries (classifiers/query.py) and the inbox's search box (monitor/core/search.py)
both refuse these constructs, each with its own wording around the same description.
"""

from __future__ import annotations

from luqum import tree

#: luqum node type → what a person typed, for the error message
UNSUPPORTED: dict[type, str] = {
    tree.SearchField: "field searches like title:word",
    tree.FieldGroup: "field searches like title:(a b)",
    tree.Range: "ranges like [a TO b]",
    tree.From: "open ranges like >a",
    tree.To: "open ranges like <a",
    tree.OpenRange: "open ranges",
    tree.Fuzzy: "fuzzy terms like word~",
    tree.Regex: "regular expressions like /re/",
    tree.Boost: "boosts like word^2",
}


def unsupported(node: tree.Item) -> str | None:
    """The description of `node`'s construct when it is one of UNSUPPORTED, else None."""
    return next((name for kind, name in UNSUPPORTED.items() if isinstance(node, kind)), None)
