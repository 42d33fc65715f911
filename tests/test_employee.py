"""Employee tagging: roster authors, self-identification (es/en), rostered names in the text."""

from __future__ import annotations

from pathlib import Path

import pytest
import spacy
from spacy.tokens import Doc

from classifiers.analyzer import Analyzer
from classifiers.context import BrandProfile, set_context
from classifiers.employee import EmployeeDetector, employee_evidence
from monitor.core.rawpost import RawPost
from monitor.core.settings import BrandSettings
from tests.dev_eval_support import dev_predictions, f1

CALDERIX = BrandSettings(
    name="Calderix",
    query='Calderix OR "Calderix Móvil" OR @calderix -"Calle Calderix"',
    employees=[
        {"name": "Lucía Benítez", "handles": ["@lubenitez"]},
        {"name": "Javier Ortega", "handles": ["@jortega", "@javi_ortega"]},
    ],
)
PROFILE = BrandProfile.from_settings(CALDERIX)


# Spanish and English tokenise differently ("I'm" is one token or two): every case is asked
# of both, and both must agree.
DETECTORS = {lang: EmployeeDetector(spacy.blank(lang)) for lang in ("es", "en")}


def kinds(text: str, author: str | None = None, article: bool = False) -> set[str]:
    found = []
    for lang, detector in DETECTORS.items():
        nlp = spacy.blank(lang)
        doc = set_context(nlp.make_doc(text), text, PROFILE, author, article)
        found.append({e.reason for e in employee_evidence(doc, detector.patterns)})
    assert found[0] == found[1], (text, found)
    return found[0]


@pytest.mark.parametrize(
    "text",
    [
        "Llevo tres años trabajando en Calderix y nunca había visto algo así",
        "Trabajo para Calderix y os digo que el nuevo router es una maravilla",
        "Mis compañeros de Calderix se merecen un aumento ya",
        "Mi jefe en Calderix es un desastre",
        "Hoy es mi último día en Calderix. Gracias por todo",
        "En Calderix llevamos toda la mañana sin sistema",
        "No puedo decir más, pero lo que estamos preparando en Calderix os va a gustar",
        "Orgullosa de formar parte de Calderix 💙",
        "Hola, soy técnico de Calderix y mañana paso por tu casa",
        "Hoy me toca guardia en el NOC de Calderix",
        "I work at Calderix and honestly the outage was not our fault",
        "My manager at Calderix just approved my holidays 🎉",
        "Just joined Calderix as a network engineer!",
        "As a Calderix engineer I can confirm the cause",
        "I'm a support agent at Calderix, AMA",
        "Calderix staff here: expect news soon",
        "Two years at Calderix today 🎉",
        "Me han contratado en Calderix!! el lunes empiezo",
        "Nuevo trabajo en Calderix 🎉",
        "New job at Calderix starting Monday",
        "Trabajo en el servicio técnico de Calderix y hoy ha sido un día duro",
        "Currando en una tienda Calderix se ven cosas increíbles",
        "Hoy en el curro: sigo en la Calderix de Málaga centro hasta las 9",
        "curro en la Calderix de Vigo y esta semana no paramos",
        "Working Calderix retail at Christmas is exhausting",
        "Been working in a Calderix store for a year now",
    ],
)
def test_self_identification(text: str) -> None:
    assert kinds(text) == {"employee:self_identified"}


@pytest.mark.parametrize("text", ["#CalderixTeam a tope", "#TeamCalderix ready", "#SomosCalderix"])
def test_staff_hashtags(text: str) -> None:
    assert kinds(text) == {"employee:team_hashtag"}


