import pytest

from core.validators import credit_code_problem
from tests.factories import GuaranteeFactory, firm_user, make_credit_code


def test_make_credit_code_is_valid_gb32100():
    assert credit_code_problem(make_credit_code()) is None


@pytest.mark.django_db
def test_factories_build_a_guarantee_and_a_firm_user():
    guarantee = GuaranteeFactory()
    user = firm_user()
    assert guarantee.firm.kind == "guarantee_firm"
    assert user.has_role("firm_operator")
