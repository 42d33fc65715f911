"""The labels of the alert-style emails in English and Spanish: crisis alerts, the routed
daily emails (complaints, HR) and escalations, and how an evidence reason reads.

Apart from the digest's table (reports/i18n.py), so the two sets of emails can grow without
stepping on each other's keys; dates and numbers are formatted by reports/i18n.py for both.
"""

from __future__ import annotations

_ALERT_STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "alert": "Alert",
        "update": "Update",
        "spike_subject": "{prefix}: {brand} mention spike — {count} {metric} in one hour "
        "(usual: {usual})",
        "leak_subject": "{prefix}: possible leak about {brand} — {count} post(s): {kinds}",
        "reach_subject": "{prefix}: negative post about {brand} with reach {reach}",
        "spike_title": "Mention spike",
        "leak_title": "Possible leak",
        "reach_title": "High-reach negative post",
        "update_note": "This storm started {started}; this update lists what is new since the "
        "last email ({sent} sent so far, at most one per {every}).",
        "spike_why": "{count} mentions ({metric}) in this hour, against a usual {median} "
        "(median; spread {spread}), {score} spreads above it. The alert fires at {min_count} "
        "or more and above {threshold} (sensitivity {sensitivity}).",
        "baseline_weekly": "Baseline: the same hour of the week over the previous {samples} "
        "weeks.",
        "baseline_recent": "Baseline: the previous {samples} hours (less than three weeks of "
        "history yet).",
        "baseline_none": "not enough history for a baseline",
        "leak_why": "A classifier found {kinds} in this post. The values are masked here: "
        "open the post to act on it (ask the platform to remove it, warn the people affected).",
        "reach_why": "This negative post has a reach of {reach}, above the alert threshold of "
        "{threshold}.",
        "top_posts": "Top posts",
        "not_shown": "{count} more finding(s) not shown here: see the digest or "
        "`monitor mentions`.",
        "all_posts": "{count} post(s) in that hour",
        "total": "total",
        "negative": "negative",
        "by": "by",
        "reach": "reach",
        "seen_on": "Seen on",
        "open_post": "Open the post",
        "untitled": "(untitled)",
        "footer": "Sent by Vigía at once after the run that detected it. Times are in "
        "{timezone}. Settings: [alerts] in settings.toml.",
        "complaints": "Complaints to answer",
        "complaints_subject": "Vigía: {count} complaint(s) to answer, {day}",
        "complaints_intro": "Customers complained in public about {brands} in this period. "
        "Answer them privately; the link opens each post.",
        "employees": "Employee posts and policy issues",
        "employees_subject": "Vigía: {count} employee post(s) and policy issue(s), {day}",
        "employees_intro": "Posts by people on the employee roster, and posts that break the "
        "communication policy, about {brands} in this period.",
        "period": "Period",
        "why": "Why",
        "routed_footer": "Sent by Vigía to the {list} list. Times are in {timezone}.",
    },
    "es": {
        "alert": "Alerta",
        "update": "Actualización",
        "spike_subject": "{prefix}: pico de menciones de {brand} — {count} {metric} en una "
        "hora (lo habitual: {usual})",
        "leak_subject": "{prefix}: posible filtración sobre {brand} — {count} publicación(es): "
        "{kinds}",
        "reach_subject": "{prefix}: publicación negativa sobre {brand} con alcance {reach}",
        "spike_title": "Pico de menciones",
        "leak_title": "Posible filtración",
        "reach_title": "Publicación negativa de gran alcance",
        "update_note": "Esta tormenta empezó el {started}; esta actualización recoge lo nuevo "
        "desde el último correo ({sent} enviados hasta ahora, como mucho uno cada {every}).",
        "spike_why": "{count} menciones ({metric}) en esta hora, frente a unas {median} "
        "habituales (mediana; dispersión {spread}): {score} dispersiones por encima. "
        "La alerta salta con {min_count} o más y por encima de {threshold} "
        "(sensibilidad {sensitivity}).",
        "baseline_weekly": "Referencia: la misma hora de la semana en las {samples} semanas "
        "anteriores.",
        "baseline_recent": "Referencia: las {samples} horas anteriores (aún no hay tres semanas "
        "de historia).",
        "baseline_none": "no hay historia suficiente para una referencia",
        "leak_why": "Un clasificador encontró {kinds} en esta publicación. Los valores aparecen "
        "enmascarados: abre la publicación para actuar (pedir su retirada a la plataforma, "
        "avisar a los afectados).",
        "reach_why": "Esta publicación negativa tiene un alcance de {reach}, por encima del "
        "umbral de alerta de {threshold}.",
        "top_posts": "Publicaciones principales",
        "not_shown": "{count} hallazgo(s) más que no aparecen aquí: véase el resumen diario o "
        "`monitor mentions`.",
        "all_posts": "{count} publicación(es) en esa hora",
        "total": "total",
        "negative": "negativas",
        "by": "por",
        "reach": "alcance",
        "seen_on": "Visto en",
        "open_post": "Abrir la publicación",
        "untitled": "(sin título)",
        "footer": "Enviado por Vigía nada más detectarlo. Horas en {timezone}. "
        "Ajustes: [alerts] en settings.toml.",
        "complaints": "Quejas por responder",
        "complaints_subject": "Vigía: {count} queja(s) por responder, {day}",
        "complaints_intro": "Clientes que se quejaron en público de {brands} en este periodo. "
        "Respóndeles en privado; el enlace abre cada publicación.",
        "employees": "Publicaciones de empleados e incidencias de política",
        "employees_subject": "Vigía: {count} publicación(es) de empleados e incidencias, {day}",
        "employees_intro": "Publicaciones de personas de la plantilla y publicaciones que "
        "incumplen la política de comunicación sobre {brands} en este periodo.",
        "period": "Periodo",
        "why": "Por qué",
        "routed_footer": "Enviado por Vigía a la lista {list}. Horas en {timezone}.",
    },
}

