// Command load is the Go side of bench/run.py's Managed Instances group
// (issue 28): an app and a load driver fast enough not to be what limits an
// adapter serving many invocations at once. Standard library only.
//
//	load app -listen 127.0.0.1:PORT
//	    the app: GET / (readiness) and GET /bytes?n=N (N bytes of JSON text,
//	    body(N) below); prints "listening PORT".
//	load drive -app 127.0.0.1:PORT -c C -size N -n COUNT -warm W
//	    a Runtime API and Extensions API on a free loopback port and a
//	    closed-loop driver: C invocations always in flight, each an API
//	    Gateway HTTP API event for GET /bytes?n=N, every result checked
//	    against body(N). Prints "listening PORT"; once the adapter has
//	    registered and polls /next, runs W invocations, waits until C polls
//	    are waiting (the adapter idle) and prints "ready POLLERS"; on "go"
//	    from standard input runs COUNT invocations, waits for the adapter to
//	    be idle again and prints "done {JSON}"; on "stop" answers the
//	    extension's event/next with SHUTDOWN and exits.
//	load direct -app 127.0.0.1:PORT -c C -size N -n COUNT
//	    the floor: COUNT requests for the same body straight to the app, C at
//	    once on keep-alive connections; prints "done {JSON}".
//
// Latency of an invocation: from the event handed to the Runtime API's queue
// to the result's body read (so a late return to /next counts); of a direct
// request: from its write to its body read.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fail("usage: load app|drive|direct [flags]")
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:0", "app: where to listen")
	app := fs.String("app", "", "drive, direct: the app's host:port")
	c := fs.Int("c", 8, "invocations (or requests) in flight")
	size := fs.Int("size", 200, "bytes of the app's JSON body")
	n := fs.Int("n", 1000, "invocations (or requests) measured")
	warm := fs.Int("warm", 200, "drive: invocations before the measured ones")
	_ = fs.Parse(os.Args[2:])
	switch os.Args[1] {
	case "app":
		serveApp(*listen)
	case "drive":
		drive(*app, *c, *size, *n, *warm)
	case "direct":
		direct(*app, *c, *size, *n)
	default:
		fail("unknown mode " + os.Args[1])
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "load: "+msg)
	os.Exit(1)
}

// body is n bytes of compact JSON like an API's list answer (records with
// quoted words, so the adapter's escaper has work), padded with spaces before
// the closing bracket to exactly n bytes (n >= 2).
func body(n int) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i := 0; ; i++ {
		rec := fmt.Sprintf(`{"id":%d,"name":"user %d","email":"user%d@example.com","note":"said \"hi\"","active":%t}`,
			1000+i, i, i, i%3 == 0)
		sep := ""
		if i > 0 {
			sep = ","
		}
		if b.Len()+len(sep)+len(rec)+1 > n {
			break
		}
		b.WriteString(sep + rec)
	}
	for b.Len() < n-1 {
		b.WriteByte(' ')
	}
	b.WriteByte(']')
	return b.Bytes()
}

func serveApp(listen string) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		fail(err.Error())
	}
	var mu sync.Mutex
	bodies := map[int][]byte{}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ok"))
	})
	mux.HandleFunc("/bytes", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.URL.Query().Get("n"))
		if err != nil || n < 2 || n > 8<<20 {
			http.Error(w, "n: 2 to 8 MiB", http.StatusBadRequest)
			return
		}
		mu.Lock()
		b, ok := bodies[n]
		if !ok {
			b = body(n)
			bodies[n] = b
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		_, _ = w.Write(b)
	})
	fmt.Printf("listening %d\n", ln.Addr().(*net.TCPAddr).Port)
	fail((&http.Server{Handler: mux}).Serve(ln).Error())
}

// ---------------------------------------------------------------- statistics

type stats struct {
	N          int     `json:"n"`
	WallS      float64 `json:"wall_s"`
	PerSecond  float64 `json:"per_second"`
	P50us      float64 `json:"p50_us"`
	P90us      float64 `json:"p90_us"`
	P99us      float64 `json:"p99_us"`
	MaxUs      float64 `json:"max_us"`
	AdapterP50 float64 `json:"handout_p50_us,omitempty"`
	AdapterP99 float64 `json:"handout_p99_us,omitempty"`
	Pollers    int     `json:"pollers,omitempty"`
}

