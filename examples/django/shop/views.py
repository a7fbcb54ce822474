"""The views: the examples' shared routes (../../README.md) plus a form
POST that redirects (POST /signup, then GET /welcome)."""

import hashlib
import io
import json
from urllib.parse import parse_qsl, urlencode

from django import forms
from django.http import FileResponse, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import etag, require_GET, require_http_methods, require_POST

DOWNLOAD = (bytes(range(251)) * 4178)[: 1 << 20]
LARGE = (b"abcdefghijklmnopqrstuvwxyz0123456789\n" * 141700)[: 5 << 20]


def utf8_json(data, **kwargs):
    return JsonResponse(data, json_dumps_params={"ensure_ascii": False}, **kwargs)


@require_GET
def index(request):
    return utf8_json({"app": "django", "framework": "Django under gunicorn"})


@csrf_exempt
@require_http_methods(["GET", "HEAD", "DELETE"])
def item(request, item_id):
    if request.method == "DELETE":
        return HttpResponse(status=204)
    # gunicorn passes the request target as sent in RAW_URI.
    raw_path = request.META.get("RAW_URI", request.path).split("?", 1)[0]
    response = utf8_json({"id": item_id, "raw_path": raw_path})
    # Django keeps one value per header: repeated values are comma-joined.
    response["Vary"] = "Accept, Accept-Encoding"
    response["Link"] = '</items>; rel="collection", </>; rel="home"'
    return response


@require_GET
def query(request):
    # request.GET groups values by key; the raw string keeps their order.
    pairs = parse_qsl(request.META.get("QUERY_STRING", ""), keep_blank_values=True)
    return utf8_json({"pairs": [list(p) for p in pairs]})


@require_GET
def headers(request):
    value = request.headers.get("X-Tag")
    return utf8_json({"x-tag": [] if value is None else [value]})


@require_GET
def cookies(request):
    return utf8_json({"cookies": request.COOKIES})


@require_GET
def set_cookies(request):
    response = utf8_json({"set": ["session", "theme"]})
    response.set_cookie("session", "abc123", path="/", httponly=True)
    response.set_cookie("theme", "dark", path="/")
    return response


@require_GET
def redirect_view(request):
    return redirect("/items/target")


@csrf_exempt
@require_POST
def upload(request):
    file = request.FILES.get("file")
    if file is None:
        return HttpResponseBadRequest("expected a multipart field named file")
    data = file.read()
    return utf8_json({"filename": file.name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()})


@require_http_methods(["GET", "HEAD"])
def download(request):
    return FileResponse(io.BytesIO(DOWNLOAD), as_attachment=True, filename="data.bin")


@csrf_exempt
@require_POST
def echo(request):
    try:
        doc = json.loads(request.body)
    except ValueError:
        return HttpResponseBadRequest("the body is not JSON")
    return utf8_json({"received": doc})


@require_GET
@etag(lambda request: '"v1"')
def etag_view(request):
    return utf8_json({"version": 1})


@require_GET
def large(request):
    return HttpResponse(LARGE, content_type="text/plain; charset=utf-8")


class SignupForm(forms.Form):
    name = forms.CharField(max_length=100)
    email = forms.EmailField()
    plan = forms.ChoiceField(choices=[("free", "Free"), ("pro", "Pro")])


@csrf_exempt  # an API form post; a browser form would carry {% csrf_token %}
@require_POST
def signup(request):
    form = SignupForm(request.POST)
    if not form.is_valid():
        return utf8_json({"errors": form.errors.get_json_data()}, status=400)
    # Post/Redirect/Get: 303 to a page that shows what was stored.
    return HttpResponseSeeOther("/welcome?" + urlencode(form.cleaned_data))


class HttpResponseSeeOther(HttpResponseRedirect):
    status_code = 303


@require_GET
def welcome(request):
    return utf8_json({"welcome": request.GET.get("name", ""), "plan": request.GET.get("plan", "")})
