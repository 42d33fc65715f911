"""Complaint component: customer complaints and support requests, Spanish and English."""

from __future__ import annotations

from dataclasses import replace

import pytest
from spacy.tokens import Doc

from classifiers.complaint import INDUSTRY_DIR, WEIGHTS
from classifiers.context import BrandProfile, EmployeeRef, by_brand_account, set_context
from classifiers.lexicons import LEXICON_DIR
from classifiers.nlp import pipeline_for
from classifiers.tags import TagResult
from classifiers.termlists import read_labelled_terms
from monitor.core.settings import INDUSTRY_PACKS
from tests.test_sentiment import rules_only

PROFILE = BrandProfile(
    name="Calderix",
    terms=("calderix movil", "calderix"),
    competitors=("Fonaris", "Redalia"),
    employees=(EmployeeRef("Marta Gil", ("@martagil_cx",)),),
    industry="telecom",
)


def complaint(text: str, lang: str, author: str | None = None,
              article: bool = False, profile: BrandProfile = PROFILE) -> TagResult | None:
    nlp = pipeline_for(lang)
    doc = nlp.make_doc(text)
    doc._.vigia_brand = profile
    doc._.vigia_author = author
    doc._.vigia_article = article
    doc = rules_only(nlp, doc)
    found = [t for t in doc._.vigia_tags or () if t.family == "complaint"]
    assert len(found) <= 1
    return found[0] if found else None


COMPLAINTS = [
    ("Dos días sin internet en Getafe, Calderix, ¿para cuándo?", "es"),
    ("Calderix me ha cobrado dos veces la cuota de abril", "es"),
    ("Llevo una hora en espera con Calderix, increíble", "es"),
    ("Pedí la baja en Calderix hace un mes y me siguen cobrando", "es"),
    ("@calderix ¿cómo puedo cambiar la dirección de facturación?", "es"),
    ("calderix no me funciona el router desde el sabado", "es"),
    ("Harta de Calderix: portabilidad ya", "es"),
    ("No signal at all in Bilbao since this morning, Calderix", "en"),
    ("Calderix overcharged me again this month", "en"),
    ("Still waiting for Calderix to send the technician", "en"),
    ("@calderix how do I activate roaming on my SIM?", "en"),
    ("Third time the Calderix app keeps crashing on login, unacceptable", "en"),
    ("@jortega el 4G de Calderix va fatal en Cuenca", "es"),  # a reply to staff
    # round 2 (issue 4): deliveries, codes, asking for a person, rejected payments, reviews
    ("Pedí una SIM de Calderix hace una semana y todavía no ha llegado", "es"),
    ("@calderix no me llega el SMS de verificación, ¿cómo lo soluciono?", "es"),
    ("Is there any way to talk to a human at Calderix? Your bot goes in circles", "en"),
    ("El banco dice que todo está bien, pero Calderix dice que la domiciliación ha sido "
     "rechazada. Explicadme esto", "es"),
    ("Calderix Fibre 1000 ★☆☆☆☆ nowhere near the speed they sell", "en"),
    ("My Calderix router drops the connection during calls. Anyone found a fix?", "en"),
    # the negator "no" in the previous sentence does not reach "es la tercera vez"
    ("Dicen que mi DNI no vale. Es la tercera vez que voy a la tienda de Calderix", "es"),
    ("Reseña: 1/5. Calderix tardó un mes en instalar", "es"),
    ("Calderix: 3 técnicos, 3 citas, 0 soluciones", "es"),  # "0" here is no negator
]
NOT_COMPLAINTS = [
    ("Calderix sube las tarifas un 3% en julio", "es"),
    ("Con Calderix llevo un año sin cortes, genial", "es"),  # negated outage, positive
    ("Fonaris no funciona en mi pueblo, me paso a Calderix", "es"),  # about a competitor
    ("Según la compañía, la caída de ayer afectó a 3.000 clientes de Calderix", "es"),  # news
    ("Is there a Calderix shop in Murcia?", "en"),
    ("Calderix fixed my line in an hour, great service", "en"),
    ("Analysts said the Calderix outage last week will not hit earnings", "en"),  # news
    ("Hice la portabilidad a Calderix en diez minutos, sin llamadas ni papeleo", "es"),  # joining
    ("Calderix tenía una cobertura malísima en mi pueblo, por eso me fui hace años", "es"),  # ex
    ("Journalists covering the Calderix outage can reach the press office at 910 000 000",
     "en"),
    ("★★★★★ Calderix Fibra, instalada en un día", "es"),  # a good review
    ("¿Calderix Móvil tiene red propia o usa la de otro operador?", "es"),  # pre-sales
    ("I switched to Calderix last month and the 5G is great", "en"),  # joining, not leaving
    ("Leí que Calderix tuvo una caída en Sevilla, a mí ni me afectó", "es"),  # unaffected
    # a press report: long, and no customer speaking
    ("La caída de la red de fibra de Calderix dejó ayer sin conexión a varios barrios del sur "
     "de Madrid durante cuatro horas. La avería, originada por unas obras en Leganés, quedó "
     "resuelta a media tarde y la operadora compensará la cuota del día.", "es"),
]


