"""The `vigia_employee` spaCy component: is an employee talking about work in public?

A comms team wants to know when staff post about the company, whatever the tone: a proud
anniversary, a complaint about the boss, a leaked launch. Four kinds of evidence, in Spanish
and English, all relative to the brand in `doc._.vigia_brand`:

* `employee:roster_author`: the post's author (`doc._.vigia_author`) is on the brand's roster,
  by handle or by name.
* `employee:self_identified`: the author says they work there: "trabajo en X", "mi jefe en X",
  "mi primer día en X", "compis de X", "en X estamos/llevamos…", "desde la oficina de X",
  "I work at X", "as an X engineer", "X staff here", "our team at X", "two years at X today",
  "como técnico de X", "Soy Lucía, de X", "Lucía from X sales here", "we at X",
  or a staff hashtag ("#XTeam", "#TeamX", "#SomosX", "#XFamily"). Former staff are not
  staff: "trabajé en X", "ex-empleado de X", "I used to work at X" veto these, and a
  relative ("mi cuñado trabaja en X") is not the author.
* `employee:insider_context`: in a post that names the brand, the author speaks in the first
  person of things only staff have: the intranet, the all-hands, overtime, the works council,
  "solo para el equipo".
* `employee:roster_mention`: the post names a rostered employee (name or handle), e.g. a
  customer thanking or insulting them, or the employee signing "— @handle".

Patterns are regexes built per brand from its names (`BrandProfile.terms`), compiled once per
profile and cached; `X` below stands for that alternation.
"""

from __future__ import annotations

import re
from functools import lru_cache

from spacy.language import Language
from spacy.tokens import Doc

from classifiers.batching import BatchedComponent
from classifiers.context import (
    BrandProfile,
    accent_insensitive,
    add_tags,
    doc_author,
    doc_brand,
    doc_text,
    lowered_for_gates,
    may_have_terms,
    terms_regex,
)
from classifiers.hints import HintIndex
from classifiers.tags import Evidence, TagResult

MAX_EVIDENCE = 6
CONFIDENCE = {
    "employee:roster_author": 0.95,
    "employee:self_identified": 0.85,
    "employee:team_hashtag": 0.8,
    "employee:insider_context": 0.7,
    "employee:roster_mention": 0.75,
}

