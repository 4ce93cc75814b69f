"""RP-20's figures kept as loans are written (issue 12): BankYear (per pool, bank and year: the
distinct borrowers and the principal) and BankYearBorrower (per borrower of a bank-year: its
loans and their principal, which tells whether a loan's borrower is new to the bank-year), the
triggers on the loan project table that keep both, and their backfill from the loans there.

PostgreSQL: statement-level triggers with transition tables for INSERT and DELETE, so that one
COPY of a 100,000-row import (or of the generator's million) is one aggregated upsert per table,
not a call per row; a row trigger for an UPDATE of the five columns they depend on, which no
ordinary update touches (JB-5's closures, reclassification: it does not even fire); TRUNCATE
empties them. SQLite (the quick start, tests outside CI): the same as row triggers.
"""

import core.fields
import django.db.models.deletion
from django.db import migrations, models

B = "riskpool_bankyear"
T = "riskpool_bankyearborrower"
KEY = "pool_id, bank_id, year, borrower_id"
YEAR_KEY = "pool_id, bank_id, year"

PG_SQL = f"""
CREATE FUNCTION riskpool_bank_year_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH added AS (
        SELECT pool_id, bank_id, EXTRACT(YEAR FROM disbursed_on)::int AS year, borrower_id, COUNT(*) AS n,
               SUM(principal_yuan) AS amount
        FROM new_projects GROUP BY 1, 2, 3, 4
    ), kept AS (
        INSERT INTO {T} AS t ({KEY}, projects, amount)
        SELECT {KEY}, n, amount FROM added ORDER BY 1, 2, 3, 4
        ON CONFLICT ({KEY}) DO UPDATE SET projects = t.projects + EXCLUDED.projects, amount = t.amount + EXCLUDED.amount
        RETURNING t.pool_id, t.bank_id, t.year, t.borrower_id, t.projects
    )
    INSERT INTO {B} AS b ({YEAR_KEY}, borrowers, amount)
    SELECT a.pool_id, a.bank_id, a.year, COUNT(*) FILTER (WHERE k.projects = a.n), SUM(a.amount)
    FROM added a JOIN kept k USING ({KEY})
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT ({YEAR_KEY}) DO UPDATE SET borrowers = b.borrowers + EXCLUDED.borrowers,
                                           amount = b.amount + EXCLUDED.amount;
    RETURN NULL;
END $$;

CREATE FUNCTION riskpool_bank_year_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH gone AS (
        SELECT pool_id, bank_id, EXTRACT(YEAR FROM disbursed_on)::int AS year, borrower_id, COUNT(*) AS n,
               SUM(principal_yuan) AS amount
        FROM old_projects GROUP BY 1, 2, 3, 4
    ), emptied AS (
        DELETE FROM {T} t USING gone g
        WHERE (t.pool_id, t.bank_id, t.year, t.borrower_id) = (g.pool_id, g.bank_id, g.year, g.borrower_id)
          AND t.projects <= g.n
        RETURNING t.pool_id, t.bank_id, t.year
    ), lowered AS (
        UPDATE {T} t SET projects = t.projects - g.n, amount = t.amount - g.amount FROM gone g
        WHERE (t.pool_id, t.bank_id, t.year, t.borrower_id) = (g.pool_id, g.bank_id, g.year, g.borrower_id)
          AND t.projects > g.n
    ), lost AS (
        SELECT pool_id, bank_id, year, COUNT(*) AS k FROM emptied GROUP BY 1, 2, 3
    ), per_year AS (
        SELECT pool_id, bank_id, year, SUM(amount) AS amount FROM gone GROUP BY 1, 2, 3
    )
    UPDATE {B} b SET borrowers = b.borrowers - COALESCE(l.k, 0), amount = b.amount - p.amount
    FROM per_year p LEFT JOIN lost l ON (l.pool_id, l.bank_id, l.year) = (p.pool_id, p.bank_id, p.year)
    WHERE (b.pool_id, b.bank_id, b.year) = (p.pool_id, p.bank_id, p.year);
    DELETE FROM {B} b USING (SELECT DISTINCT pool_id, bank_id, EXTRACT(YEAR FROM disbursed_on)::int AS year
                             FROM old_projects) g
    WHERE (b.pool_id, b.bank_id, b.year) = (g.pool_id, g.bank_id, g.year) AND b.borrowers = 0;
    RETURN NULL;
END $$;

CREATE FUNCTION riskpool_bank_year_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_year int := EXTRACT(YEAR FROM OLD.disbursed_on)::int;
    new_year int := EXTRACT(YEAR FROM NEW.disbursed_on)::int;
    emptied int;
    loans int;
BEGIN
    DELETE FROM {T} WHERE ({KEY}) = (OLD.pool_id, OLD.bank_id, old_year, OLD.borrower_id) AND projects <= 1;
    GET DIAGNOSTICS emptied = ROW_COUNT;
    UPDATE {T} SET projects = projects - 1, amount = amount - OLD.principal_yuan
    WHERE ({KEY}) = (OLD.pool_id, OLD.bank_id, old_year, OLD.borrower_id);
    UPDATE {B} SET borrowers = borrowers - emptied, amount = amount - OLD.principal_yuan
    WHERE ({YEAR_KEY}) = (OLD.pool_id, OLD.bank_id, old_year);
    DELETE FROM {B} WHERE ({YEAR_KEY}) = (OLD.pool_id, OLD.bank_id, old_year) AND borrowers = 0;
    INSERT INTO {T} AS t ({KEY}, projects, amount)
    VALUES (NEW.pool_id, NEW.bank_id, new_year, NEW.borrower_id, 1, NEW.principal_yuan)
    ON CONFLICT ({KEY}) DO UPDATE SET projects = t.projects + 1, amount = t.amount + NEW.principal_yuan
    RETURNING projects INTO loans;
    INSERT INTO {B} AS b ({YEAR_KEY}, borrowers, amount)
    VALUES (NEW.pool_id, NEW.bank_id, new_year, CASE WHEN loans = 1 THEN 1 ELSE 0 END, NEW.principal_yuan)
    ON CONFLICT ({YEAR_KEY}) DO UPDATE SET borrowers = b.borrowers + EXCLUDED.borrowers,
                                           amount = b.amount + EXCLUDED.amount;
    RETURN NULL;
END $$;

CREATE FUNCTION riskpool_bank_year_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM {T};
    DELETE FROM {B};
    RETURN NULL;
END $$;

CREATE TRIGGER riskpool_bank_year_insert AFTER INSERT ON riskpool_loanproject
    REFERENCING NEW TABLE AS new_projects
    FOR EACH STATEMENT EXECUTE FUNCTION riskpool_bank_year_insert();
CREATE TRIGGER riskpool_bank_year_delete AFTER DELETE ON riskpool_loanproject
    REFERENCING OLD TABLE AS old_projects
    FOR EACH STATEMENT EXECUTE FUNCTION riskpool_bank_year_delete();
CREATE TRIGGER riskpool_bank_year_update
    AFTER UPDATE OF pool_id, bank_id, borrower_id, disbursed_on, principal_yuan ON riskpool_loanproject
    FOR EACH ROW WHEN (OLD.pool_id <> NEW.pool_id OR OLD.bank_id <> NEW.bank_id OR OLD.borrower_id <> NEW.borrower_id
                       OR EXTRACT(YEAR FROM OLD.disbursed_on) <> EXTRACT(YEAR FROM NEW.disbursed_on)
                       OR OLD.principal_yuan <> NEW.principal_yuan)
    EXECUTE FUNCTION riskpool_bank_year_update();
CREATE TRIGGER riskpool_bank_year_truncate AFTER TRUNCATE ON riskpool_loanproject
    FOR EACH STATEMENT EXECUTE FUNCTION riskpool_bank_year_truncate();

INSERT INTO {T} ({KEY}, projects, amount)
SELECT pool_id, bank_id, EXTRACT(YEAR FROM disbursed_on)::int, borrower_id, COUNT(*), SUM(principal_yuan)
FROM riskpool_loanproject GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4;
INSERT INTO {B} ({YEAR_KEY}, borrowers, amount)
SELECT {YEAR_KEY}, COUNT(*), SUM(amount) FROM {T} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
ANALYZE {T};
ANALYZE {B};
"""
PG_DROP = """
DROP TRIGGER IF EXISTS riskpool_bank_year_insert ON riskpool_loanproject;
DROP TRIGGER IF EXISTS riskpool_bank_year_delete ON riskpool_loanproject;
DROP TRIGGER IF EXISTS riskpool_bank_year_update ON riskpool_loanproject;
DROP TRIGGER IF EXISTS riskpool_bank_year_truncate ON riskpool_loanproject;
DROP FUNCTION IF EXISTS riskpool_bank_year_insert();
DROP FUNCTION IF EXISTS riskpool_bank_year_delete();
DROP FUNCTION IF EXISTS riskpool_bank_year_update();
DROP FUNCTION IF EXISTS riskpool_bank_year_truncate();
"""

