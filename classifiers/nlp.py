"""Per-language spaCy pipelines with Vigía's components, built once and shared.

A trained pipeline (es_core_news_sm, en_core_web_sm, …) is used when one is installed, for
its better tokenisation, lemmas and entities; otherwise `spacy.blank(lang)`, so the project
works fully offline. Languages spaCy has no tokenizer for fall back to the multilingual "xx".
Vigía's components are appended last, so they never change what a trained model sees.
New components (leak, employee, policy, complaint) are added by appending to COMPONENTS.

A built pipeline lives as long as the process (lexicons, pattern indexes, model weights:
hundreds of thousands of Python objects), so once it is built the objects alive are moved
out of the cyclic garbage collector's reach (`gc.freeze`): otherwise every full collection,
which the many short-lived objects of classification trigger, walks them all again. Measured
with `benchmarks.classify_bench`, three runs each way on 2 cores: 5,224–5,495 posts/s frozen
against 4,211–4,848 not.
"""

from __future__ import annotations

import gc
import threading

import spacy
from spacy.language import Language

# Imported for their side effect: registering the vigia_* spaCy factories.
from classifiers import complaint, employee, policy, sentiment  # noqa: F401
from classifiers.leaks import component  # noqa: F401
from classifiers.learned import component as learned  # noqa: F401
from classifiers.lexicons import available_languages

TRAINED = {
    "es": ("es_core_news_sm", "es_core_news_md", "es_core_news_lg"),
    "en": ("en_core_web_sm", "en_core_web_md", "en_core_web_lg"),
    "pt": ("pt_core_news_sm",),
    "fr": ("fr_core_news_sm",),
    "de": ("de_core_news_sm",),
    "it": ("it_core_news_sm",),
    "ca": ("ca_core_news_sm",),
}
# (factory name, config) appended in order to every pipeline; "{lexicon}" in a config value
# is replaced by the language whose lexicons the component should load.
COMPONENTS: list[tuple[str, dict[str, str]]] = [
    ("vigia_sentiment", {"lang": "{lexicon}"}),
    ("vigia_leak", {}),
    ("vigia_employee", {}),
    ("vigia_policy", {"lang": "{lexicon}"}),
    ("vigia_complaint", {"lang": "{lexicon}"}),
    # Last: the shipped models decide again from every rule's tags (classifiers.learned).
    ("vigia_learned", {}),
]
# Trained components that cost time and that Vigía's rules do not use.
_DISABLED = ("parser", "ner", "senter", "tagger", "morphologizer", "attribute_ruler", "lemmatizer")

_lock = threading.Lock()
_pipelines: dict[str, Language] = {}


def _base(lang: str) -> Language:
    for package in TRAINED.get(lang, ()):
        if spacy.util.is_package(package):
            return spacy.load(package, exclude=list(_DISABLED))
    try:
        return spacy.blank(lang)
    except (ImportError, KeyError, ValueError):
        return spacy.blank("xx")


def _build(lang: str) -> Language:
    nlp = _base(lang)
    # Lexicons exist for a few languages; others score with English rules plus emoji.
    lexicon_lang = lang if lang in available_languages() else "en"
    for factory, config in COMPONENTS:
        nlp.add_pipe(factory, config={k: v.replace("{lexicon}", lexicon_lang)
                                      for k, v in config.items()})
    return nlp


def pipeline_for(lang: str) -> Language:
    """The shared pipeline for an ISO 639-1 code ('und' and unknown codes get 'xx')."""
    key = lang if lang and lang != "und" else "xx"
    nlp = _pipelines.get(key)
    if nlp is None:
        with _lock:
            nlp = _pipelines.get(key)
            if nlp is None:
                nlp = _pipelines[key] = _build(key)
                gc.freeze()  # long-lived from here on: see the module docstring
    return nlp
