"""Loading the lexicon data files under classifiers/lexicons/.

Lexicons are data, not code (DESIGN.md): a user can read, correct or extend them without
touching Python. Every term is folded on load (casefold + accents stripped, see
`monitor.core.textfold.fold`) so "pésimo" in a file matches "pesimo", "PÉSIMO" and "Pésimo".

File formats (UTF-8, `#` starts a comment line, blank lines ignored):

* `sentiment_<lang>.tsv` and `emoji.tsv`: `term<TAB>score`, score in [-4, 4]. A trailing `*`
  marks a stem matched as a prefix (at least 4 letters: `estaf*` = estafa, estafadores…).
  A term with spaces or inner punctuation is a multi-word expression ("no funciona").
* `intensifiers_<lang>.tsv`: `term<TAB>multiplier` for the next sentiment word: >1
  intensifies ("muy"), <1 diminishes ("un poco"), <0 flips and dampens ("apenas", "barely").
* `negators_<lang>.txt`, `contrast_<lang>.txt`: one term per line.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from monitor.core.textfold import fold

LEXICON_DIR = Path(str(resources.files("classifiers") / "lexicons"))
MIN_STEM = 4


@dataclass(frozen=True, slots=True)
class Lexicon:
    """The sentiment data for one language, folded and ready for look-ups."""

    lang: str
    words: dict[str, float]
    stems: dict[str, float]
    phrases: dict[str, float]
    intensifiers: dict[str, float]
    negators: frozenset[str]
    contrast: frozenset[str]


def _lines(path: Path) -> list[str]:
    if not path.is_file():
        return []
    text = path.read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def read_scores(path: Path) -> dict[str, float]:
    """`term<TAB>number` lines → {folded term: number}; a malformed line names its file."""
    scores: dict[str, float] = {}
    for number, line in enumerate(_lines(path), 1):
        term, sep, value = line.rpartition("\t")
        try:
            scores[fold(term).strip()] = float(value)
        except ValueError:
            raise ValueError(f"{path.name}: line {number} {line!r} is not term<TAB>number") \
                from None
        if not sep:
            raise ValueError(f"{path.name}: line {number} {line!r} has no TAB")
    return scores


def read_terms(path: Path) -> frozenset[str]:
    return frozenset(fold(line) for line in _lines(path))


def _is_single(term: str) -> bool:
    return " " not in term and (term.isalnum() or not any(c.isalnum() for c in term))


@cache
def load(lang: str, directory: Path = LEXICON_DIR) -> Lexicon:
    """The lexicon for lang ('es', 'en'); unknown languages get an empty one plus emoji."""
    entries = {**read_scores(directory / "emoji.tsv"),
               **read_scores(directory / f"sentiment_{lang}.tsv")}
    words: dict[str, float] = {}
    stems: dict[str, float] = {}
    phrases: dict[str, float] = {}
    for term, score in entries.items():
        if term.endswith("*") and _is_single(term[:-1]):
            if len(term) - 1 < MIN_STEM:
                raise ValueError(f"sentiment_{lang}.tsv: stem {term!r} is shorter than {MIN_STEM}")
            stems[term[:-1]] = score
        elif _is_single(term):
            words[term] = score
        else:
            phrases[term] = score
    return Lexicon(
        lang=lang,
        words=words,
        stems=stems,
        phrases=phrases,
        intensifiers=read_scores(directory / f"intensifiers_{lang}.tsv"),
        negators=read_terms(directory / f"negators_{lang}.txt"),
        contrast=read_terms(directory / f"contrast_{lang}.txt"),
    )


def available_languages(directory: Path = LEXICON_DIR) -> tuple[str, ...]:
    """Languages with a sentiment lexicon file."""
    return tuple(sorted(p.stem.split("_", 1)[1] for p in directory.glob("sentiment_*.tsv")))
