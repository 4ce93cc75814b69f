# Issue 12: GU-4's overdue list and the dashboard's compensation sums read a guarantee's firm and bank
# from this index alone.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('guarantees', '0010_f_shipped_rule_set_name'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='guarantee',
            index=models.Index(fields=['id'], include=('firm', 'bank'), name='guarantee_id_parties'),
        ),
    ]
