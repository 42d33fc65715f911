"""The learned layer: linear models over the rules' signals plus hashed words.

The rules (sentiment, complaint, employee…) give evidence and work from day one; a small
linear model per family, trained on redistributable labelled posts, reads what the rules
found (labels, scores, the kinds of evidence) together with the post's words and decides
again. A learned decision names the words that weighed most, as evidence readers see.

* `features`: what the model reads of a Doc (hashed, stateless: no vocabulary is shipped);
* `model`: the linear model, its plain-JSON file format, prediction and word evidence;
* `component`: the `vigia_learned` spaCy component that applies the shipped models.

Training lives in `classifiers.learning` (it runs the Analyzer, which imports this package).
"""
