"""An audit summary as a reader of each language sees it (summaries are stored as a msgid and
its values, issue 13.1)."""
from django.utils import translation

from core.audit_display import summary_text


def english(summary: str) -> str:
    with translation.override("en"):
        return summary_text(summary)


def chinese(summary: str) -> str:
    with translation.override("zh-hans"):
        return summary_text(summary)
