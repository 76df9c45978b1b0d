"""Validating definitions with pydantic: imported only when a definition file or a kept version is read.

The parts of a definition are plain dataclasses (workflow.model) whose annotations are
strings naming the constrained types below (``RuleIds``, ``Role``, ``Day`` ...) and
pydantic's markers (``Field``, ``AfterValidator``). Here those names exist: each class's
annotations are evaluated against them once, and pydantic builds one validator per
class from the result. A command that reads its definitions from the user's cache never
imports this module, nor pydantic.
"""
from __future__ import annotations

import dataclasses
from datetime import date
from difflib import get_close_matches
from typing import Annotated, Any, TypeVar, Union, get_type_hints

from pydantic import (AfterValidator, BeforeValidator, Field, StringConstraints, TypeAdapter, ValidationError,
                      ValidationInfo, WithJsonSchema)
from pydantic_core import PydanticCustomError

from .definition import Definition
from .model import MODELS, Model
from .requirements import (AnyOf, ActorHasRole, ActorIsQualified, CaseInStates, CaseloadWithin, EventHappened,
                           FactRecorded, InTeams, LatestFact, LeadAllocated, LeadHasRole, LeadHasTraining,
                           LeadInCaseTeam, LeadIsRegisteredSocialWorker, LeadPcfLevel, LeadWasFormerLead, NoneOf,
                           NotOverdue, ReasonGiven, REGISTRY, Requirement, SupervisedIfUnqualified, WhoMayAct,
                           WithinDates, WorkerAllocated, WorkerHasRole)
from .requirements.actor import known_role
from .requirements.base import FIRST_DAY, LAST_DAY, MANY, check_rule_ids
from .roles import ROLES

__all__ = ["validate", "adapter", "errors", "normalise", "json_schema", "ValidationError", "Field", "AfterValidator",
           "RuleIds", "RuleId", "Day", "PcfLevel", "Role", "Text", "Name", "ReasonCode", "RequirementItem"]

M = TypeVar("M", bound=Model)

#: the rule IDs an item cites: the one validator of them, for every kind of item that cites rules
RuleIds = Annotated[tuple[str, ...], Field(max_length=MANY), AfterValidator(check_rule_ids)]
#: a rule ID as a rulebook key, e.g. 'WT-5'
RuleId = Annotated[str, AfterValidator(lambda value: check_rule_ids((value,))[0])]
#: a date in a definition (a trial's start, a closure day), within the bounds the engine's arithmetic allows
Day = Annotated[date, Field(ge=FIRST_DAY, le=LAST_DAY)]
#: a level of the Professional Capabilities Framework (students are at 1 to 4)
PcfLevel = Annotated[int, Field(ge=1, le=9)]
#: a role identifier (README, 'Role identifiers'), checked at load time; the JSON Schema lists them
Role = Annotated[str, AfterValidator(known_role), WithJsonSchema({"type": "string", "enum": list(ROLES)})]
#: text a reader needs: never empty, surrounding whitespace (e.g. from a folded YAML block) dropped
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
#: a state, event, fact or deadline name: an identifier people type on the command line
Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
#: a closure reason's code, e.g. 'RC8'
ReasonCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,15}$")]

_META = ("rules", "says", "origin")


def normalise(raw: Any) -> Any:
    """Compact YAML form → ``{'kind': K, **params, rules, says}`` for the tagged union."""
    if isinstance(raw, Requirement):
        return raw
    if isinstance(raw, str):
        raw = {raw: None}
    if isinstance(raw, dict) and isinstance(raw.get("kind"), str) and raw["kind"] in REGISTRY:
        return raw  # already the tagged form: a definition kept in the store (its dump) read back
    if not isinstance(raw, dict):
        raise PydanticCustomError(
            "requirement_form",
            "a requirement is a kind name or a mapping such as '{fact_recorded: name}', not {got}",
            {"got": type(raw).__name__})
    kinds = [k for k in raw if k not in _META]
    if len(kinds) != 1:
        raise PydanticCustomError(
            "requirement_kinds",
            "each requirement names exactly one kind (besides 'rules' and 'says'), found: {found}",
            {"found": ", ".join(map(str, kinds)) or "none"})
    kind = kinds[0]
    cls = REGISTRY.get(kind)
    if cls is None:
        close = get_close_matches(str(kind), REGISTRY, n=1)
        hint = f"did you mean '{close[0]}'?" if close else "known kinds: " + ", ".join(sorted(REGISTRY))
        raise PydanticCustomError("requirement_kind", "unknown requirement kind '{kind}'; {hint}",
                                  {"kind": kind, "hint": hint})
    value = raw[kind]
    if value is None:
        params: dict[str, Any] = {}
    elif isinstance(value, dict):
        params = dict(value)
    elif cls.primary is None:
        raise PydanticCustomError("requirement_value", "'{kind}' takes no value; write '- {kind}'",
                                  {"kind": kind})
    else:
        params = {cls.primary: value}
    params.update({k: raw[k] for k in _META if k in raw})
    params["kind"] = kind
    return params


