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
