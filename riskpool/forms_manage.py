"""Browser forms of the authority's pool administration (riskpool/views_manage.py). They parse
and convert input; the policy checks (RP-12, RP-21, RP-22, RP-24) are the services', whose
RuleViolation comes back onto the form through core.views_helpers.add_rule_violation."""
from __future__ import annotations

from decimal import Decimal

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.views_helpers import add_problems
from guarantees.forms import blank_choice, date_field
from riskpool.forms import new_key
from riskpool.models import Claim, Member, Violation

PERCENT = Decimal("100")


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Member) -> str:
        return obj.organisation.name


# --- membership (加盟银行, RP-22, RP-24) ------------------------------------------------------


class MemberAddForm(forms.Form):
    """加盟: a bank that signed the cooperation agreement (合作协议) joins the pool."""

    bank = forms.ModelChoiceField(label=_("Bank"), queryset=None,
                                  help_text=_("Banks of your jurisdiction that are not members of this pool yet."))
    joined_on = date_field(_("Joined on"), help_text=_("The date of the cooperation agreement."))

    def __init__(self, *args, banks, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bank"].queryset = banks


class DishonestyForm(forms.Form):
    """RP-24: put the bank on, or take it off, the serious-dishonesty list (严重失信主体名单).
    ``flag`` is what the page offered, so a page left open after someone else's change is
    refused rather than doing the opposite."""

    flag = forms.TypedChoiceField(choices=[("on", "on"), ("off", "off")], coerce=lambda v: v == "on",
                                  widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=_("Kept in the audit trail, for example the list's notice number."))

    def __init__(self, *args, member: Member, **kwargs):
        self.member = member
        kwargs["initial"] = {"flag": "off" if member.dishonest else "on", **(kwargs.get("initial") or {})}
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        if "flag" in data and data["flag"] == self.member.dishonest:
            raise forms.ValidationError(
                _("The bank is already on the list.") if data["flag"] else _("The bank is not on the list."))
        return data


class ReadmitForm(forms.Form):
    """RP-22: a bank whose membership was revoked is admitted again."""

    on = date_field(_("Admitted again on"))


# --- violations (RP-21) ------------------------------------------------------------------------


class ViolationFilterForm(forms.Form):
    member = MemberChoiceField(label=_("Bank"), queryset=None, required=False, empty_label=_("All banks"))
    kind = forms.ChoiceField(label=_("Kind"), choices=blank_choice(Violation.Kind.choices, _("All kinds")),
                             required=False)

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = members

    def filter(self, queryset):
        if self.is_bound and self.is_valid():
            if self.cleaned_data["member"]:
                queryset = queryset.filter(member=self.cleaned_data["member"])
            if self.cleaned_data["kind"]:
                queryset = queryset.filter(kind=self.cleaned_data["kind"])
        return queryset

    @property
    def active(self) -> bool:
        return self.is_bound and any(self.data.get(name) for name in ("member", "kind"))


class ClaimChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, claim) -> str:
        owed = claim.paid_amount - claim.returned_amount
        return _("%(loan)s · %(borrower)s · paid %(paid)s on %(on)s · not yet returned %(owed)s") % {
            "loan": claim.project.loan_no, "borrower": claim.project.borrower.name, "paid": f"{claim.paid_amount:,}",
            "on": claim.paid_on.isoformat() if claim.paid_on else "—", "owed": f"{owed:,}",
        }


