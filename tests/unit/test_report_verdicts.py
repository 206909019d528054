"""bench/report_targets.py: a web-tier verdict needs every round on one side of the target, and
the floor's rounds say whether any implementation could be shown to meet 0.9 in that run."""

from __future__ import annotations

from typing import Any

from bench.report_targets import floor_text, verdict


def _spread(median: float, low: float, high: float) -> dict[str, float]:
    return {"median": median, "min": low, "max": high}


def test_met_and_not_met_need_every_round_on_one_side() -> None:
    assert "**met**" in verdict(_spread(0.95, 0.91, 0.97), 0.9, at_least=True)
    assert "not met" in verdict(_spread(0.85, 0.83, 0.89), 0.9, at_least=True)
    straddling = verdict(_spread(0.908, 0.898, 0.954), 0.9, at_least=True)
    assert straddling.startswith("**inconclusive**"), straddling
    # For a ceiling (p95 ≤ 1.25×) the good side is below.
    assert "**met**" in verdict(_spread(1.1, 0.9, 1.2), 1.25, at_least=False)
    assert "inconclusive" in verdict(_spread(1.11, 0.84, 1.48), 1.25, at_least=False)


def _phase(users: int, floor: dict[str, float]) -> dict[str, Any]:
    return {
        "reelforge": {"users": users},
        "floor_ratio": floor,
        "reelforge_vs_floor": _spread(0.95, 0.9, 1.0),
    }


def test_the_floor_line_names_the_phases_where_no_implementation_could_be_shown_to_meet() -> None:
    rows = [
        _phase(100, _spread(0.93, 0.88, 0.96)),  # straddles
        _phase(200, _spread(0.95, 0.91, 0.99)),  # every round above
        _phase(300, _spread(0.85, 0.80, 0.88)),  # every round below
    ]
    (text,) = floor_text({"web": {"phases": rows}})
    assert "100 users: floor ÷ bare 0.93 (0.88–0.96) (0.9 at the edge" in text
    assert "200 users: floor ÷ bare 0.95 (0.91–0.99) (0.9 reachable here)" in text
    assert "(0.9 out of reach here)" in text
    assert "not at or above 0.9 in every round at 100, 300 users" in text
    (clear,) = floor_text({"web": {"phases": [rows[1]]}})
    assert "could be shown" not in clear
