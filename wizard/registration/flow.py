"""The registration wizard's step graph, as data.

Pure Python: no Flask, no database. A registration's position is a small frozen
:class:`State`; :func:`advance` applies an :class:`Event` by looking it up in the explicit
:data:`TRANSITIONS` table and returns the next state, or raises :class:`IllegalTransition`.
:func:`allowed` says which steps a person may look at now (the current one and the ones
behind it on their path), so a deep link to a later step can be sent back to the current one.

The device type decides the path after step 3: a device that can reach its carrier's mobile
network itself (a phone, a tablet with a SIM) verifies directly (step 5); one that cannot
(a desktop, a tablet without a SIM) shows a QR code for a phone to scan (step 4).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Step(StrEnum):
    """The manual's steps 1-5 as the applying browser sees them."""

    IDENTIFY = "identify"  # 1: national ID on the login page
    PERSONAL = "personal"  # 2: personal data, carrier, number, CAPTCHA, password
    DEVICE = "device"  # 3: which device is this
    QR_SCAN = "qr"  # 4: scan a QR code with the phone
    VERIFY = "verify"  # 5: check the data and let the carrier confirm the number
    VERIFIED = "verified"  # the carrier confirmed the number; steps 6-7 follow


class Device(StrEnum):
    DESKTOP = "desktop"
    TABLET_SIM = "tablet_sim"
    TABLET_NO_SIM = "tablet_no_sim"
    PHONE = "phone"


class Event(StrEnum):
    SUBMIT_ID = "submit_id"
    SUBMIT_PERSONAL = "submit_personal"
    CHOOSE_DEVICE = "choose_device"
    CARRIER_CONFIRMED = "carrier_confirmed"


#: The manual's step number for each step, for captions such as "步驟 2／5".
STEP_NUMBER: dict[Step, int] = {
    Step.IDENTIFY: 1,
    Step.PERSONAL: 2,
    Step.DEVICE: 3,
    Step.QR_SCAN: 4,
    Step.VERIFY: 5,
    Step.VERIFIED: 6,
}

#: What each step owns in the registration record. Submitting a step again clears what every
#: later step owns: new personal data voids the device choice and any QR code made for the old
#: number, and a new national ID voids everything typed for the previous one.
OWNS: dict[Step, frozenset[str]] = {
    Step.IDENTIFY: frozenset({"national_id"}),
    Step.PERSONAL: frozenset(
        {"carrier", "msisdn", "nhi_card", "birth_date", "name", "password_hash"}
    ),
    Step.DEVICE: frozenset({"device"}),
    Step.QR_SCAN: frozenset({"handoff"}),
    Step.VERIFY: frozenset({"verification"}),
    Step.VERIFIED: frozenset(),
}

QR_DEVICES = frozenset({Device.DESKTOP, Device.TABLET_NO_SIM})
DIRECT_DEVICES = frozenset({Device.PHONE, Device.TABLET_SIM})


@dataclass(frozen=True)
class Transition:
    source: Step
    event: Event
    target: Step
    #: For CHOOSE_DEVICE: the device this row routes. None for events that ignore the device.
    device: Device | None = None


TRANSITIONS: tuple[Transition, ...] = (
    Transition(Step.IDENTIFY, Event.SUBMIT_ID, Step.PERSONAL),
    Transition(Step.PERSONAL, Event.SUBMIT_PERSONAL, Step.DEVICE),
    Transition(Step.DEVICE, Event.CHOOSE_DEVICE, Step.QR_SCAN, Device.DESKTOP),
    Transition(Step.DEVICE, Event.CHOOSE_DEVICE, Step.QR_SCAN, Device.TABLET_NO_SIM),
    Transition(Step.DEVICE, Event.CHOOSE_DEVICE, Step.VERIFY, Device.TABLET_SIM),
    Transition(Step.DEVICE, Event.CHOOSE_DEVICE, Step.VERIFY, Device.PHONE),
    Transition(Step.QR_SCAN, Event.CARRIER_CONFIRMED, Step.VERIFIED, Device.DESKTOP),
    Transition(Step.QR_SCAN, Event.CARRIER_CONFIRMED, Step.VERIFIED, Device.TABLET_NO_SIM),
    Transition(Step.VERIFY, Event.CARRIER_CONFIRMED, Step.VERIFIED, Device.TABLET_SIM),
    Transition(Step.VERIFY, Event.CARRIER_CONFIRMED, Step.VERIFIED, Device.PHONE),
)

_TABLE: dict[tuple[Step, Event, Device | None], Transition] = {
    (t.source, t.event, t.device): t for t in TRANSITIONS
}


class IllegalTransition(Exception):
    """An event that the table does not allow from where the registration is."""

    def __init__(self, at: Step, event: Event, state: State) -> None:
        super().__init__(f"{event} is not allowed at {at} (current step {state.step})")
        self.at = at
        self.event = event
        self.state = state


@dataclass(frozen=True)
class State:
    """Where one registration is: its furthest step and, once chosen, its device."""

    step: Step = Step.IDENTIFY
    device: Device | None = None
    #: Record fields the last transition asked the caller to clear (not part of identity).
    cleared: frozenset[str] = field(default=frozenset(), compare=False)


def path(device: Device | None) -> tuple[Step, ...]:
    """The steps this device goes through, in order, as far as they are known."""
    head = (Step.IDENTIFY, Step.PERSONAL, Step.DEVICE)
    if device is None:
        return head
    middle = (Step.QR_SCAN,) if device in QR_DEVICES else (Step.VERIFY,)
    return head + middle + (Step.VERIFIED,)


def allowed(state: State) -> tuple[Step, ...]:
    """Steps a person may view now: every step on their path up to the current one."""
    steps = path(state.device)
    return steps[: steps.index(state.step) + 1]


def is_allowed(state: State, step: Step) -> bool:
    return step in allowed(state)


def clears_after(step: Step) -> frozenset[str]:
    """Fields owned by the steps after ``step`` (on any path)."""
    order = list(Step)
    later = order[order.index(step) + 1 :]
    return frozenset().union(*(OWNS[s] for s in later))


def advance(state: State, at: Step, event: Event, device: Device | None = None) -> State:
    """Apply ``event`` sent from step ``at`` and return the new state.

    ``at`` may be an earlier step the person went back to: submitting it again moves the
    registration on from there and clears whatever later steps had recorded. Steps after the
    current one cannot be submitted. Once verified, nothing moves a registration back.
    """
    if state.step is Step.VERIFIED or not is_allowed(state, at):
        raise IllegalTransition(at, event, state)
    if event is Event.CHOOSE_DEVICE:
        key_device = device
    elif event is Event.CARRIER_CONFIRMED:
        key_device = state.device
    else:
        key_device = None
    transition = _TABLE.get((at, event, key_device))
    if transition is None:
        raise IllegalTransition(at, event, state)
    if event is Event.CARRIER_CONFIRMED and at is not state.step:
        raise IllegalTransition(at, event, state)
    new_device = device if event is Event.CHOOSE_DEVICE else state.device
    cleared = clears_after(at)
    if at in (Step.IDENTIFY, Step.PERSONAL):
        new_device = None
    return State(step=transition.target, device=new_device, cleared=cleared)


def latest(state: State) -> Step:
    """The step a deep link or a stale page should be redirected to."""
    return state.step


def previous(state: State, step: Step) -> Step | None:
    """The step a back link on ``step`` leads to, or None on the first step."""
    steps = path(state.device)
    if step not in steps:
        steps = path(Device.DESKTOP) if step is Step.QR_SCAN else path(Device.PHONE)
    index = steps.index(step)
    return steps[index - 1] if index > 0 else None