# SQLite stores a date as 'YYYY-MM-DD' text: its year is the first four characters.
_YEAR = "CAST(substr({0}.disbursed_on, 1, 4) AS INTEGER)"
_OLD = f"pool_id = OLD.pool_id AND bank_id = OLD.bank_id AND year = {_YEAR.format('OLD')}"
SQLITE_ADD = f"""
INSERT INTO {T} ({KEY}, projects, amount)
VALUES (NEW.pool_id, NEW.bank_id, {_YEAR.format('NEW')}, NEW.borrower_id, 1, NEW.principal_yuan)
ON CONFLICT ({KEY}) DO UPDATE SET projects = projects + 1, amount = amount + NEW.principal_yuan;
INSERT INTO {B} ({YEAR_KEY}, borrowers, amount)
VALUES (NEW.pool_id, NEW.bank_id, {_YEAR.format('NEW')},
        (SELECT projects = 1 FROM {T} WHERE pool_id = NEW.pool_id AND bank_id = NEW.bank_id
         AND year = {_YEAR.format('NEW')} AND borrower_id = NEW.borrower_id), NEW.principal_yuan)
ON CONFLICT ({YEAR_KEY}) DO UPDATE SET borrowers = borrowers + excluded.borrowers, amount = amount + excluded.amount;
"""
SQLITE_REMOVE = f"""
UPDATE {B} SET borrowers = borrowers - (SELECT projects <= 1 FROM {T} WHERE {_OLD} AND borrower_id = OLD.borrower_id),
               amount = amount - OLD.principal_yuan WHERE {_OLD};
DELETE FROM {B} WHERE {_OLD} AND borrowers = 0;
DELETE FROM {T} WHERE {_OLD} AND borrower_id = OLD.borrower_id AND projects <= 1;
UPDATE {T} SET projects = projects - 1, amount = amount - OLD.principal_yuan
WHERE {_OLD} AND borrower_id = OLD.borrower_id;
"""
SQLITE_SQL = [
    f"CREATE TRIGGER riskpool_bank_year_insert AFTER INSERT ON riskpool_loanproject BEGIN {SQLITE_ADD} END",
    f"CREATE TRIGGER riskpool_bank_year_delete AFTER DELETE ON riskpool_loanproject BEGIN {SQLITE_REMOVE} END",
    "CREATE TRIGGER riskpool_bank_year_update"
    " AFTER UPDATE OF pool_id, bank_id, borrower_id, disbursed_on, principal_yuan ON riskpool_loanproject"
    " WHEN OLD.pool_id <> NEW.pool_id OR OLD.bank_id <> NEW.bank_id OR OLD.borrower_id <> NEW.borrower_id"
    " OR substr(OLD.disbursed_on, 1, 4) <> substr(NEW.disbursed_on, 1, 4) OR OLD.principal_yuan <> NEW.principal_yuan"
    f" BEGIN {SQLITE_REMOVE} {SQLITE_ADD} END",
    f"INSERT INTO {T} ({KEY}, projects, amount) SELECT pool_id, bank_id, {_YEAR.format('riskpool_loanproject')},"
    " borrower_id, COUNT(*), SUM(principal_yuan) FROM riskpool_loanproject GROUP BY 1, 2, 3, 4",
    f"INSERT INTO {B} ({YEAR_KEY}, borrowers, amount) SELECT {YEAR_KEY}, COUNT(*), SUM(amount) FROM {T} GROUP BY 1, 2, 3",
]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS riskpool_bank_year_{event}" for event in ("insert", "delete", "update")]


