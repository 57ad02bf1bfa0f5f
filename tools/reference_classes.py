"""Reference classes for the case library: a sampling frame and external base rates.

The case library (``docs/cases/``) scores the model on a handful of real crises. Two things keep
that honest, and this script makes both from public data, the same way every time:

1. **A sampling frame.** Further library cases are not picked by hand (a hand-picked library
   drifts towards the crises that are memorable, which are the ones that escalated). They are
   drawn, in a fixed random order, from the ICB crises whose trigger was a violent act across a
   border. ``icb_sampling_frame.csv`` is that list and its order.
2. **External base rates.** The library's own base rates come from a few cases scored by the
   project. Rates from reference classes coded by others (ICB, the COW dyadic MID table) say
   what a forecaster who knew only the class would have said.

Run from the repository root::

    python tools/reference_classes.py --icb DIR --mid FILE --out data/reference

``--icb`` is the folder with ``icb1v14.csv`` and ``icb2v14.csv``; ``--mid`` is the COW dyadic MID
4.02 table (``dyadic_mid_4.02.csv``); it may be left out, and then the MID rates are not written.
Only derived tables are written: never copy the raw ICB or MID tables into the repository.
``data/reference/README.md`` gives every rule and definition in words.
"""

from __future__ import annotations

import argparse
import calendar
import csv
import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

SEED = 20261208
"""Seed of ``numpy.random.default_rng`` for the draw order. Never change it: the order is the rule."""

FRAME_BEFORE = dt.date(2006, 1, 1)
"""The sampling frame: crises triggered strictly before this date."""

RATES_UNTIL = dt.date(2015, 12, 31)
"""The ICB base-rate class: crises triggered on or before this date (ICB v14 runs into 2017, but
crises of the last years were coded soon after they ended)."""

ICB_STATE_MAX = 994
"""ICB trigger-entity codes above this are not states: 995 internal, 996 non-state actor, 997
multiple entities (CODEBOOK-NOTES, source D)."""

NON_STATE = 996
VIOLENT_ACT = 9
"""``triggr`` 9 = violent act (sources A, B and D agree)."""

INTRA_WAR_CODES = frozenset(range(3, 11))
"""``iwcmb`` codes 3-10 describe a crisis that arose inside a war already going on (perceived entry
or exit of a major actor, technological or other escalation, a lost battle, internal deterioration,
other). Labels from one source (A); see README."""

VIOLENT_RESPONSE = frozenset({8, 9})
"""``majres`` 8 = violent military act, 9 = multiple including a violent military act (source A)."""

MEDIATION_OCCURRED = 4
"""``mediate`` 4 is the only value with the mediation block filled in (``mednum`` >= 2, ``medwho``
>= 2); 1, 2 and 3 have none. The labels of 2 and 3 are unknown (README)."""

DAY_CODES = {66: (1, 10), 77: (11, 20), 88: (21, 31)}
"""ICB day codes when the exact day is unknown: 66 early, 77 middle, 88 late in the month.
Inferred, not from the codebook: ICB's own durations (``brexit``) count 66 as the 1st, 77 as the
15th and 88 as the last day of the month. We keep the whole third of the month as the range."""

# ICB crises that are already library cases or candidates, checked by name so that another ICB
# version fails loudly instead of marking the wrong crisis.
LIBRARY_OVERLAP: dict[int, tuple[str, str]] = {
    435: ("INDIA PARLIAMENT ATTACK", "already_candidate"),
    462: ("YEONPYEONG ISLAND", "library_case"),
    476: ("TURKEY-RUSSIA JET INCIDENT", "library_case"),
}

Z95 = float(norm.ppf(0.975))


# --------------------------------------------------------------------------------------------
# Reading and checking the raw tables
# --------------------------------------------------------------------------------------------


def check_fields(path: Path) -> int:
    """Return the number of data rows after checking every row has as many fields as the header.

    A short or long row would shift every later column silently in pandas; better to stop.
    """
    with path.open(newline="", encoding="latin-1") as f:
        rows = csv.reader(f)
        header = next(rows)
        n = 0
        for i, row in enumerate(rows, start=2):
            if len(row) != len(header):
                raise ValueError(
                    f"{path}: line {i} has {len(row)} fields, header has {len(header)}"
                )
            n += 1
    return n


