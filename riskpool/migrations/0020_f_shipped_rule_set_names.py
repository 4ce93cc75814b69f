"""Issue 13.2: the shipped Scheme S and Scheme M rule sets are named after their policies in
words; the names and notes are msgids, read in each viewer's language (RuleSet.display_name, the
``text`` filter). A rule set the authority has renamed keeps its name."""
from django.db import migrations
from django.utils.translation import gettext_noop

OLD_NOTE = "Shipped defaults of spec riskpool.md."
NAMES = {  # scheme: (old name, new name)
    "riskpool_s": ("深工信规〔2024〕5号",
                   gettext_noop("Shenzhen SME bank loan risk compensation pool, 2024 rules (as shipped)")),
    "riskpool_m": ("马政办〔2024〕6号",
                   gettext_noop("Ma'anshan policy loan risk compensation fund, 2024 rules (as shipped)")),
}
NOTE = gettext_noop("The policy values as shipped with the system; the authority may change them.")


def rename(apps, schema_editor):
    RuleSet = apps.get_model("core", "RuleSet")
    for scheme, (old, new) in NAMES.items():
        RuleSet.objects.filter(scheme=scheme, name=old).update(name=new)
        RuleSet.objects.filter(scheme=scheme, note=OLD_NOTE).update(note=NOTE)


def rename_back(apps, schema_editor):
    RuleSet = apps.get_model("core", "RuleSet")
    for scheme, (old, new) in NAMES.items():
        RuleSet.objects.filter(scheme=scheme, name=new).update(name=old)
        RuleSet.objects.filter(scheme=scheme, note=NOTE).update(note=OLD_NOTE)


class Migration(migrations.Migration):
    dependencies = [("riskpool", "0019_project_npl_by_pool"), ("core", "0011_stored_text_codes")]

    operations = [migrations.RunPython(rename, rename_back)]
