"""Issue 13.2: the shipped counter-guarantee rule set is named after its policy in words, not
"… defaults", and the shipped bank pledge rates say where they come from without naming the spec
file; names and notes are msgids, read in each viewer's language (RuleSet.display_name, the
``text`` filter). Rows the authority has changed keep their text."""
from django.db import migrations
from django.utils.translation import gettext_noop

OLD_NAME = "湖北省反担保设置指引(试行) defaults"
OLD_NOTE = "Shipped defaults of spec counterguarantee.md (CG-1, CG-6, CG-13)."
OLD_RATE_NOTE = "Shipped default (spec counterguarantee.md)."
NAME = gettext_noop("Hubei counter-guarantee guidelines for government guarantee firms (trial), 2022 (as shipped)")
NOTE = gettext_noop("The policy values as shipped with the system; the authority may change them.")
RATE_NOTE = gettext_noop("As shipped with the system.")


def rename(apps, schema_editor):
    RuleSet = apps.get_model("core", "RuleSet")
    RuleSet.objects.filter(scheme="counterguarantee", name=OLD_NAME).update(name=NAME)
    RuleSet.objects.filter(scheme="counterguarantee", note=OLD_NOTE).update(note=NOTE)
    apps.get_model("counterguarantee", "BankPledgeRate").objects.filter(note=OLD_RATE_NOTE).update(note=RATE_NOTE)


def rename_back(apps, schema_editor):
    RuleSet = apps.get_model("core", "RuleSet")
    RuleSet.objects.filter(scheme="counterguarantee", name=NAME).update(name=OLD_NAME)
    RuleSet.objects.filter(scheme="counterguarantee", note=NOTE).update(note=OLD_NOTE)
    apps.get_model("counterguarantee", "BankPledgeRate").objects.filter(note=RATE_NOTE).update(note=OLD_RATE_NOTE)


class Migration(migrations.Migration):
    dependencies = [("counterguarantee", "0003_a_measure_liability"), ("core", "0011_stored_text_codes")]

    operations = [migrations.RunPython(rename, rename_back)]