func pct(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.999999) - 1
	if i < 0 {
		i = 0
	}
	return float64(sorted[i].Nanoseconds()) / 1e3
}

func summary(lat []time.Duration, wall time.Duration) stats {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return stats{
		N: len(lat), WallS: wall.Seconds(), PerSecond: float64(len(lat)) / wall.Seconds(),
		P50us: pct(lat, 50), P90us: pct(lat, 90), P99us: pct(lat, 99), MaxUs: pct(lat, 100),
	}
}

func printDone(s stats) {
	out, _ := json.Marshal(s)
	fmt.Printf("done %s\n", out)
}

// ---------------------------------------------------------------- direct

func direct(app string, c, size, n int) {
	want := body(size)
	req := []byte(fmt.Sprintf("GET /bytes?n=%d HTTP/1.1\r\nHost: %s\r\n\r\n", size, app))
	lat := make([]time.Duration, n)
	var next int64
	var wg sync.WaitGroup
	errs := make(chan error, c)
	start := time.Now()
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := net.Dial("tcp", app)
			if err != nil {
				errs <- err
				return
			}
			defer conn.Close()
			r := bufio.NewReaderSize(conn, 128<<10)
			for {
				i := atomic.AddInt64(&next, 1) - 1
				if i >= int64(n) {
					return
				}
				t0 := time.Now()
				if _, err := conn.Write(req); err != nil {
					errs <- err
					return
				}
				resp, err := http.ReadResponse(r, nil)
				if err != nil {
					errs <- err
					return
				}
				got, err := readBody(resp.Body, resp.ContentLength)
				resp.Body.Close()
				lat[i] = time.Since(t0)
				if err != nil || resp.StatusCode != 200 || !bytes.Equal(got, want) {
					errs <- fmt.Errorf("direct request %d: status %d, %d bytes, %v", i, resp.StatusCode, len(got), err)
					return
				}
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	select {
	case err := <-errs:
		fail(err.Error())
	default:
	}
	printDone(summary(lat, wall))
}

// readBody reads a body of known length into one buffer of that size (no
// regrowing), else to its end.
func readBody(r io.Reader, length int64) ([]byte, error) {
	if length < 0 {
		return io.ReadAll(r)
	}
	b := make([]byte, length)
	_, err := io.ReadFull(r, b)
	return b, err
}

// ---------------------------------------------------------------- Runtime API

type invocation struct {
	id      string
	queued  time.Time
	handout time.Time
	arrived time.Time
	kind    string
	result  []byte
	done    chan struct{}
}

type runtimeAPI struct {
	event    []byte
	queue    chan *invocation
	waiting  int64 // /next requests blocked right now
	polled   int64 // /next requests ever
	byID     sync.Map
	seq      int64
	shutdown chan struct{}
}

func (a *runtimeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == "/2018-06-01/runtime/invocation/next":
		atomic.AddInt64(&a.polled, 1)
		atomic.AddInt64(&a.waiting, 1)
		var inv *invocation
		select {
		case inv = <-a.queue:
		case <-r.Context().Done():
		}
		atomic.AddInt64(&a.waiting, -1)
		if inv == nil {
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(30*time.Second).UnixMilli(), 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:portside-bench")
		h.Set("Lambda-Runtime-Trace-Id", "Root=1-5e9f3d2a-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=0")
		h.Set("Content-Length", strconv.Itoa(len(a.event)))
		inv.handout = time.Now()
		_, _ = w.Write(a.event)
	case strings.HasPrefix(p, "/2018-06-01/runtime/invocation/"):
		rest := strings.TrimPrefix(p, "/2018-06-01/runtime/invocation/")
		id, kind, _ := strings.Cut(rest, "/")
		data, err := readBody(r.Body, r.ContentLength)
		v, ok := a.byID.LoadAndDelete(id)
		if err != nil || !ok || (kind != "response" && kind != "error") {
			http.Error(w, `{"errorMessage":"unknown invocation"}`, http.StatusBadRequest)
			return
		}
		inv := v.(*invocation)
		inv.arrived, inv.kind, inv.result = time.Now(), kind, data
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"status":"OK"}`))
		close(inv.done)
	case p == "/2020-01-01/extension/register":
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Lambda-Extension-Identifier", "load-extension-id")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"functionName":"portside-bench","functionVersion":"$LATEST","handler":"x"}`))
	case p == "/2020-01-01/extension/event/next":
		select {
		case <-a.shutdown:
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"eventType":"SHUTDOWN","shutdownReason":"spindown","deadlineMs":%d}`,
				time.Now().Add(2*time.Second).UnixMilli())
		case <-r.Context().Done():
		}
	case strings.HasSuffix(p, "/init/error") || strings.HasSuffix(p, "/exit/error"):
		data, _ := io.ReadAll(r.Body)
		fmt.Fprintf(os.Stderr, "load: %s: %s\n", p, data)
		w.WriteHeader(http.StatusAccepted)
	default:
		http.NotFound(w, r)
	}
}

func (a *runtimeAPI) enqueue() *invocation {
	n := atomic.AddInt64(&a.seq, 1)
	inv := &invocation{id: fmt.Sprintf("%08d-load", n), done: make(chan struct{})}
	a.byID.Store(inv.id, inv)
	inv.queued = time.Now()
	a.queue <- inv
	return inv
}

// waitPollers waits until `want` /next requests are blocked and nothing is
// queued (the adapter is idle), or the timeout; it returns how many wait.
func (a *runtimeAPI) waitPollers(want int, timeout time.Duration) int {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if int(atomic.LoadInt64(&a.waiting)) >= want && len(a.queue) == 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	return int(atomic.LoadInt64(&a.waiting))
}

type resultJSON struct {
	StatusCode      int    `json:"statusCode"`
	Body            string `json:"body"`
	IsBase64Encoded bool   `json:"isBase64Encoded"`
}

// escaped is a body as a JSON string the way serde_json writes it (both
// adapters do): `"` and `\` behind a backslash, \b \f \n \r \t, other
// control characters as \u00xx, everything else as it is.
func escaped(b []byte) []byte {
	const hex = "0123456789abcdef"
	out := []byte(`"body":"`)
	for _, c := range b {
		switch {
		case c == '"' || c == '\\':
			out = append(out, '\\', c)
		case c == '\b':
			out = append(out, '\\', 'b')
		case c == '\f':
			out = append(out, '\\', 'f')
		case c == '\n':
			out = append(out, '\\', 'n')
		case c == '\r':
			out = append(out, '\\', 'r')
		case c == '\t':
			out = append(out, '\\', 't')
		case c < 0x20:
			out = append(out, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		default:
			out = append(out, c)
		}
	}
	return append(out, '"')
}

var (
	status200 = []byte(`"statusCode":200`)
	notBase64 = []byte(`"isBase64Encoded":false`)
	bodyKey   = []byte(`"body":"`)
)

// check tells whether a result is the app's answer: status 200, not base64,
// the body equal to `want` (`member` is escaped(want)). The fast way first:
// the members as serde_json writes them, the body compared in place (the
// driver must not cost more than the adapter it measures); a result written
// any other way is parsed whole.
func check(inv *invocation, want, member []byte) error {
	if inv.kind != "response" {
		return fmt.Errorf("invocation %s ended with %s: %.300s", inv.id, inv.kind, inv.result)
	}
	if i := bytes.Index(inv.result, bodyKey); i >= 0 && len(inv.result)-i >= len(member) &&
		bytes.Equal(inv.result[i:i+len(member)], member) &&
		bytes.Contains(inv.result, status200) && bytes.Contains(inv.result, notBase64) {
		return nil
	}
	var r resultJSON
	if err := json.Unmarshal(inv.result, &r); err != nil {
		return fmt.Errorf("invocation %s: the result is not JSON: %v", inv.id, err)
	}
	if r.StatusCode != 200 || r.IsBase64Encoded || r.Body != string(want) {
		return fmt.Errorf("invocation %s: unexpected result (status %d, base64 %t, %d body bytes): %.200s",
			inv.id, r.StatusCode, r.IsBase64Encoded, len(r.Body), inv.result)
	}
	return nil
}

// closedLoop runs n invocations with c in flight; every result is checked.
func (a *runtimeAPI) closedLoop(c, n int, want, member []byte) (stats, error) {
	e2e := make([]time.Duration, n)
	adapter := make([]time.Duration, n)
	var next int64
	var wg sync.WaitGroup
	var firstErr atomic.Value
	start := time.Now()
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := atomic.AddInt64(&next, 1) - 1
				if i >= int64(n) || firstErr.Load() != nil {
					return
				}
				inv := a.enqueue()
				select {
				case <-inv.done:
				case <-time.After(60 * time.Second):
					firstErr.Store(fmt.Errorf("invocation %s: no result in 60 s", inv.id))
					return
				}
				e2e[i] = inv.arrived.Sub(inv.queued)
				adapter[i] = inv.arrived.Sub(inv.handout)
				if err := check(inv, want, member); err != nil {
					firstErr.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	if err, ok := firstErr.Load().(error); ok {
		return stats{}, err
	}
	s := summary(e2e, wall)
	sort.Slice(adapter, func(i, j int) bool { return adapter[i] < adapter[j] })
	s.AdapterP50, s.AdapterP99 = pct(adapter, 50), pct(adapter, 99)
	return s, nil
}

func event(size int) []byte {
	now := time.Now()
	ev := map[string]any{
		"version": "2.0", "routeKey": "$default", "rawPath": "/bytes",
		"rawQueryString": fmt.Sprintf("n=%d", size),
		"cookies":        []string{"session=9f3c2a7e1b5d4c8a", "theme=dark"},
		"headers": map[string]string{
			"accept": "application/json", "accept-language": "en-GB,en;q=0.9",
			"host":            "r3pmxmplak.execute-api.us-east-1.amazonaws.com",
			"user-agent":      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
			"x-amzn-trace-id": "Root=1-6650f3a2-2b7e9a4c1d0f5e6a7b8c9d0e", "x-forwarded-for": "203.0.113.17",
			"x-forwarded-port": "443", "x-forwarded-proto": "https",
		},
		"queryStringParameters": map[string]string{"n": strconv.Itoa(size)},
		"requestContext": map[string]any{
			"accountId": "123456789012", "apiId": "r3pmxmplak",
			"domainName": "r3pmxmplak.execute-api.us-east-1.amazonaws.com", "domainPrefix": "r3pmxmplak",
			"http": map[string]string{"method": "GET", "path": "/bytes", "protocol": "HTTP/1.1",
				"sourceIp": "203.0.113.17", "userAgent": "Mozilla/5.0"},
			"requestId": "JKJaXmPLvHcESHA=", "routeKey": "$default", "stage": "$default",
			"time": now.UTC().Format("02/Jan/2006:15:04:05 +0000"), "timeEpoch": now.UnixMilli(),
		},
		"isBase64Encoded": false,
	}
	out, _ := json.Marshal(ev)
	return out
}

func drive(app string, c, size, n, warm int) {
	a := &runtimeAPI{event: event(size), queue: make(chan *invocation, 4096), shutdown: make(chan struct{})}
	want := body(size)
	member := escaped(want)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err.Error())
	}
	go func() { fail((&http.Server{Handler: a}).Serve(ln).Error()) }()
	fmt.Printf("listening %d\n", ln.Addr().(*net.TCPAddr).Port)
	in := bufio.NewScanner(os.Stdin)
	if a.waitPollers(1, 30*time.Second) < 1 {
		fail("the adapter never polled /next")
	}
	if _, err := a.closedLoop(c, warm, want, member); err != nil {
		fail(err.Error())
	}
	pollers := a.waitPollers(c, 10*time.Second)
	fmt.Printf("ready %d\n", pollers)
	if !in.Scan() || in.Text() != "go" {
		fail("expected go on standard input")
	}
	s, err := a.closedLoop(c, n, want, member)
	if err != nil {
		fail(err.Error())
	}
	s.Pollers = a.waitPollers(pollers, 10*time.Second)
	printDone(s)
	if !in.Scan() || in.Text() != "stop" {
		fail("expected stop on standard input")
	}
	close(a.shutdown)
	time.Sleep(100 * time.Millisecond)
}