# Jobs a Spanish speaker names in "soy <job> de X" (a customer says "soy cliente de X").
_ROLES_ES = (
    r"t[eé]cnic[oa]|ingenier[oa]|comercial|responsable|jef[ea]|director[a]?|gerente|agente|"
    r"teleoperador[a]?|desarrollador[a]?|programador[a]?|emplead[oa]|trabajador[a]?|becari[oa]|"
    r"instalador[a]?|dependient[ea]|operador[a]?|analista|community\s+manager|portavoz|"
    r"coordinador[a]?|supervisor[a]?|administrativ[oa]|consultor[a]?|dise[nñ]ador[a]?|"
    r"parte\s+del\s+equipo|del\s+equipo"
)
# Substrings without which no job of _ROLES_ES is named: the role templates run only then
# ("como" and "soy" alone are too common to be worth a regex).
_ROLE_HINTS = (
    "cnic", "ingenier", "comercial", "responsable", "jef", "director", "gerente", "agente",
    "operador", "desarrollador", "programador", "emplead", "trabajador", "becari", "instalador",
    "dependient", "analista", "community", "portavoz", "coordinador", "supervisor",
    "administrativ", "consultor", "dise", "equipo",
)
# What staff say they are doing at work ("lo que estamos preparando en X"); a customer is
# "esperando" or "llamando", which are not here.
_WORK_GERUNDS = (
    r"preparando|trabajando|currando|desarrollando|montando|lanzando|probando|migrando|"
    r"desplegando|construyendo|dise[nñ]ando|cocinando|implementando|ultimando|terminando"
)
# Teams and jobs an English speaker names in "X <team> here" ("X support here"); people,
# not things ("X network here: zero bars" is a customer).
_DEPARTMENTS_EN = (
    r"team|staff|staffer|employee|engineer|dev|developer|devs|support|sales|retail|insider|"
    r"ops|intern|agent|rep|technician|marketing|hr|legal|noc|backend|frontend|care|squad"
)
# "…here" ends an introduction when punctuation, an emoji or the end follows ("X support
# here 👋", "X staff here: …"), not a question or more words ("X support here in Spain is …").
_INTRO_END = r"(?=\s*(?:$|[^\w\s?¿]))"
# How far before / after a brand name a self-identification can start / end (the longest
# templates put ~90 characters before the name and ~30 after it).
_BEFORE, _AFTER = 100, 50
# "X" is replaced by the brand alternation. Spanish then English; each must place the author
# inside the company, not merely as its customer ("llevo 5 años con X" is a customer).
_SELF_TEMPLATES: tuple[tuple[tuple[str, ...], str], ...] = (
    # (lower-case substrings one of which the template needs, template). Spanish:
    (("trabaj", "curr"),
     r"\b(?:trabajo|trabajamos|curro|curramos|llevo\s+(?:\w+\s+){1,2}"
     r"(?:a[nñ]os|meses|semanas)\s+(?:trabajando|currando))\s+(?:en|para)\s+X"),
    # A workplace or department between the verb and the name: "trabajo en atención al
    # cliente de X", "currando en una tienda X", "curro en la X de Vigo". The words between
    # may not start another clause ("trabajo en casa y X me falla" is a customer).
    (("trabaj", "curr"),
     r"\b(?:trabajo|trabajamos|trabajando|curro|curramos|currando)\s+(?:en|para)\s+"
     r"(?:(?!(?:y|e|o|pero|que|porque|con|sin|cuando|mientras|aunque|si)\b)\w+\s+){1,5}?"
     r"(?:de\s+|en\s+|para\s+)?X"),
    (("trabajar", "currar", "formar"),
     r"\b(?:orgullos[oa]s?\s+de\s+)?(?:trabajar|currar|formar\s+parte\s+de)\s+(?:en\s+)?X"),
    (("jef", "compa", "compis", "equipo", "curro", "trabajo", "oficina", "responsable",
      "manager", "primer", "ltimo"),
     r"\bmis?\s+(?:jef[ea]s?|compa[nñ]er[oa]s?|compis|equipo|curro|trabajo|oficina|"
     r"responsable|manager|primer\s+d[ií]a|[uú]ltimo\s+d[ií]a)\s+(?:en|de)\s+X"),
    (("curro",), r"\b(?:en\s+mi\s+curro|en\s+el\s+curro)\b[^.!?\n]{0,40}?X"),
    (("compis",), r"\bcompis\s+de\s+X"),
    (("contratado", "fichado", "cogido", "entr"),
     r"\b(?:me\s+han\s+(?:contratado|fichado|cogido)|entr[eé]\s+a\s+trabajar)"
     r"\s+(?:en|por|para)\s+X"),
    (("nuevo", "primer"), r"\b(?:nuevo|primer)\s+(?:curro|trabajo|empleo)\s+(?:en|para)\s+X"),
    (("contratado", "empresa"), r"\bX\s+(?:me\s+ha\s+contratado|es\s+mi\s+empresa)"),
    (("estamos", "llevamos", "hemos", "tenemos", "trabajamos", "nos ", "somos"),
     r"\b(?:en|desde)\s+X\s+(?:estamos|llevamos|hemos|tenemos|trabajamos|nos\s+han|"
     r"nos\s+acaban|somos)\b"),
    (("estamos", "estado"),
     r"\b(?:estamos|hemos\s+estado)\s+(?:" + _WORK_GERUNDS + r")\b[^.!?\n]{0,30}?\ben\s+X"),
    (("oficina", "sede", "central"), r"\b(?:desde|en)\s+la\s+(?:oficina|sede|central)\s+de\s+X"),
    (("ofi de",), r"\bla\s+ofi\s+de\s+X"),  # "ofi": office slang of those who work there
    (("guardia", "turno", "retén", "reten"),
     r"\b(?:me\s+toca|tengo|hago|estoy\s+de)\s+(?:guardia|turno|ret[eé]n)\b[^.!?\n]{0,40}?X"),
    (_ROLE_HINTS,
     r"\bsoy\s+(?:[^.!?\n]{0,30}?,\s*)?(?:el|la|un|una)?\s*(?:" + _ROLES_ES
     + r")\b[^.!?\n]{0,40}?\s(?:de|en)\s+X"),
    # "como técnico de X" (in the capacity of; "como un técnico" is a comparison), "empiezo
    # como técnica de redes en X", "trabajo de comercial en X".
    (_ROLE_HINTS,
     r"\b(?:como|trabajo\s+de|curro\s+de|estoy\s+de)\s+(?:" + _ROLES_ES
     + r")\b[^.!?\n]{0,40}?\s(?:de|en)\s+X"),
    # Introducing oneself by name: "Soy Lucía, de X", "Soy Andrés del equipo de X".
    (("soy",),
     r"\bsoy\s+(?-i:[A-ZÁÉÍÓÚÑ])\w+,?\s+(?:de|del\s+equipo\s+de|desde)\s+X"),
    (("empresa",), r"\b(?:mi|nuestra)\s+empresa\s*(?:\(|,|:)\s*X"),
    (("dentro",), r"\bdesde\s+dentro\s+de\s+X"),
    (("equipo",),
     r"\b(?:estoy|entro|entr[eé])\s+en\s+el\s+equipo\s+(?:[\w-]+\s+){0,3}?(?:de|en)\s+X"),
    (("cumplo",), r"\bcumplo\s+(?:\w+\s+){1,2}(?:a[nñ]os|meses)\s+en\s+X"),
    # English
    (("work",), r"\b(?:I|we)\s+(?:currently\s+|still\s+)?work\s+(?:at|for|in)\s+X"),
    (("working", "interning"), r"\b(?:working|interning)\s+(?:at|for)\s+X"),
    # "working Calderix retail", "working in a X store", "working the X helpdesk".
    (("working",),
     r"\bworking\s+(?:(?:at|for|in|on)\s+)?(?:(?:a|an|the|one\s+of)\s+)?X\s+"
     r"(?:retail|stores?|shops?|support|helpdesk|help\s+desk|call\s+cent(?:er|re)|"
     r"counters?|warehouse|network\s+team)\b"),
    (("as a",),
     r"\bas\s+an?\s+X\s+(?:\w+\s+)?(?:engineer|employee|developer|dev|technician|agent|"
     r"manager|staffer|worker|intern|rep|representative)\b"),
    (("as a",), r"\bas\s+an?\s+(?:\w+\s+){0,2}(?:at|for)\s+X"),
    # "X staff here", "X hardware team here", "Lucía from X sales here", "Andrés here, backend
    # at X": how staff introduce themselves online ("Anyone from X here?" asks for them).
    (("here",),
     r"\bX\s+(?:[\w-]+\s+){0,2}(?:" + _DEPARTMENTS_EN + r")\s+here" + _INTRO_END),
    (("here",),
     r"(?:^|[.!?]\s+)(?!(?:anyone|anybody|someone|somebody|any|is|are)\b)"
     r"(?-i:[A-ZÁÉÍÓÚÑ])\w+\s+from\s+X\s+(?:[\w-]+\s+){0,2}here" + _INTRO_END),
    (("here,", "here:", "here;", "here —", "here -", "here –"),
     r"(?:^|[.!?]\s+)(?!(?:same|me|also|anyone|nobody|everyone|customer|client)\b)"
     r"(?-i:[A-ZÁÉÍÓÚÑ])\w+\s+here\s*[,:;—-]\s*(?:[\w-]+\s+){1,3}(?:at|for|from)\s+X"),
    (("we at", "here at"), r"\b(?:we|us)\s+(?:here\s+)?at\s+X\b|\bhere\s+at\s+X\s*,?\s+we\b"),
    (("company",), r"\bmy\s+company\s*(?:\(|,|:)\s*X"),
    (("i'm on", "i'm in", "im on", "im in", "i am"),
     r"\bI'?m\s+(?:on|in)\s+(?:the\s+)?X\s+(?:[\w-]+\s+){0,2}(?:team|department)\b"
     r"|\bI\s+am\s+(?:on|in)\s+(?:the\s+)?X\s+(?:[\w-]+\s+){0,2}(?:team|department)\b"),
    (("lab", "team", "office", "boss", "manager", "intern", "colleague", "coworker",
      "department", "ceo", "desk"),
     r"\b(?:our|my)\s+(?:lab|team|office|boss|manager|intern|colleagues?|coworkers?|"
     r"department|CEO|desk)\s+(?:at|in|from)\s+X"),
    (("year", "month", "week"), r"\b(?:years?|months?|weeks?)\s+at\s+X\b"),
    (("day",), r"\b(?:first|last)\s+day\s+at\s+X"),
    (("new job", "start", "hired"),
     r"\b(?:new\s+job|started|starting\s+(?:work\s+)?|got\s+hired|been\s+hired)"
     r"\s+(?:at|with|by)\s+X"),
    (("employer",), r"\bmy\s+employer,?\s+X|\bX\s+is\s+my\s+employer"),
    (("joined",), r"\b(?:I|we)(?:'ve|\s+have)?\s+(?:just\s+|recently\s+)?joined\s+X"),
    (("joined",), r"(?:^|[.!?]\s+)(?:just\s+|recently\s+)?joined\s+X\s+as\s+an?\b"),
    (("i'm", "im "), r"\bI'?m\s+(?:an?\s+)?(?:\w+\s+){0,2}(?:at|for)\s+X\b"),
)
# Former staff are not staff: "trabajé / estuve 5 años en X", "ex-empleado de X", "I used to
# work at X", "as a former X engineer". One of these vetoes the self-identifications (a
# former employee may still write "mis compañeros de X" about the old days).
_FORMER_TEMPLATE = (
    r"\b(?:trabaj[eé]|curr[eé]|trabajaba|curraba|estuve|dej[eé]|me\s+fui\s+de|"
    r"me\s+(?:echaron|despidieron)\s+de|worked|used\s+to\s+work|left|quit|"
    r"(?:was|got)\s+(?:laid\s+off|fired|let\s+go)\s+(?:from|by))\b"
    r"(?:\s+[\w-]+){0,4}?\s+(?:en|para|de|at|for|in|from)?\s*X"
    r"|\b(?:ex[-\s]|former\s+|antigu[oa]s?\s+)(?:\w+\s+){0,2}?(?:de\s+|en\s+)?X"
    r"|\bX\s+(?:alumni|veteran)\b"
    r"|\bex[-\s]?(?:emplead|trabajador|compa|compi|t[eé]cnic|ingenier|comercial|jef|becari)"
    r"\w*\s+(?:de|en)\s+X"
)
# Things only staff have or go to, said in the first person in a post that names the brand:
# the brand's intranet, the all-hands, overtime, the staff-only note ("solo para el
# equipo"). Customers have bills, lines and routers; these belong to the workplace.
_INSIDER_CUES = re.compile(
    r"\bintranet\b|\ball[-\s]hands\b|\bon-call\b|\bhiring\s+freeze\b|"
    r"\binternal\s+only\b|\bperformance\s+reviews?\b|\bour\s+(?:sprint|okrs)\b|"
    r"\b(?:hacer|echar|meter|haciendo|echando|metiendo)\s+horas\s+extras?\b|"
    r"\b(?:mi|nuestro)\s+convenio\b|\bconvenio\s+colectivo\b|\bcomit[eé]\s+de\s+empresa\b|"
    r"\b(?:reuni[oó]n|comida|cena)\s+de\s+(?:equipo|empresa)\b|"
    r"\b(?:rrhh|recursos\s+humanos)\s+nos\b|\buso\s+interno\b|"
    r"\bsolo\s+para\s+(?:el\s+equipo|la\s+plantilla|empleados)\b|"
    r"\b(?:nuestr[oa]|our)\s+(?:ceo|cto|consejer[oa]\s+delegad[oa])\b|\bfichar\b",
    re.IGNORECASE,
)
_INSIDER_HINTS = frozenset((
    "intranet", "all-hands", "all hands", "on-call", "hiring freeze", "internal only",
    "performance review", "our sprint", "our okrs", "horas extra", "convenio", "comit",
    "de equipo", "de empresa", "rrhh", "recursos humanos", "uso interno", "solo para",
    "ceo", "cto", "consejer", "fichar",
))
# The first person: the author speaks of their own workplace (not "Calderix convoca a la
# plantilla a un all-hands", a report).
_FIRST_PERSON = re.compile(
    r"\b(?:I|I'm|I've|my|me|we|we're|our|us|yo|mi|mis|nos|nuestr[oa]s?|necesito|tengo|"
    r"estoy|llevo|voy)\b", re.IGNORECASE,
)
_HASHTAG_TEMPLATE = (
    r"#(?:(?:team|somos|orgullo|proud|equipo|familia)X|"
    r"X(?:team|family|familia|crew|people|equipo|staff|employees?))(?!\w)"
)


