"""Claim.pool: the project's pool kept on the claim (filled from the projects, then required)."""
import django.db.models.deletion
from django.db import migrations, models


def fill_pool(apps, schema_editor):
    Claim = apps.get_model("riskpool", "Claim")
    LoanProject = apps.get_model("riskpool", "LoanProject")
    Claim.objects.update(pool_id=models.Subquery(
        LoanProject.objects.filter(pk=models.OuterRef("project_id")).values("pool_id")[:1]))


class Migration(migrations.Migration):

    dependencies = [
        ("riskpool", "0008_bench_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="claim",
            name="pool",
            field=models.ForeignKey(null=True, editable=False, on_delete=django.db.models.deletion.PROTECT,
                                    related_name="claims", to="riskpool.pool"),
        ),
        migrations.RunPython(fill_pool, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="claim",
            name="pool",
            field=models.ForeignKey(editable=False, on_delete=django.db.models.deletion.PROTECT,
                                    related_name="claims", to="riskpool.pool"),
        ),
        migrations.AddIndex(
            model_name="claim",
            index=models.Index(fields=["pool", "state"], name="claim_pool_state"),
        ),
    ]
