"""Staff passwords as NIST SP 800-63B asks: long enough, not a known one, no composition rules.

800-63B section 5.1.1.2 (memorized secrets): at least 8 characters (we ask 12, the
charity's staff can move money), at least 64 allowed, every printable character and
space allowed, no composition rules ("one digit, one symbol"), no periodic change, and
a check against values known to be commonly used or compromised, dictionary words,
repetitive or sequential characters and context-specific words. The common list is
Django's (see common-passwords.LICENSE.txt), shipped with the shop.
"""

from __future__ import annotations

import gzip
import unicodedata
from functools import cache
from pathlib import Path

MIN_LENGTH = 12
MAX_LENGTH = 256  # NIST: allow at least 64; beyond this only hashing time grows
COMMON_FILE = Path(__file__).resolve().parent / "common-passwords.txt.gz"
SEQUENCES = ("abcdefghijklmnopqrstuvwxyz", "0123456789", "qwertyuiopasdfghjklzxcvbnm",
             "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p")


@cache
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_FILE, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip().lower() for line in lines if line.strip())


def normalize(password: str) -> str:
    """NFKC, as 800-63B recommends, so the same password typed on another keyboard
    (full-width digits, composed accents) still matches."""
    return unicodedata.normalize("NFKC", password or "")


def _squeezed(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _is_common(password: str) -> bool:
    common = common_passwords()
    lowered = password.lower()
    candidates = {lowered, lowered.strip(), _squeezed(lowered)}
    # "password2024!" is "password" with the digits people add to pass a length rule.
    stem = lowered.rstrip("0123456789!@#$%^&*?.-_ ")
    if len(stem) >= 4:
        candidates.add(stem)
    stem = lowered.lstrip("0123456789!@#$%^&*?.-_ ")
    if len(stem) >= 4:
        candidates.add(stem)
    return any(candidate in common for candidate in candidates)


def _is_repetitive_or_sequential(password: str) -> bool:
    squeezed = _squeezed(password)
    if len(set(password)) <= 3:
        return True
    if not squeezed:
        return False
    # The same short block repeated: "abcabcabcabc", "12341234...".
    for size in range(1, 5):
        repeats, rest = divmod(len(squeezed), size)
        if repeats >= 2 and not rest and squeezed == squeezed[:size] * repeats:
            return True
    return any(squeezed in seq or squeezed in seq[::-1] for seq in SEQUENCES)


def password_problem(password: str, *, email: str = "", org_name: str = "") -> str | None:
    """What is wrong with this new password, for the person choosing it; None if fine."""
    password = normalize(password)
    if not password:
        return "The password is empty."
    if len(password) < MIN_LENGTH:
        return (f"The password is too short: use at least {MIN_LENGTH} characters. A few "
                "unrelated words make a long password that is easy to remember.")
    if len(password) > MAX_LENGTH:
        return f"The password is too long: use at most {MAX_LENGTH} characters."
    if _is_common(password):
        return "That password is on a list of common passwords; please choose another."
    if _is_repetitive_or_sequential(password):
        return "That password is a repeated or sequential pattern; please choose another."
    squeezed = _squeezed(password)
    local = _squeezed(email.partition("@")[0])
    if len(local) >= 4 and local in squeezed:
        return "The password must not contain your email address's name."
    org = _squeezed(org_name)
    if len(org) >= 4 and squeezed.rstrip("0123456789") in (org, org + "s"):
        return "The password must not be the charity's name."
    for word in ("carepackage", "warmwinter", "staffpassword", "backoffice"):
        if squeezed.rstrip("0123456789") == word:
            return "That password names this shop; please choose another."
    return None
