// An ordinary net/http server (standard library only). It knows nothing of
// Lambda: it listens on 127.0.0.1:$PORT, and portside turns each event into
// a request to it. Routes: the examples' shared routes (../README.md).
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

var (
	// 1 MiB of every byte value (not UTF-8), and 5 MiB of text.
	download = func() []byte {
		b := make([]byte, 1<<20)
		for i := range b {
			b[i] = byte(i % 251)
		}
		return b
	}()
	large = func() []byte {
		line := []byte("abcdefghijklmnopqrstuvwxyz0123456789\n")
		return bytes.Repeat(line, (5<<20)/len(line)+1)[:5<<20]
	}()
)

func writeJSON(w http.ResponseWriter, status int, v interface{}) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}

func index(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	writeJSON(w, 200, map[string]string{"app": "go", "framework": "Go net/http"})
}

func item(w http.ResponseWriter, r *http.Request) {
	// r.URL.Path is decoded ("/items/a/b"); the escaped form keeps %2F.
	raw := r.URL.EscapedPath()
	id, err := url.PathUnescape(strings.TrimPrefix(raw, "/items/"))
	if err != nil {
		http.Error(w, "bad item id", http.StatusBadRequest)
		return
	}
	switch r.Method {
	case http.MethodDelete:
		w.WriteHeader(http.StatusNoContent)
	case http.MethodGet, http.MethodHead:
		h := w.Header()
		h.Add("Vary", "Accept")
		h.Add("Vary", "Accept-Encoding")
		h.Add("Link", `</items>; rel="collection"`)
		h.Add("Link", `</>; rel="home"`)
		writeJSON(w, 200, map[string]string{"id": id, "raw_path": raw})
	default:
		w.Header().Set("Allow", "GET, HEAD, DELETE")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func query(w http.ResponseWriter, r *http.Request) {
	// r.URL.Query() is a map; the raw string keeps the pairs' order.
	pairs := [][2]string{}
	for _, part := range strings.Split(r.URL.RawQuery, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k, err1 := url.QueryUnescape(k)
		v, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			http.Error(w, "bad query string", http.StatusBadRequest)
			return
		}
		pairs = append(pairs, [2]string{k, v})
	}
	writeJSON(w, 200, map[string]interface{}{"pairs": pairs})
}

func headers(w http.ResponseWriter, r *http.Request) {
	tags := r.Header.Values("X-Tag")
	if tags == nil {
		tags = []string{}
	}
	writeJSON(w, 200, map[string][]string{"x-tag": tags})
}

func cookies(w http.ResponseWriter, r *http.Request) {
	got := map[string]string{}
	for _, c := range r.Cookies() {
		got[c.Name] = c.Value
	}
	writeJSON(w, 200, map[string]interface{}{"cookies": got})
}

func setCookies(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: "session", Value: "abc123", Path: "/", HttpOnly: true})
	http.SetCookie(w, &http.Cookie{Name: "theme", Value: "dark", Path: "/"})
	writeJSON(w, 200, map[string][]string{"set": {"session", "theme"}})
}

func upload(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	file, header, err := r.FormFile("file")
	if err != nil {
		http.Error(w, "expected a multipart field named file: "+err.Error(), http.StatusBadRequest)
		return
	}
	defer file.Close()
	sum := sha256.New()
	size, err := io.Copy(sum, file)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	writeJSON(w, 200, map[string]interface{}{
		"filename": header.Filename, "size": size, "sha256": hex.EncodeToString(sum.Sum(nil)),
	})
}

func serveBytes(w http.ResponseWriter, r *http.Request, body []byte) {
	// ServeContent answers HEAD, Range and If-None-Match (304) itself.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

func downloadHandler(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="data.bin"`)
	serveBytes(w, r, download)
}

func echo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	var doc interface{}
	if err := json.NewDecoder(r.Body).Decode(&doc); err != nil {
		http.Error(w, "the body is not JSON: "+err.Error(), http.StatusBadRequest)
		return
	}
	writeJSON(w, 200, map[string]interface{}{"received": doc})
}

func etag(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("ETag", `"v1"`)
	w.Header().Set("Content-Type", "application/json")
	serveBytes(w, r, []byte(`{"version":1}`))
}

func largeHandler(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write(large)
}

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", index)
	mux.HandleFunc("/items/", item)
	mux.HandleFunc("/query", query)
	mux.HandleFunc("/headers", headers)
	mux.HandleFunc("/cookies", cookies)
	mux.HandleFunc("/cookies/set", setCookies)
	mux.Handle("/redirect", http.RedirectHandler("/items/target", http.StatusFound))
	mux.HandleFunc("/upload", upload)
	mux.HandleFunc("/download", downloadHandler)
	mux.HandleFunc("/echo", echo)
	mux.HandleFunc("/etag", etag)
	mux.HandleFunc("/large", largeHandler)

	server := &http.Server{
		Addr:              "127.0.0.1:" + port,
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() {
		// SIGTERM (Lambda's shutdown): finish what is in flight, then exit.
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
		<-stop
		ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
		defer cancel()
		server.Shutdown(ctx)
	}()
	log.Printf("go example listening on http://%s", server.Addr)
	if err := server.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
