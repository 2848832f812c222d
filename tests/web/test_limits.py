"""Per-ID limits: carrier prechecks for one national ID, whatever the address."""

from __future__ import annotations

import pytest

from tests.helpers import WizardClient
from wizard.messages import message


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True}], indirect=True)
def test_prechecks_per_national_id_are_limited(wizard: WizardClient) -> None:
    wizard.identify()
    for _ in range(10):
        response = wizard.personal(nhi_card="999999999999")  # wrong card: a mismatch
        assert message("precheck.mismatch") in response.get_data(as_text=True)
    blocked = wizard.personal()  # even the right data is not sent to the carrier now
    assert blocked.status_code == 200
    assert message("precheck.too_many") in blocked.get_data(as_text=True)


def test_prechecks_are_not_limited_when_limits_are_off(wizard: WizardClient) -> None:
    wizard.identify()
    for _ in range(11):
        wizard.personal(nhi_card="999999999999")
    assert wizard.personal().status_code == 303
