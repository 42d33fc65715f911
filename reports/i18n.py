"""The digest's labels in English and Spanish (`[email] language`).

A table rather than gettext: there are a few dozen strings and two languages, and a dict
keeps the translations next to each other where a reviewer can compare them. Dates are
formatted here too, because `strftime` month names follow the process locale, which a
server usually has set to C/English whatever the reader speaks.
"""

from __future__ import annotations

from datetime import datetime

LANGUAGES = ("en", "es")

_STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "digest": "Daily digest",
        "subject": "Vigía daily digest, {day} — mentions: {total}, negative: {negative}",
        "period": "Period",
        "mentions": "mentions",
        "negative": "negative",
        "neutral": "neutral",
        "positive": "positive",
        "unrated": "no sentiment",
        "top_mentions": "Most important mentions",
        "no_mentions": "No new mentions in this period.",
        "more_mentions": "{count} more mentions not listed here.",
        "published": "Published",
        "by": "by",
        "reach": "reach",
        "seen_on": "Seen on",
        "evidence": "Why",
        "sources_with_problems": "Sources with problems",
        "failures": "consecutive failures",
        "last_success": "last success",
        "never": "never",
        "warning": "warning",
        "error": "error",
        "footer": "Sent by Vigía, your self-hosted brand monitor. Times are in {timezone}.",
        "untitled": "(untitled)",
    },
    "es": {
        "digest": "Resumen diario",
        "subject": "Resumen diario de Vigía, {day} — menciones: {total}, negativas: {negative}",
        "period": "Periodo",
        "mentions": "menciones",
        "negative": "negativas",
        "neutral": "neutras",
        "positive": "positivas",
        "unrated": "sin sentimiento",
        "top_mentions": "Menciones más importantes",
        "no_mentions": "No hay menciones nuevas en este periodo.",
        "more_mentions": "{count} menciones más no aparecen aquí.",
        "published": "Publicado",
        "by": "por",
        "reach": "alcance",
        "seen_on": "Visto en",
        "evidence": "Por qué",
        "sources_with_problems": "Fuentes con problemas",
        "failures": "fallos seguidos",
        "last_success": "último éxito",
        "never": "nunca",
        "warning": "aviso",
        "error": "error",
        "footer": "Enviado por Vigía, tu monitor de marca autoalojado. Horas en {timezone}.",
        "untitled": "(sin título)",
    },
}

# Tag labels as the classifiers emit them → what a reader sees. Unknown labels show as-is.
_TAG_LABELS: dict[str, dict[str, str]] = {
    "en": {},
    "es": {
        "negative": "negativo",
        "neutral": "neutro",
        "positive": "positivo",
        "leak": "filtración",
        "employee": "empleado",
        "complaint": "queja",
        "policy": "política",
    },
}

_MONTHS = {
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
    "es": ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"],
}


def strings(language: str) -> dict[str, str]:
    """The label table for `language` (English when it is unknown)."""
    return _STRINGS.get(language, _STRINGS["en"])


def tag_label(label: str, language: str) -> str:
    """A classifier label in the reader's language; unknown labels are shown unchanged."""
    return _TAG_LABELS.get(language, {}).get(label, label).replace("_", " ")


def format_date(value: datetime, language: str) -> str:
    """'21 Nov 2025' / '21 nov 2025' without relying on the process locale."""
    months = _MONTHS.get(language, _MONTHS["en"])
    return f"{value.day} {months[value.month - 1]} {value.year}"


def format_datetime(value: datetime, language: str) -> str:
    """'21 Nov 2025 08:00' in the datetime's own time zone (callers convert first)."""
    return f"{format_date(value, language)} {value:%H:%M}"
