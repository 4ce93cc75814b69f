"""The shipped counter-guarantee tables (spec counterguarantee.md defaults), editable by the authority:

- the asset classes of CG-4 (第四条, 第八条) with the registry each needs (CG-11, 第十三条, 第十五条);
- the banks' upper pledge rates per class (CG-6), in force from the guideline's publication;
- the "counterguarantee" rule set: the CG-1 (二) amount cap, the default bank rate for a class
  with no row, and the CG-13 periods.
"""
from datetime import date
from decimal import Decimal

from django.db import migrations

IN_FORCE = date(2022, 3, 30)  # 湖北省地方金融监督管理局, 2022-03-30

# code, name, registry ("" = none needed), bank upper rate (None = the rule set's default 0.50)
ASSET_CLASSES = [
    ("real_estate", "不动产", "real_estate", "0.70"),
    ("vehicle", "车辆", "vehicle", "0.60"),
    ("ship", "船舶", "ship", "0.60"),
    ("agri_machinery", "农业机械", "pboc", None),
    ("livestock", "牲畜活禽", "pboc", None),
    ("land_management_right", "农村承包土地经营权", "real_estate", None),
    ("aquaculture_right", "水域滩涂养殖权", "real_estate", None),
    ("ip", "知识产权", "ip", "0.30"),
    ("emission_right", "排污权", "environment", None),
    ("carbon_right", "碳排放权", "environment", None),
    ("income_right", "收益权", "pboc", None),
    ("franchise_right", "特许经营权", "pboc", None),
    ("plant_variety_right", "植物新品种权", "other", None),
    ("equipment", "生产设备", "pboc", "0.50"),
    ("raw_materials", "原材料", "pboc", None),
    ("inventory", "半成品、产品", "pboc", None),
    ("receivables", "应收账款", "pboc", "0.70"),
    ("deposit_receipt", "存款单", "pboc", "0.90"),
    ("warehouse_receipt", "仓单", "pboc", "0.60"),
    ("bill_of_lading", "提单", "pboc", "0.60"),
    ("equity", "股权", "equity", "0.50"),
    ("export_tax_refund_account", "出口退税账户", "pboc", None),
    ("export_credit_insurance", "出口信保保单", "", None),
    ("agri_insurance", "农业保单", "", None),
    ("expected_income", "预期收益（供水、供热、发电、污水垃圾处理、政府采购合同、生产订单）", "pboc", None),
    ("option_for_guarantee", "期权换担保", "", None),
    ("dividend_for_guarantee", "分红换担保", "", None),
]
DEFAULT_BANK_RATE = "0.50"

PARAMS = {
    "agri_amount_cap": "2000000.00",
    "default_bank_rate": "0.500000",
    "guarantee_period_months": 6,
    "limitation_years": 3,
    "coming_due_days": 90,
}


def add_tables(apps, schema_editor):
    AssetClass = apps.get_model("counterguarantee", "AssetClass")
    BankPledgeRate = apps.get_model("counterguarantee", "BankPledgeRate")
    RuleSet = apps.get_model("core", "RuleSet")
    for position, (code, name, registry, rate) in enumerate(ASSET_CLASSES, start=1):
        asset_class, _ = AssetClass.objects.get_or_create(
            code=code, defaults={"name": name, "registry": registry, "position": position * 10},
        )
        BankPledgeRate.objects.get_or_create(
            asset_class=asset_class, effective_from=IN_FORCE,
            defaults={"rate": Decimal(rate or DEFAULT_BANK_RATE), "note": "As shipped with the system."},
        )
    RuleSet.objects.get_or_create(
        scheme="counterguarantee", effective_from=IN_FORCE,
        # Named after the policy in words; msgids, read in each viewer's language (issue 13.2,
        # 0004_f_shipped_rule_set_name renames what was seeded before).
        defaults={"name": "Hubei counter-guarantee guidelines for government guarantee firms (trial), 2022 (as shipped)",
                  "params": PARAMS,
                  "note": "The policy values as shipped with the system; the authority may change them."},
    )


class Migration(migrations.Migration):
    dependencies = [("counterguarantee", "0001_initial"), ("core", "0003_audit_keys_outlive_rows")]

    operations = [migrations.RunPython(add_tables, migrations.RunPython.noop)]
