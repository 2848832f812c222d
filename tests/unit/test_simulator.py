"""The carrier simulator's step-5 network check, its inputs, its latency and failures, and the
optional status column of its CSV import."""

from __future__ import annotations

import datetime as dt
import io
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.datastructures import Headers

from tests.conftest import make_test_app
from wizard import carrier
from wizard.carrier import Network, NetworkCheck, NetworkIdentity, NetworkOutcome
from wizard.carrier.simulator import (
    CSV_HEADER,
    CsvRowError,
    SimulatorGateway,
    import_rows,
    read_csv,
)
from wizard.config import ConfigError
from wizard.database.models import SimSubscriber
from wizard.ops.seed import DEMO_PEOPLE

PEOPLE = {person["national_id"]: person for person in DEMO_PEOPLE}


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    app = make_test_app(tmp_path, None)
    yield app
    app.extensions["db_engine"].dispose()


def over(network: Network, msisdn: str | None) -> NetworkIdentity:
    return NetworkIdentity(network, msisdn)


def check_of(
    national_id: str,
    *,
    identity: NetworkIdentity | None | str = "own-4g",
    msisdn: str | None = None,
    carrier_code: str | None = None,
) -> NetworkCheck:
    """Step 5's question for a demo person, by default over 4G from their own number."""
    person = PEOPLE[national_id]
    number = msisdn or person["msisdn"]
    seen = over(Network.G4, number) if identity == "own-4g" else identity
    assert not isinstance(seen, str)
    return NetworkCheck(
        national_id=national_id,
        carrier_code=carrier_code or person["carrier"],
        msisdn=number,
        client_ip="203.0.113.7",
        identity=seen,
    )


def ask(app: Flask, check: NetworkCheck) -> NetworkOutcome:
    with app.app_context():
        return app.extensions["carrier_gateway"].network_check(check).outcome


# --- every outcome, from the demo people ---------------------------------------------------

ELIGIBLE_IDS = [
    "A123456789",
    "F223456713",
    "B120987653",
    "E228765430",
    "H122334450",
    "N223450986",
    "Y120011223",
]


@pytest.mark.parametrize("national_id", ELIGIBLE_IDS)
def test_eligible_demo_people_are_ok_over_4g(app: Flask, national_id: str) -> None:
    assert ask(app, check_of(national_id)) is NetworkOutcome.OK


def test_ok_over_5g_and_result_says_ok(app: Flask) -> None:
    check = check_of("A123456789", identity=over(Network.G5, "0912345678"))
    with app.app_context():
        result = carrier.gateway().network_check(check)
    assert result.outcome is NetworkOutcome.OK
    assert result.ok


@pytest.mark.parametrize(
    ("national_id", "expected"),
    [
        ("K224567899", NetworkOutcome.PREPAID),
        ("S129876548", NetworkOutcome.FAMILY),
        ("T221122331", NetworkOutcome.ENTERPRISE),
        ("R127654329", NetworkOutcome.MVNO),
        ("L224680137", NetworkOutcome.SUSPENDED),
    ],
)
def test_ineligible_demo_people_get_their_own_outcome(
    app: Flask, national_id: str, expected: NetworkOutcome
) -> None:
    assert ask(app, check_of(national_id)) is expected


@pytest.mark.parametrize(
    ("network", "expected"),
    [
        (Network.WIFI, NetworkOutcome.WIFI),
        (Network.ROAMING, NetworkOutcome.ROAMING),
        (Network.VPN, NetworkOutcome.VPN),
    ],
)
def test_networks_that_hide_the_number(
    app: Flask, network: Network, expected: NetworkOutcome
) -> None:
    # Even with the right number (roaming knows it), the network decides first.
    assert ask(app, check_of("A123456789", identity=over(network, "0912345678"))) is expected
    assert ask(app, check_of("A123456789", identity=over(network, None))) is expected


def test_no_network_identity_at_all_is_like_wifi(app: Flask) -> None:
    assert ask(app, check_of("A123456789", identity=None)) is NetworkOutcome.WIFI


def test_network_reasons_come_before_the_registry(app: Flask) -> None:
    # A prepaid card over WiFi hears about WiFi first: that is what the person can fix now.
    assert ask(app, check_of("K224567899", identity=None)) is NetworkOutcome.WIFI
    # Not the owner, over a VPN: VPN.
    check = check_of("A123456789", msisdn="0923456781", identity=over(Network.VPN, None))
    assert ask(app, check) is NetworkOutcome.VPN


@pytest.mark.parametrize("seen", ["0923456781", None])
def test_mobile_data_on_the_other_sim_is_other_number(app: Flask, seen: str | None) -> None:
    check = check_of("A123456789", identity=over(Network.G4, seen))
    assert ask(app, check) is NetworkOutcome.OTHER_NUMBER
    check = check_of("A123456789", identity=over(Network.G5, seen))
    assert ask(app, check) is NetworkOutcome.OTHER_NUMBER


