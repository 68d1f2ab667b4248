"""The partnership's portfolio: programmes, milestones, decisions, risks, benefits.

A dozen transformation programmes under the three aims, each with milestones over
the five years, board decisions with an accountable organisation, shared risks,
and benefits tied to outcome measures the platform computes (indicator codes the
population and discharge modules publish).

It must never invent measures the platform cannot compute: benefit measure codes
are the indicator names the later modules own.
"""

from __future__ import annotations

import numpy as np

from joinedup.synth.formats import FileSpec, Ledger
from joinedup.synth.organisations import (
    ACUTE_TRUST,
    ADULT_SOCIAL_CARE,
    COMMUNITY,
    COUNCIL,
    GP_FEDERATION,
    HOSPICE,
    MENTAL_HEALTH,
)

PROGRAMMES = (
    (
        "Discharge to Assess",
        "quality services",
        ACUTE_TRUST[0],
        "discharge_mean_delay_days",
        12.0,
        4.0,
    ),
    (
        "Integrated Neighbourhood Teams",
        "quality services",
        COMMUNITY[0],
        "emergency_admissions_per_1000_65plus",
        250.0,
        225.0,
    ),
    (
        "Frailty at Home",
        "healthier people",
        COMMUNITY[0],
        "frailty_moderate_severe_admissions_rate",
        320.0,
        290.0,
    ),
    (
        "Vaccination Equity",
        "healthier people",
        GP_FEDERATION[0],
        "flu_uptake_65plus_gap_deciles",
        25.0,
        15.0,
    ),
    (
        "Healthy Hearts",
        "healthier people",
        GP_FEDERATION[0],
        "hypertension_controlled_percent",
        62.0,
        77.0,
    ),
    (
        "Care Home Alignment",
        "quality services",
        GP_FEDERATION[0],
        "care_homes_aligned_percent",
        40.0,
        100.0,
    ),
    (
        "Closing the Gap",
        "healthier people",
        COUNCIL[0],
        "life_expectancy_gap_years_male",
        10.0,
        9.0,
    ),
    (
        "Home First Reablement",
        "sustainable system",
        ADULT_SOCIAL_CARE[0],
        "reablement_home_at_91_days_percent",
        78.0,
        85.0,
    ),
    (
        "One Front Door",
        "quality services",
        COUNCIL[0],
        "referrals_via_front_door_percent",
        0.0,
        80.0,
    ),
    (
        "Mental Health Crisis Alternatives",
        "quality services",
        MENTAL_HEALTH[0],
        "mh_crisis_admissions_per_100000",
        90.0,
        75.0,
    ),
    (
        "End of Life Together",
        "quality services",
        HOSPICE[0],
        "deaths_in_usual_residence_percent",
        48.0,
        55.0,
    ),
    ("Workforce Together", "sustainable system", COUNCIL[0], "vacancy_rate_percent", 9.0, 6.0),
)
MILESTONE_STEPS = (
    "Business case approved",
    "Design complete",
    "Pilot launched",
    "Pilot evaluated",
    "Borough-wide roll-out",
    "Benefits review",
)


def write_portfolio(ledger: Ledger, rng: np.random.Generator) -> None:
    """Programmes, milestones, decisions, risks and benefits (fixed size: a dozen programmes)."""
    n = len(PROGRAMMES)
    pid = np.array([f"PRG{i + 1:02d}" for i in range(n)])
    start = np.datetime64("2021-04-01") + rng.integers(0, 500, n).astype("timedelta64[D]")
    none = FileSpec(malform=False)
    ledger.write_csv(
        "portfolio/programmes.csv",
        {
            "programme_id": pid,
            "name": np.array([p[0] for p in PROGRAMMES]),
            "aim": np.array([p[1] for p in PROGRAMMES]),
            "lead_organisation": np.array([p[2] for p in PROGRAMMES]),
            "start_date": start,
            "end_date": start + np.timedelta64(4 * 365, "D"),
            "budget_gbp": (rng.integers(2, 40, n) * 50_000),
            "status": np.array(["Active", "Active", "Active", "Closing"])[rng.integers(0, 4, n)],
        },
        rng,
        none,
    )
    steps = len(MILESTONE_STEPS)
    m_pid = np.repeat(pid, steps)
    due = np.repeat(start, steps) + (
        np.tile(np.arange(steps), n) * 240 + rng.integers(0, 60, n * steps)
    ).astype("timedelta64[D]")
    today = np.datetime64("2026-04-01")
    late = rng.random(n * steps) < 0.2
    done = (due < today) & ~late
    completed = np.where(
        done, due + rng.integers(-20, 40, n * steps).astype("timedelta64[D]"), np.datetime64("NaT")
    )
    status = np.select(
        [done, (due < today) & late, due < today + 90], ["Complete", "Late", "At risk"], "On track"
    )
    ledger.write_csv(
        "portfolio/milestones.csv",
        {
            "milestone_id": np.array([f"MS{i + 1:03d}" for i in range(n * steps)]),
            "programme_id": m_pid,
            "title": np.tile(np.array(MILESTONE_STEPS), n),
            "due_date": due.astype("datetime64[D]"),
            "completed_date": completed.astype("datetime64[D]"),
            "status": status,
        },
        rng,
        none,
    )
    ledger.write_csv(
        "portfolio/decisions.csv",
        {
            "decision_id": np.array([f"DEC{i + 1:03d}" for i in range(2 * n)]),
            "programme_id": np.repeat(pid, 2),
            "board_date": (
                np.repeat(start, 2) + rng.integers(10, 900, 2 * n).astype("timedelta64[D]")
            ).astype("datetime64[D]"),
            "decision": np.tile(np.array(["Approved to proceed", "Funding confirmed"]), n),
            "accountable_organisation": np.repeat(np.array([p[2] for p in PROGRAMMES]), 2),
        },
        rng,
        none,
    )
    ledger.write_csv(
        "portfolio/risks.csv",
        {
            "risk_id": np.array([f"RSK{i + 1:03d}" for i in range(n)]),
            "programme_id": pid,
            "description": np.array(
                [f"Capacity to deliver {p[0].lower()} may fall short" for p in PROGRAMMES]
            ),
            "likelihood": rng.integers(1, 6, n),
            "impact": rng.integers(2, 6, n),
            "owner_organisation": np.array([p[2] for p in PROGRAMMES]),
            "status": np.array(["Open", "Open", "Mitigated"])[rng.integers(0, 3, n)],
        },
        rng,
        none,
    )
    ledger.write_csv(
        "portfolio/benefits.csv",
        {
            "benefit_id": np.array([f"BEN{i + 1:02d}" for i in range(n)]),
            "programme_id": pid,
            "measure_code": np.array([p[3] for p in PROGRAMMES]),
            "baseline": np.array([p[4] for p in PROGRAMMES]),
            "target": np.array([p[5] for p in PROGRAMMES]),
            "target_date": np.full(n, np.datetime64("2027-03-31", "D")),
        },
        rng,
        none,
    )
