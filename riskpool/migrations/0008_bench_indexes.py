# Indexes found with bench_riskpool and EXPLAIN (ANALYZE, BUFFERS) on 1,000,000 loan projects.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('riskpool', '0007_quarter_close'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='loanproject',
            index=models.Index(fields=['-disbursed_on', '-id'], name='project_list_order'),
        ),
        migrations.AddIndex(
            model_name='loanproject',
            index=models.Index(fields=['entered_on'], name='project_entered_on'),
        ),
        migrations.AddIndex(
            model_name='loanproject',
            index=models.Index(fields=['pool', 'bank'], include=('classification', 'closed_reason', 'principal_yuan'),
                               name='project_npl_figures'),
        ),
    ]