def test_number_of_someone_else_is_not_owner(app: Flask) -> None:
    # 0923456781 is 陳美玲's, on 台灣大哥大; 王小明 claims it, from that very number.
    check = check_of("A123456789", msisdn="0923456781", carrier_code="twm")
    assert ask(app, check) is NetworkOutcome.NOT_OWNER


def test_number_nobody_holds_is_not_owner(app: Flask) -> None:
    assert ask(app, check_of("A123456789", msisdn="0900000001")) is NetworkOutcome.NOT_OWNER


def test_number_ported_to_another_network_is_not_owner(app: Flask) -> None:
    # 王小明's number is on 中華電信; the registration says 台灣大哥大.
    check = check_of("A123456789", carrier_code="twm")
    assert ask(app, check) is NetworkOutcome.NOT_OWNER
    assert ask(app, check_of("A123456789", carrier_code="nope")) is NetworkOutcome.NOT_OWNER


@pytest.mark.parametrize(
    ("national_id", "brand"),
    [("E228765430", "twm"), ("H122334450", "fet"), ("F223456713", "tstar")],
)
def test_merged_brands_count_as_their_operator(app: Flask, national_id: str, brand: str) -> None:
    assert ask(app, check_of(national_id, carrier_code=brand)) is NetworkOutcome.OK


def test_mvno_comes_before_carrier_and_plan(app: Flask) -> None:
    assert ask(app, check_of("R127654329", carrier_code="fet")) is NetworkOutcome.MVNO


def test_every_outcome_but_unavailable_comes_from_the_demo_data(app: Flask) -> None:
    checks = [
        check_of("A123456789"),
        check_of("A123456789", identity=None),
        check_of("A123456789", identity=over(Network.ROAMING, "0912345678")),
        check_of("A123456789", identity=over(Network.VPN, None)),
        check_of("A123456789", identity=over(Network.G4, "0923456781")),
        check_of("A123456789", msisdn="0923456781"),
        check_of("K224567899"),
        check_of("S129876548"),
        check_of("T221122331"),
        check_of("R127654329"),
        check_of("L224680137"),
    ]
    seen = {ask(app, check) for check in checks}
    assert seen == set(NetworkOutcome) - {NetworkOutcome.UNAVAILABLE}


def test_suspended_number_passes_the_step_2_precheck(app: Flask) -> None:
    # Step 2 has no "suspended" answer: the carrier refuses the number at step 5.
    person = PEOPLE["L224680137"]
    claim = carrier.PersonClaim(
        national_id=person["national_id"],
        name=person["name"],
        birth_date=dt.date.fromisoformat(person["birth_date"]),
        nhi_card=person["nhi_card"],
        carrier_code=person["carrier"],
        msisdn=person["msisdn"],
    )
    with app.app_context():
        assert carrier.gateway().precheck(claim).ok


# --- latency and failure rate --------------------------------------------------------------


class FakeSleep:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def simulator(app: Flask, **options: object) -> SimulatorGateway:
    return SimulatorGateway(app.extensions["db_sessionmaker"], **options)  # type: ignore[arg-type]


def test_defaults_neither_wait_nor_fail(app: Flask) -> None:
    gateway = app.extensions["carrier_gateway"]
    assert (gateway.latency, gateway.failure_rate) == (0.0, 0.0)
    sleep = FakeSleep()
    rng = random.Random(1)
    state = rng.getstate()
    gateway = simulator(app, sleep=sleep, rng=rng)
    assert gateway.network_check(check_of("A123456789")).ok
    assert sleep.calls == []
    assert rng.getstate() == state, "no random draw without a failure rate"


def test_latency_is_waited_before_every_answer(app: Flask) -> None:
    sleep = FakeSleep()
    gateway = simulator(app, latency=1.5, failure_rate=1.0, sleep=sleep, rng=random.Random(1))
    assert gateway.network_check(check_of("A123456789")).outcome is NetworkOutcome.UNAVAILABLE
    gateway = simulator(app, latency=1.5, sleep=sleep)
    assert gateway.network_check(check_of("A123456789", identity=None)).outcome is (
        NetworkOutcome.WIFI
    )
    assert sleep.calls == [1.5, 1.5]


def test_failure_rate_with_a_seeded_random(app: Flask) -> None:
    rate = 0.3
    draws = random.Random(42)
    expected = [
        NetworkOutcome.UNAVAILABLE if draws.random() < rate else NetworkOutcome.OK
        for _ in range(40)
    ]
    gateway = simulator(app, failure_rate=rate, rng=random.Random(42), sleep=FakeSleep())
    got = [gateway.network_check(check_of("A123456789")).outcome for _ in range(40)]
    assert got == expected
    assert 0 < got.count(NetworkOutcome.UNAVAILABLE) < 40


