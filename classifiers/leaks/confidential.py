"""Confidential company information in a post, judged against the brand's profile.

Evidence, strongest first:

* `confidential:codename`: one of the brand's internal codenames ("Proyecto Halcón", "Orca").
* `confidential:internal_link`: a link or host on the brand's internal domains, or on a private
  zone that never resolves publicly (`.local`, `.internal`, `.corp`, `.lan`, `intranet.*`).
* `confidential:marker`: the document says what it is ("confidencial", "uso interno",
  "internal only", "under NDA", "no lo compartáis", "do not share").
* `confidential:insider`: corporate news that is not public yet *told as insider knowledge*:
  an insider cue ("me acaban de contar en el curro", "internal all-hands", "documentos
  internos", "you didn't hear it from me", "staff here") in the same post as a material
  event (layoffs/ERE, a launch, results or targets, a merger or acquisition, a price change).
  A news item about an announced event has the event but no insider cue, so it is not a leak.
* `confidential:internal_document`: a screenshot, photo or copy of an internal document,
  email, chat or system ("captura del Slack interno", "leaked memo").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from classifiers.caseless import Caseless, lowered_for_twins
from classifiers.context import BrandProfile, lowered_for_gates, may_have_terms, terms_regex
from classifiers.hints import HintIndex, any_of
from classifiers.leaks.spans import without_overlaps
from classifiers.tags import Evidence

_PRIVATE_HOST = re.compile(
    r"(?<![\w.-])(?:https?://)?(?:[a-z0-9-]+\.)*(?:intranet|extranet|internal|corp|wiki|jira|"
    r"confluence)\.[a-z0-9.-]+\.[a-z]{2,}(?:/[^\s]*)?|"
    r"(?<![\w.-])(?:https?://)?(?:[a-z0-9-]+\.)+(?:local|internal|corp|lan|intra|intranet|"
    r"private|localdomain|home\.arpa)(?![\w-])(?::\d+)?(?:/[^\s]*)?",
    re.IGNORECASE,
)
_MARKER = re.compile(
    r"\b(?:(?:estrictamente\s+)?confidencial(?:es)?|(?:strictly\s+)?confidential|"
    r"(?:(?:solo|s[oó]lo)\s+(?:para\s+)?)?uso\s+interno|internal\s+(?:use\s+)?only|"
    r"for\s+internal\s+use|(?:under|bajo)\s+(?:an?\s+|un\s+)?NDA|"
    r"no\s+(?:lo|la|los|las)\s+(?:compart[aáiíe]\w*|difund\w*|reenv[ií]\w*)|"
    r"no\s+compartir|no\s+difundir|do\s+not\s+(?:share|forward|distribute)|"
    r"don'?t\s+(?:share|forward)\s+(?:this|it)|not\s+for\s+(?:distribution|publication)|"
    r"solo\s+para\s+(?:el\s+)?(?:equipo|empleados|personal|plantilla))\b",
    re.IGNORECASE,
)
_INSIDER_CUE = re.compile(
    r"\b(?:me\s+(?:acaban\s+de\s+)?(?:han\s+)?(?:contado|cuentan|chivado|dicho)\s+en\s+el\s+"
    r"(?:curro|trabajo|oficina)|en\s+el\s+curro|reuni[oó]n\s+interna|all[\s-]?hands|"
    r"town\s*hall|internal\s+(?:meeting|memo|email|call|announcement|all[\s-]?hands)|"
    r"documentos?\s+internos?|fuentes?\s+internas?|internal\s+(?:documents?|sources?)|"
    r"fuentes?\s+de\s+la\s+(?:empresa|compa(?:ñ|n)[ií]a|operadora|casa)|"
    r"you\s+didn'?t\s+hear\s+(?:it|this)\s+from\s+me|no\s+(?:lo\s+)?has\s+o[ií]do\s+de\s+m[ií]|"
    r"no\s+puedo\s+(?:decir|contar)\s+m[aá]s|can'?t\s+say\s+more|off\s+the\s+record|"
    r"(?:staff|employee|insider|retail)\s+here|entre\s+nosotros|between\s+us|"
    r"antes\s+de\s+que\s+(?:se\s+)?(?:anuncie|haga\s+p[uú]blico|salga)|"
    r"before\s+(?:it(?:'s|\s+is)\s+)?(?:announced|public)|not\s+(?:yet\s+)?(?:public|announced)|"
    r"(?:a[uú]n|todav[ií]a)\s+no\s+(?:es\s+p[uú]blico|se\s+ha\s+anunciado)|"
    r"no\s+es\s+p[uú]blico(?:\s+(?:a[uú]n|todav[ií]a))?|(?:go|goes)\s+public\s+on|"
    r"lo\s+anunciar[aá]n|will\s+announce|se\s+anunciar[aá]|sneak\s+peek|nos\s+han\s+dicho\s+que|"
    r"(?:desde|por)\s+dentro|from\s+(?:the\s+)?inside|insider\s+info\w*|"
    r"un[ao]?\s+compa(?:ñ|n)er[oa]\s+de\s+\w+\s+me\s+(?:ha\s+)?(?:dicho|contado)|"
    r"nos\s+(?:han|lo\s+han)\s+(?:comunicado|contado)|we\s+(?:were|got)\s+told|"
    r"(?:my|our)\s+(?:manager|boss)\s+(?:just\s+)?(?:told|said)|"
    r"mi\s+jef[ea]\s+(?:nos\s+)?(?:ha\s+)?(?:dicho|dijo|contado|contó)|"
    r"(?:correo|memo|email|mail)\s+intern[oa]|internal\s+(?:e-?mail|mail))",
    re.IGNORECASE,
)
_EVENT = re.compile(
    r"\b(?:ERE|ERTE|despid\w*|desped\w*|recortes?\s+de\s+plantilla|layoffs?|redundanc\w+|job\s+cuts|"
    r"lanza\w*|lanzamiento|launch\w*|release\s+date|nuevo\s+producto|new\s+(?:product|tier|"
    r"plan)|nueva\s+tarifa|resultados|beneficios|p[eé]rdidas|ingresos|facturaci[oó]n\s+"
    r"trimestral|results|revenue|earnings|profits?|losses|target|objetivos?|guidance|"
    r"fusi[oó]n|merger|adquisici[oó]n|acquisition|acquire\w*|comprar\s+a|takeover|"
    r"subida\s+de\s+precios?|price\s+(?:rise|increase|hike)|cierre\s+de\s+tiendas|"
    r"cerrar[aá]n|will\s+close|prototipo|prototype|Q[1-4]|nuevo\s+CEO|new\s+CEO|"
    r"dimisi[oó]n|resign\w*|subir[aá]n?\s+(?:los\s+)?precios|raise\s+prices|recortes?|"
    r"cuts?\s+(?:jobs|staff|salaries))\b",
    re.IGNORECASE,
)
_INTERNAL_DOCUMENT = re.compile(
    r"\b(?:captura|pantallazo|screenshot|foto|photo|copia|leaked|filtrad[oa]s?)\b[^.!?\n]{0,60}?"
    r"\b(?:slack|teams|intranet|memo|correo\s+interno|internal\s+(?:email|memo|chat|doc\w*)|"
    r"documento\s+interno|presentaci[oó]n\s+interna|organigrama|n[oó]minas?|payroll)\b|"
    r"\b(?:os\s+paso|aqu[ií]\s+(?:va|ten[eé]is)|here(?:'s|\s+is))\s+(?:el|la|the)\s+"
    r"(?:nuevo\s+|nueva\s+|new\s+)?(?:protocolo|memo|documento|organigrama|plan\s+interno|"
    r"internal\s+\w+)",
    re.IGNORECASE,
)


# Substrings of the lower-cased text without which a rule's regex cannot match: cheap `in`
# checks that spare most posts the big case-insensitive alternations.
_PRIVATE_HOST_HINTS = ("intranet", "extranet", "internal", "corp", "wiki", "jira", "confluence",
                       ".local", ".lan", ".intra", ".private", "home.arpa")
_MARKER_HINTS = ("confiden", "interno", "internal", "nda", "compart", "difund", "reenv",
                 "share", "forward", "distribu", "publicat", "solo para", "sólo para")
_INSIDER_HINTS = ("contado", "cuentan", "chivado", "dicho", "dentro", "inside", "insider",
                  "compañer", "companer", "comunicado", "told", "dijo", "contó", "memo",
                  "correo", "mail", "curro", "reuni", "hands", "town",
                  "internal", "interno", "fuente", "source", "hear", "oído", "oido", "decir",
                  "contar", "say more", "record", "staff here", "employee here",
                  "insider here", "retail here", "nosotros", "between us", "antes de que",
                  "before", "not yet", "not public", "not announced", "aún no", "aun no",
                  "todavía no", "todavia no", "público", "publico", "public", "anunciar",
                  "announce", "sneak")
_DOCUMENT_HINTS = ("captura", "pantallazo", "screenshot", "screen shot", "foto", "photo",
                   "copia", "leaked", "filtrad", "os paso", "aquí va", "aqui va", "aquí ten",
                   "aqui ten", "here's", "here is")


# Every lower-case hint of this module, found in one scan (`classifiers.hints`); the leak
# component scans once for the hints of all three detectors and passes what it found.
HINTS = (*_PRIVATE_HOST_HINTS, *_MARKER_HINTS, *_INSIDER_HINTS, *_DOCUMENT_HINTS)
_HINTS = HintIndex(HINTS)
_PRIVATE_HOST_SET, _MARKER_SET, _INSIDER_SET, _DOCUMENT_SET = (
    frozenset(hints) for hints in (_PRIVATE_HOST_HINTS, _MARKER_HINTS, _INSIDER_HINTS,
                                   _DOCUMENT_HINTS)
)
# An insider cue counts only with a material event: the event's cheap exact pre-test
# (`classifiers.caseless`) spares most cue-bearing posts both big alternations.
_EVENT_TEST = Caseless(_EVENT)


@lru_cache(maxsize=256)
def _internal_domains(domains: tuple[str, ...]) -> re.Pattern[str] | None:
    """Hosts on (or under) the brand's configured internal domains."""
    cleaned = [d.strip().lower().lstrip(".") for d in domains if d.strip()]
    if not cleaned:
        return None
    alternatives = "|".join(re.escape(d) for d in sorted(cleaned, key=len, reverse=True))
    return re.compile(
        r"(?<![\w-])(?:https?://)?(?:[a-z0-9-]+\.)*(?:" + alternatives + r")(?![\w-])"
        r"(?::\d+)?(?:/[^\s]*)?",
        re.IGNORECASE,
    )


