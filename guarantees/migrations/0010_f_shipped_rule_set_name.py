"""Issue 13.2: the shipped guarantees rule set is named after its policy in words, not
"… defaults"; the name and note are msgids, read in each viewer's language (RuleSet.display_name,
the ``text`` filter). A rule set the authority has renamed keeps its name."""
from django.db import migrations
from django.utils.translation import gettext_noop

OLD_NAME, OLD_NOTE = "国办发〔2019〕6号 defaults", "Shipped defaults: seed 000 (七)(十一), seed 001 (九)."
NAME = gettext_noop("Government financing guarantees, 2019 State Council guidance (as shipped)")
NOTE = gettext_noop("The policy values as shipped with the system; the authority may change them.")


def rename(apps, schema_editor):
    RuleSet = apps.get_model("core", "RuleSet")
    RuleSet.objects.filter(scheme="guarantees", name=OLD_NAME).update(name=NAME)
    RuleSet.objects.filter(scheme="guarantees", note=OLD_NOTE).update(note=NOTE)


def rename_back(apps, schema_editor):
    RuleSet = apps.get_model("core", "RuleSet")
    RuleSet.objects.filter(scheme="guarantees", name=NAME).update(name=OLD_NAME)
    RuleSet.objects.filter(scheme="guarantees", note=NOTE).update(note=OLD_NOTE)


class Migration(migrations.Migration):
    dependencies = [("guarantees", "0009_dashboard_from_snapshots"), ("core", "0011_stored_text_codes")]

    operations = [migrations.RunPython(rename, rename_back)]
