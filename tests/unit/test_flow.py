"""The step graph: every transition, every illegal one, for every device type."""

from __future__ import annotations

import itertools

import pytest

from wizard.registration import flow
from wizard.registration.flow import Device, Event, State, Step

EXPECTED_ROUTE = {
    Device.DESKTOP: Step.QR_SCAN,
    Device.TABLET_NO_SIM: Step.QR_SCAN,
    Device.TABLET_SIM: Step.VERIFY,
    Device.PHONE: Step.VERIFY,
}


def at(step: Step, device: Device | None = None) -> State:
    return State(step=step, device=device)


def test_the_table_has_one_row_per_source_event_device() -> None:
    keys = [(t.source, t.event, t.device) for t in flow.TRANSITIONS]
    assert len(keys) == len(set(keys))


def test_step_1_and_2_move_forward() -> None:
    assert flow.advance(State(), Step.IDENTIFY, Event.SUBMIT_ID).step is Step.PERSONAL
    assert flow.advance(at(Step.PERSONAL), Step.PERSONAL, Event.SUBMIT_PERSONAL).step is (
        Step.DEVICE
    )


@pytest.mark.parametrize("device", list(Device))
def test_step_3_routes_each_device(device: Device) -> None:
    new = flow.advance(at(Step.DEVICE), Step.DEVICE, Event.CHOOSE_DEVICE, device)
    assert new.step is EXPECTED_ROUTE[device]
    assert new.device is device
    # Choosing at step 3 voids whatever a previous QR code or check had recorded.
    assert {"handoff", "verification"} <= new.cleared
    assert "national_id" not in new.cleared and "msisdn" not in new.cleared


@pytest.mark.parametrize("device", list(Device))
def test_carrier_confirmation_finishes_from_the_devices_own_step(device: Device) -> None:
    state = at(EXPECTED_ROUTE[device], device)
    assert flow.advance(state, state.step, Event.CARRIER_CONFIRMED).step is Step.VERIFIED


@pytest.mark.parametrize("device", list(Device))
def test_paths(device: Device) -> None:
    route = EXPECTED_ROUTE[device]
    assert flow.path(device) == (Step.IDENTIFY, Step.PERSONAL, Step.DEVICE, route, Step.VERIFIED)
    other = Step.VERIFY if route is Step.QR_SCAN else Step.QR_SCAN
    assert other not in flow.path(device)


def test_allowed_is_the_path_up_to_the_current_step() -> None:
    assert flow.allowed(State()) == (Step.IDENTIFY,)
    assert flow.allowed(at(Step.DEVICE)) == (Step.IDENTIFY, Step.PERSONAL, Step.DEVICE)
    assert flow.allowed(at(Step.QR_SCAN, Device.DESKTOP))[-1] is Step.QR_SCAN
    assert not flow.is_allowed(at(Step.QR_SCAN, Device.DESKTOP), Step.VERIFY)
    assert not flow.is_allowed(at(Step.VERIFY, Device.PHONE), Step.QR_SCAN)
    assert flow.latest(at(Step.PERSONAL)) is Step.PERSONAL


ALL_STATES = [State()] + [
    at(step, device) for device in [None, *Device] for step in flow.path(device)[1:]
]
LEGAL = {
    (Step.IDENTIFY, Event.SUBMIT_ID),
    (Step.PERSONAL, Event.SUBMIT_PERSONAL),
    (Step.DEVICE, Event.CHOOSE_DEVICE),
}


@pytest.mark.parametrize(
    ("state", "step", "event", "device"),
    [
        (state, step, event, device)
        for state in ALL_STATES
        for step, event, device in itertools.product(Step, Event, [None, *Device])
    ],
    ids=lambda v: getattr(v, "value", None) or str(v),
)
def test_every_event_from_every_state(state: State, step: Step, event: Event, device) -> None:
    """Exhaustive: legal moves succeed, everything else raises IllegalTransition."""
    visible = flow.is_allowed(state, step) and state.step is not Step.VERIFIED
    if event is Event.CHOOSE_DEVICE:
        legal = visible and step is Step.DEVICE and device is not None
    elif event is Event.CARRIER_CONFIRMED:
        legal = visible and step is state.step and step in (Step.QR_SCAN, Step.VERIFY)
    else:
        legal = visible and (step, event) in LEGAL
    if legal:
        new = flow.advance(state, step, event, device)
        assert flow.is_allowed(new, new.step)
        assert new.step in flow.path(new.device)
    else:
        with pytest.raises(flow.IllegalTransition):
            flow.advance(state, step, event, device)


@pytest.mark.parametrize("device", list(Device))
def test_going_back_and_resubmitting_clears_later_steps(device: Device) -> None:
    state = at(EXPECTED_ROUTE[device], device)
    again = flow.advance(state, Step.PERSONAL, Event.SUBMIT_PERSONAL)
    assert again.step is Step.DEVICE and again.device is None
    assert {"device", "handoff", "verification"} <= again.cleared
    assert "national_id" not in again.cleared
    restart = flow.advance(state, Step.IDENTIFY, Event.SUBMIT_ID)
    assert restart.step is Step.PERSONAL
    assert {"msisdn", "name", "password_hash", "device"} <= restart.cleared


def test_a_verified_registration_never_moves_back() -> None:
    done = at(Step.VERIFIED, Device.PHONE)
    for step in flow.path(Device.PHONE):
        for event in Event:
            with pytest.raises(flow.IllegalTransition):
                flow.advance(done, step, event, Device.PHONE)


def test_back_links() -> None:
    assert flow.previous(State(), Step.IDENTIFY) is None
    assert flow.previous(at(Step.DEVICE), Step.DEVICE) is Step.PERSONAL
    assert flow.previous(at(Step.QR_SCAN, Device.DESKTOP), Step.QR_SCAN) is Step.DEVICE
    assert flow.previous(at(Step.VERIFY, Device.PHONE), Step.VERIFY) is Step.DEVICE


def test_step_numbers_follow_the_manual() -> None:
    assert [flow.STEP_NUMBER[s] for s in Step] == [1, 2, 3, 4, 5, 6]