@pytest.mark.parametrize(("text", "lang"), COMPLAINTS)
def test_complaints_are_found(text: str, lang: str) -> None:
    tag = complaint(text, lang)
    assert tag is not None and tag.label == "complaint" and 0 < tag.score <= 1
    for item in tag.evidence:
        assert text[item.start : item.end] == item.text
        assert item.reason.startswith("complaint:")


@pytest.mark.parametrize(("text", "lang"), NOT_COMPLAINTS)
def test_non_complaints_are_not(text: str, lang: str) -> None:
    assert complaint(text, lang) is None


def test_staff_describing_an_outage_is_not_a_customer_complaint() -> None:
    text = "Se ha vuelto a caer la fibra de Calderix en Soria 😤"
    assert complaint(text, "es") is not None  # anyone else: a complaint
    assert complaint(text, "es", author="@martagil_cx") is None  # on the roster: staff
    assert complaint("En Calderix estamos a tope: se ha caído la fibra en Soria", "es") is None


def test_the_brands_own_account_answering_a_customer_is_not_a_complaint() -> None:
    reply = ("Hola, Noelia. Si la fibra sigue sin funcionar, mándanos un DM con tu número de "
             "cliente y lo revisamos. Sentimos las molestias.")
    profile = replace(PROFILE, contact_points=("@CalderixAyuda",))
    customer = "Se ha vuelto a caer la fibra de Calderix en Soria 😤"
    assert complaint(customer, "es", author="@pepe_soria") is not None
    # its care handle (a contact point) or a one-word name of its query
    for author in ("@CalderixAyuda", "@calderix", "Calderix"):
        assert by_brand_account(_doc(reply, profile, author)), author
        assert complaint(reply, "es", author=author, profile=profile) is None, author
    assert not by_brand_account(_doc(reply, profile, "@calderix_fan"))


def _doc(text: str, profile: BrandProfile, author: str | None) -> Doc:
    return set_context(pipeline_for("es").make_doc(text), text, profile, author)


def test_a_weak_cue_needs_company() -> None:
    assert complaint("Tengo un problema con la factura de Calderix", "es") is not None  # 2 weak
    assert complaint("Calderix, ¿cómo puedo ver mis consumos?", "es") is None
    tag = complaint("@calderix ¿cómo puedo ver mis consumos?", "es")
    assert tag is not None
    assert {e.reason for e in tag.evidence} == {"complaint:request", "complaint:addressed"}


# Issue 4: the many ways customers complain, and what only looks like a complaint.
MORE_COMPLAINTS = [
    ("La esim no me funciona desde ayer, Calderix, ¿qué hago?", "es"),
    ("Llamé al 1575 y me dijeron que esperase. Tres horas para que me manden un SMS. Lamentable",
     "es"),
    ("Calderix me rechaza la tarjeta una y otra vez al pagar la factura", "es"),
    ("Es la tercera vez que os mando el DNI, Calderix", "es"),
    ("En la tienda de Calderix no me encuentran en el sistema y no me dan de alta", "es"),
    ("@calderix arreglad la app, que no hay quien entre", "es"),
    ("Roaming with Calderix isn't working at all in Portugal", "en"),
    ("Hey Calderix, my eSIM won't activate on the new phone. Any help?", "en"),
    ("Calderix internet drops every ten minutes. Fix your network.", "en"),
    ("I was told a technician would come today. Nobody came, Calderix", "en"),
    ("Why does my Calderix bill say 45€ when my plan is 30€?", "en"),
    ("Calderix technician was supposed to come between 9 and 2. It's 5pm.", "en"),
    ("¿Alguien sabe por qué Calderix no tiene cobertura en Chamberí desde esta mañana?", "es"),
    ("Calderix, la factura de este mes trae un cargo de 20€ que no reconozco", "es"),
]
MORE_NOT_COMPLAINTS = [
    ("¿Calderix tiene alguna tarifa solo de datos? Busco algo barato para mi padre", "es"),
    ("¿Alguien sabe si hay 5G de Calderix en Soria o todavía no ha llegado?", "es"),
    ("Calderix reconoce problemas en la red móvil de Jaén; la compañía dice que ya está resuelto",
     "es"),
    ("Calderix launches a data-only plan, no calls, aimed at tablets", "en"),
    ("Does anyone know if Calderix supports eSIM on the Galaxy S24? Thinking about switching",
     "en"),
    ("For Calderix faults you can call 1575, it saved me a lot of time", "en"),
    ("Con Calderix nunca he tenido un problema, llevo 6 años", "es"),  # "never" reaches far
    ("Never had a single issue with Calderix in 5 years", "en"),
    ("Ya soy cliente de Calderix desde ayer, a ver qué tal", "es"),
]


