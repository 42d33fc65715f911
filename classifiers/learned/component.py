"""The `vigia_learned` spaCy component: the shipped models decide after the rules.

It runs last, when every rule component has left its tags on the Doc, and for each family
with a model for the pipeline's language (sentiment, complaint, employee) it decides again
from the rules' signals and the words (`classifiers.learned.features`):

* when the model agrees with the rules, the rules' tag stays as it is, with its evidence;
* when it disagrees, the model's decision replaces it (or removes a boolean tag), and the
  new tag's evidence names the words that weighed most toward it ("learned negative word");
* with `combine = "rules_where_sure"`, a rules' tag whose score reaches the model's `sure`
  is kept whatever the model says.

A sentiment the model decides keeps the signed-polarity scale of the rules' score
(P(positive) − P(negative), moved into the label's band), so rankings by "how negative"
still mean the same thing. Without model files the component changes nothing.

Deployment models (`classifiers.learned.deployment`, trained by `monitor train` on the
team's corrections) come with each batch from the Analyzer; where one applies to a Doc's
brand and family, it decides instead of the shipped model, reading the shipped model's
probabilities as features, and its evidence names its own weighed words.

Speed: a batch is scored at once (one sparse product per family); words are folded once per
word type (`Featurizer`); the decisions are read from the batch's probability arrays (one
argmax for the sentiment labels; a boolean family visits only the Docs the rules tagged or
the model says yes to); and evidence is computed only for changed decisions, all of a
batch's in one `classifiers.learned.explain.strongest_tokens` call, from the word columns
the features were built from.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy import sparse
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import minibatch

from classifiers.batching import DEFAULT_BATCH_SIZE, BatchedComponent
from classifiers.context import (
    BrandProfile,
    add_tags,
    doc_added_tags,
    doc_brand,
    doc_is_article,
    extension_key,
    vetoed,
)
from classifiers.learned.deployment import DeploymentModels, base_features
from classifiers.learned.explain import strongest_tokens
from classifiers.learned.features import Featurizer
from classifiers.learned.model import LinearModel
from classifiers.sentiment import NEUTRAL_BAND, SENTIMENT_KEY, doc_sentiment
from classifiers.tags import Evidence, TagResult
from classifiers.termlists import doc_offsets, doc_orths, doc_text

#: Where `make models` writes the shipped models (one `<family>.json` each).
MODEL_DIR = Path(__file__).resolve().parents[1] / "models"
FAMILIES = ("sentiment", "complaint", "employee")
MAX_EVIDENCE = 5
_TAGS_KEY = extension_key("vigia_tags")
#: A tag the layer writes, its evidence still to find: (the Doc's index in the batch, the
#: model that decided, the class it decided, family, label, score).
_Written = tuple[int, LinearModel, int, str, str, float]
#: A deployment model deciding for a Doc, and its probabilities.
_Decider = tuple[LinearModel, list[float]]


@lru_cache(maxsize=8)
def load_models(directory: Path = MODEL_DIR) -> dict[str, LinearModel]:
    """The models found in `directory` ({} when there are none), read once per process
    (every language's pipeline shares them; they are never written to)."""
    return {family: LinearModel.load(directory / f"{family}.json")
            for family in FAMILIES if (directory / f"{family}.json").is_file()}


def rule_tags(doc: Doc) -> list[TagResult]:
    """The rules' tags on a Doc: its sentiment, then what the components added."""
    sentiment = doc_sentiment(doc)
    return ([sentiment] if sentiment else []) + list(doc_added_tags(doc))


def decided_sentiment(rules: TagResult | None, model: LinearModel, probs: Sequence[float]) -> str:
    """The sentiment label the layer settles on, from the rules' tag and the model's
    probabilities (`model.combine` says who decides)."""
    if rules is not None and model.combine == "rules_where_sure" and abs(rules.score) >= (
            model.sure):
        return rules.label
    return str(model.classes[max(range(len(probs)), key=probs.__getitem__)])


def decided_boolean(current: Sequence[TagResult], model: LinearModel,
                    probs: Sequence[float]) -> bool:
    """Whether the layer tags the family, given the rules' tags of it and the model."""
    if current and model.combine == "rules_where_sure" and max(
            t.score for t in current) >= model.sure:
        return True
    return probs[1] >= 0.5


class LearnedLayer(BatchedComponent):
    """Applies `models` (family → model) to Docs of one language."""

    def __init__(self, lang: str, models: dict[str, LinearModel]) -> None:
        self.lang = lang
        self.models = {f: m for f, m in models.items() if lang in m.languages}
        self.featurizer = Featurizer()

    def __call__(self, doc: Doc, deployment: DeploymentModels | None = None) -> Doc:
        self.decide([doc], deployment)
        return doc

    def pipe(self, docs: Iterable[Doc], batch_size: int = DEFAULT_BATCH_SIZE,
             deployment: DeploymentModels | None = None) -> Iterator[Doc]:
        """`deployment` (the Analyzer passes it through `nlp.pipe`'s component_cfg): the
        team's own models, deciding in place of the shipped ones where they apply."""
        for batch in minibatch(docs, size=batch_size):
            self.decide(batch, deployment)
            yield from batch

    def decide(self, docs: Sequence[Doc], deployment: DeploymentModels | None = None) -> None:
        """Score a batch with every model and rewrite the tags where the model decides."""
        if not self.models or not docs:
            return
        tags = [rule_tags(doc) for doc in docs]
        profiles = [doc_brand(doc) for doc in docs]
        features, columns = self.featurizer.rows(docs, profiles, [self.lang] * len(docs), tags)
        having: dict[str, set[int]] = {}  # family → the Docs where the rules tagged it
        for index, found in enumerate(tags):
            for tag in found:
                having.setdefault(tag.family, set()).add(index)
        written: list[_Written] = []
        for family, model in self.models.items():
            probs = model.probabilities(features)
            stacked = ({} if deployment is None else
                       self._stacked(profiles, family, model, deployment, features, probs))
            if family == "sentiment":
                written += self._sentiments(docs, model, probs, stacked)
            else:
                written += self._booleans(docs, tags, having.get(family, set()), model, probs,
                                          stacked, family)
        evidence = self._evidence(docs, columns, written)
        for (index, _, _, family, label, score), cited in zip(written, evidence, strict=True):
            tag = TagResult(family, label, score, cited)
            if family == "sentiment":
                docs[index].user_data[SENTIMENT_KEY] = tag
            else:  # appended after any removal, as it would have been before it
                add_tags(docs[index], [tag])

    def _stacked(self, profiles: Sequence[BrandProfile | None], family: str,
                 base: LinearModel, deployment: DeploymentModels,
                 features: sparse.csr_matrix, probs: np.ndarray) -> dict[int, _Decider]:
        """The deployment model and its probabilities for each Doc (by index) of a brand
        that has one for `family` (one product per model); the others keep `base`'s."""
        chosen: dict[int, tuple[LinearModel, list[int]]] = {}
        for index, profile in enumerate(profiles):
            found = deployment.model_for(profile.name if profile else None, family, base)
            if found is not None and self.lang in found.languages:
                chosen.setdefault(id(found), (found, []))[1].append(index)
        deciders: dict[int, _Decider] = {}
        for model, rows in chosen.values():
            stacked = base_features(features[rows], {family: base}, {family: probs[rows]})
            for index, row in zip(rows, model.probabilities(stacked).tolist(), strict=True):
                deciders[index] = (model, row)
        return deciders

    def _sentiments(self, docs: Sequence[Doc], base: LinearModel, probs: np.ndarray,
                    stacked: dict[int, _Decider]) -> list[_Written]:
        """The sentiment tags to write where the model decides another label than the
        rules' (their evidence still to find). `base` decided `probs` except for the Docs in
        `stacked`; where it decides, the label `decided_sentiment` gives is found for the
        whole batch at once."""
        chosen = [base.classes[k] for k in probs.argmax(axis=1).tolist()]  # first on a tie
        sure = base.sure if base.combine == "rules_where_sure" else math.inf
        written: list[_Written] = []
        for index, (doc, label) in enumerate(zip(docs, chosen, strict=True)):
            rules = doc_sentiment(doc)
            decider = stacked.get(index) if stacked else None
            if decider is not None:
                model, row = decider
                label = decided_sentiment(rules, model, row)
            elif rules is not None and abs(rules.score) >= sure:
                continue  # the rules are sure: their label stays
            if rules is not None and rules.label == label:
                continue
            if decider is None:
                model, row = base, probs[index].tolist()
            by_class = dict(zip(model.classes, row, strict=True))
            polarity = by_class.get("positive", 0.0) - by_class.get("negative", 0.0)
            if label == "positive":
                polarity = max(polarity, NEUTRAL_BAND)
            elif label == "negative":
                polarity = min(polarity, -NEUTRAL_BAND)
            else:
                polarity = max(-NEUTRAL_BAND + 0.01, min(NEUTRAL_BAND - 0.01, polarity))
            written.append((index, model, model.classes.index(label), "sentiment", label,
                            round(polarity, 4)))
        return written

    def _booleans(self, docs: Sequence[Doc], tags: list[list[TagResult]], having: set[int],
                  base: LinearModel, probs: np.ndarray, stacked: dict[int, _Decider],
                  family: str) -> list[_Written]:
        """Remove the rules' tags of the family where the model says no; the tags to add
        where it says yes and the rules did not (their evidence still to find). `tags`: the
        rules' tags as the batch began (deciding another family changes only that family's
        tags), `having` the Docs with one of the family; `base` decided `probs` except for
        the Docs in `stacked`. Only those Docs and the ones the model says yes to are read:
        elsewhere the rules have no tag of the family and the model agrees."""
        written: list[_Written] = []
        for index in sorted(having.union(np.flatnonzero(probs[:, 1] >= 0.5).tolist(), stacked)):
            model, row = stacked.get(index) or (base, probs[index].tolist())
            current = [t for t in tags[index] if t.family == family]
            if not current and row[1] < 0.5:
                continue
            says = decided_boolean(current, model, row)
            if says == bool(current) or (says and (doc_is_article(docs[index])
                                                   or vetoed(docs[index], family))):
                continue  # on an article, only the rules' reading of who speaks adds these;
                # a family a rule ruled out (`context.veto`) stays out
            if says:
                written.append((index, model, 1, family, family, round(row[1], 4)))
            else:
                doc = docs[index]
                doc.user_data[_TAGS_KEY] = [t for t in doc_added_tags(doc) if t.family != family]
        return written

    def _evidence(self, docs: Sequence[Doc], columns: list[list[int]],
                  written: list[_Written]) -> list[tuple[Evidence, ...]]:
        """Each written tag's evidence: the tokens that pushed hardest toward its class
        (`classifiers.learned.explain`), from the Docs' word columns the batch's features
        were built from; all of the batch's at once."""
        if not written:
            return []
        fillers: dict[int, list[bool]] = {}
        for index, *_ in written:
            if index not in fillers:
                fillers[index] = self.featurizer.fillers(docs[index])
        best = strongest_tokens([columns[index] for index, *_ in written],
                                [fillers[index] for index, *_ in written],
                                [(model, label) for _, model, label, *_ in written],
                                MAX_EVIDENCE)
        return [_cited(docs[index], tokens, f"learned {label} word")
                for (index, _, _, _, label, _), tokens in zip(written, best, strict=True)]


def _cited(doc: Doc, tokens: list[int], reason: str) -> tuple[Evidence, ...]:
    """The Doc's `tokens` (indices, in text order) as Evidence spans."""
    offsets, orths, strings = doc_offsets(doc), doc_orths(doc), doc.vocab.strings
    text = doc_text(doc)
    found = []
    for i in tokens:
        start = offsets[i]
        end = start + len(strings[orths[i]])
        found.append(Evidence(start, end, text[start:end], reason))
    return tuple(found)


@Language.factory("vigia_learned", default_config={"models": ""})
def make_learned(nlp: Language, name: str, models: str) -> LearnedLayer:
    """spaCy factory: the models in `models` (a directory; default the shipped ones)."""
    return LearnedLayer(nlp.lang, load_models(Path(models) if models else MODEL_DIR))
