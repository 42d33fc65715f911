"""Stored emails as tests compare them: parsed, with per-send values scrubbed, against goldens.

Goldens live in tests/golden/; after an intended change to the templates, regenerate them with
`VIGIA_UPDATE_GOLDEN=1` and review the diff.
"""

from __future__ import annotations

import email
import email.policy
import os
import re
from email.message import EmailMessage
from pathlib import Path

import pytest

GOLDEN = Path(__file__).with_name("golden")
UPDATE = os.environ.get("VIGIA_UPDATE_GOLDEN") == "1"


def parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, _class=EmailMessage, policy=email.policy.default)


def scrub(raw: bytes) -> str:
    """The stored message with its per-send values (Message-ID, Date, boundaries) fixed."""
    text = raw.decode("ascii").replace("\r\n", "\n")
    boundaries = set(re.findall(r'boundary="([^"]+)"', text))
    for index, boundary in enumerate(sorted(boundaries)):
        text = text.replace(boundary, f"BOUNDARY-{index}")
    text = re.sub(r"(?m)^Message-ID: .*$", "Message-ID: <SCRUBBED@example.com>", text)
    return re.sub(r"(?m)^Date: .*$", "Date: SCRUBBED", text)


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    actual = actual.replace("\r\n", "\n")
    if UPDATE or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"golden {name} was missing and has been written; review and rerun")
    assert actual == path.read_text(encoding="utf-8"), (
        f"{name} changed; if intended, regenerate with VIGIA_UPDATE_GOLDEN=1 and review the diff"
    )