def test_failure_comes_before_every_other_reason(app: Flask) -> None:
    gateway = simulator(app, failure_rate=1.0, rng=random.Random(0))
    for check in (check_of("A123456789", identity=None), check_of("K224567899")):
        assert gateway.network_check(check).outcome is NetworkOutcome.UNAVAILABLE


def test_settings_reach_the_simulator(tmp_path: Path) -> None:
    app = make_test_app(tmp_path, None, SIM_LATENCY=0.25, SIM_FAILURE_RATE=0.5)
    try:
        gateway = app.extensions["carrier_gateway"]
        assert isinstance(gateway, SimulatorGateway)
        assert (gateway.latency, gateway.failure_rate) == (0.25, 0.5)
    finally:
        app.extensions["db_engine"].dispose()


@pytest.mark.parametrize(
    "setting", [{"SIM_FAILURE_RATE": 1.5}, {"SIM_FAILURE_RATE": -0.1}, {"SIM_LATENCY": -1}]
)
def test_settings_out_of_range_are_refused(tmp_path: Path, setting: dict[str, float]) -> None:
    with pytest.raises(ConfigError, match=next(iter(setting))):
        make_test_app(tmp_path, None, **setting)


@pytest.mark.parametrize("options", [{"latency": -1.0}, {"failure_rate": 2.0}])
def test_the_class_refuses_nonsense_without_flask(options: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        SimulatorGateway(lambda: None, **options)  # type: ignore[arg-type, return-value]


# --- identity_from -------------------------------------------------------------------------

identity_from = SimulatorGateway.identity_from


@pytest.mark.parametrize(
    ("network", "expected"),
    [
        ("4g", Network.G4),
        ("5G", Network.G5),
        (" WiFi ", Network.WIFI),
        ("roaming", Network.ROAMING),
        ("VPN", Network.VPN),
    ],
)
def test_identity_from_headers(network: str, expected: Network) -> None:
    headers = Headers({"X-Sim-Network": network, "X-Sim-Msisdn": "0912-345-678"})
    assert identity_from(headers, {}) == NetworkIdentity(expected, "0912345678")


@pytest.mark.parametrize("raw", ["+886 912 345 678", "0912 345678", "０９１２３４５６７８"])
def test_identity_number_is_normalised(raw: str) -> None:
    headers = {"x-sim-network": "4g", "x-sim-msisdn": raw}
    assert identity_from(headers, {}) == NetworkIdentity(Network.G4, "0912345678")


def test_identity_from_the_panel() -> None:
    form = {"sim_network": "5g", "sim_msisdn": "0923456781"}
    assert identity_from(Headers(), form) == NetworkIdentity(Network.G5, "0923456781")
    assert identity_from({}, {"sim_network": "wifi"}) == NetworkIdentity(Network.WIFI, None)


def test_headers_win_over_the_panel() -> None:
    headers = {"X-Sim-Network": "roaming", "X-Sim-Msisdn": "0912345678"}
    form = {"sim_network": "4g", "sim_msisdn": "0923456781"}
    assert identity_from(headers, form) == NetworkIdentity(Network.ROAMING, "0912345678")


def test_no_identity_at_all() -> None:
    assert identity_from({}, {}) is None
    assert identity_from(Headers({"X-Sim-Msisdn": "0912345678"}), {"sim_msisdn": "0912345678"}) is (
        None
    )


@pytest.mark.parametrize("bad", ["3g", "", "lte", "4g; drop table", "ＷＩＦＩ!"])
def test_unknown_network_is_ignored(bad: str) -> None:
    assert identity_from({"X-Sim-Network": bad, "X-Sim-Msisdn": "0912345678"}, {}) is None
    # ...and the panel still counts.
    form = {"sim_network": "4g", "sim_msisdn": "0912345678"}
    assert identity_from({"X-Sim-Network": bad}, form) == NetworkIdentity(Network.G4, "0912345678")
    assert identity_from({}, {"sim_network": bad}) is None


@pytest.mark.parametrize("bad", ["", "12345", "0812345678", "+1 912 345 678", "09123456789", "x"])
def test_unreadable_number_becomes_none(bad: str) -> None:
    headers = {"X-Sim-Network": "4g", "X-Sim-Msisdn": bad}
    assert identity_from(headers, {}) == NetworkIdentity(Network.G4, None)
    assert identity_from({}, {"sim_network": "5g", "sim_msisdn": bad}) == NetworkIdentity(
        Network.G5, None
    )


def test_network_identity_helper_reads_the_simulator_inputs(app: Flask) -> None:
    with app.app_context():
        identity = carrier.network_identity(
            {"X-Sim-Network": "4g", "X-Sim-Msisdn": "0912345678"}, {}
        )
    assert identity == NetworkIdentity(Network.G4, "0912345678")


def test_identity_from_feeds_network_check(app: Flask) -> None:
    seen = identity_from({"X-Sim-Network": "5g", "X-Sim-Msisdn": "+886912345678"}, {})
    assert ask(app, check_of("A123456789", identity=seen)) is NetworkOutcome.OK
    seen = identity_from({"X-Sim-Network": "5g", "X-Sim-Msisdn": "garbage"}, {})
    assert ask(app, check_of("A123456789", identity=seen)) is NetworkOutcome.OTHER_NUMBER


# --- CSV import: the optional status column -------------------------------------------------

ROW = {
    "national_id": "P223344555",
    "name": "測試員",
    "birth_date": "1999-09-09",
    "nhi_card": "000099887766",
    "carrier": "中華電信",
    "msisdn": "0911222333",
    "plan": "monthly",
    "account": "personal",
    "mvno": "0",
}


def status_of(app: Flask, national_id: str) -> str:
    with app.extensions["db_sessionmaker"]() as db_session:
        return db_session.scalars(
            select(SimSubscriber.status).where(SimSubscriber.national_id == national_id)
        ).one()


def write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    lines = [",".join(header)] + [",".join(row.get(c, "") for c in header) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_demo_people_carry_a_status(app: Flask) -> None:
    assert status_of(app, "A123456789") == "active"
    assert status_of(app, "L224680137") == "suspended"
    assert sum(1 for p in DEMO_PEOPLE if p.get("status") == "suspended") == 1


def test_contract_header_without_status_imports_active(app: Flask, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "people.csv", list(CSV_HEADER), [ROW])
    result = app.test_cli_runner().invoke(args=["simulator", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 added" in result.output
    assert status_of(app, ROW["national_id"]) == "active"
    assert ask(app, _check_for_row(ROW)) is NetworkOutcome.OK


def test_status_column_imports_and_upserts(app: Flask, tmp_path: Path) -> None:
    header = [*CSV_HEADER, "status"]
    path = write_csv(tmp_path / "a.csv", header, [{**ROW, "status": "Suspended"}])
    result = app.test_cli_runner().invoke(args=["simulator", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert status_of(app, ROW["national_id"]) == "suspended"
    assert ask(app, _check_for_row(ROW)) is NetworkOutcome.SUSPENDED
    # Upsert back to active; an empty cell is active too.
    path = write_csv(tmp_path / "b.csv", header, [{**ROW, "status": ""}])
    result = app.test_cli_runner().invoke(args=["simulator", "import", str(path)])
    assert "1 updated" in result.output
    assert status_of(app, ROW["national_id"]) == "active"


def test_status_column_of_a_demo_person_can_suspend_them(app: Flask) -> None:
    handle = io.StringIO(
        ",".join([*CSV_HEADER, "status"])
        + "\n"
        + ",".join([*(PEOPLE["A123456789"][c] for c in CSV_HEADER), "suspended"])
        + "\n"
    )
    with app.extensions["db_sessionmaker"]() as db_session:
        report = import_rows(db_session, read_csv(handle))
        db_session.commit()
    assert (report.added, report.updated) == (0, 1)
    assert ask(app, check_of("A123456789")) is NetworkOutcome.SUSPENDED


def test_bad_status_names_line_and_column(app: Flask) -> None:
    rows = [{**ROW, "status": "active"}, {**ROW, "national_id": "A123456789", "status": "lost"}]
    with app.extensions["db_sessionmaker"]() as db_session:
        with pytest.raises(CsvRowError, match=r"line 3, column status: one of active, suspended"):
            import_rows(db_session, rows)
        db_session.rollback()
    with app.extensions["db_sessionmaker"]() as db_session:
        assert (
            db_session.scalars(
                select(SimSubscriber).where(SimSubscriber.national_id == ROW["national_id"])
            ).first()
            is None
        ), "nothing is written when a row is bad"


def test_missing_contract_column_is_still_refused() -> None:
    handle = io.StringIO(",".join(c for c in CSV_HEADER if c != "mvno") + ",status\n")
    with pytest.raises(CsvRowError, match="missing column"):
        read_csv(handle)


def _check_for_row(row: dict[str, str]) -> NetworkCheck:
    return NetworkCheck(
        national_id=row["national_id"],
        carrier_code="cht",
        msisdn=row["msisdn"],
        client_ip="203.0.113.7",
        identity=NetworkIdentity(Network.G4, row["msisdn"]),
    )
