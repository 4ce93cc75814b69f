"""The shipped Scheme S and Scheme M rule sets (spec riskpool.md defaults), editable by the authority.

Scheme S: 深工信规〔2024〕5号, in force from 2023-08-10 (RP-19: loans classified non-performing
before then use the previous rule set, which the authority enters with its own dates).
Scheme M: 马政办〔2024〕6号.
"""
from datetime import date

from django.db import migrations

SCHEME_S = {'pool_size': '5000000000.00',
 'enterprise_balance_cap': '30000000.00',
 'household_credit_cap': '10000000.00',
 'credit_report_working_days': 10,
 'entry_working_day': 15,
 'lpr_spread': '0.020000',
 'lpr_short_term_years': 5,
 'excluded_purposes': ['relending',
                       'entrusted',
                       'm_and_a',
                       'prohibited',
                       'private_lending',
                       'capital_market',
                       'consumption'],
 'tiers': [['5000000.00', '0.400000'], ['15000000.00', '0.300000'], ['30000000.00', '0.200000']],
 'qualification_bonus': '0.100000',
 'qualification_codes': ['single_champion',
                         'high_tech',
                         'tech_sme',
                         'little_giant',
                         'specialized_sme',
                         'innovative_sme',
                         'agri_leader',
                         'key_enterprise'],
 'feature_bonus': '0.100000',
 'feature_codes': ['first_loan',
                   'gov_procurement',
                   'renewal_without_repayment',
                   'green',
                   'pure_credit',
                   'ip_pledge',
                   'receivables_pledge',
                   'inventory_pledge'],
 'ratio_cap': '0.500000',
 'claim_window_months': 3,
 'npl_gate': '0.030000',
 'review_days': 30,
 'notice_working_days': 7,
 'documents_days': 3,
 'payment_days': 10,
 'transfer_working_days': 15,
 'upgrade_working_days': 15,
 'recovery_report_working_days': 15,
 'settlement_working_days': 15,
 'closure_review_days': 30,
 'normal_closure_months': 3,
 'auto_closure_months': 6,
 'evaluation_volume_top': '0.600000',
 'evaluation_growth_excellent_top': '0.150000',
 'evaluation_growth_good_top': '0.300000',
 'revocation_unqualified_years': 2,
 'reapply_after_years': 2}

SCHEME_M = {'ratio_in_system': '0.400000',
 'ratio_outside_system': '0.200000',
 'sub_funds': [{'code': 'sci_tech', 'size': '35000000.00', 'products': ['sci_tech']},
               {'code': 'export', 'size': '10000000.00', 'products': ['export']},
               {'code': 'tax_and_fixed_asset',
                'size': '20000000.00',
                'products': ['tax_source', 'fixed_asset_investment']}],
 'suspension_rate': '0.040000',
 'suspension_usage': '0.700000',
 'return_days': 30,
 'report_month': 3}


NOTE = "The policy values as shipped with the system; the authority may change them."


def add_rule_sets(apps, schema_editor):
    RuleSet = apps.get_model("core", "RuleSet")
    RuleSet.objects.get_or_create(
        scheme="riskpool_s", effective_from=date(2023, 8, 10),
        # Named after the policies in words; msgids, read in each viewer's language (issue 13.2,
        # 0020_f_shipped_rule_set_names renames rule sets seeded before).
        defaults={"name": "Shenzhen SME bank loan risk compensation pool, 2024 rules (as shipped)", "params": SCHEME_S,
                  "note": NOTE},
    )
    RuleSet.objects.get_or_create(
        scheme="riskpool_m", effective_from=date(2024, 1, 1),
        defaults={"name": "Ma'anshan policy loan risk compensation fund, 2024 rules (as shipped)", "params": SCHEME_M,
                  "note": NOTE},
    )


class Migration(migrations.Migration):
    dependencies = [("riskpool", "0001_initial"), ("core", "0003_audit_keys_outlive_rows")]

    operations = [migrations.RunPython(add_rule_sets, migrations.RunPython.noop)]
