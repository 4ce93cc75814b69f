"""core.workflow: a workflow definition answers who may take which step now, where it leads, by
when, and refuses anything else with the project's errors. No database: plain objects."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied
from django.db import models

from core.errors import Conflict
from core.workflow import Guard, Step, Workflow


class Colour(models.TextChoices):
    NEW = "new", "New"
    CHECKED = "checked", "Checked"
    SKIPPED = "skipped", "Skipped"
    DONE = "done", "Done"


@dataclass
class Thing:
    state: str = "new"
    owner: str = "ann"
    open: bool = True
    short: bool = False
    pk: int = 1


@dataclass
class Person:
    name: str


def is_owner(user, obj) -> bool:
    return user.name == obj.owner


def is_checker(user, obj) -> bool:
    return user.name == "cat"


def strict_checker(user, obj) -> bool:
    if user.name != "cat":
        raise PermissionDenied("only the checker")
    return True


FLOW = Workflow(
    name="thing", rule="T-1", states=Colour, noun="this thing",
    steps=[
        Step("send", "Send", "T-2", [("new", "checked"), ("new", "skipped")], is_owner,
             target=lambda o: "skipped" if o.short else "checked",
             guards=[Guard(lambda o: o.open, "T-9", "The year is closed.")],
             deadline=lambda o: date(2025, 3, 31)),
        Step("pass", "Pass", "T-3", [("checked", "done"), ("skipped", "done")],
             {"checked": is_checker, "skipped": strict_checker}, deadline=lambda o: date(2025, 4, 30)),
        Step("back", "Back", "T-3", [("checked", "new")], {"checked": is_checker}),
    ],
)


def test_states_keep_their_order_and_labels():
    assert FLOW.label("checked") == "Checked"
    assert FLOW.label("bogus") == "bogus"
    assert list(FLOW.allowed()) == ["new", "checked", "skipped", "done"]
    assert FLOW.terminal_states() == frozenset({"done"})


def test_transitions_are_listed_from_the_steps():
    assert [(t.name, t.source, t.target) for t in FLOW.transitions()] == [
        ("send", "new", "checked"), ("send", "new", "skipped"), ("pass", "checked", "done"),
        ("pass", "skipped", "done"), ("back", "checked", "new")]
    assert FLOW.allowed()["checked"] == frozenset({"done", "new"})


def test_target_is_chosen_among_the_steps_transitions():
    assert FLOW.check(Person("ann"), Thing(), "send") == "checked"
    assert FLOW.check(Person("ann"), Thing(short=True), "send") == "skipped"


def test_wrong_state_is_a_conflict_naming_the_state_label():
    with pytest.raises(Conflict) as exc:
        FLOW.check(Person("cat"), Thing(state="done"), "pass")
    assert exc.value.rule == "T-3"
    assert "“Done”" in exc.value.message and "this thing" in exc.value.message


def test_wrong_person_is_refused():
    with pytest.raises(PermissionDenied):
        FLOW.check(Person("bob"), Thing(), "send")
    with pytest.raises(PermissionDenied):
        FLOW.check(Person("ann"), Thing(state="checked"), "pass")


def test_a_predicate_may_refuse_with_its_own_message():
    with pytest.raises(PermissionDenied, match="only the checker"):
        FLOW.check(Person("ann"), Thing(state="skipped"), "pass")


def test_one_predicate_for_all_states_asks_the_person_first():
    with pytest.raises(PermissionDenied):
        FLOW.check(Person("bob"), Thing(state="done"), "send")
    with pytest.raises(Conflict):
        FLOW.check(Person("ann"), Thing(state="done"), "send")


def test_a_failed_guard_is_a_conflict_under_its_rule():
    with pytest.raises(Conflict) as exc:
        FLOW.check(Person("ann"), Thing(open=False), "send")
    assert exc.value.rule == "T-9" and exc.value.message == "The year is closed."


def test_actions_for_lists_only_what_the_user_may_do_now():
    assert FLOW.actions_for(Person("bob"), Thing()) == []
    assert FLOW.actions_for(Person("ann"), Thing(open=False)) == []
    (send,) = FLOW.actions_for(Person("ann"), Thing())
    assert (send.name, str(send.label), send.target, send.target_label, send.due, send.rule) == (
        "send", "Send", "checked", "Checked", date(2025, 3, 31), "T-2")
    assert [a.name for a in FLOW.actions_for(Person("cat"), Thing(state="checked"))] == ["pass", "back"]
    assert [a.name for a in FLOW.actions_for(Person("cat"), Thing(state="checked"), names=["back"])] == ["back"]
    assert FLOW.actions_for(Person("ann"), Thing(state="skipped")) == []


def test_deadline_is_the_earliest_step_due_from_the_state():
    assert FLOW.deadline(Thing()) == date(2025, 3, 31)
    assert FLOW.deadline(Thing(state="checked")) == date(2025, 4, 30)
    assert FLOW.deadline(Thing(state="done")) is None


def test_history_reads_labels_not_codes():
    assert FLOW.history_text("send", "new", "checked") == "Send: New → Checked"
    assert FLOW.history_text("gone", "x", "done") == "gone: x → Done"


def test_a_definition_with_an_unknown_state_or_a_stray_predicate_is_refused():
    with pytest.raises(ValueError):
        Workflow(name="bad", rule="X", states=Colour, steps=[Step("go", "Go", "X", [("new", "nowhere")], is_owner)])
    with pytest.raises(ValueError):
        Workflow(name="bad", rule="X", states=Colour,
                 steps=[Step("go", "Go", "X", [("new", "done")], {"done": is_owner})])
    with pytest.raises(ValueError):
        Workflow(name="bad", rule="X", states=Colour,
                 steps=[Step("go", "Go", "X", [("new", "done")], is_owner),
                        Step("go", "Go", "X", [("checked", "done")], is_owner)])


def test_actions_carry_the_url_of_the_step():
    flow = Workflow(name="thing", rule="T-1", states=Colour, steps=[
        Step("send", "Send", "T-2", [("new", "checked")], is_owner, url="evaluation:submission-step",
             url_args=lambda o, name: (o.pk, name))])
    (send,) = flow.actions_for(Person("ann"), Thing(pk=7))
    assert send.url.endswith("/evaluation/submissions/7/send/")
    assert send.as_dict()["url"] == send.url


def test_a_step_that_keeps_the_state_is_no_transition_and_history_uses_its_done_label():
    flow = Workflow(name="thing", rule="T-1", states=Colour, steps=[
        Step("send", "Send", "T-2", [("new", "done")], is_owner, done="Sent"),
        Step("note", "Add a note", "T-2", [("new", "new"), ("done", "done")], is_owner)])
    assert flow.allowed()["done"] == frozenset() and flow.terminal_states() == frozenset({"checked", "skipped", "done"})
    assert [a.name for a in flow.actions_for(Person("ann"), Thing(state="done"))] == ["note"]
    assert flow.history_text("send", "new", "done") == "Sent: New → Done"


def test_actions_by_name_names_every_step():
    by_name = FLOW.actions_by_name(Person("cat"), Thing(state="checked"))
    assert list(by_name) == ["send", "pass", "back"]
    assert by_name["send"] is None and by_name["pass"].target == "done"


def test_a_target_picked_by_the_service_and_a_steps_own_refusal():
    flow = Workflow(name="thing", rule="T-1", states=Colour, steps=[
        Step("record", "Record", "T-4", [("new", "checked"), ("new", "skipped")], is_owner,
             refused="Already recorded.")])
    assert flow.check(Person("ann"), Thing(), "record", to="skipped") == "skipped"
    with pytest.raises(Conflict):
        flow.check(Person("ann"), Thing(), "record", to="done")
    with pytest.raises(Conflict, match="Already recorded."):
        flow.check(Person("ann"), Thing(state="done"), "record")
    (record,) = flow.actions_for(Person("ann"), Thing())
    assert record.target is None and record.as_dict()["target_label"] is None


def test_guards_may_be_left_to_the_service_but_never_the_state_or_person():
    # A service that judges the guard against a day it is given (not today) skips it here.
    assert FLOW.check(Person("ann"), Thing(open=False), "send", guards=False) == "checked"
    with pytest.raises(PermissionDenied):
        FLOW.check(Person("bob"), Thing(open=False), "send", guards=False)
    with pytest.raises(Conflict):
        FLOW.check(Person("ann"), Thing(state="done"), "send", guards=False)
