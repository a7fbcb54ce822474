"""Input rules for users, shared by ``POST /users`` and the CSV import.

A user's id is derived from the normalised email (a UUIDv5), so the same
email always maps to the same id. That is what makes creation idempotent
without a second table or index: storing a user is a conditional insert on
the id, and a second attempt for the same email finds the id taken.
"""

import re
import uuid

NAME_MAX = 100
EMAIL_MAX = 254  # RFC 5321 path limit minus the angle brackets
EMAIL_LOCAL_MAX = 64

# Never change this: ids of existing users are derived from it.
USER_ID_NAMESPACE = uuid.UUID("6f1c2f0e-3b7a-5d9e-9a4c-5e2b8d7f1a30")

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_TLD = r"(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})"
# A practical shape check, not full RFC 5322: dot-atom local part, DNS host
# names with at least two labels. Quoted local parts and IP literals are
# rejected on purpose.
_EMAIL = re.compile(rf"(?P<local>{_ATOM}(?:\.{_ATOM})*)@(?:{_LABEL}\.)+{_TLD}")

ALLOWED_FIELDS = ("name", "email")

MISSING = object()  # a field absent from the input (unlike null, which is not a string)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def user_id_for(email: str) -> str:
    """The id of the user with this (already normalised) email."""
    return str(uuid.uuid5(USER_ID_NAMESPACE, email))


def parse_user_id(text: str):
    """The canonical form of a user id, or None if ``text`` cannot be one."""
    if len(text) > 64:
        return None
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return None


def _has_control_chars(text: str) -> bool:
    # C0/C1 controls (including newlines and tabs) and lone surrogates, which
    # JSON can smuggle in as "\ud800" and no storage can encode.
    return any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or 0xD800 <= ord(c) <= 0xDFFF for c in text)


def clean_name(value=MISSING):
    """Returns (name, None) or (None, error message)."""
    if value is MISSING:
        return None, "name is required"
    if not isinstance(value, str):
        return None, "name must be a string"
    name = value.strip()
    if not name:
        return None, "name must not be empty"
    if len(name) > NAME_MAX:
        return None, f"name must be at most {NAME_MAX} characters"
    if _has_control_chars(name):
        return None, "name must not contain control characters or line breaks"
    return name, None


def clean_email(value=MISSING):
    """Returns (normalised email, None) or (None, error message)."""
    if value is MISSING:
        return None, "email is required"
    if not isinstance(value, str):
        return None, "email must be a string"
    email = normalise_email(value)
    if not email:
        return None, "email must not be empty"
    if len(email) > EMAIL_MAX:
        return None, f"email must be at most {EMAIL_MAX} characters"
    match = _EMAIL.fullmatch(email)
    if match is None:
        return None, "email is not a valid address (expected something like name@example.com)"
    if len(match.group("local")) > EMAIL_LOCAL_MAX:
        return None, f"email's part before @ must be at most {EMAIL_LOCAL_MAX} characters"
    return email, None


def clean_new_user(data: dict):
    """Validates the fields of a new user.

    Returns (values, errors): values is {"name", "email"} when errors is empty;
    errors maps a field name to a message that names the field.
    """
    errors = {}
    values = {}
    for field in sorted(set(data) - set(ALLOWED_FIELDS)):
        errors[str(field)] = f"unexpected field {str(field)!r} (allowed: name, email)"
    for field, clean in (("name", clean_name), ("email", clean_email)):
        value, error = clean(data.get(field, MISSING))
        if error:
            errors[field] = error
        else:
            values[field] = value
    return values, errors