# The email a reviewer's `escalate` writes (reports/escalation.py); it shows the post with the
# alerts' post block, so it reads on top of the alert table.
_ESCALATION_STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "escalated": "Escalated",
        "escalation_subject": "Vigía: {user} escalated a post about {brand}",
        "escalation_intro": "{user} escalated this post about {brand} on {when}.",
        "escalation_note": "Their note",
        "escalation_no_note": "No note was left.",
        "escalation_leak": "The post is tagged as a possible leak, so this email went to the "
        "leaks list; its values are masked.",
        "open_in_vigia": "Open it in Vigía",
        "escalation_footer": "Sent by Vigía when someone escalates a post in the web app. "
        "Times are in {timezone}.",
    },
    "es": {
        "escalated": "Escalada",
        "escalation_subject": "Vigía: {user} escaló una publicación sobre {brand}",
        "escalation_intro": "{user} escaló esta publicación sobre {brand} el {when}.",
        "escalation_note": "Su nota",
        "escalation_no_note": "No dejó ninguna nota.",
        "escalation_leak": "La publicación está marcada como posible filtración, así que este "
        "correo fue a la lista de filtraciones; sus valores aparecen enmascarados.",
        "open_in_vigia": "Abrirla en Vigía",
        "escalation_footer": "Enviado por Vigía cuando alguien escala una publicación en la "
        "aplicación web. Horas en {timezone}.",
    },
}