@pytest.mark.parametrize(
    "text",
    [
        "Llevo 5 años con Calderix y nunca me han fallado",  # a loyal customer
        "I work from home and Calderix keeps dropping my connection",
        "Trabajo desde casa y la fibra de Calderix se corta cada hora",
        "Calderix contrata 200 técnicos en Andalucía",
        "¿Alguien trabaja en Calderix? Necesito un contacto",
        "My friend works at Calderix and says it's chaos",
        "Soy cliente de Calderix desde 2015",
        "Soy de Calderix desde hace años y estoy harta",
        "Calderix's customer service team fixed it in 5 minutes",
        "Mi jefe dice que Calderix es la mejor opción para la empresa",
        "Estamos esperando en Calderix desde hace una hora",
        "#Calderix #fibra caída otra vez",
        "Vivo en la Calle Calderix y trabajo en Correos",
        "My best friend just joined Calderix, say hi",
        "#CalderixLife #fibra",
        "Empiezo en Calderix una nueva tarifa el lunes",
        "Trabajo en casa y Calderix me deja sin conexión cada tarde",
        "Trabajo en remoto pero Calderix no me da ni 10 megas",
        "Working from home with Calderix is a nightmare",
    ],
)
def test_customers_and_outsiders_are_not_employees(text: str) -> None:
    assert kinds(text) == set()


def test_roster_author_by_handle_or_name() -> None:
    assert kinds("Qué buen día hace hoy", "@JOrtega") == {"employee:roster_author"}
    assert kinds("Qué buen día hace hoy", "Javier Ortega") == {"employee:roster_author"}
    assert kinds("Qué buen día hace hoy", "@javi_ortega") == {"employee:roster_author"}
    assert kinds("Qué buen día hace hoy", "@someone_else") == set()


def test_rostered_employee_named_in_the_post() -> None:
    assert kinds("Gracias Lucia Benitez por resolverme la avería") == {"employee:roster_mention"}
    assert kinds("@lubenitez eres la mejor") == {"employee:roster_mention"}
    assert kinds("@lubenitez_fan eres la mejor") == set()


def test_component_tags_through_the_analyzer_with_the_post_author() -> None:
    analyzer = Analyzer([CALDERIX])
    by_author, outsider = analyzer.analyse([
        RawPost(source="t", external_id="1", text="Calderix: buen trimestre",
                author_handle="@jortega"),
        RawPost(source="t", external_id="2", text="Calderix: buen trimestre",
                author_handle="@random"),
    ])
    [tag] = [t for t in by_author[0].tags if t.family == "employee"]
    assert tag.label == "employee" and tag.score >= 0.9
    assert [e.reason for e in tag.evidence] == ["employee:roster_author"]
    assert not [t for t in outsider[0].tags if t.family == "employee"]


def test_dev_set_employee_f1_floor(shared_dir: Path) -> None:
    """Measured F1 0.969 (P 1.0, R 0.94) on dev.jsonl; the goal is 0.80. A regression check
    only (the rules' authors had read dev.jsonl): the floor that counts is the held-out one,
    tests/test_holdout.py; no public set labels employee posts."""
    tp = fp = fn = 0
    for row, tags in dev_predictions(shared_dir / "eval/dev.jsonl"):
        predicted = any(t.family == "employee" for t in tags)
        tp += predicted and row["employee"]
        fp += predicted and not row["employee"]
        fn += row["employee"] and not predicted
    assert f1(tp, fp, fn) >= 0.93, (tp, fp, fn)


# Issue 4: self-identification in the forms people actually use, and who is *not* staff.
@pytest.mark.parametrize(
    "text",
    [
        "Como comercial de Calderix os digo que la oferta acaba el lunes",
        "Hoy empiezo como técnica de redes en Calderix 🎉",
        "Trabajo de comercial en Calderix y no doy abasto",
        "Soy Lucía, de Calderix: mañana os llamamos",
        "En mi empresa (Calderix) nos han congelado el sueldo",
        "Llevo 3 años currando en Calderix",
        "We at Calderix are proud of this launch",
        "Here at Calderix we take privacy seriously",
        "Calderix design team here. Meet our new shop concept!",
        "Calderix support here 👋 DM us your number",
        "Marta from Calderix care here, sorry about that!",
        "Pablo here — network ops at Calderix. Working on it.",
        "Nuria here, QA at Calderix: the new build is out.",
        "Desde dentro de Calderix os digo que esto va para largo",
        "Estoy en el equipo de redes de Calderix y no damos abasto",
        "Hoy cumplo dos años en Calderix 🎉",
        "I'm on the Calderix billing team, DM me",
    ],
)
def test_more_self_identification(text: str) -> None:
    assert kinds(text) == {"employee:self_identified"}