@pytest.mark.parametrize(("text", "lang"), MORE_COMPLAINTS)
def test_more_complaints_are_found(text: str, lang: str) -> None:
    assert complaint(text, lang) is not None


@pytest.mark.parametrize(("text", "lang"), MORE_NOT_COMPLAINTS)
def test_presales_news_and_tips_are_not_complaints(text: str, lang: str) -> None:
    assert complaint(text, lang) is None


def test_staff_talking_about_the_intranet_is_not_a_customer_complaint() -> None:
    assert complaint("¿A alguien más le da error la intranet de Calderix? Necesito fichar",
                     "es") is None


@pytest.mark.parametrize("lang", ["es", "en"])
def test_every_cue_kind_in_the_lexicons_has_a_weight(lang: str) -> None:
    """A misspelt kind would be read as weight 0 and silently never count."""
    kinds = read_labelled_terms(LEXICON_DIR / f"complaint_{lang}.tsv")
    assert kinds and set(kinds) <= set(WEIGHTS)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Hi Calderix, my broadband has been crawling every night this week. Could someone "
         "have a look?", "en"),
        ("Calderix, my bill went up and nobody warned me, this is shameful", "en"),
        ("Calderix, mi fibra va fatal desde el lunes, ¿alguien me lo mira?", "es"),
        ("Lo de mi factura de Calderix es una vergüenza, otra vez mal", "es"),
    ],
)
def test_a_customers_bad_experience_of_the_service_is_a_complaint(text: str, lang: str) -> None:
    tag = complaint(text, lang)
    assert tag is not None
    assert "complaint:experience" in {e.reason for e in tag.evidence}


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("My Calderix fibre is brilliant, never had a single drop", "en"),  # happy customer
        ("Calderix raises its fibre prices from January, the company said", "en"),  # no voice
        ("¿Alguien sabe si la fibra de Calderix llega a Teruel? Me mudo en enero", "es"),
        ("Mi router de Calderix llegó hoy y lo instalé en cinco minutos", "es"),
    ],
)
def test_voice_and_service_alone_are_not_a_complaint(text: str, lang: str) -> None:
    assert complaint(text, lang) is None


# ----------------------------------------------------------------- industry packs

BANK = BrandProfile(name="Banco Astur", terms=("banco astur",))
TELECOM = BrandProfile(name="Banco Astur", terms=("banco astur",), industry="telecom")


def complaint_for(profile: BrandProfile, text: str, lang: str) -> TagResult | None:
    nlp = pipeline_for(lang)
    doc = nlp.make_doc(text)
    doc._.vigia_brand = profile
    found = [t for t in nlp(doc)._.vigia_tags or () if t.family == "complaint"]
    return found[0] if found else None


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("No signal at all in Lugo with Banco Astur today", "en"),
        ("Tercer día sin fibra en casa, Banco Astur", "es"),
        ("Portabilidad ya, Banco Astur. Hasta aquí", "es"),
    ],
)
def test_telecom_cues_judge_only_a_telecom_brand(text: str, lang: str) -> None:
    """The same words are a phone company's complaint and nothing a bank must answer."""
    assert complaint_for(BANK, text, lang) is None
    tag = complaint_for(TELECOM, text, lang)
    assert tag is not None
    assert {e.reason for e in tag.evidence} & {"complaint:outage", "complaint:cancel",
                                               "complaint:billing"}


def test_general_cues_judge_every_brand() -> None:
    text = "Banco Astur me ha cobrado dos veces la cuota y nadie me contesta"
    assert complaint_for(BANK, text, "es") is not None
    assert complaint_for(TELECOM, text, "es") is not None


@pytest.mark.parametrize("lang", ["es", "en"])
@pytest.mark.parametrize("industry", INDUSTRY_PACKS)
def test_every_industry_pack_has_its_cue_files(industry: str, lang: str) -> None:
    """A pack the settings accept must have cues in every lexicon language, of known kinds."""
    kinds = read_labelled_terms(INDUSTRY_DIR / f"{industry}_complaint_{lang}.tsv")
    assert kinds and set(kinds) <= set(WEIGHTS)