# Every hint (templates, staff-only things), found in one scan of the post
# (`classifiers.hints`).
_HINTS = HintIndex([*(hint for hints, _ in _SELF_TEMPLATES for hint in hints),
                    *sorted(_INSIDER_HINTS)])


def _templates_by_hint() -> dict[str, tuple[int, ...]]:
    """hint → the indices of the templates that need it."""
    found: dict[str, list[int]] = {}
    for index, (hints, _) in enumerate(_SELF_TEMPLATES):
        for hint in hints:
            found.setdefault(hint, []).append(index)
    return {hint: tuple(indices) for hint, indices in found.items()}


_TEMPLATES_BY_HINT = _templates_by_hint()


@lru_cache(maxsize=256)
def _self_patterns(
    terms: tuple[str, ...],
) -> tuple[re.Pattern[str], tuple[re.Pattern[str], ...], re.Pattern[str], re.Pattern[str]] | None:
    """(brand name, self-identification templates, staff hashtag, former staff) regexes for a
    brand."""
    names = sorted({accent_insensitive(t) for t in terms if t.strip()}, key=len, reverse=True)
    if not names:
        return None
    brand = r"(?:@?(?:" + "|".join(names) + r"))(?!\w)"
    self_id = tuple(re.compile(template.replace("X", brand), re.IGNORECASE)
                    for _, template in _SELF_TEMPLATES)
    glued = sorted({n.replace(r"[\s_-]+", "") for n in names}, key=len, reverse=True)
    hashtag = re.compile(_HASHTAG_TEMPLATE.replace("X", "(?:" + "|".join(glued) + ")"),
                         re.IGNORECASE)
    former = re.compile(_FORMER_TEMPLATE.replace("X", brand), re.IGNORECASE)
    return re.compile("|".join(names), re.IGNORECASE), self_id, hashtag, former


