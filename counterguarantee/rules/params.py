"""Counter-guarantee vocabularies (kinds, grounds, registries, forms, valuation sources,
enforcement actions, abnormal events), the rule-set parameters and the tables in force on a
check date (asset classes, bank pledge rates). Pure: nothing here queries or saves."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from core.errors import RuleViolation
from core.i18n_text import gettext_lazy as _
from core.money import money, ratio, round_money

_ZERO = Decimal("0")
_ONE = Decimal("1")

# --- vocabularies --------------------------------------------------------------------------

GUARANTEE, MORTGAGE, PLEDGE = "guarantee", "mortgage", "pledge"
KINDS = (GUARANTEE, MORTGAGE, PLEDGE)  # CG-4, 第四条
COLLATERAL_KINDS = (MORTGAGE, PLEDGE)
KIND_LABELS = {
    GUARANTEE: _("guarantee (保证)"),
    MORTGAGE: _("mortgage (抵押)"),
    PLEDGE: _("pledge (质押)"),
}

# Outcomes of a rule, and of a detail.
PASS, WARNING, FAIL, INFO, NOT_APPLICABLE = "pass", "warning", "fail", "info", "not_applicable"
OUTCOMES = (PASS, WARNING, FAIL, INFO, NOT_APPLICABLE)
_SEVERITY = {NOT_APPLICABLE: 0, INFO: 1, PASS: 2, WARNING: 3, FAIL: 4}

# The rules check_plan answers, in this order (the API's ``results``).
CHECKED_RULES = ("CG-1", "CG-2", "CG-5", "CG-6", "CG-7", "CG-9", "CG-10", "CG-11")

# CG-1 (第五条): a credit guarantee is expected.
CREDIT_GROUNDS = {
    "CG-1.1": _("a personal start-up guarantee loan, or a partnership “bundled” start-up loan (创业担保贷款)"),
    "CG-1.2": _("a new agricultural operating entity with a single guaranteed amount of at most %(cap)s yuan "
                "(新型农业经营主体)"),
    "CG-1.3": _("a holder of a county-level or higher honour, or a small-micro firm founded by one (荣誉称号)"),
    "CG-1.4": _("a national science award winner or member of a listed talent or technology programme, or a "
                "small-micro firm founded by one or on such a list (科技奖项、人才计划)"),
    "CG-1.5": _("batch business with a locked compensation-rate cap, done as 见贷即保"),
    "CG-1.6": _("an online product developed with a bank or credit bureau (线上产品)"),
}
AGRI_AMOUNT_GROUND = "CG-1.2"

# CG-2 (第六条): the collateral threshold may be lowered.
LOWERED_GROUNDS = {
    "CG-2.1": _("good growth, strong job creation and a secure first source of repayment"),
    "CG-2.2": _("a leading or white-list firm of the provincial ten key agricultural chains"),
    "CG-2.3": _("green business (绿色融资担保)"),
    "CG-2.4": _("a supply-chain small-micro firm of a chain-leading firm (产业链、供应链)"),
    "CG-2.5": _("a technology-based small-micro firm (科技型小微企业)"),
    "CG-2.6": _("a 专精特新 firm, especially in key “bottleneck” technologies"),
    "CG-2.7": _("a start-up loan of a labour-intensive small-micro firm"),
}

# Where a class of property is registered (CG-11, 第十三条, 第十五条); "" means no registration.
NO_REGISTRY = ""
REGISTRIES = {
    "pboc": _("PBOC movable-property financing registry (动产融资统一登记公示系统)"),
    "real_estate": _("local real-estate registry (不动产登记机构)"),
    "vehicle": _("vehicle registry (车辆管理所)"),
    "ship": _("ship registry (海事管理机构)"),
    "ip": _("intellectual property office (知识产权局)"),
    "equity": _("market regulator, equity pledge registration (市场监督管理部门)"),
    "environment": _("emission or carbon right registry (排污权、碳排放权登记机构)"),
    "other": _("other registration authority"),
}

# CG-12 (第十四条): accepted flexible forms, recorded on the measure.
LIEN = "lien"
FLEXIBLE_FORMS = {
    "residual_value": _("residual-value mortgage (余值抵押)"),
    "second_ranking": _("second-ranking mortgage (顺位抵押)"),
    "advance_registration": _("advance registration (预告登记)"),
    LIEN: _("lien (留置)"),
}

VALUATION_SOURCES = {
    "approved_appraiser": _("an appraiser the firm approves"),
    "own": _("the firm's own valuation"),
}

# CG-13 (第十七条): what the firm does to keep its rights alive, and what it finds on inspection.
ENFORCEMENT_ACTIONS = {
    "demand_notice": _("written demand to the counter-guarantor (书面通知)"),
    "lawsuit": _("lawsuit (诉讼)"),
    "arbitration": _("arbitration (仲裁)"),
    "enforcement": _("enforcement of the collateral (行使抵押权、质押权)"),
    "acknowledgement": _("the counter-guarantor acknowledged the debt (同意履行)"),
}
# CG-13 (第十七条(五); 民法典 第六百八十六、六百八十七、六百八十八条): how a guarantor is liable.
JOINT, GENERAL = "joint", "general"
LIABILITIES = {
    JOINT: _("joint and several liability (连带责任保证)"),
    GENERAL: _("general guarantee (一般保证)"),
}
# CG-13 (第十七条(五); 民法典 第六百九十三条): what keeps a guarantor liable if done within the
# guarantee period: a general guarantee only a suit or arbitration (against the debtor); joint
# liability also a written demand to the guarantor, or its acknowledgement.
KEEPS_GUARANTEE = {
    GENERAL: frozenset({"lawsuit", "arbitration"}),
    JOINT: frozenset({"demand_notice", "lawsuit", "arbitration", "acknowledgement"}),
}
ABNORMAL_EVENTS = {
    "capacity_weakened": _("guarantor's willingness or capacity weakened (代偿能力减弱)"),
    "liability_released": _("guarantor may be released from liability (担保责任免除)"),
    "collateral_moved": _("collateral moved or disposed of (转移、处置抵质押财产)"),
    "collateral_hidden": _("collateral hidden, or enforcement obstructed (阻碍实现抵质押权)"),
    "value_fallen": _("collateral value fell"),
    "other": _("other abnormal event"),
}


# --- small helpers -------------------------------------------------------------------------


def discounted_value(value: Decimal, rate: Decimal) -> Decimal:
    """CG-7: value × rate, to the cent (ROUND_HALF_UP)."""
    return round_money(value * rate)


# --- parameters and tables -----------------------------------------------------------------


@dataclass(frozen=True)
class Params:
    """The counterguarantee rule-set parameters; the defaults are the shipped policy values."""

    agri_amount_cap: Decimal = Decimal("2000000.00")  # CG-1 (二): 200万元及以下, inclusive
    default_bank_rate: Decimal = Decimal("0.500000")  # CG-6: a class with no row in the table
    guarantee_period_months: int = 6  # CG-13 Interpretation: 民法典 第六百九十二条, no agreed period
    limitation_years: int = 3  # CG-13: 民法典 第一百八十八条
    coming_due_days: int = 90  # CG-13: how far ahead the firm's list looks

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Params:
        """From a stored rule set: unknown keys ignored, missing keys keep their defaults."""
        values: dict[str, Any] = {}
        for spec in dataclasses.fields(cls):
            if spec.name not in data:
                continue
            raw = data[spec.name]
            if spec.type in ("int", int):
                if isinstance(raw, bool) or not isinstance(raw, (int, str)) or not str(raw).strip().isdigit():
                    raise RuleViolation("RULESET", _("This parameter must be a whole number."), spec.name)
                values[spec.name] = int(raw)
            elif spec.name == "default_bank_rate":
                rate = ratio(raw, rule="CG-6", field=spec.name)
                if not _ZERO <= rate <= _ONE:
                    raise RuleViolation("CG-6", _("Enter a rate between 0 and 1."), spec.name)
                values[spec.name] = rate
            else:
                amount = money(raw, rule="CG-1", field=spec.name)
                if amount < 0:
                    raise RuleViolation("CG-1", _("This amount must not be negative."), spec.name)
                values[spec.name] = amount
        return cls(**values)

    def as_mapping(self) -> dict[str, Any]:
        return {
            "agri_amount_cap": str(self.agri_amount_cap),
            "default_bank_rate": str(self.default_bank_rate),
            "guarantee_period_months": self.guarantee_period_months,
            "limitation_years": self.limitation_years,
            "coming_due_days": self.coming_due_days,
        }


@dataclass(frozen=True)
class AssetClassInfo:
    """One row of the authority's asset-class table (CG-4, CG-11)."""

    code: str
    label: str = ""
    registry: str = NO_REGISTRY  # where registration is required; "" = none needed

    @property
    def needs_registration(self) -> bool:
        return bool(self.registry)


@dataclass(frozen=True)
class Tables:
    """What a check reads besides the plan: the asset classes, the bank pledge-rate upper bounds
    (CG-6) in force on the check date, and the parameters."""

    asset_classes: Mapping[str, AssetClassInfo]
    bank_rates: Mapping[str, Decimal] = field(default_factory=dict)
    params: Params = field(default_factory=Params)

    def bank_rate(self, asset_class: str) -> Decimal:
        """CG-6: the banks' upper bound for the class; the rule set's default for a class with none."""
        return self.bank_rates.get(asset_class, self.params.default_bank_rate)

    def as_mapping(self) -> dict:
        return {
            "asset_classes": {c: {"label": str(i.label), "registry": i.registry} for c, i in self.asset_classes.items()},
            "bank_rates": {c: str(r) for c, r in self.bank_rates.items()},
            "params": self.params.as_mapping(),
        }

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Tables:
        return cls(
            asset_classes={c: AssetClassInfo(c, v.get("label", ""), v.get("registry", "")) for c, v in
                           data.get("asset_classes", {}).items()},
            bank_rates={c: Decimal(r) for c, r in data.get("bank_rates", {}).items()},
            params=Params.from_mapping(data.get("params", {})),
        )
