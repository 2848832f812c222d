"""The happy path through steps 1-3 for each device type, with the test client."""

from __future__ import annotations

import pytest

from tests.helpers import WizardClient


@pytest.mark.parametrize(
    ("device", "sim", "next_url"),
    [
        ("desktop", None, "/register/qr"),
        ("tablet", "no", "/register/qr"),
        ("tablet", "yes", "/register/verify"),
        ("phone", None, "/register/verify"),
    ],
)
def test_each_device_lands_on_its_next_step(wizard: WizardClient, device, sim, next_url) -> None:
    wizard.complete_steps_before("device")
    response = wizard.device(device, sim)
    assert response.status_code == 303
    assert response.headers["Location"] == next_url
    page = wizard.get(next_url)
    assert page.status_code == 200
    # The other branch is not reachable: a deep link goes back to the current step.
    other = "/register/verify" if next_url == "/register/qr" else "/register/qr"
    assert wizard.get(other).headers["Location"] == next_url
