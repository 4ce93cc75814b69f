"""BankYearBorrower under concurrent writes (issue 12): the statement-level DELETE trigger lowers
every borrower-year it touches first, then deletes the ones at zero, in separate statements.

0021's version deleted the rows at or below the count it removed and lowered the others in one
statement, both by the statement's snapshot: a loan of the same borrower-year entered by another
transaction and committed while the DELETE waited for its row lock left the row neither deleted
(the new count is above) nor lowered (the snapshot's count was not), one loan too many. An
UPDATE waiting for a lock applies itself to the row's newest version, so lowering first is exact.
"""
from django.db import migrations

T = "riskpool_bankyearborrower"
B = "riskpool_bankyear"

PG_SQL = f"""
CREATE OR REPLACE FUNCTION riskpool_bank_year_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH gone AS (
        SELECT pool_id, bank_id, EXTRACT(YEAR FROM disbursed_on)::int AS year, borrower_id, COUNT(*) AS n,
               SUM(principal_yuan) AS amount
        FROM old_projects GROUP BY 1, 2, 3, 4
    ), lowered AS (
        UPDATE {T} t SET projects = t.projects - g.n, amount = t.amount - g.amount FROM gone g
        WHERE (t.pool_id, t.bank_id, t.year, t.borrower_id) = (g.pool_id, g.bank_id, g.year, g.borrower_id)
        RETURNING t.pool_id, t.bank_id, t.year, t.projects
    ), lost AS (
        SELECT pool_id, bank_id, year, COUNT(*) FILTER (WHERE projects = 0) AS k FROM lowered GROUP BY 1, 2, 3
    ), per_year AS (
        SELECT pool_id, bank_id, year, SUM(amount) AS amount FROM gone GROUP BY 1, 2, 3
    )
    UPDATE {B} b SET borrowers = b.borrowers - COALESCE(l.k, 0), amount = b.amount - p.amount
    FROM per_year p LEFT JOIN lost l ON (l.pool_id, l.bank_id, l.year) = (p.pool_id, p.bank_id, p.year)
    WHERE (b.pool_id, b.bank_id, b.year) = (p.pool_id, p.bank_id, p.year);
    DELETE FROM {T} t USING (SELECT DISTINCT pool_id, bank_id, EXTRACT(YEAR FROM disbursed_on)::int AS year,
                                    borrower_id FROM old_projects) g
    WHERE (t.pool_id, t.bank_id, t.year, t.borrower_id) = (g.pool_id, g.bank_id, g.year, g.borrower_id)
      AND t.projects = 0;
    DELETE FROM {B} b USING (SELECT DISTINCT pool_id, bank_id, EXTRACT(YEAR FROM disbursed_on)::int AS year
                             FROM old_projects) g
    WHERE (b.pool_id, b.bank_id, b.year) = (g.pool_id, g.bank_id, g.year) AND b.borrowers = 0;
    RETURN NULL;
END $$;
"""


def replace_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_SQL)


class Migration(migrations.Migration):
    dependencies = [("riskpool", "0022_bank_year_no_foreign_keys")]

    # Backwards: this function is right under 0021's tables too, so it stays.
    operations = [migrations.RunPython(replace_function, migrations.RunPython.noop)]
