package ui

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"weir.dev/weir/internal/testenv"
	"weir.dev/weir/test/fixture"
)

// audit is what auditJS finds on a page.
type audit struct {
	Lang        string   `json:"lang"`
	H1          int      `json:"h1"`
	Landmarks   []string `json:"landmarks"`
	Unlabelled  []string `json:"unlabelled"`
	LowContrast []string `json:"lowContrast"`
	Checked     int      `json:"checked"`
	Tabbable    int      `json:"tabbable"`
}

// auditJS checks the page as a person with a screen reader or weak
// sight meets it: the language, one h1, the landmarks, a label for every
// control, button, chart and column header, and the WCAG 2 contrast of
// every piece of visible text against its background, computed from the
// stylesheet's colours (4.5:1; 3:1 for large text).
const auditJS = `(() => {
  const parse = c => { const m = c.match(/rgba?\(([^)]+)\)/); const p = m[1].split(",").map(parseFloat); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const bg = el => { for (; el; el = el.parentElement) { const c = parse(getComputedStyle(el).backgroundColor); if (c.a > 0) return c; } return {r: 255, g: 255, b: 255, a: 1}; };
  const name = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className && el.className.baseVal === undefined ? "." + el.className : "");
  const out = {lang: document.documentElement.lang, h1: document.querySelectorAll("h1").length, landmarks: [], unlabelled: [], lowContrast: [], checked: 0};
  for (const sel of ["header", "nav[aria-label]", "main"]) if (document.querySelector(sel)) out.landmarks.push(sel);
  for (const el of document.querySelectorAll("input:not([type=hidden]), select, textarea")) if (!el.labels.length && !el.getAttribute("aria-label")) out.unlabelled.push(name(el));
  for (const el of document.querySelectorAll("button, a[href]")) if (!el.innerText.trim() && !el.getAttribute("aria-label")) out.unlabelled.push(name(el));
  for (const el of document.querySelectorAll("svg")) if (el.getAttribute("role") !== "img" || !el.getAttribute("aria-label")) out.unlabelled.push(name(el));
  for (const el of document.querySelectorAll("th")) if (!el.getAttribute("scope")) out.unlabelled.push(name(el) + " " + el.innerText);
  for (const el of document.querySelectorAll("body *")) {
    if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
    const st = getComputedStyle(el), r = el.getBoundingClientRect();
    if (st.visibility === "hidden" || r.width <= 1 || r.height <= 1 || r.right < 0) continue;
    const l1 = lum(parse(st.color)), l2 = lum(bg(el));
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const size = parseFloat(st.fontSize), large = size >= 24 || (size >= 18.66 && parseInt(st.fontWeight) >= 700);
    out.checked++;
    if (ratio < (large ? 3 : 4.5)) out.lowContrast.push(name(el) + " " + JSON.stringify(el.textContent.trim().slice(0, 30)) + " " + ratio.toFixed(2));
  }
  window.weirContrast = (color, el) => { const l1 = lum(parse(color)), l2 = lum(bg(el)); return (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05); };
  window.weirTabbable = [...document.querySelectorAll("a[href], button, input:not([type=hidden]), select, textarea, [tabindex]:not([tabindex='-1'])")]
    .filter(el => !el.disabled && el.getClientRects().length);
  out.tabbable = window.weirTabbable.length;
  return JSON.stringify(out);
})()`

// Every page is usable without a mouse and readable: labels, landmarks,
// contrast, and Tab moving through every control in the order they are
// read, starting with the link that skips to the content.
func TestThePagesAreAccessible(t *testing.T) {
	a := newApp(t, map[string]string{"web.yaml": fixture.Deployment("web", 2, "shop:v1")})
	if err := a.c.Create(context.Background(), standaloneRollout(a.ns)); err != nil {
		t.Fatal(err)
	}
	url := serveUI(t, testenv.Config(t), false)
	ctx := browser(t, 2*time.Minute)
	for _, page := range []struct{ name, path, ready string }{
		{"applications", "/?namespace=" + a.ns, a.ns + "/shop"},
		{"application", "/apps/" + a.ns + "/shop", "Pod " + a.ns + "/web-"},
		{"rollout", "/rollouts/" + a.ns + "/web", "pause until promoted"},
	} {
		t.Run(page.name, func(t *testing.T) {
			if err := chromedp.Do(ctx, chromedp.Navigate(url+page.path)); err != nil {
				t.Fatal(err)
			}
			waitText(t, ctx, page.ready)
			waitText(t, ctx, "Live") // no update under way while Tab moves
			raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](auditJS))
			if err != nil {
				t.Fatal(err)
			}
			var got audit
			if err := json.Unmarshal([]byte(raw), &got); err != nil {
				t.Fatal(err)
			}
			if got.Lang != "en" || got.H1 != 1 || len(got.Landmarks) != 3 {
				t.Errorf("lang %q, %d h1, landmarks %v; want en, one h1, header, nav and main", got.Lang, got.H1, got.Landmarks)
			}
			if len(got.Unlabelled) > 0 {
				t.Errorf("without a label or name: %v", got.Unlabelled)
			}
			if got.Checked == 0 || len(got.LowContrast) > 0 {
				t.Errorf("%d texts checked; contrast below WCAG AA: %v", got.Checked, got.LowContrast)
			}
			tabThrough(t, ctx, got.Tabbable)
			screenshot(t, ctx, "focus")
		})
	}
}

// tabThrough presses Tab once for each tabbable element and checks that
// focus meets them in document order, the skip link first, each with a
// visible focus outline.
func tabThrough(t *testing.T, ctx context.Context, n int) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void]("document.activeElement && document.activeElement.blur()")); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
			t.Fatal(err)
		}
		// The outline must show (2px at least) and stand out from what is
		// around it by 3:1 (WCAG 2.2, focus appearance).
		const js = `(() => { const el = document.activeElement; const st = getComputedStyle(el);
		  const ratio = window.weirContrast(st.outlineColor, el.parentElement);
		  return JSON.stringify({at: window.weirTabbable.indexOf(el), text: (el.innerText || el.id || "").trim().slice(0, 30),
		    outline: st.outlineStyle !== "none" && parseFloat(st.outlineWidth) >= 2 && ratio >= 3}); })()`
		raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatal(err)
		}
		var focus struct {
			At      int    `json:"at"`
			Text    string `json:"text"`
			Outline bool   `json:"outline"`
		}
		if err := json.Unmarshal([]byte(raw), &focus); err != nil {
			t.Fatal(err)
		}
		if focus.At != i || (i == 0 && focus.Text != "Skip to content") || !focus.Outline {
			t.Fatalf("Tab %d: focus on element %d %q (outline shown, at 3:1: %v); want element %d in document order, the skip link first, outlined", i+1, focus.At, focus.Text, focus.Outline, i)
		}
	}
}
