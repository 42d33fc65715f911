"""The digest's labels in English and Spanish (`[email] language`).

A table rather than gettext: there are a few dozen strings and two languages, and a dict
keeps the translations next to each other where a reviewer can compare them. Dates are
formatted here too, because `strftime` month names follow the process locale, which a
server usually has set to C/English whatever the reader speaks.
"""

from __future__ import annotations

from datetime import date, datetime

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
        "model_changes": "Learned from your reviews",
        "model_change": "New {family} model for {scope}, learned from {labels} reviewed posts: "
                        "held-out macro-F1 {before:.2f} → {after:.2f} (it replaces the "
                        "{replaced} one).",
        "model_scope_all": "every brand",
        "model_replaced_base": "shipped",
        "model_replaced_deployment": "previous",
        "model_family_sentiment": "sentiment",
        "model_family_complaint": "complaint",
        "model_family_employee": "employee-post",
        "failures": "consecutive failures",
        "last_success": "last success",
        "never": "never",
        "warning": "warning",
        "error": "error",
        "footer": "Sent by Vigía, your self-hosted brand monitor. Times are in {timezone}.",
        "untitled": "(untitled)",
        # daily digest: trends, incident sections, stories
        "volume": "Mentions",
        "negative_label": "Negative",
        "previous_day": "previous day",
        "week_average": "7-day average",
        "section_leak": "Leaks: personal data, secrets, confidential",
        "section_employee": "Posts by employees",
        "section_policy": "Policy issues",
        "section_complaint": "Complaints to answer",
        "outlets": "{count} outlets",
        "more_stories": "{count} more stories not listed here.",
        # weekly reputation report
        "weekly": "Weekly reputation report",
        "weekly_subject": "Vigía weekly report, {brand}, {week} — mentions: {total}, "
        "net sentiment: {net}",
        "week": "Week",
        "trend_heading": "Volume and sentiment by day",
        "net_sentiment": "Net sentiment",
        "net_sentiment_help": "positive minus negative mentions, per 100 mentions with a "
        "sentiment (from −100 to +100)",
        "share_of_voice": "Share of voice",
        "share_help": "mentions of the brand and of each competitor, counted on the same sources",
        "no_competitors": "No competitors configured (brands.competitors in settings.toml).",
        "top_sources": "Top sources by reach",
        "top_authors": "Top authors by reach",
        "themes": "Main themes",
        "hashtags": "Hashtags",
        "terms": "Terms",
        "incidents": "Leaks and policy incidents",
        "no_incidents": "No leaks or policy incidents this week.",
        "changes": "What changed against the previous week",
        "this_week": "This week",
        "previous_week": "Previous week",
        "change": "Change",
        "name": "Name",
        "mentions_column": "Mentions",
        "reach_column": "Reach",
        "leaks": "Leaks",
        "policy_incidents": "Policy incidents",
        "share_of_voice_brand": "Share of voice",
        "none_this_week": "Nothing this week.",
        "chart_volume": "Mentions per day, by sentiment",
        "chart_sentiment": "Net sentiment per day",
        "chart_share": "Share of voice",
        "points": "pts",
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
        "model_changes": "Aprendido de vuestras revisiones",
        "model_change": "Nuevo modelo de {family} para {scope}, aprendido de {labels} menciones "
                        "revisadas: macro-F1 en las reservadas {before:.2f} → {after:.2f} "
                        "(sustituye al {replaced}).",
        "model_scope_all": "todas las marcas",
        "model_replaced_base": "de serie",
        "model_replaced_deployment": "anterior",
        "model_family_sentiment": "sentimiento",
        "model_family_complaint": "quejas",
        "model_family_employee": "publicaciones de empleados",
        "failures": "fallos seguidos",
        "last_success": "último éxito",
        "never": "nunca",
        "warning": "aviso",
        "error": "error",
        "footer": "Enviado por Vigía, tu monitor de marca autoalojado. Horas en {timezone}.",
        "untitled": "(sin título)",
        # daily digest: trends, incident sections, stories
        "volume": "Menciones",
        "negative_label": "Negativas",
        "previous_day": "día anterior",
        "week_average": "media de 7 días",
        "section_leak": "Filtraciones: datos personales, secretos, confidencial",
        "section_employee": "Publicaciones de empleados",
        "section_policy": "Problemas de normas de conducta",
        "section_complaint": "Quejas que atender",
        "outlets": "{count} medios",
        "more_stories": "{count} historias más no aparecen aquí.",
        # weekly reputation report
        "weekly": "Informe semanal de reputación",
        "weekly_subject": "Informe semanal de Vigía, {brand}, {week} — menciones: {total}, "
        "sentimiento neto: {net}",
        "week": "Semana",
        "trend_heading": "Volumen y sentimiento por día",
        "net_sentiment": "Sentimiento neto",
        "net_sentiment_help": "menciones positivas menos negativas, por cada 100 menciones con "
        "sentimiento (de −100 a +100)",
        "share_of_voice": "Cuota de voz",
        "share_help": "menciones de la marca y de cada competidor, contadas en las mismas fuentes",
        "no_competitors": "No hay competidores configurados (brands.competitors en settings.toml).",
        "top_sources": "Fuentes principales por alcance",
        "top_authors": "Autores principales por alcance",
        "themes": "Temas principales",
        "hashtags": "Hashtags",
        "terms": "Términos",
        "incidents": "Filtraciones e incidentes de normas",
        "no_incidents": "No hubo filtraciones ni incidentes de normas esta semana.",
        "changes": "Qué cambió respecto a la semana anterior",
        "this_week": "Esta semana",
        "previous_week": "Semana anterior",
        "change": "Cambio",
        "name": "Nombre",
        "mentions_column": "Menciones",
        "reach_column": "Alcance",
        "leaks": "Filtraciones",
        "policy_incidents": "Incidentes de normas",
        "share_of_voice_brand": "Cuota de voz",
        "none_this_week": "Nada esta semana.",
        "chart_volume": "Menciones por día, por sentimiento",
        "chart_sentiment": "Sentimiento neto por día",
        "chart_share": "Cuota de voz",
        "points": "ptos",
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
        "pii": "datos personales",
        "secret": "secreto",
        "confidential": "confidencial",
        "insult": "insulto",
        "discrimination": "discriminación",
        "sexual": "sexual",
        "crude": "grosería",
        "political_religious": "política o religión",
        "competitor_disparagement": "ataque a la competencia",
    },
}

_MONTHS = {
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
    "es": ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"],
}


_WEEKDAYS = {
    "en": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
    "es": ["lun", "mar", "mié", "jue", "vie", "sáb", "dom"],
}


def format_weekday(value: date, language: str) -> str:
    """'Mon 17' / 'lun 17': a short day label for chart axes and tables."""
    return f"{_WEEKDAYS.get(language, _WEEKDAYS['en'])[value.weekday()]} {value.day}"


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


def format_number(value: float, language: str) -> str:
    """48000 → '48,000' (en) / '48.000' (es); non-integers keep one decimal."""
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    return text.translate(str.maketrans(",.", ".,")) if language == "es" else text
