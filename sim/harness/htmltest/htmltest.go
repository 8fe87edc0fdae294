// Package htmltest renders csmsim's HTML reports in headless Chromium in
// tests, so the page is checked by a browser no one here wrote, as a
// reader's would show it.
package htmltest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/net/html"
)

// ChromiumDOM renders page in headless Debian chromium and returns the DOM
// it built. dir is a scratch directory (the page and a fresh profile go
// there). A machine without chromium is an error that says how to get it.
func ChromiumDOM(dir, page string) (string, error) {
	bin, err := exec.LookPath("chromium")
	if err != nil {
		bin, err = exec.LookPath("chromium-browser")
	}
	if err != nil {
		return "", fmt.Errorf("chromium is not installed: run make deps (Debian package chromium)")
	}
	path := filepath.Join(dir, "report.html")
	if err := os.WriteFile(path, []byte(page), 0o644); err != nil {
		return "", err
	}
	profile, err := os.MkdirTemp(dir, "profile-")
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--disable-background-networking", "--disable-component-update", "--disable-default-apps",
		"--disable-extensions", "--disable-sync", "--no-first-run", "--mute-audio",
		"--user-data-dir="+profile, "--dump-dom", "file://"+path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	switch {
	case ctx.Err() != nil:
		return "", fmt.Errorf("chromium rendering %s timed out after 60s; stderr:\n%s", path, stderr.String())
	case err != nil:
		return "", fmt.Errorf("chromium rendering %s: %v; stderr:\n%s", path, err, stderr.String())
	case !strings.Contains(stdout.String(), "<html"):
		return "", fmt.Errorf("chromium rendering %s dumped no <html> DOM; stderr:\n%s", path, stderr.String())
	}
	return stdout.String(), nil
}

// Walk calls f on every element under n, n included, in document order.
func Walk(n *html.Node, f func(*html.Node)) {
	if n.Type == html.ElementNode {
		f(n)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		Walk(c, f)
	}
}

// FindAll is every element named tag under n, in document order.
func FindAll(n *html.Node, tag string) []*html.Node {
	var out []*html.Node
	Walk(n, func(e *html.Node) {
		if e.Data == tag {
			out = append(out, e)
		}
	})
	return out
}

// Attr is the value of n's attribute key, "" if it has none.
func Attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// Text is the text under n.
func Text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}
