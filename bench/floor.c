/*
 * bench/floor.c: the floor of one invocation on this machine (issue 28). It
 * does what an adapter must do for a small invocation, and nothing else: the
 * same three loopback HTTP/1.1 exchanges on keep-alive connections, with
 * blocking sockets, one write per message and plain reads:
 *
 *   1. GET /2018-06-01/runtime/invocation/next  -> the event (read whole, by Content-Length)
 *   2. GET $FLOOR_PATH to the app               -> the app's answer (read whole)
 *   3. POST .../invocation/ID/response          -> 202 (the result: the app's body
 *                                                   escaped into a JSON string)
 *
 * It parses no event JSON (it sends the one request it is told), checks
 * nothing an adapter must check, and has no timers, pools or retries: what it
 * costs is the kernel's part of an invocation plus the least user work. It
 * registers as an extension first and checks the app's readiness with one
 * GET / (so bench/run.py can time exec -> register and exec -> first /next
 * for it too) and reads the same variables the adapters read:
 * AWS_LAMBDA_RUNTIME_API, AWS_LWA_PORT (the app's port), and FLOOR_PATH (the
 * request target, "/small?lang=en&page=1" by default).
 *
 * Built by bench/run.py with `cc -O2`; C99 and POSIX only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define CAP (8 * 1024 * 1024)

static char in[CAP];
static char out[CAP];

static void die(const char *what) {
    fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int dial(const char *host, int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) die("socket");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) die("address");
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) die("connect");
    return fd;
}

static void send_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) die("write");
        p += w;
        n -= (size_t)w;
    }
}

/* Reads one HTTP message (head and Content-Length body) into `in`; returns the
 * body's offset and sets *len to its length. No pipelining: nothing follows. */
static size_t read_message(int fd, size_t *len) {
    size_t got = 0, head = 0, body = 0;
    for (;;) {
        ssize_t r = read(fd, in + got, CAP - 1 - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) die("read");
        got += (size_t)r;
        in[got] = 0;
        if (!head) {
            char *end = strstr(in, "\r\n\r\n");
            if (!end) continue;
            head = (size_t)(end - in) + 4;
            char *cl = strcasestr(in, "\r\ncontent-length:");
            body = cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0;
        }
        if (got >= head + body) break;
    }
    *len = body;
    return head;
}

/* The value of header `name` in the message in `in`, copied to `dst`. */
static void header(const char *name, char *dst, size_t cap) {
    char *p = strcasestr(in, name);
    dst[0] = 0;
    if (!p) return;
    p += strlen(name);
    while (*p == ' ') p++;
    size_t i = 0;
    while (p[i] && p[i] != '\r' && i + 1 < cap) dst[i] = p[i], i++;
    dst[i] = 0;
}

/* `n` bytes of `s` as the inside of a JSON string, at `dst`; returns its length. */
static size_t escape(const char *s, size_t n, char *dst) {
    static const char hex[] = "0123456789abcdef";
    char *d = dst;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            *d++ = '\\';
            *d++ = (char)c;
        } else if (c < 0x20) {
            memcpy(d, "\\u00", 4);
            d[4] = hex[c >> 4];
            d[5] = hex[c & 15];
            d += 6;
        } else {
            *d++ = (char)c;
        }
    }
    return (size_t)(d - dst);
}

int main(void) {
    const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
    const char *port = getenv("AWS_LWA_PORT");
    const char *path = getenv("FLOOR_PATH");
    if (!api || !port) {
        fprintf(stderr, "floor: needs AWS_LAMBDA_RUNTIME_API and AWS_LWA_PORT\n");
        return 2;
    }
    if (!path) path = "/small?lang=en&page=1";
    char host[64];
    snprintf(host, sizeof host, "%s", api);
    char *colon = strrchr(host, ':');
    if (!colon) return 2;
    *colon = 0;
    int rt = dial(host, atoi(colon + 1));
    size_t len, at;
    static const char reg[] = "{\"events\":[]}";
    int n = snprintf(out, CAP,
                     "POST /2020-01-01/extension/register HTTP/1.1\r\nHost: %s\r\n"
                     "Lambda-Extension-Name: floor\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n%s", api, sizeof reg - 1, reg);
    send_all(rt, out, (size_t)n);
    read_message(rt, &len);
    int app = dial("127.0.0.1", atoi(port));
    /* The least readiness check: one GET / on the connection the invocations
     * then use (as portside does), so exec -> first /next has a floor too. */
    char ready[256];
    int ready_n = snprintf(ready, sizeof ready, "GET / HTTP/1.1\r\nHost: 127.0.0.1:%s\r\n\r\n", port);
    send_all(app, ready, (size_t)ready_n);
    read_message(app, &len);
    char next[256], request[1024], id[256];
    int next_n = snprintf(next, sizeof next,
                          "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: %s\r\n\r\n", api);
    int request_n = snprintf(request, sizeof request,
                             "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\n\r\n", path, port);
    for (;;) {
        send_all(rt, next, (size_t)next_n);
        read_message(rt, &len);
        header("\r\nLambda-Runtime-Aws-Request-Id:", id, sizeof id);
        send_all(app, request, (size_t)request_n);
        at = read_message(app, &len);
        /* The result: its body escaped first, behind room for the head. */
        static const char pre[] =
            "{\"statusCode\":200,\"headers\":{\"content-type\":\"application/json\"},"
            "\"isBase64Encoded\":false,\"body\":\"";
        char *json = out + 1024;
        memcpy(json, pre, sizeof pre - 1);
        size_t body = sizeof pre - 1;
        body += escape(in + at, len, json + body);
        memcpy(json + body, "\"}", 2);
        body += 2;
        char head[512];
        int head_n = snprintf(head, sizeof head,
                              "POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\n"
                              "Host: %s\r\nContent-Type: application/json\r\n"
                              "Content-Length: %zu\r\n\r\n", id, api, body);
        memcpy(json - head_n, head, (size_t)head_n);
        send_all(rt, json - head_n, (size_t)head_n + body);
        read_message(rt, &len);
    }
}
