app_name = "guarantees-api"
urlpatterns = []
