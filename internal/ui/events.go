package ui

import (
	"context"
	"fmt"
	"net/http"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

const (
	// settle gathers a burst of changes into one update.
	settle = 100 * time.Millisecond
	// keepAlive is how often an idle stream sends a comment, so that
	// proxies keep it open.
	keepAlive = 25 * time.Second
)

// watched is one kind of object a page shows, narrowed to a namespace and
// maybe a name, and the client of the cluster it is on.
type watched struct {
	c         client.WithWatch
	list      client.ObjectList
	namespace string
	name      string
}

// events streams a "change" event whenever an object the page shows
// changes: the page's script then fetches the page's live part again. The
// watches are made as the user, so a user sees only what RBAC lets them.
func (s *Server) events(w http.ResponseWriter, r *http.Request, sess *session) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	if !s.sessions.openStream(sess) {
		http.Error(w, fmt.Sprintf("Too many open pages: at most %d update live at once; reload this one later.", maxStreams), http.StatusTooManyRequests)
		return
	}
	defer s.sessions.closeStream(sess)
	targets, err := s.watchedFor(r, sess)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	changes := make(chan struct{}, 1)
	for _, t := range targets {
		wi, err := watchFrom(ctx, t)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		go forward(ctx, cancel, wi, changes)
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprint(w, ": watching\n\n")
	flusher.Flush()
	stream(ctx, w, flusher, changes)
}

// stream writes one event per settled burst of changes until ctx ends.
func stream(ctx context.Context, w http.ResponseWriter, flusher http.Flusher, changes <-chan struct{}) {
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			fmt.Fprint(w, ": alive\n\n")
		case <-changes:
			select {
			case <-ctx.Done():
				return
			case <-time.After(settle):
			}
			fmt.Fprint(w, "event: change\ndata: {}\n\n")
		}
		flusher.Flush()
	}
}

// watch lists t once for its resource version and watches from there, so
// that only changes after the page was rendered count.
func watchFrom(ctx context.Context, t watched) (watch.Interface, error) {
	opts := []client.ListOption{}
	if t.namespace != "" {
		opts = append(opts, client.InNamespace(t.namespace))
	}
	if t.name != "" {
		opts = append(opts, client.MatchingFields{"metadata.name": t.name})
	}
	if err := t.c.List(ctx, t.list, append(opts, client.Limit(1))...); err != nil {
		return nil, err
	}
	rv := t.list.GetResourceVersion()
	return t.c.Watch(ctx, t.list, append(opts, &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: false}})...)
}

// forward passes wi's events on as changes; when the API server ends the
// watch it ends the stream, and the browser reconnects.
func forward(ctx context.Context, cancel context.CancelFunc, wi watch.Interface, changes chan<- struct{}) {
	defer cancel()
	defer wi.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-wi.ResultChan():
			if !ok {
				return
			}
			select {
			case changes <- struct{}{}:
			default: // a change is pending already
			}
		}
	}
}

// watchedFor are the objects the page the query names shows: those of
// a remote cluster on it, as the page reads them (see rolloutOf), and
// none there when the user may not reach it.
func (s *Server) watchedFor(r *http.Request, sess *session) ([]watched, error) {
	q := r.URL.Query()
	namespace, name := q.Get("namespace"), q.Get("name")
	switch q.Get("watch") {
	case "applications":
		return []watched{{c: sess.c, list: &weirv1.ApplicationList{}, namespace: namespace}}, nil
	case "rollout":
		at, err := s.rolloutAtKey(r.Context(), sess, client.ObjectKey{Namespace: namespace, Name: name}, q.Get("app"))
		if err != nil {
			return nil, err
		}
		c, err := s.watcher(at.dest)
		if err != nil {
			return nil, err
		}
		return []watched{{c: c, list: &weirv1.RolloutList{}, namespace: namespace, name: name}}, nil
	case "application":
		app := &weirv1.Application{}
		if err := sess.c.Get(r.Context(), client.ObjectKey{Namespace: namespace, Name: name}, app); err != nil {
			return nil, err
		}
		out := []watched{{c: sess.c, list: &weirv1.ApplicationList{}, namespace: namespace, name: name}}
		dest, err := s.destinationOf(r.Context(), sess, app)
		if err != nil {
			return out, nil // the page says why
		}
		c, err := s.watcher(dest)
		if err != nil {
			return nil, err
		}
		for _, ns := range treeNamespaces(app) {
			out = append(out, watched{c: c, list: &appsv1.ReplicaSetList{}, namespace: ns}, watched{c: c, list: &corev1.PodList{}, namespace: ns})
		}
		return out, nil
	}
	return nil, fmt.Errorf("no page %q to watch", q.Get("watch"))
}