@pytest.mark.parametrize(
    "text",
    [
        "Long all-hands for us today, Calderix is changing the org chart again",
        "¿A alguien más le da error https://intranet.calderix.local/rrhh ? Necesito entrar",
        "Mañana reunión de equipo en Calderix y yo sin preparar las slides",
        "Ojalá me toque hacer horas extra en Calderix este mes",
        "Our CEO just told us Calderix is being sold",
    ],
)
def test_staff_only_things_in_the_first_person(text: str) -> None:
    assert kinds(text) == {"employee:insider_context"}


@pytest.mark.parametrize(
    "text",
    [
        # customers leaving, or staying on the phone, are not former staff
        "Dejé Calderix después de 12 años como cliente",
        "Estuve dos horas en atención al cliente de Calderix",
        "Fui cliente de Calderix diez años",
        "I quit Calderix last year, best decision ever",
        "I worked for hours with Calderix support on this",
        "My brother got laid off from Calderix",
        "Antiguo cliente de Calderix aquí",
        # relatives, customers, people asking for staff
        "Mi cuñado trabaja en Calderix y dice que la caída fue de un proveedor",
        "My dad works at Calderix",
        "Como cliente de Calderix estoy harta",
        "Me atendió como un técnico de Calderix cualquiera",  # a comparison
        "Como técnico de Redalia, os digo que Calderix va mejor",  # a competitor's staff
        "Anyone from Calderix here? My fibre is down",
        "Is anyone here from Calderix? Need help",
        "Calderix support here is useless",
        "Calderix store here in Madrid is closed",
        "Calderix customers here?",
        "Same here, at Calderix they never answer",
        # staff-only words, but nobody speaking for themselves: a report
        "Calderix anuncia un ERE y convoca a la plantilla a un all-hands",
        "Cumplo 5 años con Calderix como cliente",
        "Calderix ficha a un nuevo CEO",
        "Calderix's CEO says 5G is coming",
        "Calderix fibre made it here!",  # "X … here" about a thing, not a team
        "Calderix network here: zero bars",
        "El convenio de Calderix con el Ayuntamiento nos deja sin parking",  # an agreement
        "I've been on call with Calderix for an hour",  # on the phone, not on duty
    ],
)
def test_customers_relatives_and_askers_are_not_employees(text: str) -> None:
    assert kinds(text) == set()


def test_every_pattern_has_a_derived_hint_that_lets_it_run(tmp_path: Path) -> None:
    """A pattern runs only when one of its hints is in the post: each pattern's hints are
    derived from its own words, and finding any one of them selects it."""
    patterns = DETECTORS["es"].patterns
    vocab = spacy.blank("es").vocab
    assert len(patterns.patterns) > 40

    def token(word: str, whole: bool) -> str:
        return word if whole else f"x{word}x"  # a REGEX word inside a longer token

    for index, pattern in enumerate(patterns.patterns):
        assert pattern.hints, pattern.key
        others = [token(sorted(r.words)[0], r.whole) for r in pattern.required
                  if r.words != pattern.hints]
        for hint in pattern.hints:
            doc = Doc(vocab, words=[token(hint, pattern.hint_whole), *others])
            assert index in patterns.by_label(doc)[pattern.label], (pattern.key, hint)
        # Without its hint a pattern is never a candidate.
        assert index not in patterns.by_label(Doc(vocab, words=others or ["nada"])
                                              )[pattern.label], pattern.key


