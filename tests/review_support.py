"""Seeded mentions and users for the review workflow's tests (review, labels, escalation)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from monitor.core.models import Source, User
from monitor.core.settings import Settings
from monitor.core.storage import Database
from tests.digest_support import add_mention

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
DNI = "48215763N"


@dataclass(frozen=True)
class Person:
    """An actor as the web app passes one (monitor.app.review.Actor)."""

    name: str
    role: str


ADMIN = Person("ana", "admin")
COMMS = Person("carlos", "comms")
SECURITY = Person("sara", "security")
HR = Person("hugo", "hr")
VIEWER = Person("vera", "viewer")


def review_settings(make_settings: Callable[..., Settings], **email: Any) -> Settings:
    recipients = email.pop("recipients", {
        "alerts": ["crisis@example.com"],
        "escalations": ["comms-lead@example.com"],
        "leaks": ["security@example.com"],
    })
    return make_settings(
        brands=[{"name": "Calderix", "query": "Calderix",
                 "contact_points": ["+34 910 000 000"]},
                {"name": "Fonaris", "query": "Fonaris"}],
        email={"from": "Vigía <vigia@example.com>", "recipients": recipients, **email},
        web={"base_url": "https://vigia.example.com"},
    )


def seed(db: Database) -> dict[str, int]:
    """Mentions by name: plain, negative (a complaint), leak (DNI), staff (employee), and
    both (matched a competitor, Redalia, first and Calderix second); and one user per role."""
    with db.transaction() as session:
        source = Source(name="Foro Hogar", kind="rss")
        session.add(source)
        session.add_all(User(name=p.name, role=p.role, password_hash="x", created_at=NOW)
                        for p in (ADMIN, COMMS, SECURITY, HR, VIEWER))
        seen = NOW - timedelta(hours=1)
        mentions = {
            "plain": add_mention(
                session, source, "plain", title="Calderix opens a shop", text="In Zaragoza.",
                seen=seen, url="https://foro.example/1", author="@pepe",
                tags=[("sentiment", "neutral", 0.1, [])]),
            "negative": add_mention(
                session, source, "negative", title=None,
                text="Calderix support is awful, third day without fibre.",
                seen=seen, url="https://foro.example/2", author="@enfadado",
                tags=[("sentiment", "negative", -0.8, ["awful"]),
                      ("complaint", "complaint", 0.8, ["third day without fibre"])]),
            "leak": add_mention(
                session, source, "leak", title="Calderix invoice",
                text=f"The Calderix invoice of Juan (DNI {DNI}) is on the forum.",
                seen=seen, url="https://foro.example/3", author="@filtrador",
                tags=[("leak", "pii", 0.97, [DNI])]),
            "staff": add_mention(
                session, source, "staff", title=None,
                text="As a Calderix engineer I say the new router is ready.",
                seen=seen, url="https://foro.example/4", author="@luis",
                tags=[("employee", "employee", 0.9, ["As a Calderix engineer"])]),
        }
        both = add_mention(session, source, "both", title=None,
                           text="Redalia and Calderix both raised prices.", seen=seen,
                           brand="Redalia")
        both.brands.append(type(both.brands[0])(brand="Calderix", terms=["Calderix"]))
        mentions["both"] = both
        session.flush()
        return {name: m.id for name, m in mentions.items()}
