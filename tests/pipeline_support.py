"""Local RSS files and a pipeline on a fixed clock, for the pipeline's and the pool's tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from monitor.app.pipeline import Pipeline
from monitor.core.settings import Settings
from monitor.core.storage import Database

Item = tuple[str, str, str]  # guid, title, description


def rss(items: list[Item], link: str = "https://news.example") -> str:
    body = "".join(
        f"<item><guid>{guid}</guid><title>{title}</title><link>{link}/{guid}</link>"
        f"<pubDate>Fri, 20 Nov 2026 10:00:00 +0100</pubDate>"
        f"<description>{text}</description></item>"
        for guid, title, text in items
    )
    head = '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
    return f"{head}{body}</channel></rss>"


ITEMS: list[Item] = [
    (
        "a1",
        "Calderix sube sus tarifas de fibra un diez por ciento",
        "Los clientes de Calderix están indignados.",
    ),
    (
        "a2",
        "Calderix mejora su cobertura 5G en Sevilla y Málaga",
        "Una noticia excelente para los usuarios.",
    ),
    ("a3", "El tiempo mañana en Madrid", "Sol y nubes, nada que ver con operadoras."),
    ("a4", "Obras en la Calle Calderix hasta el lunes", "Cortes de tráfico en el centro."),
]


def feed_file(
    tmp_path: Path, name: str, items: list[Item], link: str = "https://news.example"
) -> str:
    path = tmp_path / name
    path.write_text(rss(items, link), encoding="utf-8")
    return name


def count(db: Database, model: type, *where: object) -> int:
    with db.sessions() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def make_pipeline(settings: Settings, db: Database) -> Pipeline:
    return Pipeline(settings, db, clock=lambda: datetime(2026, 11, 20, 12, tzinfo=UTC))