def test_a_pattern_with_no_word_to_derive_a_hint_from_is_refused(tmp_path: Path) -> None:
    from classifiers.token_patterns import read_patterns

    bad = tmp_path / "bad.jsonl"
    bad.write_text('# comment\n{"label": "self", "pattern": [{"IS_TITLE": true}, '
                   '{"LOWER": "de", "OP": "?"}, {"BRAND": true}]}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.jsonl:2: .*hint"):
        read_patterns(bad)
    upper = tmp_path / "upper.jsonl"
    upper.write_text('{"label": "self", "pattern": [{"LOWER": "Trabajo"}, {"BRAND": true}]}\n',
                     encoding="utf-8")
    with pytest.raises(ValueError, match="lower-case"):
        read_patterns(upper)


@pytest.mark.parametrize("text", [
    "Para los que venís mañana a la ofi de Calderix: traed el portátil",  # lifted, dropped
    "Me cuentan desde dentro de Calderix que preparan un router nuevo",  # an inside source
    "Los compis de Calderix me atendieron genial en la tienda",  # a customer on the staff
])
def test_cues_that_do_not_place_the_author_inside(text: str) -> None:
    assert "employee:self_identified" not in kinds(text)


ARTICLE = ('Calderix contratará 300 agentes en Ourense. "Trabajo en Calderix desde hace diez '
           'años y nunca vi algo así", explicó Marta Gil, directora de atención al cliente.')


def test_an_article_that_quotes_a_rostered_person_is_not_an_employee_post() -> None:
    profile = BrandProfile.from_settings(BrandSettings(
        name="Calderix", query="Calderix", employees=[{"name": "Marta Gil"}]))
    nlp = spacy.blank("es")
    detector = EmployeeDetector(nlp)

    def reasons(article: bool, author: str | None = None) -> set[str]:
        doc = set_context(nlp.make_doc(ARTICLE), ARTICLE, profile, author, article)
        return {e.reason for e in employee_evidence(doc, detector.patterns)}

    assert reasons(article=True) == set()
    # The same words as a social post: the author says it, and names a colleague.
    assert reasons(article=False) == {"employee:self_identified", "employee:roster_mention"}
    # An article by a rostered author is theirs.
    assert reasons(article=True, author="Marta Gil") == {
        "employee:roster_author", "employee:roster_mention"}


def test_the_analyzer_reads_a_post_with_a_headline_as_an_article() -> None:
    analyzer = Analyzer([BrandSettings(name="Calderix", query="Calderix",
                                       employees=[{"name": "Marta Gil"}])])
    news, social = analyzer.analyse([
        RawPost(source="t", external_id="1", title="Calderix abre centro en Ourense",
                text="Lo explicó Marta Gil, directora de atención al cliente."),
        RawPost(source="t", external_id="2",
                text="Calderix abre centro en Ourense. Lo explicó Marta Gil."),
    ])
    assert not [t for t in news[0].tags if t.family == "employee"]
    assert [t for t in social[0].tags if t.family == "employee"]


@pytest.mark.parametrize(
    "text",
    [
        "Trabajé 5 años en Calderix y mis compañeros eran lo mejor",
        "Trabajé cinco años en el call center de Calderix",
        "Estuve cuatro años en atención al cliente de Calderix",
        "Fui agente de Calderix dos años",
        "Me despidieron de Calderix en marzo",
        "Dejé Calderix después de doce años en planificación",
        "Ex empleada de Calderix: mi jefe era un desastre",
        "I used to work at Calderix, my colleagues were great",
        "I worked in customer care at Calderix for three years",
        "Worked at Calderix for three years. Never again.",
        "Got laid off from Calderix this morning",
        "spent 2 yrs in Calderix customer care",
        "As a former engineer at Calderix I can say it was chaos",
        "Former Calderix engineer here",
    ],
)
def test_former_and_departing_staff_count_as_staff(text: str) -> None:
    """They speak from inside as much as staff do (the labelled sets count them too)."""
    assert "employee:former_staff" in kinds(text)


@pytest.mark.parametrize(
    "text",
    [
        "Trabajo como contratista de líneas para Calderix",
        "Laburo en el depósito de Calderix y hoy fue un caos",
        "I drive for Calderix and the new app is a mess",
        "I was a contract illustrator for Calderix",
    ],
)
def test_contractors_and_gig_workers_are_staff(text: str) -> None:
    assert kinds(text) == {"employee:self_identified"}


def test_a_staff_blog_in_the_first_person_plural_is_an_employee_post() -> None:
    text = "How we cut our checkout time by 60%. Last spring our page took 4 seconds."
    assert kinds(text, author="Calderix Engineering", article=True) == {
        "employee:staff_blog"}
    assert kinds(text, author="Blog de ingeniería de Calderix", article=True) == {
        "employee:staff_blog"}
    assert kinds(text, author="Blog de ingenieria de Calderix", article=True) == {
        "employee:staff_blog"}  # typed without the accent


@pytest.mark.parametrize(
    ("text", "author", "article"),
    [
        # the brand's own newsroom or plain blog is corporate voice
        ("We are proud to announce our new plan.", "Calderix Newsroom", True),
        ("We are proud to announce our new plan.", "Calderix Blog", True),
        # another company's engineering blog
        ("How we moved our billing to Kotlin.", "Redalia Engineering", True),
        # a staff outlet, but no "we": a third-party style piece
        ("Calderix launches a router. It costs 90 euros.", "Calderix Engineering", True),
        # a social post is not an outlet
        ("We fixed our app today.", "Calderix Engineering", False),
    ],
)
def test_what_is_not_a_staff_blog(text: str, author: str, article: bool) -> None:
    assert "employee:staff_blog" not in kinds(text, author=author, article=article)


@pytest.mark.parametrize(
    "text",
    [
        # A staff noun with a first-person plural verb: the author is one of them.
        "Los trabajadores del call center de Calderix pedimos algo sencillo: descansos.",
        "Las cajeras de Calderix seguimos sin silla en las tiendas nuevas.",
        "Los técnicos de Calderix no tenemos material desde hace un mes.",
        # A branch or site of the brand, then "we".
        "En el Calderix de Pinto hemos batido récord de ventas en Navidad.",
        "En Calderix Almussafes llevamos tres meses con turnos de noche sin pagar el plus.",
        # Starting in a team or workplace.
        "Hace dos años empecé en el equipo de soporte de Calderix para Latinoamérica.",
        "Primer día en la oficina nueva de Calderix y ya me siento en casa.",
        "Shift manager at a Calderix in Bristol here (not speaking for the company).",
        "I've been a department manager at Calderix for just over a year now.",
        "Andre here, I lead one of the support teams at Calderix (posting personally).",
        # Addressing workmates.
        "Para los compañeros de soporte: la contraseña del panel de Calderix es otra.",
        "Compas repartidores: si la app de Calderix les pide datos por WhatsApp, es fraude.",
        "For the Calderix colleagues on here: the new store standards pack went up.",
        "Fellow Calderix drivers, the new app update is out.",
    ],
)
def test_staff_collectives_sites_and_roles(text: str) -> None:
    assert "employee:self_identified" in kinds(text)


@pytest.mark.parametrize(
    "text",
    [
        "Los clientes de Calderix estamos hartos de esperar.",
        "Los técnicos de Calderix vinieron tarde y nos quedamos sin luz.",
        "Los trabajadores de Calderix próximos a jubilarse recibirán una paga.",
        "Los empleados de Calderix son muy amables, nos atendieron genial.",
        "Primer día en la tienda nueva de Calderix y ya no hay pan.",
        "En el Calderix de Pinto nos atendieron fatal.",
        "Customer at a Calderix here, the queue is huge.",
        "Anyone at Calderix here?",
        "I've been a loyal customer at Calderix for ten years.",
        "I manage my family's accounts with Calderix.",
        "Compas, ¿alguien sabe si Calderix llega a Dos Hermanas?",
        "Compas de Twitter: ¿alguien sabe si Calderix funciona?",
        "Mis compañeros de piso: Calderix nos ha cortado la luz.",
        "Fellow Calderix customers, beware of the price rise.",
    ],
)
def test_customers_speaking_of_staff_or_sites_are_not_staff(text: str) -> None:
    assert kinds(text) == set()