class ViolationForm(forms.Form):
    """违规处理 (RP-21): the affected claims are chosen among the chosen bank's paid claims; the
    key is made when the page renders, so a double submit records one violation."""

    member = MemberChoiceField(label=_("Member bank"), queryset=None)
    kind = forms.ChoiceField(label=_("Kind of violation"), choices=Violation.Kind.choices)
    recorded_on = date_field(_("Recorded on"))
    returned_on = date_field(
        _("Claw-back booked on"),
        help_text=_("RP-21: interest for the same period runs at the 1-year LPR from each payout to this date."))
    description = forms.CharField(label=_("Description"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))
    claims = ClaimChoices(label=_("Affected claims (the bank's paid claims)"), queryset=None, required=False,
                          widget=forms.CheckboxSelectMultiple)
    revoke = forms.BooleanField(label=_("Revoke the membership (RP-22: the bank may apply again two years later)"),
                                required=False)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=80)

    def __init__(self, *args, members, claims_of, **kwargs):
        """``claims_of(member)``: the paid claims of a member (a scoped selector)."""
        kwargs["initial"] = {"idempotency_key": new_key(), **(kwargs.get("initial") or {})}
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = members
        self.chosen_member = self._chosen_member(members)
        self.fields["claims"].queryset = claims_of(self.chosen_member) if self.chosen_member else Claim.objects.none()

    def _chosen_member(self, members) -> Member | None:
        raw = self.data.get(self.add_prefix("member")) if self.is_bound else self.initial.get("member")
        if isinstance(raw, Member):
            return raw
        try:
            return members.filter(pk=int(raw)).first() if raw not in (None, "") else None
        except (TypeError, ValueError):
            return None


# --- the special list (RP-12) ------------------------------------------------------------------


class SpecialListFilterForm(forms.Form):
    SHOW = [("", _("All entries")), ("valid", _("Valid today")), ("ended", _("Ended")), ("future", _("Not yet valid"))]
    show = forms.ChoiceField(label=_("Show"), choices=SHOW, required=False)
    search = forms.CharField(label=_("Credit code or industry"), required=False, max_length=40)

    def filter(self, queryset, today):
        if not (self.is_bound and self.is_valid()):
            return queryset
        show, search = self.cleaned_data["show"], self.cleaned_data["search"].strip()
        if show == "valid":
            queryset = queryset.filter(valid_from__lte=today).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
        elif show == "ended":
            queryset = queryset.filter(valid_to__lt=today)
        elif show == "future":
            queryset = queryset.filter(valid_from__gt=today)
        if search:
            queryset = queryset.filter(Q(credit_code__icontains=search) | Q(industry__icontains=search))
        return queryset

    @property
    def active(self) -> bool:
        return self.is_bound and any(self.data.get(name) for name in ("show", "search"))


class SpecialListForm(forms.Form):
    """RP-12: an enterprise (by unified social credit code) or an industry, never both; the
    lengths, the ratio's range and the dates are checked by ``services.special_list_add``."""

    credit_code = forms.CharField(label=_("Borrower's unified social credit code"), required=False,
                                  help_text=_("For one enterprise; leave empty for an industry."))
    industry = forms.CharField(label=_("Industry"), required=False,
                               help_text=_("As recorded on the borrower (for example C39); leave empty for an enterprise."))
    ratio = forms.DecimalField(label=_("Compensation ratio (%)"), max_digits=12, decimal_places=4,
                               help_text=_("Used instead of RP-8 … RP-11 for loans classified non-performing while the entry is valid."))
    valid_from = date_field(_("Valid from"))
    valid_to = date_field(_("Valid until"), required=False, help_text=_("Leave empty while the list has no end date."))
    note = forms.CharField(label=_("Note"), required=False, help_text=_("For example the city government's approval."))

    def clean(self):
        """Issue 13.3: RP-12's checks on whatever validated, beside the fields' own errors."""
        from riskpool.services import special_list_problems

        data = super().clean()
        ratio = data.get("ratio")
        problems = special_list_problems(
            credit_code=(data.get("credit_code") or "").strip().upper(), industry=(data.get("industry") or "").strip(),
            ratio=ratio / PERCENT if ratio is not None else None, valid_from=data.get("valid_from"),
            valid_to=data.get("valid_to"), note=(data.get("note") or "").strip())
        add_problems(self, problems)
        return data

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        return {"credit_code": d["credit_code"], "industry": d["industry"], "ratio": d["ratio"] / PERCENT,
                "valid_from": d["valid_from"], "valid_to": d["valid_to"], "note": d["note"]}


class SpecialListEndForm(forms.Form):
    valid_to = date_field(_("Last day valid"), help_text=_("Loans classified non-performing after this day no "
                                                           "longer take the list's ratio."))
