from django.urls import path

from . import views

urlpatterns = [
    path("", views.index),
    path("items/<path:item_id>", views.item),
    path("query", views.query),
    path("headers", views.headers),
    path("cookies", views.cookies),
    path("cookies/set", views.set_cookies),
    path("redirect", views.redirect_view),
    path("upload", views.upload),
    path("download", views.download),
    path("echo", views.echo),
    path("etag", views.etag_view),
    path("large", views.large),
    path("signup", views.signup),
    path("welcome", views.welcome),
]
