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
word type (`Featurizer`), and evidence is computed only for changed decisions.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy import sparse
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import minibatch

from classifiers.batching import DEFAULT_BATCH_SIZE, BatchedComponent
from classifiers.context import add_tags, doc_added_tags, doc_brand, extension_key
from classifiers.learned.deployment import DeploymentModels, base_features
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
        features, columns = self.featurizer.rows(
            [(doc, doc_brand(doc), self.lang, found, None) for doc, found in zip(docs, tags,
                                                                                 strict=True)])
        for family, model in self.models.items():
            probs = model.probabilities(features)
            deciders = [(model, row) for row in probs.tolist()]
            if deployment is not None:
                self._stacked(docs, family, model, deployment, features, probs, deciders)
            if family == "sentiment":
                self._sentiments(docs, columns, deciders)
            else:
                self._booleans(docs, tags, columns, deciders, family)

    def _stacked(self, docs: Sequence[Doc], family: str, base: LinearModel,
                 deployment: DeploymentModels, features: sparse.csr_matrix,
                 probs: np.ndarray, deciders: list[tuple[LinearModel, list[float]]]) -> None:
        """Put the deployment model's (model, probabilities) in `deciders` for each Doc of a
        brand that has one for `family` (one product per model)."""
        chosen: dict[int, tuple[LinearModel, list[int]]] = {}
        for index, doc in enumerate(docs):
            profile = doc_brand(doc)
            found = deployment.model_for(profile.name if profile else None, family, base)
            if found is not None and self.lang in found.languages:
                chosen.setdefault(id(found), (found, []))[1].append(index)
        for model, rows in chosen.values():
            stacked = base_features(features[rows], {family: base}, {family: probs[rows]})
            for index, row in zip(rows, model.probabilities(stacked).tolist(), strict=True):
                deciders[index] = (model, row)

    def _sentiments(self, docs: Sequence[Doc], columns: list[list[int]],
                    deciders: list[tuple[LinearModel, list[float]]]) -> None:
        """Replace the rules' sentiment of each Doc where the model decides another label."""
        changed: list[tuple[int, LinearModel, str, float]] = []
        for index, (doc, (model, probs)) in enumerate(zip(docs, deciders, strict=True)):
            rules = doc_sentiment(doc)
            label = decided_sentiment(rules, model, probs)
            if rules is not None and rules.label == label:
                continue
            by_class = dict(zip(model.classes, probs, strict=True))
            polarity = by_class.get("positive", 0.0) - by_class.get("negative", 0.0)
            if label == "positive":
                polarity = max(polarity, NEUTRAL_BAND)
            elif label == "negative":
                polarity = min(polarity, -NEUTRAL_BAND)
            else:
                polarity = max(-NEUTRAL_BAND + 0.01, min(NEUTRAL_BAND - 0.01, polarity))
            changed.append((index, model, label, polarity))
        evidence = self._evidence(docs, columns, [
            (index, model, model.classes.index(label), f"learned {label} word")
            for index, model, label, _ in changed])
        for (index, _, label, polarity), cited in zip(changed, evidence, strict=True):
            docs[index].user_data[SENTIMENT_KEY] = TagResult(
                "sentiment", label, round(polarity, 4), cited)

    def _booleans(self, docs: Sequence[Doc], tags: list[list[TagResult]],
                  columns: list[list[int]], deciders: list[tuple[LinearModel, list[float]]],
                  family: str) -> None:
        """Add the family's tag where the model says yes and the rules did not, remove the
        rules' where it says no."""
        added: list[tuple[int, LinearModel, float]] = []
        for index, (doc, found, (model, probs)) in enumerate(zip(docs, tags, deciders,
                                                                  strict=True)):
            # The rules' tags of the family, as the batch began: deciding another family
            # changes only that family's tags.
            current = [t for t in found if t.family == family]
            if not current and probs[1] < 0.5:  # the model agrees there is none
                continue
            says = decided_boolean(current, model, probs)
            if says == bool(current):
                continue
            if says:
                added.append((index, model, probs[1]))
            else:
                doc.user_data[_TAGS_KEY] = [t for t in doc_added_tags(doc) if t.family != family]
        evidence = self._evidence(docs, columns, [
            (index, model, 1, f"learned {family} word") for index, model, _ in added])
        for (index, _, probability), cited in zip(added, evidence, strict=True):
            add_tags(docs[index], [TagResult(family, family, round(probability, 4), cited)])

    def _evidence(self, docs: Sequence[Doc], columns: list[list[int]],
                  wanted: list[tuple[int, LinearModel, int, str]]
                  ) -> list[tuple[Evidence, ...]]:
        """For each (Doc's index, model, class, reason): the tokens that pushed hardest
        toward the class, in text order (`columns`: the Docs' word columns, as the batch's
        features were built from them); one `word_contributions` per model."""
        weights: list[list[float]] = [[] for _ in wanted]
        by_model: dict[int, tuple[LinearModel, list[int]]] = {}
        for n, (_, model, _, _) in enumerate(wanted):
            by_model.setdefault(id(model), (model, []))[1].append(n)
        for model, chosen in by_model.values():
            found = model.word_contributions([columns[wanted[n][0]] for n in chosen],
                                             [wanted[n][2] for n in chosen])
            for n, doc_weights in zip(chosen, found, strict=True):
                weights[n] = doc_weights
        return [self._cited(docs[index], doc_weights, reason)
                for (index, _, _, reason), doc_weights in zip(wanted, weights, strict=True)]

    def _cited(self, doc: Doc, weights: list[float], reason: str) -> tuple[Evidence, ...]:
        """The MAX_EVIDENCE tokens of highest positive weight that are not fillers (the
        first one on a tie), as Evidence in text order."""
        fillers = self.featurizer.fillers(doc)
        best = sorted([i for i, (w, filler) in enumerate(zip(weights, fillers, strict=True))
                       if w > 0 and not filler], key=weights.__getitem__,
                      reverse=True)[:MAX_EVIDENCE]
        offsets, orths, strings = doc_offsets(doc), doc_orths(doc), doc.vocab.strings
        text = doc_text(doc)
        found = []
        for i in sorted(best):
            start = offsets[i]
            end = start + len(strings[orths[i]])
            found.append(Evidence(start, end, text[start:end], reason))
        return tuple(found)


@Language.factory("vigia_learned", default_config={"models": ""})
def make_learned(nlp: Language, name: str, models: str) -> LearnedLayer:
    """spaCy factory: the models in `models` (a directory; default the shipped ones)."""
    return LearnedLayer(nlp.lang, load_models(Path(models) if models else MODEL_DIR))
