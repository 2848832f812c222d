"""Demo insurance histories for the demo people of wizard/ops/seed.py (fictional units).

Each job lists its salary steps (effective date, 月投保薪資 from the 投保薪資分級表 of the time)
and becomes rows the way the BLI keeps them:

- 勞保 for every job except ``occupational_only`` (re-employed after the 勞保 old-age benefit:
  the 勞工職業災害保險及保護法 still covers them, 勞保 no longer does).
- 就保 for employees only (``employee``), and not before 2003-01-01, when the 就業保險法 took
  effect: members of an occupational union (職業工會, no fixed employer) have no 就保.
- 職保 for every job from 2022-05-01; its brackets go up to 72800 where 勞保 stops at 45800, so
  a job may give its own ``occupational`` steps.

A salary step within a job ends one row the day before and starts the next (調整投保薪資).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from wizard.records.records import TYPE_STARTS
from wizard.web.i18n import N_

Steps = tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Job:
    unit_name: str
    unit_number: str
    steps: Steps
    end: str | None = None
    #: "employee" (勞保, 就保, 職保), "union" (職業工會: 勞保, 職保) or "occupational_only".
    kind: str = "employee"
    #: 職保 steps when they differ from the 勞保 ones (a salary above 45800).
    occupational: Steps = ()


@dataclass(frozen=True)
class Covid:
    kind: str
    applied_on: str
    status: str
    paid_amount: int | None = None
    decided_on: str | None = None


SICK = N_("確診普通傷病給付")
HOME_CARE = N_("確診居家照護普通傷病給付")
OCCUPATIONAL_DISEASE = N_("職業病傷病給付（確診COVID-19）")
LIVING = N_("自營作業者或無一定雇主勞工生活補貼")

#: national_id → jobs, oldest first.
HISTORIES: dict[str, tuple[Job, ...]] = {
    # 王小明: four employers, a gap in 2005 and one in early 2020; 職保 above the 勞保 cap.
    "A123456789": (
        Job(
            "永信電子股份有限公司",
            "04123456B",
            (("2002-07-15", 24000), ("2004-01-01", 25200)),
            "2005-03-31",
        ),
        Job(
            "宏洋精密機械股份有限公司",
            "06234567C",
            (("2005-07-01", 30300), ("2008-01-01", 33300), ("2011-01-01", 36300)),
            "2013-08-31",
        ),
        Job(
            "臺灣綠能科技股份有限公司",
            "12345678D",
            (("2013-09-01", 38200), ("2016-01-01", 42000)),
            "2019-12-31",
        ),
        Job(
            "大同智慧物流股份有限公司",
            "078901234E",
            (("2020-02-17", 43900), ("2022-01-01", 45800)),
            occupational=(("2022-05-01", 50600), ("2024-01-01", 53000)),
        ),
    ),
    # 陳美玲: years at home with her children, then a hairdresser in an occupational union.
    "F223456713": (
        Job(
            "聯泰紡織股份有限公司",
            "02345671F",
            (("1995-08-01", 15840), ("1998-07-01", 17280), ("2001-07-01", 18300)),
            "2003-06-30",
        ),
        Job(
            "好鄰居便利商店股份有限公司",
            "05678123G",
            (("2010-03-01", 18300), ("2012-01-01", 20100), ("2014-01-01", 21900)),
            "2016-06-30",
        ),
        Job(
            "臺北市美容美髮業職業工會",
            "091234567H",
            (
                ("2016-07-01", 24000),
                ("2020-01-01", 25200),
                ("2023-01-01", 27600),
                ("2025-01-01", 28800),
            ),
            kind="union",
        ),
    ),
    # 林志豪: two part-time jobs at once in 2021-2023 (parallel enrolments), now a fab.
    "B120987653": (
        Job(
            "聯創資訊股份有限公司",
            "13579246K",
            (("2014-08-01", 28800), ("2015-08-01", 31800)),
            "2016-09-30",
        ),
        Job(
            "新思維軟體股份有限公司",
            "24681357L",
            (("2017-01-16", 36300), ("2019-01-01", 40100)),
            "2021-04-30",
        ),
        Job(
            "雲端數位行銷有限公司",
            "35792468M",
            (("2021-05-01", 24000), ("2022-01-01", 25250), ("2023-01-01", 26400)),
            "2023-06-30",
        ),
        Job("青禾文創工作室", "46813579N", (("2021-09-01", 15840),), "2023-06-30"),
        Job(
            "晶鑽半導體股份有限公司",
            "579135792P",
            (("2023-07-01", 45800),),
            occupational=(("2023-07-01", 60800), ("2025-01-01", 66800)),
        ),
    ),
    # 張雅婷: a nurse; not enrolled at present (left her last job in May 2024).
    "E228765430": (
        Job(
            "康寧醫療財團法人康寧醫院",
            "01122334Q",
            (("2010-09-01", 31800), ("2013-01-01", 34800)),
            "2015-12-31",
        ),
        Job(
            "長青居家護理所",
            "02233445R",
            (("2019-01-01", 36300), ("2022-01-01", 38200)),
            "2024-05-31",
        ),
    ),
    # 黃建國: construction, then an electricians' union since 2002 (no 就保).
    "H122334450": (
        Job(
            "大興營造股份有限公司",
            "03344556S",
            (
                ("1990-04-01", 12540),
                ("1993-07-01", 15840),
                ("1996-07-01", 19200),
                ("1999-07-01", 22800),
            ),
            "2001-10-31",
        ),
        Job(
            "臺中市水電工程業職業工會",
            "04455667T",
            (
                ("2002-04-01", 24000),
                ("2010-01-01", 28800),
                ("2018-01-01", 34800),
                ("2024-01-01", 36300),
            ),
            kind="union",
        ),
    ),
    # 瓦歷斯·諾幹: 65 in 2026, took the old-age benefit, re-employed with 職保 only.
    "N223450986": (
        Job(
            "南投縣仁愛鄉農會",
            "05566778U",
            (
                ("1988-06-01", 12540),
                ("1994-01-01", 16500),
                ("2000-01-01", 21900),
                ("2005-01-01", 27600),
            ),
            "2009-12-31",
        ),
        Job(
            "臺中市原住民族文化發展協會",
            "06677889V",
            (("2010-01-01", 33300), ("2015-01-01", 36300), ("2020-01-01", 38200)),
            "2026-07-31",
        ),
        Job(
            "清境觀光休閒農場有限公司",
            "07788990W",
            (("2026-09-01", 30300),),
            kind="occupational_only",
        ),
    ),
    # 林𡘙: a summer job as a student (part-time bracket), then two game studios.
    "Y120011223": (
        Job("麥味堂早餐店", "08899001X", (("2019-07-01", 11100),), "2019-08-31"),
        Job("宇宙遊戲科技股份有限公司", "09900112Y", (("2023-07-10", 31800),), "2024-09-30"),
        Job(
            "星河數位科技股份有限公司", "101122334Z", (("2024-10-01", 38200), ("2026-01-01", 40100))
        ),
    ),
    # 李淑芬: the same restaurant group since 2001.
    "K224567899": (
        Job(
            "大洋電機股份有限公司",
            "11223344A",
            (("1990-03-01", 12540), ("1995-01-01", 16500), ("2000-01-01", 21000)),
            "2000-12-31",
        ),
        Job(
            "全家福餐飲股份有限公司",
            "12233445B",
            (
                ("2001-02-01", 22800),
                ("2008-01-01", 27600),
                ("2015-01-01", 31800),
                ("2022-01-01", 34800),
            ),
        ),
    ),
    # 吳家豪: 16, one summer's part-time job.
    "S129876548": (Job("茶飲堂手搖飲料店", "13344556C", (("2026-07-01", 15840),), "2026-08-31"),),
    # 劉怡君: an accountant; 職保 above the 勞保 cap.
    "T221122331": (
        Job(
            "遠見聯合會計師事務所",
            "14455667D",
            (("2008-08-01", 28800), ("2011-01-01", 33300)),
            "2014-12-31",
        ),
        Job(
            "誠信聯合會計師事務所",
            "15566778E",
            (("2015-01-01", 40100), ("2018-01-01", 43900), ("2021-01-01", 45800)),
            occupational=(("2022-05-01", 57800), ("2025-01-01", 63800)),
        ),
    ),
    # 蔡宗翰: a consultancy, a year abroad, a taxi drivers' union, now logistics.
    "R127654329": (
        Job("捷運工程顧問股份有限公司", "16677889F", (("2016-09-01", 33300),), "2019-06-30"),
        Job(
            "臺北市計程車駕駛員職業工會",
            "17788990G",
            (("2021-03-01", 25200), ("2023-01-01", 27600)),
            "2024-12-31",
            kind="union",
        ),
        Job("速達物流股份有限公司", "180011223H", (("2025-01-01", 34800),)),
    ),
    # 周佩君: travel industry, laid off in the pandemic, then a cleaning company.
    "L224680137": (
        Job(
            "亞洲航空服務股份有限公司",
            "19900112J",
            (("2006-07-01", 30300), ("2010-01-01", 34800)),
            "2012-12-31",
        ),
        Job(
            "福華旅行社股份有限公司",
            "20011223K",
            (("2013-03-01", 36300), ("2017-01-01", 38200)),
            "2020-05-31",
        ),
        Job(
            "安心居家清潔服務有限公司", "21122334L", (("2021-03-01", 27600), ("2023-01-01", 28800))
        ),
    ),
}

COVID: dict[str, tuple[Covid, ...]] = {
    "A123456789": (Covid(SICK, "2022-06-20", "已核付", 3053, "2022-07-15"),),
    "F223456713": (
        Covid(LIVING, "2020-04-20", "已核付", 30000, "2020-05-15"),
        Covid(LIVING, "2021-06-01", "已核付", 10000, "2021-06-25"),
    ),
    "B120987653": (Covid(SICK, "2022-08-10", "不予給付", None, "2022-09-01"),),
    "E228765430": (Covid(OCCUPATIONAL_DISEASE, "2022-06-05", "已核付", 8913, "2022-07-20"),),
    "H122334450": (
        Covid(LIVING, "2020-04-15", "已核付", 30000, "2020-05-12"),
        Covid(LIVING, "2021-06-10", "已核付", 10000, "2021-07-02"),
    ),
    "N223450986": (Covid(HOME_CARE, "2022-07-12", "已核付", 2548, "2022-08-03"),),
    "Y120011223": (Covid(SICK, "2026-11-20", "受理中"),),
    "R127654329": (Covid(LIVING, "2021-06-15", "不予給付", None, "2021-07-20"),),
    "L224680137": (Covid(SICK, "2022-05-30", "已核付", 2540, "2022-06-21"),),
}


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _segments(
    steps: Steps, end: str | None, earliest: dt.date
) -> Iterator[tuple[dt.date, dt.date | None, int]]:
    """(start, end, salary) per step, clipped to start no earlier than ``earliest``."""
    last = _date(end) if end else None
    for index, (start_text, salary) in enumerate(steps):
        start = _date(start_text)
        stop = _date(steps[index + 1][0]) - dt.timedelta(days=1) if index + 1 < len(steps) else last
        if stop is not None and stop < earliest:
            continue
        yield max(start, earliest), stop, salary


def _types(job: Job) -> tuple[str, ...]:
    return {
        "employee": ("labor", "employment", "occupational"),
        "union": ("labor", "occupational"),
        "occupational_only": ("occupational",),
    }[job.kind]


def record_rows() -> Iterator[dict[str, object]]:
    """InsuranceRecord values of every demo history."""
    for national_id, jobs in HISTORIES.items():
        for job in jobs:
            for kind in _types(job):
                steps = (
                    job.occupational if kind == "occupational" and job.occupational else job.steps
                )
                for start, stop, salary in _segments(steps, job.end, TYPE_STARTS[kind]):
                    yield {
                        "national_id": national_id,
                        "insurance_type": kind,
                        "unit_name": job.unit_name,
                        "unit_number": job.unit_number,
                        "insured_salary": salary,
                        "enrolled_on": start,
                        "withdrawn_on": stop,
                    }


def covid_rows() -> Iterator[dict[str, object]]:
    for national_id, applications in COVID.items():
        for a in applications:
            yield {
                "national_id": national_id,
                "kind": a.kind,
                "applied_on": _date(a.applied_on),
                "status": a.status,
                "paid_amount": a.paid_amount,
                "decided_on": _date(a.decided_on) if a.decided_on else None,
            }
