"""Page lists whose count would cost more than the page (issue 12).

A COUNT(*) over a million scoped rows reads every one of them (300+ ms) to print a number
nobody pages through. ``CappedPaginator`` counts at most ``COUNT_CAP + 1`` rows (the database
stops at the LIMIT), so the count costs the same at 1,000 rows and at 1,000,000; past the cap
the page says "more than 10,000" and offers the filters instead of a "Last" link.
"""
from __future__ import annotations

from django.core.paginator import Paginator
from django.utils.functional import cached_property

COUNT_CAP = 10_000


class CappedPaginator(Paginator):
    cap = COUNT_CAP

    @cached_property
    def _counted(self) -> int:
        objects = self.object_list
        if hasattr(objects, "query"):  # a QuerySet: SELECT COUNT(*) FROM (… LIMIT cap + 1)
            return objects.order_by()[: self.cap + 1].count()
        return len(objects)

    @property
    def count(self) -> int:
        return min(self._counted, self.cap)

    @property
    def capped(self) -> bool:
        """More rows than the cap: ``count`` and ``num_pages`` are lower bounds."""
        return self._counted > self.cap
