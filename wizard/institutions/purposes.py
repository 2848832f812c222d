"""What a check may be for. A share names one purpose; an institution may use only the
purposes an operator allowed it (``Institution.purposes``)."""

from __future__ import annotations

from wizard.web.i18n import N_

#: code → name (translated where shown). Order: as offered to the person.
PURPOSES: dict[str, str] = {
    "training": N_("參加職業訓練"),
    "training_allowance": N_("申請職業訓練生活津貼"),
    "employment_service": N_("就業服務與媒合"),
    "subsidy_review": N_("政府補助資格審查"),
}
DEFAULT = "training"


def name(code: str) -> str:
    """The untranslated name (the caller translates), or the code itself if unknown."""
    return PURPOSES.get(code, code)
