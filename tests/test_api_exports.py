"""The CSV and JSONL exports on both databases: streamed in chunks, masked, filtered, role
rules applied, and safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from monitor.core.models import Source
from monitor.web import exports
from tests.digest_support import add_mention
from tests.web_api_support import ApiWorld, sign_in, world_fixture  # noqa: F401  (world)

DNI = "12345678Z"
HOSTILE = ["=HYPERLINK(\"https://evil.example\",\"click\")", "+1+1", "-2+3", "@SUM(A1)",
           "\tcmd", "\rcmd"]
ROWS = 450  # more than two of the export's chunks


@pytest.fixture
def exported(world: ApiWorld) -> ApiWorld:
    """ROWS more mentions, one with a DNI, some whose title or author looks like a formula."""
    with world.db.transaction() as session:
        source = session.scalars(select(Source)).one()
        start = datetime(2026, 10, 1, tzinfo=UTC)
        for n in range(ROWS):
            hostile = HOSTILE[n % len(HOSTILE)] if n < len(HOSTILE) else None
            text = f"Calderix row {n}" + (f", DNI {DNI}, call me" if n == 7 else "")
            add_mention(session, source, f"row-{n}", title=hostile, text=text,
                        seen=start + timedelta(minutes=n), author=hostile or f"user{n}")
    return world


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_csv_streams_every_row_masked_in_chunks(exported: ApiWorld) -> None:
    with exported.client.stream("GET", "/api/v1/mentions.csv",
                                headers=exported.auth("admin")) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/csv")
        disposition = answer.headers["content-disposition"]
        assert disposition.startswith("attachment; filename=vigia-mentions-")
        assert disposition.endswith(".csv")
        chunks = list(answer.iter_text())
    text = "".join(chunks)
    assert len(chunks) >= ROWS // exports.ROWS_PER_CHUNK
    rows = rows_of(text)
    assert len(rows) == ROWS + 5  # and the five seeded ones
    assert len({row["id"] for row in rows}) == len(rows)
    assert DNI not in text and "48215763N" not in text
    (with_dni,) = [row for row in rows if "call me" in row["text"]]
    assert "DNI 1234****Z" in with_dni["text"]


def test_formula_looking_cells_are_neutralised(exported: ApiWorld) -> None:
    rows = rows_of(exported.get("/mentions.csv").text)
    titles = {row["title"] for row in rows}
    for hostile in HOSTILE:
        assert "'" + hostile in titles, hostile
    for row in rows:
        for value in row.values():
            assert not value.startswith(exports.FORMULA_STARTS), value


@pytest.mark.parametrize("role", ["comms", "security", "hr"])
def test_exports_apply_the_role_rules(world: ApiWorld, role: str) -> None:
    listed = set(world.listed(role))
    csv_ids = {int(row["id"]) for row in rows_of(world.get("/mentions.csv", role).text)}
    lines = world.get("/mentions.jsonl", role).text.splitlines()
    jsonl_ids = {json.loads(line)["id"] for line in lines}
    assert csv_ids == jsonl_ids == listed
    if role != "security":
        assert world.ids["leak"] not in csv_ids
    if role != "hr":
        assert world.ids["staff"] not in csv_ids


def test_exports_take_the_inbox_filters(world: ApiWorld) -> None:
    rows = rows_of(world.get("/mentions.csv", params={"tag": "complaint"}).text)
    assert [int(row["id"]) for row in rows] == [world.ids["negative"]]
    assert rows[0]["tags"] == "sentiment:negative | complaint:complaint"
    lines = world.get("/mentions.jsonl", params={"q": "zaragoza"}).text.splitlines()
    assert [json.loads(line)["id"] for line in lines] == [world.ids["plain"]]
    empty = world.get("/mentions.csv", params={"brand": "Acme"})
    assert empty.status_code == 200 and rows_of(empty.text) == []


def test_the_jsonl_lines_are_the_api_items(world: ApiWorld) -> None:
    answer = world.get("/mentions.jsonl", "security")
    assert answer.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in answer.text.splitlines()]
    (leak,) = [line for line in lines if line["id"] == world.ids["leak"]]
    detail = world.get(f"/mentions/{world.ids['leak']}", "security").json()
    del detail["history"]
    assert leak == detail
    assert "48215763N" not in answer.text


def test_a_cookie_signed_browser_may_download(world: ApiWorld) -> None:
    sign_in(world.client, "carlos")
    answer = world.client.get("/api/v1/mentions.csv")
    assert answer.status_code == 200
    assert {int(row["id"]) for row in rows_of(answer.text)} == set(world.listed("comms"))
