"""A workflow as data: one definition per workflow holds its states, its steps (the transitions
they take, from → to), who may take each step in each state, what else must hold, and the
deadline of each step. Services check a step with ``check`` before they write; views, the REST
API and the JB-3 deadline lists read ``actions_for``, ``label`` and ``deadline`` from the same
definition, so no page re-decides who may do what.

The kernel knows no app: role predicates are each app's (``<app>/permissions.py``), and a
definition lives beside the app's models (``<app>/workflows.py``). A predicate takes
``(user, obj)`` and answers True or False, or raises ``PermissionDenied`` with its own message.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext as _

from core.errors import Conflict

Predicate = Callable[[Any, Any], bool]  # (user, obj) → may take the step


@dataclass(frozen=True)
class Guard:
    """A condition on the object, not on the person (the year is still open, the guarantee is
    repaid): when ``test(obj)`` is false the step is refused with ``Conflict(rule, message)``."""

    test: Callable[[Any], bool]
    rule: str
    message: Any


@dataclass(frozen=True)
class Transition:
    """One arrow of the workflow: the step ``name`` moves an object from ``source`` to ``target``."""

    name: str
    source: str
    target: str
    label: Any


@dataclass(frozen=True)
class Step:
    """A step a person takes, e.g. "forward": the (source, target) pairs it may take, who may
    take it in each source state, its guards, and its deadline.

    ``who`` is one predicate for every source state or a mapping state → predicate. When a
    state has several targets (a level without a supervisor is skipped), ``target(obj)``
    chooses; with one, it is that one. ``deadline(obj)`` is the day the step is due while the
    object waits in a source state (None: no deadline). ``url`` is a URL name reversed with
    ``url_args(obj, step_name)``; it is what ``actions_for`` hands to pages and API clients."""

    name: str
    label: Any
    rule: str
    transitions: Sequence[tuple[str, str]]
    who: Predicate | Mapping[str, Predicate]
    target: Callable[[Any], str] | None = None
    guards: Sequence[Guard] = ()
    deadline: Callable[[Any], date | None] | None = None
    url: str | None = None
    url_args: Callable[[Any, str], Sequence[Any]] | None = None
    done: Any = None  # the step as history reads it ("Submitted"); the label when not given
    refused: Any = None  # the refusal from a state the step is not taken from; a generic one when not given

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(source for source, _target in self.transitions))

    def predicate(self, state: str) -> Predicate | None:
        if isinstance(self.who, Mapping):
            return self.who.get(state)
        return self.who


@dataclass(frozen=True)
class Action:
    """A step ``user`` may take on ``obj`` now, as ``actions_for`` lists it."""

    name: str
    label: str
    target: str | None
    target_label: str | None
    url: str | None
    due: date | None
    rule: str

    def as_dict(self) -> dict:
        return {"name": self.name, "label": str(self.label), "target": self.target,
                "target_label": None if self.target_label is None else str(self.target_label), "url": self.url,
                "due": self.due, "rule": self.rule}


# Every workflow defined, so a reader of stored codes (the audit trail) can name a state by its
# label without importing the apps that define them.
_DEFINED: list[Workflow] = []


def state_labels() -> dict[str, Any]:
    """Every defined workflow's state codes with their (lazy) labels; the first definition naming
    a code wins. Each app's ``workflows`` module is imported first, so none is missed."""
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("workflows")
    labels: dict[str, Any] = {}
    for workflow in _DEFINED:
        for value, label in workflow.states.choices:
            labels.setdefault(value, label)
    return labels