def _windows(text: str, brand: re.Pattern[str]) -> list[tuple[int, int]]:
    """Merged stretches of text around each brand name, where a self-identification (which
    always names the brand) can be: scanning those instead of the whole post is faster."""
    windows: list[tuple[int, int]] = []
    for match in brand.finditer(text):
        start, end = max(0, match.start() - _BEFORE), min(len(text), match.end() + _AFTER)
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], end)
        else:
            windows.append((start, end))
    return windows


def _self_identifications(text: str, windows: list[tuple[int, int]], present: set[str],
                          self_id: tuple[re.Pattern[str], ...]) -> list[Evidence]:
    """The self-identification templates whose hints are present, run in each window."""
    indices = sorted({i for hint in present for i in _TEMPLATES_BY_HINT.get(hint, ())})
    return [
        Evidence(m.start(), m.end(), m.group(), "employee:self_identified")
        for start, end in windows for index in indices
        for m in self_id[index].finditer(text, start, end)
    ]


def _former_staff(text: str, windows: list[tuple[int, int]], former: re.Pattern[str]) -> bool:
    """Does the author say they used to work at the brand (near one of its names)? Asked
    only of the few posts with a self-identification, so it needs no hints."""
    return any(former.search(text, start, end) for start, end in windows)


def _insider_context(text: str, present: set[str]) -> list[Evidence]:
    """A staff-only thing (the intranet, the all-hands) in the first person, in a post that
    names the brand."""
    if present.isdisjoint(_INSIDER_HINTS) or _FIRST_PERSON.search(text) is None:
        return []
    match = _INSIDER_CUES.search(text)
    return [Evidence(match.start(), match.end(), match.group(), "employee:insider_context")
            ] if match else []


