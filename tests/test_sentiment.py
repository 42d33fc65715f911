"""Sentiment component: rules on hand-written sentences, and measured floors on labelled data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from classifiers.context import BrandProfile
from classifiers.nlp import pipeline_for
from classifiers.tags import TagResult

POS, NEU, NEG = "positive", "neutral", "negative"


def rules_only(nlp, doc):  # type: ignore[no-untyped-def]
    """Run the rule components alone: these tests pin the rules; the learned layer that
    runs after them has its own tests (tests/test_learned.py)."""
    doc = nlp.make_doc(doc) if isinstance(doc, str) else doc
    for name, component in nlp.pipeline:
        if name != "vigia_learned":
            doc = component(doc)
    return doc


def sentiment(text: str, lang: str) -> TagResult:
    result = rules_only(pipeline_for(lang), text)._.sentiment
    assert isinstance(result, TagResult)
    return result


SPANISH = [
    # plain words, accents missing, inflections
    ("El servicio de atención al cliente es pésimo", NEG),
    ("el servicio es pesimo", NEG),
    ("Unos estafadores, me han cobrado de más", NEG),
    ("La instalación fue rapidísima y el técnico muy amable", POS),
    ("Estoy encantada con la fibra nueva", POS),
    ("Os recomiendo esta compañía sin dudarlo", POS),
    ("Lo recomiendo 100%", POS),
    ("Calderix sube las tarifas un 3% en julio", NEU),
    ("¿Alguien sabe a qué hora abre la tienda del centro?", NEU),
    ("Mañana presentan el nuevo router en Madrid", NEU),
    # negation
    ("No está mal, la verdad", POS),
    ("No es bueno el servicio técnico", NEG),
    ("No me gusta nada la nueva app", NEG),
    ("No tengo ninguna queja, todo perfecto", POS),
    ("En un año nunca me han fallado", POS),
    ("Ni tan mal la cobertura en el pueblo", POS),
    ("No lo recomiendo a nadie", NEG),
    # multi-word expressions
    ("La app no funciona desde ayer", NEG),
    ("Tres días sin internet en casa", NEG),
    ("Me han cobrado dos veces la factura", NEG),
    ("Sigo esperando que alguien me llame", NEG),
    ("Merece la pena el cambio", POS),
    ("Disculpa las molestias, te escribimos por privado", NEU),
    # intensifiers, diminishers
    ("Es un poco lento por las noches", NEU),
    ("Es muy lento por las noches", NEG),
    ("La velocidad es súper buena", POS),
    # contrast
    ("Buen precio, pero el soporte es horrible", NEG),
    ("El soporte es lento, pero funciona de maravilla", POS),
    ("Tardaron un poco; sin embargo el técnico fue excelente", POS),
    # emoji, emoticons, caps, elongation
    ("Calderix 😡😡", NEG),
    ("fibra instalada en 20 minutos 😍", POS),
    ("Ya tengo el router nuevo :)", POS),
    ("Otra factura más 👎", NEG),
    ("PÉSIMO servicio", NEG),
    ("malísimoooo el soporte", NEG),
    ("Buenísimo el roaming en Brasil", POS),
    ("bueeeenisimo", POS),
    # issue 4: general coverage beyond the dev set (colloquial, customer experience, no accents)
    ("Una pasada la velocidad de la fibra nueva", POS),
    ("No me quejo, la cobertura va bien", POS),
    ("Ni un solo corte en todo el verano", POS),
    ("Llevo tres días sin fibra en casa", NEG),
    ("Os he llamado tres veces y seguís sin darme una solución", NEG),
    ("Me han subido la tarifa sin previo aviso", NEG),
    ("Arreglad la app de una vez", NEG),
    ("que verguenza de atencion, me dan largas", NEG),
    ("Menuda tomadura de pelo con la permanencia", NEG),
    # questions ask rather than judge; irony markers turn praise next to a complaint around
    ("¿Todavía no ha llegado el 5G a Cáceres?", NEU),
    ("Todavía no ha llegado el 5G a Cáceres", NEG),
    ("genial, otra vez sin internet 🙃", NEG),
    # an incident reported as news is not a complaint
    ("La compañía confirma una avería en Huelva", NEU),
    ("No puedo entrar en la app desde ayer", NEG),
]

ENGLISH = [
    ("The customer service is terrible", NEG),
    ("Worst provider I have ever had", NEG),
    ("What a rip-off, hidden fees everywhere", NEG),
    ("They overcharged me again", NEG),
    ("Great value and really reliable", POS),
    ("I highly recommend them", POS),
    ("Installation was quick and painless", POS),
    ("Calderix will switch off its 3G network in June", NEU),
    ("Does anyone know if they support eSIM?", NEU),
    ("The store opens at 9 tomorrow", NEU),
    # negation
    ("Not bad at all", POS),
    ("It is not good", NEG),
    ("I don't like the new app", NEG),
    ("I'm not happy with the service", NEG),
    ("Never had a problem with them", POS),
    ("I wouldn't recommend them", NEG),
    ("The app doesn't work since the update", NEG),
    ("Still waiting for my refund", NEG),
    ("No signal since 8am", NEG),
    # intensifiers and diminishers
    ("It is a bit slow at night", NEU),
    ("It is extremely slow at night", NEG),
    ("Barely faster than my old provider", NEG),
    ("The coverage is really good", POS),
    # contrast
    ("The price is great but the support is awful", NEG),
    ("Support is slow, but honestly the network is excellent", POS),
    ("It was slow at first. However, now it works perfectly", POS),
    # emoji, emoticons, caps, elongation
    ("Third outage this week 😤", NEG),
    ("New router arrived 🎉", POS),
    ("thanks for the quick fix :-)", POS),
    ("This is SO BAD", NEG),
    ("sooooo good", POS),
    ("Billing is a mess 💩", NEG),
    # issue 4: general coverage beyond the dev set
    ("Router swapped the next morning, no fuss. Props.", POS),
    ("The new plan is honestly a steal", POS),
    ("Works like a charm since they fixed it", POS),
    ("My bill went up with zero notice", NEG),
    ("The app isn't working at all", NEG),
    ("Disputed the charge three times and it is still on the bill", NEG),
    ("They sent the router to the wrong address", NEG),
    ("Well, you just lost a customer", NEG),
    ("Any idea why my bill is wrong?", NEU),
    ("Great, down again 🙄", NEG),
    ("Engineers confirm the outage in Valencia", NEU),
    ("Can't log in since this morning", NEG),
]


@pytest.mark.parametrize(("text", "expected"), SPANISH)
def test_spanish(text: str, expected: str) -> None:
    assert sentiment(text, "es").label == expected


@pytest.mark.parametrize(("text", "expected"), ENGLISH)
def test_english(text: str, expected: str) -> None:
    assert sentiment(text, "en").label == expected


ROUND_TWO = [
    # review stars: a run sums filled minus empty
    ("★★☆☆☆ Fibra 300, nada que destacar", "es", NEG),
    ("★★★★★ the installer was on time", "en", POS),
    ("★★★☆☆", "en", NEU),
    # an emoticon-like "):" after a parenthesis is punctuation, not a frown
    ("Nuevo horario de tiendas (solo en Madrid): abren a las nueve", "es", NEU),
    # "-d" is stripped only from "-ed": "fund" is not "fun"
    ("The company set up a pension fund for staff", "en", NEU),
    # sarcastic thanks closing a post of complaints; sincere or polite thanks stay positive
    ("My line was cut for a week and the bill went up again. Thanks a lot.", "en", NEG),
    ("Me han cobrado una penalización que nadie me explicó. Gracias, de verdad.", "es", NEG),
    ("Thanks for fixing my line so quickly", "en", POS),
    # idiom of price, negated: "no me cuesta un ojo de la cara" praises
    ("Con esta tarifa llamar fuera no me cuesta un ojo de la cara", "es", POS),
    # a report attributing events to a source is news
    ("Según fuentes del sector, la operadora cerrará tiendas y recortará plantilla", "es", NEU),
    # problem narratives without an explicit negative word
    ("My parcel still hasn't moved since Monday", "en", NEG),
    ("Por tercera vez llamo para lo mismo", "es", NEG),
    # opinion-seeking questions ask, they do not praise
    ("Is their fibre any good in Cádiz?", "en", NEU),
]


@pytest.mark.parametrize(("text", "lang", "expected"), ROUND_TWO)
def test_round_two_rules(text: str, lang: str, expected: str) -> None:
    assert sentiment(text, lang).label == expected


def test_evidence_spans_slice_the_text_and_say_why() -> None:
    text = "Buen precio, pero el soporte es PÉSIMO y no funciona nada 😡"
    result = sentiment(text, "es")
    assert result.label == NEG and result.score < 0
    assert result.evidence
    for item in result.evidence:
        assert text[item.start : item.end] == item.text
        assert "negative" in item.reason
    reasons = {item.text: item.reason for item in result.evidence}
    assert reasons["PÉSIMO"] == "intensified negative word"
    assert reasons["😡"] == "negative emoji"
    assert "Buen" not in reasons  # the losing side is not evidence


def test_negated_evidence_is_labelled() -> None:
    result = sentiment("No está nada mal", "es")
    assert [(e.text, e.reason) for e in result.evidence] == [("mal", "negated negative word")]


def test_stronger_words_score_further_from_zero() -> None:
    assert sentiment("muy malo", "es").score < sentiment("malo", "es").score < 0
    assert sentiment("good", "en").score < sentiment("really good!!!", "en").score


def test_neutral_without_sentiment_words_has_no_evidence() -> None:
    result = sentiment("La tienda abre a las nueve", "es")
    assert result.label == NEU and result.score == 0 and result.evidence == ()


def test_clauses_about_a_competitor_do_not_count_as_such() -> None:
    profile = BrandProfile(name="Calderix", terms=("calderix",), competitors=("Fonaris",))

    def toward_brand(text: str) -> str:
        nlp = pipeline_for("es")
        doc = nlp.make_doc(text)
        doc._.vigia_brand = profile
        return rules_only(nlp, doc)._.sentiment.label

    text = "Fonaris es una basura, hoy me he pasado a Calderix"
    assert sentiment(text, "es").label == NEG  # the whole post
    # toward Calderix: the blame is Fonaris's, and next to a switch to Calderix it reads as
    # preference for the brand (round 2, issue 4: the labelled sets agree)
    assert toward_brand(text) == POS
    assert toward_brand("Fonaris es una basura") == NEU  # the brand not named: nothing for it
    assert toward_brand("Calderix es una basura, me voy a Fonaris") == NEG
    assert toward_brand("Fonaris y Calderix son una basura") == NEG  # both named: counts
    # a judgement belongs to the mention it follows, also in the next clause
    assert toward_brand("Los routers de Fonaris son basura, se cuelgan cada dos días") == NEU
    # comparing a competitor favourably with the brand is against the brand
    assert toward_brand("Fonaris es mucho mejor que Calderix") == NEG
    assert toward_brand("Calderix es mucho mejor que Fonaris") == POS


def test_english_comparison_with_a_competitor_counts_against_the_brand() -> None:
    profile = BrandProfile(name="Calderix", terms=("calderix",), competitors=("Fonaris",))
    nlp = pipeline_for("en")
    doc = nlp.make_doc("Fonaris has treated me far better than Calderix")
    doc._.vigia_brand = profile
    assert rules_only(nlp, doc)._.sentiment.label == NEG


# ----------------------------------------------------------------- measured floors


def _macro_f1(gold: list[str], pred: list[str]) -> float:
    scores = []
    for label in (NEG, NEU, POS):
        tp = sum(g == p == label for g, p in zip(gold, pred, strict=True))
        predicted, actual = pred.count(label), gold.count(label)
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        scores.append(2 * precision * recall / (precision + recall) if tp else 0.0)
    return sum(scores) / 3


def _labels(texts: list[str], lang: str) -> list[str]:
    return [doc._.sentiment.label for doc in pipeline_for(lang).pipe(texts, batch_size=256)]


def _rows(path: Path, source: str, split: str) -> list[dict[str, str]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return [r for r in rows if r["source"] == source and r["split"] == split]


def test_floor_on_in_domain_dev_set(shared_dir: Path) -> None:
    rows = [json.loads(line) for line in (shared_dir / "eval/dev.jsonl").read_text().splitlines()]
    gold, pred = [], []
    for lang in ("es", "en"):
        subset = [r for r in rows if r["lang"] == lang]
        gold += [r["sentiment"] for r in subset]
        pred += _labels([r["text"] for r in subset], lang)
    # A regression check only: measured 0.795, but the lexicon authors had read this set
    # (entries lifted from single sentences were removed in issue 12); public floors below,
    # held-out floors per language in tests/test_holdout.py. It was 0.822 before the VADER
    # terms and the blind-written half of the training set, which raised the held-out and
    # public figures (see README, "How good is it").
    assert _macro_f1(gold, pred) >= 0.78


@pytest.mark.parametrize(
    ("file", "source", "lang", "floor"),
    [
        # With the learned layer (rules alone in brackets, the proof that it helps):
        # XLM-T / UMSAB Spanish test (balanced): measured 0.550 (0.538); FastText 0.501
        ("sentiment_es.jsonl", "umsab_es", "es", 0.54),
        # InterTASS 2017 test, 3-class: measured 0.547 (0.493); majority class 0.192
        ("sentiment_es.jsonl", "intertass2017", "es", 0.53),
        # SemEval-2017 4A English test: measured 0.583 (0.542); VADER 0.529
        ("sentiment_en.jsonl", "tweeteval_sentiment_semeval2017", "en", 0.57),
    ],
)
def test_floor_on_public_test_sets(
    shared_dir: Path, file: str, source: str, lang: str, floor: float
) -> None:
    rows = _rows(shared_dir / "corpora/nlp" / file, source, "test")
    assert rows, f"no {source}/test rows in {file}"
    score = _macro_f1([r["label"] for r in rows], _labels([r["text"] for r in rows], lang))
    assert score >= floor, f"{source}/test macro-F1 {score:.3f} fell below {floor}"