@dataclass(frozen=True)
class Workflow:
    """The states (a TextChoices in workflow order) and the steps of one workflow.

    ``state_field`` is the attribute of the object holding its state; ``rule`` names the
    workflow's rule id for a refusal that is about the workflow rather than one step."""

    name: str
    rule: str
    states: type[models.TextChoices]
    steps: Sequence[Step]
    state_field: str = "state"
    noun: Any = field(default=None)  # "this submission": used in the refusal of a step from the wrong state

    def __post_init__(self):
        _DEFINED.append(self)
        known = set(self.states.values)
        names = [s.name for s in self.steps]
        if len(names) != len(set(names)):
            raise ValueError(f"{self.name}: a step name is used twice")
        for step in self.steps:
            for source, target in step.transitions:
                if source not in known or target not in known:
                    raise ValueError(f"{self.name}.{step.name}: unknown state in {source} → {target}")
            if isinstance(step.who, Mapping) and set(step.who) - set(step.sources):
                raise ValueError(f"{self.name}.{step.name}: a predicate for a state the step is not taken from")

    # --- reading the definition ----------------------------------------------------------------

    def step(self, name: str) -> Step:
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(f"{self.name} has no step {name!r}")

    def label(self, state: str) -> str:
        """The state's label in the reader's language; an unknown code is shown as it is."""
        try:
            return self.states(state).label
        except ValueError:
            return state

    def transitions(self) -> list[Transition]:
        return [Transition(step.name, source, target, step.label)
                for step in self.steps for source, target in step.transitions]

    def allowed(self) -> dict[str, frozenset[str]]:
        """state → the other states a step leads to from it (terminal states map to an empty set;
        a step that leaves the state as it is, such as an upload, is no transition here)."""
        out: dict[str, set[str]] = {state: set() for state in self.states.values}
        for t in self.transitions():
            if t.source != t.target:
                out[t.source].add(t.target)
        return {state: frozenset(targets) for state, targets in out.items()}

    def terminal_states(self) -> frozenset[str]:
        return frozenset(state for state, targets in self.allowed().items() if not targets)

    def state_of(self, obj) -> str:
        return getattr(obj, self.state_field)

    def steps_from(self, state: str) -> list[Step]:
        return [step for step in self.steps if state in step.sources]

    def target(self, obj, name: str, to: str | None = None) -> str:
        """Where step ``name`` takes ``obj`` from its state (one of the step's transitions):
        ``to`` when the service decides it from its input, else the step's choice."""
        step, state = self.step(name), self.state_of(obj)
        targets = [t for s, t in step.transitions if s == state]
        if to is not None:
            chosen = to
        elif step.target is not None:
            chosen = step.target(obj)
        else:
            chosen = targets[0] if len(targets) == 1 else None
        if chosen not in targets:
            raise self._wrong_state(step, state)
        return chosen

    def _wrong_state(self, step: Step, state: str) -> Conflict:
        if step.refused is not None:
            return Conflict(step.rule, step.refused)
        return Conflict(step.rule, _("This step is not possible while %(noun)s is “%(state)s”.")
                        % {"noun": self._noun(), "state": self.label(state)})

    def step_deadline(self, obj, name: str) -> date | None:
        step = self.step(name)
        return step.deadline(obj) if step.deadline is not None else None

    def deadline(self, obj) -> date | None:
        """The earliest deadline of the steps that can be taken from the object's state."""
        dues = [d for step in self.steps_from(self.state_of(obj)) if (d := self.step_deadline(obj, step.name))]
        return min(dues, default=None)

    def history_text(self, name: str, old: str, new: str) -> str:
        """"Submitted: With the firm → County review": a state change as the reader reads it."""
        try:
            step = self.step(name)
        except KeyError:
            action = name
        else:
            action = step.done if step.done is not None else step.label
        return f"{action}: {self.label(old)} → {self.label(new)}"

    # --- deciding -------------------------------------------------------------------------------

    def _noun(self) -> str:
        return str(self.noun) if self.noun is not None else _("it")

    def check(self, user, obj, name: str, *, to: str | None = None, guards: bool = True) -> str:
        """Refuse step ``name`` on ``obj`` by ``user`` unless the definition allows it now (to
        ``to`` when given); return the state it leads to. Order: the state (Conflict, 409), the person (PermissionDenied),
        the guards (Conflict naming their rule); a step with one predicate for every state asks
        the person first, so someone who may never take it is told that, not where it stands.
        ``guards=False`` leaves the guards to a service that decides them against the day it is
        given rather than today, in its own, more precise words."""
        step, state = self.step(name), self.state_of(obj)
        if not isinstance(step.who, Mapping):
            self._check_person(step, state, user, obj)
        if state not in step.sources:
            raise self._wrong_state(step, state)
        if isinstance(step.who, Mapping):
            self._check_person(step, state, user, obj)
        for guard in step.guards if guards else ():
            if not guard.test(obj):
                raise Conflict(guard.rule, guard.message)
        return self.target(obj, name, to)

    @staticmethod
    def _check_person(step: Step, state: str, user, obj) -> None:
        predicate = step.predicate(state)
        if predicate is None or not predicate(user, obj):
            raise PermissionDenied(_("Your role does not allow this step."))

    def require_party(self, user, obj, name: str) -> None:
        """Refuse (PermissionDenied, 403) a ``user`` who is the party of step ``name`` in none of
        the states it is taken from; unlike ``check`` it ignores the state, so a page tells the
        right person in the wrong state the service's 409 message instead."""
        step = self.step(name)
        if not any(predicate(user, obj) for state in step.sources if (predicate := step.predicate(state))):
            raise PermissionDenied(_("Your role does not allow this step."))

    def may(self, user, obj, name: str) -> bool:
        step, state = self.step(name), self.state_of(obj)
        try:
            targets = {t for s, t in step.transitions if s == state}
            # A step whose target the service picks from its input is open when any target is.
            self.check(user, obj, name, to=None if step.target or len(targets) <= 1 else next(iter(targets)))
        except (Conflict, PermissionDenied):
            return False
        return True

    def actions_for(self, user, obj, *, names: Iterable[str] | None = None) -> list[Action]:
        """The steps ``user`` may take on ``obj`` now, in definition order, each with its label,
        where it leads, its URL and its deadline (only ``names`` when given)."""
        wanted = set(names) if names is not None else None
        actions = []
        for step in self.steps_from(self.state_of(obj)):
            if wanted is not None and step.name not in wanted:
                continue
            if not self.may(user, obj, step.name):
                continue
            try:
                target = self.target(obj, step.name)
            except Conflict:
                target = None  # the service picks it from the input (a contract with or without registration)
            url = None
            if step.url:
                args = step.url_args(obj, step.name) if step.url_args is not None else (obj.pk,)
                url = reverse(step.url, args=list(args))
            actions.append(Action(name=step.name, label=step.label, target=target,
                                  target_label=self.label(target) if target else None,
                                  url=url, due=self.step_deadline(obj, step.name), rule=step.rule))
        return actions

    def actions_by_name(self, user, obj) -> dict[str, Action | None]:
        """``actions_for`` as a mapping of every step name to its Action, or None when the user
        may not take it now (what a template asks: ``actions.submit``)."""
        found = {action.name: action for action in self.actions_for(user, obj)}
        return {step.name: found.get(step.name) for step in self.steps}