def add_triggers(apps, schema_editor):
    """The triggers, then the backfill (in the migration's transaction: nothing is written between)."""
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_SQL)
    elif vendor == "sqlite":
        for sql in SQLITE_SQL:
            schema_editor.execute(sql)


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_DROP)
    elif vendor == "sqlite":
        for sql in SQLITE_DROP:
            schema_editor.execute(sql)



class Migration(migrations.Migration):

    dependencies = [
        ('core', '0011_stored_text_codes'),
        ('guarantees', '0009_dashboard_from_snapshots'),
        ('riskpool', '0020_f_shipped_rule_set_names'),
    ]

    operations = [
        migrations.CreateModel(
            name='BankYear',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('year', models.PositiveSmallIntegerField()),
                ('borrowers', models.PositiveIntegerField()),
                ('amount', core.fields.MoneyField(decimal_places=2, max_digits=18)),
                ('bank', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='core.organisation')),
                ('pool', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='riskpool.pool')),
            ],
            options={
                'verbose_name': 'bank year',
                'verbose_name_plural': 'bank years',
                'constraints': [models.UniqueConstraint(fields=('pool', 'bank', 'year'), name='bank_year_unique')],
            },
        ),
        migrations.CreateModel(
            name='BankYearBorrower',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('year', models.PositiveSmallIntegerField()),
                ('projects', models.PositiveIntegerField()),
                ('amount', core.fields.MoneyField(decimal_places=2, max_digits=18)),
                ('bank', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='core.organisation')),
                ('borrower', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='guarantees.borrower')),
                ('pool', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='riskpool.pool')),
            ],
            options={
                'verbose_name': 'bank-year borrower',
                'verbose_name_plural': 'bank-year borrowers',
                'constraints': [models.UniqueConstraint(fields=('pool', 'bank', 'year', 'borrower'), name='bank_year_borrower_unique')],
            },
        ),
        migrations.RunPython(add_triggers, drop_triggers),
    ]