#: every requirement kind, one of them chosen by its 'kind' (a test keeps this list equal to the registry)
RequirementItem = Annotated[
    Union[WhoMayAct, ActorHasRole, ActorIsQualified, FactRecorded, LatestFact, EventHappened, LeadAllocated,
          LeadIsRegisteredSocialWorker, SupervisedIfUnqualified, LeadHasRole, LeadHasTraining, LeadPcfLevel,
          WorkerAllocated, LeadInCaseTeam, LeadWasFormerLead, CaseInStates, WorkerHasRole, CaseloadWithin, AnyOf,
          NoneOf, InTeams, WithinDates, ReasonGiven, NotOverdue],
    Field(discriminator="kind"),
    BeforeValidator(normalise),
]

#: the names the models' annotations use beyond their own modules' imports
_NAMES: dict[str, Any] = {
    "Annotated": Annotated, "Field": Field, "AfterValidator": AfterValidator, "BeforeValidator": BeforeValidator,
    "StringConstraints": StringConstraints, "ValidationInfo": ValidationInfo, "RuleIds": RuleIds, "RuleId": RuleId,
    "Day": Day, "PcfLevel": PcfLevel,
    "Role": Role, "Text": Text, "Name": Name, "ReasonCode": ReasonCode, "RequirementItem": RequirementItem,
}
_prepared: set[type[Model]] = set()


def _prepare() -> None:
    """Evaluate the annotations of every model not yet prepared, so pydantic reads types rather than text; an
    aliased field (``from``) gets its alias as pydantic's."""
    for cls in MODELS:
        if cls in _prepared:
            continue
        hints = get_type_hints(cls, localns=_NAMES, include_extras=True)
        for f in dataclasses.fields(cls):
            if not isinstance(f.type, str):
                continue  # a base's field, evaluated with the base
            hint = hints[f.name]
            if "alias" in f.metadata:
                hint = Annotated[hint, Field(alias=f.metadata["alias"])]
            f.type = hint
        _prepared.add(cls)


_adapters: dict[Any, TypeAdapter[Any]] = {}


def adapter(tp: Any) -> TypeAdapter[Any]:
    """pydantic's validator for *tp*, a model class or one of the types above (built once per process)."""
    if tp not in _adapters:
        _prepare()
        _adapters[tp] = TypeAdapter(tp)
    return _adapters[tp]


def validate(cls: type[M], data: Any) -> M:
    """*data* (parsed YAML or JSON) as a *cls*; raises ValidationError, located, when it is not one."""
    found: M = adapter(cls).validate_python(data)
    return found


#: what a dataclass's errors say, in the words a model's say (the loader and its tests read these)
_WORDS = {"missing_keyword_only_argument": ("missing", "Field required"),
          "missing_argument": ("missing", "Field required"),
          "unexpected_keyword_argument": ("extra_forbidden", "Extra inputs are not permitted")}


def errors(exc: ValidationError) -> list[dict[str, Any]]:
    """The errors of *exc*, with a missing or unknown key named the same way for every kind of item."""
    found: list[dict[str, Any]] = []
    for err in exc.errors():
        kind, msg = _WORDS.get(err["type"], (err["type"], err["msg"]))
        found.append({**err, "type": kind, "msg": msg})
    return found


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a definition file, as the loader checks it."""
    return adapter(Definition).json_schema(by_alias=True)