def read_icb(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read the ICB v14 crisis (icb1) and actor (icb2) tables, after checking their shape."""
    crises_path, actors_path = folder / "icb1v14.csv", folder / "icb2v14.csv"
    for path in (crises_path, actors_path):
        check_fields(path)
    crises = pd.read_csv(crises_path, encoding="latin-1")
    actors = pd.read_csv(actors_path, encoding="latin-1")
    if crises["crisno"].duplicated().any():
        raise ValueError("icb1: crisno is not unique")
    if actors["cracno"].duplicated().any():
        raise ValueError("icb2: cracno is not unique")
    return crises, actors


# --------------------------------------------------------------------------------------------
# Dates with ICB's unknown-day codes
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DateRange:
    """A date known to lie between ``lo`` and ``hi`` (equal when the day is known)."""

    lo: dt.date | None
    hi: dt.date | None

    @property
    def exact(self) -> bool:
        return self.lo is not None and self.lo == self.hi


def icb_date(year: float, month: float, day: float) -> DateRange:
    """An ICB date, as a range when the day is one of the unknown-day codes.

    66/77/88 become the first/middle/last third of the month (``DAY_CODES``); any other day
    outside 1-31 (99, blank) becomes the whole month. A missing year or month gives no date.
    """
    if pd.isna(year) or pd.isna(month):
        return DateRange(None, None)
    y, m = int(year), int(month)
    last = calendar.monthrange(y, m)[1]
    if not pd.isna(day) and 1 <= int(day) <= last:
        d = dt.date(y, m, int(day))
        return DateRange(d, d)
    lo_day, hi_day = DAY_CODES.get(int(day), (1, last)) if not pd.isna(day) else (1, last)
    return DateRange(dt.date(y, m, lo_day), dt.date(y, m, min(hi_day, last)))


def raw_date(year: float, month: float, day: float) -> str:
    """The date fields as ICB gives them, codes included (``1919-03-66``), for the coder."""
    parts = ["" if pd.isna(v) else f"{int(v):02d}" for v in (year, month, day)]
    return "-".join(parts).strip("-")


def days_between(start: DateRange, end: DateRange) -> tuple[int | None, int | None]:
    """Fewest and most days from ``start`` to ``end`` (None when either date is missing)."""
    if start.lo is None or start.hi is None or end.lo is None or end.hi is None:
        return None, None
    return max(0, (end.lo - start.hi).days), (end.hi - start.lo).days


def within(bounds: tuple[int | None, int | None], limit: int) -> bool | None:
    """True/False if ``days <= limit`` is settled by the range; None if the range straddles it."""
    lo, hi = bounds
    if lo is None or hi is None:
        return None
    if hi <= limit:
        return True
    if lo > limit:
        return False
    return None


# --------------------------------------------------------------------------------------------
# The violent-trigger class
# --------------------------------------------------------------------------------------------


def state_names(actors: pd.DataFrame) -> dict[int, list[tuple[int, str]]]:
    """For each ICB state code, the (year, abbreviation) pairs the actor table uses for it.

    Code 345 is ``SER`` in early crises and ``YUG`` later, so the name is taken by year.
    """
    names: dict[int, list[tuple[int, str]]] = {}
    for code, year, abbr in actors[["cracid", "yrtrig", "actor"]].dropna().itertuples(index=False):
        names.setdefault(int(code), []).append((int(year), str(abbr)))
    return names


def state_name(names: dict[int, list[tuple[int, str]]], code: int, year: int) -> str:
    """The abbreviation the actor table uses for ``code`` nearest in time to ``year``."""
    uses = names.get(code)
    if not uses:
        return str(code)
    return min(uses, key=lambda u: (abs(u[0] - year), u[0]))[1]


def violent_trigger_class(crises: pd.DataFrame, actors: pd.DataFrame) -> pd.DataFrame:
    """The ICB crises of the library's family, one row per crisis, with the two principal states.

    The rule (README, "The sampling rule"), applied to the crisis's **first crisis actor** (the
    lowest ``cracno``, ICB's order of entry into the crisis), the *struck state*:

    - its trigger was a violent act (``triggr`` = 9), and
    - either (branch ``state``) the trigger entity is a state (``trigent`` <= 994) other than
      itself: the other principal state is that state;
    - or (branch ``armed_group``) the trigger entity is a non-state actor (``trigent`` = 996) and
      another crisis actor's own crisis was triggered by the struck state (its ``trigent`` is the
      struck state's code): the other principal state is the first such actor. This is the
      signature of a strike on a group's host: the struck state's reaction put the host in crisis.
    - and the crisis did not arise inside a war already going on (``iwcmb`` not in 3-10).
    """
    actors = actors.sort_values(["crisno", "cracno"])
    names = state_names(actors)
    rows = []
    for crisno, group in actors.groupby("crisno", sort=True):
        first = group.iloc[0]
        if first["triggr"] != VIOLENT_ACT or pd.isna(first["trigent"]):
            continue
        struck, entity = int(first["cracid"]), int(first["trigent"])
        if entity <= ICB_STATE_MAX and entity != struck:
            branch, other = "state", entity
        elif entity == NON_STATE:
            hosts = group.iloc[1:][group.iloc[1:]["trigent"] == struck]
            if hosts.empty:
                continue
            branch, other = "armed_group", int(hosts["cracid"].iloc[0])
        else:
            continue
        rows.append(
            {
                "crisno": int(crisno),
                "branch": branch,
                "struck_code": struck,
                "other_code": other,
                "struck_cracno": int(first["cracno"]),
                "struck_majres": first["majres"],
                "struck_cenvio": first["cenvio"],
                "struck_trigger": icb_date(first["yrtrig"], first["motrig"], first["datrig"]),
                "struck_response": icb_date(first["yerres"], first["monres"], first["dayres"]),
                "n_actors": len(group),
            }
        )
    cls = pd.DataFrame(rows).merge(crises, on="crisno", how="left", validate="1:1")
    cls["intra_war"] = cls["iwcmb"].isin(INTRA_WAR_CODES)
    cls["trigger"] = pd.Series(
        [icb_date(*r) for r in cls[["yrtrig", "motrig", "datrig"]].itertuples(index=False)],
        index=cls.index,
        dtype=object,
    )
    cls["termination"] = pd.Series(
        [icb_date(*r) for r in cls[["yrterm", "moterm", "daterm"]].itertuples(index=False)],
        index=cls.index,
        dtype=object,
    )
    cls["duration"] = [
        days_between(s, e) for s, e in zip(cls["trigger"], cls["termination"], strict=True)
    ]
    year = cls["yrtrig"].astype(int)
    cls["struck_state"] = [
        state_name(names, c, y) for c, y in zip(cls["struck_code"], year, strict=True)
    ]
    cls["other_state"] = [
        state_name(names, c, y) for c, y in zip(cls["other_code"], year, strict=True)
    ]
    cls["library_status"] = cls["crisno"].map(lambda n: LIBRARY_OVERLAP.get(n, ("", ""))[1])
    for crisno, (name, _) in LIBRARY_OVERLAP.items():
        found = crises.loc[crises["crisno"] == crisno, "crisname"]
        if found.empty or found.iloc[0].strip() != name:
            raise ValueError(f"ICB crisis {crisno} is not {name!r}: check LIBRARY_OVERLAP")
    return cls


def triggered_before(cls: pd.DataFrame, date: dt.date, inclusive: bool) -> pd.Series:
    """Crises whose trigger date is surely before ``date`` (on or before, if ``inclusive``)."""
    his = [t.hi for t in cls["trigger"]]
    return pd.Series(
        [h is not None and (h <= date if inclusive else h < date) for h in his], index=cls.index
    )


# --------------------------------------------------------------------------------------------
# The sampling frame
# --------------------------------------------------------------------------------------------


def sampling_frame(cls: pd.DataFrame) -> pd.DataFrame:
    """The frame: the class before 2006, without intra-war crises, with the draw order.

    Rows are sorted by ``crisno``; the rows not already in the library get ``draw_order``
    ``1 + rng.permutation(n)`` with ``rng = numpy.random.default_rng(SEED)``, in that row order.
    """
    frame = cls[triggered_before(cls, FRAME_BEFORE, inclusive=False) & ~cls["intra_war"]]
    frame = frame.sort_values("crisno").reset_index(drop=True)
    eligible = frame["library_status"] == ""
    order = np.random.default_rng(SEED).permutation(int(eligible.sum())) + 1
    frame["draw_order"] = pd.array([pd.NA] * len(frame), dtype="Int64")
    frame.loc[eligible, "draw_order"] = order
    out = pd.DataFrame(
        {
            "draw_order": frame["draw_order"],
            "crisno": frame["crisno"],
            "name": frame["crisname"].str.strip(),
            "branch": frame["branch"],
            "trigger_date": [t.lo.isoformat() if t.exact else "" for t in frame["trigger"]],
            "trigger_date_icb": [
                raw_date(*r) for r in frame[["yrtrig", "motrig", "datrig"]].itertuples(index=False)
            ],
            "year": frame["yrtrig"].astype(int),
            "struck_state": frame["struck_state"],
            "struck_state_code": frame["struck_code"],
            "other_state": frame["other_state"],
            "other_state_code": frame["other_code"],
            "trigger_entity": frame["trigent"].astype(int),
            "n_crisis_actors": frame["n_actors"],
            "viol": frame["viol"].astype("Int64"),
            "sevviosy": frame["sevviosy"].astype("Int64"),
            "mediate": frame["mediate"].astype("Int64"),
            "struck_majres": frame["struck_majres"].astype("Int64"),
            "termination_date": [t.lo.isoformat() if t.exact else "" for t in frame["termination"]],
            "termination_date_icb": [
                raw_date(*r) for r in frame[["yrterm", "moterm", "daterm"]].itertuples(index=False)
            ],
            "duration_days": [
                lo if lo is not None and lo == hi else pd.NA for lo, hi in frame["duration"]
            ],
            "duration_days_min": [lo for lo, _ in frame["duration"]],
            "duration_days_max": [hi for _, hi in frame["duration"]],
            "icb_brexit": frame["brexit"].astype("Int64"),
            "already_candidate": frame["library_status"] != "",
        }
    )
    for col in ("duration_days", "duration_days_min", "duration_days_max"):
        out[col] = out[col].astype("Int64")
    return out.sort_values(["draw_order", "crisno"], na_position="last").reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Base rates
# --------------------------------------------------------------------------------------------


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for ``k`` successes in ``n`` (good near 0 and 1, unlike Wald)."""
    if n == 0:
        return math.nan, math.nan
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def rate_row(
    item: str,
    measure: str,
    source: str,
    variant: str,
    years: str,
    unit: str,
    outcome: pd.Series,
    definition: str,
) -> dict[str, object]:
    """One base-rate row; ``outcome`` is True/False per unit, None where it cannot be decided."""
    known = outcome.dropna().astype(bool)
    n, k = int(len(known)), int(known.sum())
    lo, hi = wilson(k, n)
    return {
        "item": item,
        "measure": measure,
        "source": source,
        "variant": variant,
        "years": years,
        "unit": unit,
        "n": n,
        "k": k,
        "rate": round(k / n, 4) if n else math.nan,
        "ci95_low": round(lo, 4),
        "ci95_high": round(hi, 4),
        "definition": definition,
    }


def icb_rates(cls: pd.DataFrame) -> list[dict[str, object]]:
    """Rates over the ICB class: violent-trigger crises to 2015, library cases left out."""
    base = cls[triggered_before(cls, RATES_UNTIL, inclusive=True) & (cls["library_status"] == "")]
    with_iwc = base
    base = base[~base["intra_war"]]
    years = f"{int(base['yrtrig'].min())}-{RATES_UNTIL.year}"
    unit = "ICB crisis"
    src = "ICB v14"
    cls_words = (
        "ICB crises of the sampling rule (first crisis actor's trigger a violent act by a state, or "
        "by a non-state actor with a host state in crisis; not inside an ongoing war), triggered "
        f"on or before {RATES_UNTIL.isoformat()}, library cases and candidates left out"
    )

    def known(series: pd.Series) -> pd.Series:
        return series.astype("Float64")

    viol, sev = known(base["viol"]), known(base["sevviosy"])
    mediate = known(base["mediate"])
    majres, cenvio = known(base["struck_majres"]), known(base["struck_cenvio"])
    violent = majres.isin(VIOLENT_RESPONSE).astype(object).where(majres.notna(), None)
    response_days = [
        days_between(t, r)
        for t, r in zip(base["struck_trigger"], base["struck_response"], strict=True)
    ]
    timed = [
        None if pd.isna(m) else (False if m not in VIOLENT_RESPONSE else within(d, 7))
        for m, d in zip(majres, response_days, strict=True)
    ]

    def flag(cond: pd.Series, source: pd.Series) -> pd.Series:
        return cond.astype(object).where(source.notna(), None)

    rows = [
        rate_row(
            "war",
            "icb_viol_eq_4",
            src,
            "primary",
            years,
            unit,
            flag(viol == 4, viol),
            f"{cls_words}; share with viol = 4 (full-scale war, the likely reading of viol: "
            "violence in the crisis as a whole).",
        ),
        rate_row(
            "war",
            "icb_sevviosy_eq_4",
            src,
            "alternative",
            years,
            unit,
            flag(sev == 4, sev),
            f"{cls_words}; share with sevviosy = 4 (full-scale war in the actors' crisis "
            "management).",
        ),
        rate_row(
            "war",
            "icb_viol_eq_4_incl_intra_war",
            src,
            "alternative",
            years,
            unit,
            flag(known(with_iwc["viol"]) == 4, known(with_iwc["viol"])),
            f"{cls_words.replace('; not inside an ongoing war', '')}, intra-war crises "
            "(iwcmb 3-10) kept; share with viol = 4.",
        ),
        rate_row(
            "sustained",
            "icb_viol_ge_3",
            src,
            "primary",
            years,
            unit,
            flag(viol >= 3, viol),
            f"{cls_words}; share with viol >= 3 (serious clashes or full-scale war).",
        ),
        rate_row(
            "mediation_accepted",
            "icb_mediate_eq_4",
            src,
            "primary",
            years,
            unit,
            flag(mediate == MEDIATION_OCCURRED, mediate),
            f"{cls_words}; share with mediate = 4, the only value with the mediation block "
            "filled in (mediation occurred in the crisis; ICB does not say both sides "
            "accepted talks through the mediator).",
        ),
        rate_row(
            "calm_14d",
            "icb_terminated_le_14d",
            src,
            "primary",
            years,
            unit,
            pd.Series([within(d, 14) for d in base["duration"]], index=base.index, dtype=object),
            f"{cls_words}; share whose ICB termination date is at most 14 days after the "
            "trigger date (dates from yrtrig/motrig/datrig and yrterm/moterm/daterm; day codes "
            "66/77/88 taken as the first/middle/last third of the month; crises whose range "
            "straddles 14 days left out).",
        ),
        rate_row(
            "calm_60d",
            "icb_terminated_le_60d",
            src,
            "primary",
            years,
            unit,
            pd.Series([within(d, 60) for d in base["duration"]], index=base.index, dtype=object),
            f"{cls_words}; share whose ICB termination date is at most 60 days after the "
            "trigger date (same date handling as calm_14d).",
        ),
        rate_row(
            "answer_7d",
            "icb_struck_majres_violent",
            src,
            "primary (upper bound)",
            years,
            unit,
            violent,
            f"{cls_words}; share whose struck state (first crisis actor) had a violent major "
            "response (majres 8 violent military act or 9 multiple including one), at any "
            "time: an upper bound on timing; not necessarily across the border.",
        ),
        rate_row(
            "answer_7d",
            "icb_struck_majres_violent_le_7d",
            src,
            "alternative",
            years,
            unit,
            pd.Series(timed, index=base.index, dtype=object),
            f"{cls_words}; share whose struck state's major response was violent (majres 8 "
            "or 9) and dated at most 7 days after its trigger (yerres/monres/dayres minus "
            "yrtrig/motrig/datrig of the actor; undecidable ranges left out). A violent "
            "answer that was not ICB's major response is missed.",
        ),
        rate_row(
            "answer_7d",
            "icb_struck_cenvio_ge_2",
            src,
            "alternative",
            years,
            unit,
            flag(cenvio >= 2, cenvio),
            f"{cls_words}; share whose struck state's cenvio >= 2 (violence had some role in "
            "its crisis management; cenvio labels inferred, see README), at any time.",
        ),
    ]
    return rows


def read_mid(path: Path) -> pd.DataFrame:
    """The dyadic MID 4.02 table, checked: every row as long as the header, the columns we use."""
    n_rows = check_fields(path)
    mid = pd.read_csv(path, encoding="latin-1")
    if len(mid) != n_rows:
        raise ValueError(f"{path}: pandas read {len(mid)} rows, the file has {n_rows}")
    missing = {"disno", "dyindex", "statea", "stateb", "strtyr", "hihost", "recip"} - set(
        mid.columns
    )
    if missing:
        raise ValueError(f"{path}: no column {sorted(missing)}")
    return mid


def mid_dyads(mid: pd.DataFrame) -> pd.DataFrame:
    """One row per dispute-dyad (non-directed): the table has a row per direction and year.

    A dispute-dyad is (``disno``, the unordered pair of states). Its hostility level is the
    highest ``hihost`` of its rows, its start year the earliest ``strtyr``, and it is
    reciprocated if any row has ``recip`` = 1.
    """
    pair = np.sort(mid[["statea", "stateb"]].to_numpy(), axis=1)
    keyed = mid.assign(state_lo=pair[:, 0], state_hi=pair[:, 1])
    return keyed.groupby(["disno", "state_lo", "state_hi"], as_index=False).agg(
        hihost=("hihost", "max"),
        recip=("recip", "max"),
        strtyr=("strtyr", "min"),
        hihost_values=("hihost", "nunique"),
    )


def mid_rates(dyads: pd.DataFrame) -> list[dict[str, object]]:
    """War after a use of force, and reciprocation, per dispute-dyad, MID 4.02."""
    force = dyads[dyads["hihost"] >= 4]
    src, unit = "COW dyadic MID 4.02", "dispute-dyad (non-directed)"
    rows = []
    for variant, sub in (("primary", force), ("alternative", force[force["strtyr"] >= 1946])):
        years = f"{int(sub['strtyr'].min())}-{int(sub['strtyr'].max())}"
        base = (
            f"Dispute-dyads of the COW dyadic MID 4.02 table (one per dispute number and "
            f"unordered pair of states; start years {years}) whose highest hostility level "
            "hihost reached 4 (use of force)"
        )
        rows.append(
            rate_row(
                "war",
                "mid_hihost5_given_ge4",
                src,
                variant,
                years,
                unit,
                (sub["hihost"] == 5).astype(object),
                f"{base}; share with hihost = 5 (war).",
            )
        )
        recip = sub["recip"].where(sub["recip"].isin([0, 1]))
        rows.append(
            rate_row(
                "answer_7d",
                "mid_recip_given_ge4",
                src,
                f"{variant} (upper bound)",
                years,
                unit,
                (recip == 1).astype(object).where(recip.notna(), None),
                f"{base}; share with recip = 1 (state B also took a militarized "
                "action: any level, any time, so an upper bound for answer_7d).",
            )
        )
    return rows


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--icb", type=Path, required=True, help="folder with icb1v14.csv, icb2v14.csv"
    )
    parser.add_argument("--mid", type=Path, help="dyadic_mid_4.02.csv (optional)")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    args = parser.parse_args(argv)

    crises, actors = read_icb(args.icb)
    cls = violent_trigger_class(crises, actors)
    frame = sampling_frame(cls)
    rates = icb_rates(cls)
    mid_note = "MID: not given, no MID rates written"
    if args.mid is not None:
        mid = read_mid(args.mid)
        dyads = mid_dyads(mid)
        rates += mid_rates(dyads)
        mid_note = (
            f"MID: {len(mid)} rows x {mid.shape[1]} fields, {len(dyads)} dispute-dyads, "
            f"{int((dyads['hihost_values'] > 1).sum())} with hihost varying across rows"
        )

    args.out.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out / "icb_sampling_frame.csv", index=False, lineterminator="\n")
    table = pd.DataFrame(rates)
    table.to_csv(args.out / "external_base_rates.csv", index=False, lineterminator="\n")

    in_frame = frame["draw_order"].notna()
    print(
        f"ICB: {len(crises)} crises, {len(actors)} actors; violent-trigger class {len(cls)} "
        f"({(cls['branch'] == 'state').sum()} state, {(cls['branch'] == 'armed_group').sum()} armed group)"
    )
    print(
        f"frame (before {FRAME_BEFORE.isoformat()}, no intra-war crises): {len(frame)} crises, "
        f"{int(in_frame.sum())} to draw, {int((~in_frame).sum())} already in the library"
    )
    exact = [lo == hi for lo, hi in cls["duration"] if lo is not None]
    print(f"durations: {sum(exact)} exact, {len(exact) - sum(exact)} ranges (unknown-day codes)")
    print(mid_note)
    print("\nfirst 20 by draw_order:")
    print(
        frame.loc[in_frame, ["draw_order", "crisno", "name", "year", "struck_state", "other_state"]]
        .head(20)
        .to_string(index=False)
    )
    print("\nbase rates:")
    print(
        table[["item", "measure", "variant", "n", "k", "rate", "ci95_low", "ci95_high"]].to_string(
            index=False
        )
    )


if __name__ == "__main__":
    main()
