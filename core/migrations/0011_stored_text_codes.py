"""Issue 13.1: rule results, reasons, holds and step notes written before they were stored as
codes are read back into ``{"code", "params"}`` where the catalogue recognises the sentence
(in English or Chinese); anything it cannot place, such as a reviewer's own words, stays as
it was and is shown as written."""
from django.db import migrations

from core.i18n_text import LegacyReader

# (app, model, JSON field of a list of {"message"}, or of {"results": [...]}; text fields)
LISTS = [
    ("riskpool", "Claim", "reasons"),
    ("riskpool", "MClaim", "reasons"),
    ("riskpool", "Product", "suspension_reasons"),
    ("riskpool", "ProductPartySuspension", "reasons"),
    ("riskpool", "MAnnualReportLine", "suspension_reasons"),
    ("evaluation", "CaseDecision", "reasons"),
    ("guarantees", "Agreement", "problems"),
    ("guarantees", "Guarantee", "problems"),
]
CHECKS = [("counterguarantee", "Plan", "last_check"), ("counterguarantee", "CheckRun", "results")]
TEXTS = [("riskpool", "Claim", "held_reason", 255), ("riskpool", "ClaimStep", "note", None)]
CHUNK = 2000
SHORTEST_SENTENCE = 20


class _Memo:
    def __init__(self):
        self.reader = LegacyReader()
        self.seen = {}

    def read(self, value):
        if not isinstance(value, str):
            return value
        if value not in self.seen:
            self.seen[value] = self.reader.read(value)
        return self.seen[value]

    def messages(self, items):
        changed = False
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and isinstance(item.get("message"), str):
                new = self.read(item["message"])
                if new != item["message"]:
                    item["message"], changed = new, True
            if isinstance(item, dict) and isinstance(item.get("details"), list):
                changed = self.messages(item["details"]) or changed
        return changed


def _rows(model, field):
    return model.objects.exclude(**{f"{field}__isnull": True}).only("pk", field).order_by("pk").iterator(CHUNK)


def _save(model, batch, field):
    if batch:
        model.objects.bulk_update(batch, [field], batch_size=CHUNK)
        batch.clear()


def forwards(apps, schema_editor):
    memo = _Memo()
    for app, name, field in LISTS + CHECKS:
        model = apps.get_model(app, name)
        batch = []
        for row in _rows(model, field):
            value = getattr(row, field)
            items = value.get("results") if isinstance(value, dict) else value
            if memo.messages(items):
                batch.append(row)
                if len(batch) >= CHUNK:
                    _save(model, batch, field)
        _save(model, batch, field)
    for app, name, field, limit in TEXTS:
        model = apps.get_model(app, name)
        batch = []
        for row in model.objects.exclude(**{field: ""}).only("pk", field).order_by("pk").iterator(CHUNK):
            text = getattr(row, field)
            # A short note is more likely a person's own word that happens to be a label
            # ("同意") than a sentence of ours: it stays as typed.
            stored = memo.read(text) if len(text) >= SHORTEST_SENTENCE else text
            if isinstance(stored, dict):
                column = memo.reader.read_str(getattr(row, field))
                if limit is None or len(column) <= limit:
                    setattr(row, field, column)
                    batch.append(row)
            if len(batch) >= CHUNK:
                _save(model, batch, field)
        _save(model, batch, field)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0010_import_run"),
        ("riskpool", "0017_f_project_outstanding"),
        ("counterguarantee", "0003_a_measure_liability"),
        ("evaluation", "0002_a_step_taken_times"),
        ("guarantees", "0009_dashboard_from_snapshots"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True)]
