from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination, PageNumberPagination


class StandardPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class KeysetPagination(CursorPagination):
    """Key-set pages (``?cursor=``) for the lists that reach a million rows (issue 12): each page
    is an index range scan from where the previous one stopped, newest first, whatever the page,
    with no COUNT over the whole list. Follow ``next`` until it is null."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = "-id"

    def decode_cursor(self, request):
        """DRF's cursor, its position checked: the pages are ordered by id, so a cursor whose
        position is not a whole number was not made here and is answered as any other invalid
        cursor (404), not compared with the ids (which failed with a 500)."""
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None:
            try:
                int(cursor.position)
            except ValueError:
                raise NotFound(self.invalid_cursor_message) from None
        return cursor
