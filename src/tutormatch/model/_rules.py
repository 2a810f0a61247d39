"""Domain rules of the call for tutors: roles, needs and who can help whom."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from tutormatch.errors import InputError

__all__ = [
    "DEFAULT_CAPACITY",
    "DEFAULT_MAX_DISTANCE_KM",
    "DEFAULT_ROLE_HELP",
    "DEFAULT_VISITS_PER_YEAR",
    "NEEDS",
    "NEED_ALIASES",
    "ROLES",
    "normalise_role_help",
]

#: Roles that may tutor (Op@le users of waves 1-4).
ROLES = ("AC", "AG", "FPAC", "SG", "SGAC")
#: Kinds of help an establishment may need.
NEEDS = ("accounting", "both", "management")
#: Establishments per tutor: the call's target.
DEFAULT_CAPACITY = 2
#: On-site visits per tutored establishment and school year.
DEFAULT_VISITS_PER_YEAR = 6.0
#: On-site tutoring within this great-circle distance of the tutor.
DEFAULT_MAX_DISTANCE_KM = 60.0

#: Which kind of help each role gives: secrétaires généraux and assistants de
#: gestion help with management; fondés de pouvoir and assistants en
#: comptabilité with accounting; SG agents comptables with both.
DEFAULT_ROLE_HELP: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "SG": frozenset({"management"}),
        "AG": frozenset({"management"}),
        "FPAC": frozenset({"accounting"}),
        "AC": frozenset({"accounting"}),
        "SGAC": frozenset({"management", "accounting"}),
    }
)

#: Accepted spellings of a need, lower-case, French and English.
NEED_ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "management": "management",
        "gestion": "management",
        "accounting": "accounting",
        "comptabilite": "accounting",
        "comptabilité": "accounting",
        "both": "both",
        "les deux": "both",
        "deux": "both",
        "mixte": "both",
    }
)


def normalise_role_help(role_help: Mapping[str, object] | None) -> Mapping[str, frozenset[str]]:
    """Validate a role -> kinds-of-help table and return it in canonical form.

    Parameters
    ----------
    role_help : mapping or None
        Role name -> iterable of ``"management"`` / ``"accounting"``. ``None``
        gives :data:`DEFAULT_ROLE_HELP`.

    Raises
    ------
    InputError
        If a kind of help is unknown.
    """
    if role_help is None:
        return DEFAULT_ROLE_HELP
    out: dict[str, frozenset[str]] = {}
    for role, helps in role_help.items():
        kinds: frozenset[str] = frozenset([helps] if isinstance(helps, str) else helps)  # type: ignore[call-overload]
        unknown = kinds - {"management", "accounting"}
        if unknown:
            raise InputError(
                f"role_help[{role!r}]: unknown kind(s) of help {sorted(unknown)}; "
                "use 'management' and/or 'accounting'.",
                table="role_help",
            )
        out[str(role).upper()] = kinds
    return MappingProxyType(out)


def role_covers(role_help: Mapping[str, frozenset[str]], role: str, need: str) -> bool:
    """Tell whether a tutor of ``role`` can give the help ``need`` (blank = unknown = yes)."""
    if role == "" or need == "":
        return True
    helps = role_help.get(role, frozenset())
    if need == "both":
        return {"management", "accounting"} <= helps
    return need in helps
