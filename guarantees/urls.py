app_name = "guarantees"
urlpatterns = []