# Evidence reasons (`pii:dni`) → what a reader sees; unknown reasons are shown unchanged.
_REASON_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "pii:dni": "a DNI number",
        "pii:nie": "an NIE number",
        "pii:iban": "an IBAN",
        "pii:bank_account": "a bank account number",
        "pii:card": "a payment card number",
        "pii:email": "an email address",
        "pii:phone": "a phone number",
        "secret": "a secret (API key or token)",
        "confidential:codename": "a confidential codename",
        "confidential:insider": "insider news not yet announced",
        "confidential:internal_document": "an internal document or screenshot",
        "confidential:internal_link": "a link to an internal site",
        "confidential:marker": "marked confidential / internal",
        "pii:address": "a home address",
        "pii:account": "an account number next to a name",
        "pii:passport": "a passport number",
        "employee:roster_author": "written by someone on the employee roster",
        "employee:roster_mention": "names someone on the employee roster",
        "employee:self_identified": "the author says they work there",
        "employee:former_staff": "the author says they used to work there",
        "employee:team_hashtag": "a staff hashtag",
        "employee:staff_blog": "a staff blog of the company, written as \"we\"",
        "employee:insider_context": "speaks of staff-only things (intranet, all-hands)",
        "complaint:demand": "complaint: demands a fix",
        "complaint:addressed": "addressed to the brand",
        "complaint:outage": "complaint: service down",
        "complaint:billing": "complaint: billing",
        "complaint:waiting": "complaint: waiting, no answer",
        "complaint:support": "complaint: customer care",
        "complaint:cancel": "complaint: wants to leave",
        "complaint:request": "asks for help",
        "complaint:problem": "complaint: a problem",
        "complaint:voice": "a customer speaking",
        "complaint:experience": "complaint: their experience of the service",
        "complaint:review": "complaint: a low star rating",
        "learned complaint word": "a word the model weighs toward a complaint",
        "learned employee word": "a word the model weighs toward a staff post",
        "learned negative word": "a word the model weighs as negative",
        "learned positive word": "a word the model weighs as positive",
        "learned neutral word": "a word the model weighs as neutral",
    },
    "es": {
        "pii:dni": "un DNI",
        "pii:nie": "un NIE",
        "pii:iban": "un IBAN",
        "pii:bank_account": "una cuenta bancaria",
        "pii:card": "una tarjeta de pago",
        "pii:email": "un correo electrónico",
        "pii:phone": "un teléfono",
        "secret": "un secreto (clave de API o token)",
        "confidential:codename": "un nombre en clave confidencial",
        "confidential:insider": "noticia interna aún no anunciada",
        "confidential:internal_document": "un documento o captura interna",
        "confidential:internal_link": "un enlace a un sitio interno",
        "confidential:marker": "marcado como confidencial / interno",
        "pii:address": "una dirección particular",
        "pii:account": "un número de cliente junto a un nombre",
        "pii:passport": "un pasaporte",
        "employee:roster_author": "escrita por alguien de la plantilla",
        "employee:roster_mention": "nombra a alguien de la plantilla",
        "employee:self_identified": "el autor dice trabajar allí",
        "employee:former_staff": "el autor dice que trabajó allí",
        "employee:team_hashtag": "un hashtag de la plantilla",
        "employee:staff_blog": "un blog de la plantilla, escrito en plural",
        "employee:insider_context": "habla de cosas internas de la plantilla",
        "complaint:demand": "queja: exige un arreglo",
        "complaint:addressed": "dirigida a la marca",
        "complaint:outage": "queja: servicio caído",
        "complaint:billing": "queja: facturación",
        "complaint:waiting": "queja: espera sin respuesta",
        "complaint:support": "queja: atención al cliente",
        "complaint:cancel": "queja: quiere darse de baja",
        "complaint:request": "pide ayuda",
        "complaint:problem": "queja: un problema",
        "complaint:voice": "habla un cliente",
        "complaint:experience": "queja: su experiencia con el servicio",
        "complaint:review": "queja: una valoración baja",
        "learned complaint word": "una palabra que el modelo asocia a una queja",
        "learned employee word": "una palabra que el modelo asocia a la plantilla",
        "learned negative word": "una palabra que el modelo lee como negativa",
        "learned positive word": "una palabra que el modelo lee como positiva",
        "learned neutral word": "una palabra que el modelo lee como neutra",
        "policy:insult": "política: insulto",
        "policy:discrimination": "política: discriminación",
        "policy:sexual": "política: contenido sexual",
        "policy:crude": "política: lenguaje soez",
        "policy:political_religious": "política: política o religión",
        "policy:competitor_disparagement": "política: desprestigio de la competencia",
    },
}
_REASON_FAMILIES = {
    "en": {},
    "es": {"complaint": "queja", "employee": "empleado", "confidential": "confidencial"},
}


def alert_strings(language: str) -> dict[str, str]:
    """The alert and routed-email label table for `language` (English when unknown)."""
    return _ALERT_STRINGS.get(language, _ALERT_STRINGS["en"])


def escalation_strings(language: str) -> dict[str, str]:
    """The escalation email's labels over the alert table (its post block's labels)."""
    return {**alert_strings(language),
            **_ESCALATION_STRINGS.get(language, _ESCALATION_STRINGS["en"])}


def reason_label(reason: str, language: str) -> str:
    """'pii:dni' → 'a DNI number'; any `secret:*` reads as a secret; others as they are."""
    table = _REASON_LABELS.get(language, _REASON_LABELS["en"])
    if reason in table:
        return table[reason]
    if reason.startswith("secret:"):
        return table["secret"]
    family, _, detail = reason.partition(":")
    family = _REASON_FAMILIES.get(language, {}).get(family, family)
    return f"{family}: {detail}".replace("_", " ") if detail else family
