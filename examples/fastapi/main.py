"""An ordinary FastAPI app, served by uvicorn. It knows nothing of Lambda.

Every route is one of the examples' shared routes (see ../README.md), plus
GET /sse, a Server-Sent Events stream.
"""

import asyncio
import hashlib
import json
from urllib.parse import parse_qsl

from fastapi import FastAPI, File, Request, Response, UploadFile
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, StreamingResponse

app = FastAPI(title="portside FastAPI example", docs_url=None, redoc_url=None, openapi_url=None)

# 1 MiB of every byte value (not UTF-8), and 5 MiB of text.
DOWNLOAD = (bytes(range(251)) * 4178)[: 1 << 20]
LARGE = (b"abcdefghijklmnopqrstuvwxyz0123456789\n" * 141700)[: 5 << 20]
ETAG = '"v1"'


@app.get("/")
def index():
    return {"app": "fastapi", "framework": "FastAPI under uvicorn"}


@app.get("/items/{item_id:path}")
def get_item(item_id: str, request: Request):
    response = JSONResponse({"id": item_id, "raw_path": request.scope["raw_path"].decode("latin-1")})
    for value in ("Accept", "Accept-Encoding"):
        response.headers.append("Vary", value)
    response.headers.append("Link", '</items>; rel="collection"')
    response.headers.append("Link", '</>; rel="home"')
    return response


@app.delete("/items/{item_id:path}", status_code=204)
def delete_item(item_id: str):
    return Response(status_code=204)


@app.get("/query")
def query(request: Request):
    pairs = parse_qsl(request.scope["query_string"].decode("latin-1"), keep_blank_values=True)
    return {"pairs": [list(pair) for pair in pairs]}


@app.get("/headers")
def headers(request: Request):
    return {"x-tag": request.headers.getlist("x-tag")}


@app.get("/cookies")
def cookies(request: Request):
    return {"cookies": request.cookies}


@app.get("/cookies/set")
def set_cookies():
    response = JSONResponse({"set": ["session", "theme"]})
    response.set_cookie("session", "abc123", path="/", httponly=True)
    response.set_cookie("theme", "dark", path="/")
    return response


@app.get("/redirect")
def redirect():
    return RedirectResponse("/items/target", status_code=302)


@app.post("/upload")
async def upload(file: UploadFile = File(...)):
    data = await file.read()
    return {"filename": file.filename, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


@app.api_route("/download", methods=["GET", "HEAD"])
def download():
    return Response(
        DOWNLOAD,
        media_type="application/octet-stream",
        headers={"Content-Disposition": 'attachment; filename="data.bin"'},
    )


@app.post("/echo")
async def echo(request: Request):
    return {"received": json.loads(await request.body())}


@app.get("/etag")
def etag(request: Request):
    if request.headers.get("if-none-match") == ETAG:
        return Response(status_code=304, headers={"ETag": ETAG})
    return JSONResponse({"version": 1}, headers={"ETag": ETAG})


@app.get("/large")
def large():
    return PlainTextResponse(LARGE)


@app.get("/sse")
async def sse(count: int = 5, interval: float = 0.5):
    """Server-Sent Events: `count` events, `interval` seconds apart. The
    headers (two cookies among them) go out before the first event."""

    async def events():
        for i in range(count):
            if i:
                await asyncio.sleep(interval)
            yield f"id: {i}\nevent: tick\ndata: {json.dumps({'n': i})}\n\n"

    response = StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
    response.set_cookie("stream", "ticks", path="/sse", httponly=True)
    response.set_cookie("ticks", str(count), path="/sse")
    return response