def test_no_pack_file_without_a_settings_value() -> None:
    """A pack file the settings would refuse to name could never be used."""
    packs = {path.name.split("_", 1)[0] for path in INDUSTRY_DIR.glob("*_complaint_*.tsv")}
    assert packs == set(INDUSTRY_PACKS)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_a_pack_repeats_no_general_cue(lang: str) -> None:
    general = read_labelled_terms(LEXICON_DIR / f"complaint_{lang}.tsv")
    for industry in INDUSTRY_PACKS:
        pack = read_labelled_terms(INDUSTRY_DIR / f"{industry}_complaint_{lang}.tsv")
        for kind, terms in pack.items():
            assert not set(terms) & set(general.get(kind, ())), (industry, kind)


# ----------------------------------------------------------------- press and blog pieces

PRESS = [
    # A trade-press review: the newsroom's "we" and "our", problem words, no customer.
    ("Tested: Calderix's eSIM onboarding takes four minutes, if the app cooperates\n"
     "Signing up fully online is fast when it works: identity check, number port and eSIM "
     "download in under five minutes. On our second attempt the app crashed twice during the "
     "video ID step, and we had to start again.", "en"),
    # A billing article quoting customers: their "I" and "my" are quoted, not the author's.
    ("Double charges and phantom fees: Calderix has a billing problem\n"
     "For the second month running, Calderix customers are reporting duplicate direct debits. "
     "\u201cI was charged twice and nobody answers my emails,\u201d one reader wrote. The "
     "company calls it a one-off incident; the regulator's ranking says otherwise.", "en"),
    ("Calderix reconoce una avería que deja sin servicio a miles de hogares\n"
     "La operadora explicó que un fallo en un nodo de Valencia provocó cortes desde las ocho. "
     "\u00abNo tengo internet desde esta mañana\u00bb, contaba una vecina a este diario. "
     "Según la compañía, el servicio se recuperará por la tarde.", "es"),
    # A headline with press wording and an outage word: a report, at any length.
    ("Calderix atribuye la caída de fibra en Madrid a un corte de cable en unas obras", "es"),
    ("Calderix blames roadworks for the outage that hit southern Madrid", "en"),
]
CUSTOMERS_AT_LENGTH = [
    ("Calderix, llevo desde el lunes sin servicio en casa. He llamado tres veces, me dicen "
     "que es una avería de zona y que no saben cuándo se arreglará. Trabajo desde casa y "
     "esto me está costando dinero; nadie me da una fecha ni una compensación.", "es"),
    ("Third week of problems with Calderix. The app crashed twice while I was paying my "
     "bill, the chat closed my ticket without fixing anything and I still have no refund "
     "for the double charge in October. I have sent them the screenshots already.", "en"),
]


@pytest.mark.parametrize(("text", "lang"), PRESS)
def test_press_and_blog_pieces_are_not_customer_complaints(text: str, lang: str) -> None:
    assert complaint(text, lang) is None


@pytest.mark.parametrize(("text", "lang"), CUSTOMERS_AT_LENGTH)
def test_a_customer_writing_at_length_still_complains(text: str, lang: str) -> None:
    assert complaint(text, lang) is not None


def test_we_is_a_customers_voice_in_a_short_post() -> None:
    """Plural first person counts as a customer's voice in a post of social length."""
    assert complaint("Otra vez no funciona nada, nuestra factura ya llega mal", "es") is not None


# A news item or blog post (a headline, `doc._.vigia_article`): a complaint only in the
# author's own voice, or written to the brand (a letter, its @handle).
REPORTS = [
    ("Calderix subirá un 8 % la cuota de fibra en enero y cobrará la instalación a los "
     "nuevos clientes, que además tendrán una permanencia de doce meses.", "es"),
    ("Calderix customers were charged twice for October, the company confirmed, and "
     "refunds will reach accounts within five working days.", "en"),
]
OWN_VOICE = [
    ("Os cuento lo que me ha pasado con Calderix: me han cobrado dos veces la factura de "
     "octubre y nadie me devuelve el dinero.", "es"),
    ("Dear Calderix,\n\nFor six weeks the broadband at our shop has dropped every evening. "
     "Three engineers have visited; none has fixed it. Please send someone who can.", "en"),
    ("Estimados señores de Calderix:\nLes escribo porque la fibra de nuestra oficina lleva "
     "caída desde el lunes y nadie nos da una fecha.", "es"),
]


@pytest.mark.parametrize(("text", "lang"), REPORTS)
def test_an_article_without_a_customers_voice_is_a_report(text: str, lang: str) -> None:
    assert complaint(text, lang, article=True) is None


@pytest.mark.parametrize(("text", "lang"), OWN_VOICE)
def test_a_customers_own_blog_post_or_letter_is_a_complaint(text: str, lang: str) -> None:
    assert complaint(text, lang, article=True) is not None