def _links(text: str, lowered: str, profile: BrandProfile | None,
           private_hint: bool) -> Iterator[Evidence]:
    configured = (
        _internal_domains(profile.internal_domains)
        if profile and any(d.lower() in lowered for d in profile.internal_domains) else None
    )
    private = _PRIVATE_HOST if private_hint else None
    for pattern in (configured, private):
        if pattern is None:
            continue
        for match in pattern.finditer(text):
            value = match.group().rstrip(".,;:!?)'\"")
            yield Evidence(match.start(), match.start() + len(value), value,
                           "confidential:internal_link")


def find_confidential(text: str, profile: BrandProfile | None,
                      hints: set[str] | None = None) -> list[Evidence]:
    """Evidence that text discloses the brand's confidential information (see module doc)."""
    found: list[Evidence] = []
    lowered = text.lower()
    if hints is None:
        hints = _HINTS.found(lowered)
    codenames = terms_regex(profile.codenames) if profile else None
    if codenames is not None and may_have_terms(lowered_for_gates(text), profile.codenames):
        found.extend(Evidence(m.start(), m.end(), m.group(), "confidential:codename")
                     for m in codenames.finditer(text))
    if "." in text:
        found.extend(_links(text, lowered, profile, any_of(hints, _PRIVATE_HOST_SET)))
    if any_of(hints, _MARKER_SET):
        found.extend(Evidence(m.start(), m.end(), m.group(), "confidential:marker")
                     for m in _MARKER.finditer(text))
    cue = (_INSIDER_CUE.search(text) if any_of(hints, _INSIDER_SET)
           and _EVENT_TEST.may_match(lowered_for_twins(text)) else None)
    if cue:
        event = _EVENT.search(text)
        if event:
            found.extend(Evidence(m.start(), m.end(), m.group(), "confidential:insider")
                         for m in (cue, event))
    if any_of(hints, _DOCUMENT_SET):
        found.extend(Evidence(m.start(), m.end(), m.group(), "confidential:internal_document")
                     for m in _INTERNAL_DOCUMENT.finditer(text))
    return without_overlaps(found)
