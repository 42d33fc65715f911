"""Who may see and do what: the one place the role rules live (pages, API and exports alike).

A mention carrying a restricted tag family is hidden whole from every role outside that
family's readers: a leak (personal data, credentials, confidential material) is for security,
an employee's post is for HR; admin sees everything. Hiding the whole mention, not just the
tag, is deliberate: its text is what is sensitive. Identifiers stay masked for everyone;
only `REVEALERS` may unmask one, and every reveal is audited.
"""

from __future__ import annotations

ROLES = ("admin", "comms", "security", "hr", "viewer")
REVIEW_STATUSES = ("new", "reviewed", "false_positive", "escalated")

#: tag family → the roles that may see a mention tagged with it
RESTRICTED_FAMILIES: dict[str, frozenset[str]] = {
    "leak": frozenset({"security", "admin"}),
    "employee": frozenset({"hr", "admin"}),
}
REVEALERS = frozenset({"security", "admin"})
READ_ONLY = frozenset({"viewer"})


def check_role(role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r} — use one of: {', '.join(ROLES)}")
    return role


def hidden_families(role: str) -> frozenset[str]:
    """The tag families whose mentions `role` must not see (filter them out in queries)."""
    return frozenset(f for f, readers in RESTRICTED_FAMILIES.items() if role not in readers)


def may_see(role: str, families: set[str] | frozenset[str]) -> bool:
    """Whether `role` may see a mention whose tags belong to `families`."""
    return not (hidden_families(role) & set(families))


def may_reveal(role: str) -> bool:
    return role in REVEALERS


def may_act(role: str) -> bool:
    """Review actions (and corrections) are for every role but the read-only one."""
    return role not in READ_ONLY


def may_manage_users(role: str) -> bool:
    return role == "admin"
