"""The annual evaluation's panel on the regulator's home page (core.home): the open year's
submissions by step and, per step, how many were or are late at it, judged by when each step
was taken (EV-5)."""
from __future__ import annotations

from datetime import date

from core import home
from core.permissions import is_oversight_user
from evaluation import selectors
from evaluation.models import EvaluationYear, Submission


@home.panel(order=30)
def evaluation_panel(user, today: date) -> dict | None:
    if not is_oversight_user(user):
        return None
    year = selectors.years().filter(stage=EvaluationYear.Stage.OPEN).first()
    if year is None:
        return None
    overview = selectors.year_overview(user=user, year=year)
    late = selectors.late_counts(user=user, year=year, today=today)
    labels = dict(Submission.State.choices)
    steps = [{"state": state, "label": labels[state], "n": overview["counts"].get(state, 0), "late": late.get(state, 0)}
             for state in labels]
    return {"template": "evaluation/_home_panel.html", "year": year, "steps": steps, "total": overview["total"]}
