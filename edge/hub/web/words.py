"""What the pages call things: outcomes, case events and actions in an officer's words."""
from __future__ import annotations

OUTCOMES = {
    "flag": "Flagged", "review": "Review", "no_read": "No read",
    "quality_reject": "Photo rejected", "clear": "Clear",
}

EVENTS = {
    "seen": "Seen by a unit", "flagged": "Flagged by a unit", "presented": "Presented for exam",
    "detained": "Detained", "notice_sent": "Notice of detention sent",
    "importer_response": "Importer's response recorded", "seized": "Seized",
    "released": "Released", "referred": "Referred", "rights_holder_notified":
    "Rights holder told of the decision", "note": "Note",
}

# The button that adds each event (the case page shows those the case allows next).
ACTIONS = {
    "presented": "Present for exam", "detained": "Detain", "notice_sent": "Send notice",
    "importer_response": "Record response", "seized": "Seize", "released": "Release",
    "referred": "Refer", "rights_holder_notified": "Notify rights holder", "note": "Add note",
}

# Actions that change a shipment's fate ask first.
CONFIRM = {"detained", "seized", "released", "referred"}

AUDIENCES = {"importer": "Importer package (unredacted)",
             "rights_holder": "Rights-holder package (redacted)"}


def outcome(value: str) -> str:
    return OUTCOMES.get(value, value)


def event(value: str) -> str:
    return EVENTS.get(value, value.replace("_", " "))


def action(value: str) -> str:
    return ACTIONS.get(value, value.replace("_", " ").capitalize())