@lru_cache(maxsize=256)
def _roster_regex(profile: BrandProfile) -> re.Pattern[str] | None:
    """Rostered names (accent-insensitive, word-bounded) and @handles, as one regex."""
    names = terms_regex(tuple(e.name for e in profile.employees))
    handles = sorted({h for e in profile.employees for h in e.normal_handles}, key=len,
                     reverse=True)
    parts = [names.pattern] if names is not None else []
    if handles:
        parts.append(r"(?<!\w)@(?:" + "|".join(re.escape(h) for h in handles) + r")(?!\w)")
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None


def employee_evidence(text: str, profile: BrandProfile, author: str | None) -> list[Evidence]:
    """Every piece of evidence that an employee of the brand is posting or being named."""
    found: list[Evidence] = []
    rostered = profile.employee_for_author(author)
    if rostered is not None:
        # The author is not part of the text: an empty span, the reason says it all.
        found.append(Evidence(0, 0, "", "employee:roster_author"))
    patterns = _self_patterns(profile.terms)
    if patterns is not None:
        brand, self_id, hashtag, former = patterns
        windows = _windows(text, brand)
        if windows:  # every rule below needs the brand named
            present = _HINTS.found(text.lower())
            claimed = _self_identifications(text, windows, present, self_id)
            if claimed and not _former_staff(text, windows, former):
                found.extend(claimed)
            found.extend(_insider_context(text, present))
        if "#" in text:
            found.extend(Evidence(m.start(), m.end(), m.group(), "employee:team_hashtag")
                         for m in hashtag.finditer(text))
    roster = _roster_regex(profile)
    if roster is not None and ("@" in text or may_have_terms(
            lowered_for_gates(text), tuple(e.name for e in profile.employees))):
        found.extend(Evidence(m.start(), m.end(), m.group(), "employee:roster_mention")
                     for m in roster.finditer(text))
    return list(dict.fromkeys(found))  # two templates may find the same span


def strength(evidence: list[Evidence]) -> float:
    """1 − Π(1 − confidence) over the distinct kinds of evidence."""
    missing = 1.0
    for reason in {e.reason for e in evidence}:
        missing *= 1.0 - CONFIDENCE[reason]
    return round(1.0 - missing, 4)


class EmployeeDetector(BatchedComponent):
    """The spaCy component: adds one `employee` tag when there is any evidence."""

    def __call__(self, doc: Doc) -> Doc:
        profile = doc_brand(doc)
        if profile is None:
            return doc
        evidence = employee_evidence(doc_text(doc), profile, doc_author(doc))
        if evidence:
            add_tags(doc, [TagResult("employee", "employee", strength(evidence),
                                     tuple(evidence[:MAX_EVIDENCE]))])
        return doc


@Language.factory("vigia_employee")
def make_employee_detector(nlp: Language, name: str) -> EmployeeDetector:
    return EmployeeDetector()
