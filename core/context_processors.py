from django.conf import settings


def navigation(request):
    """What the base template needs on every page: the user's organisation and roles."""
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {"LANGUAGES": settings.LANGUAGES}
    return {
        "LANGUAGES": settings.LANGUAGES,
        "current_org": user.organisation,
        "role_codes": user.role_codes(),
    }
