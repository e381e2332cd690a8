package notify

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkDelivery is one signed webhook delivery through the Queue to a
// receiver on the loopback: enqueue, sign, post, answer.
func BenchmarkDelivery(b *testing.B) {
	got := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { got <- struct{}{} }))
	defer srv.Close()
	q := NewQueue(DefaultCapacity)
	q.Workers = 1
	startQueue(b, q)
	hook := &Webhook{poster: testPoster(), Address: srv.URL, HMACKey: []byte("key")}
	e := failedSync()
	b.ReportAllocs()
	for b.Loop() {
		q.Enqueue(Delivery{Name: "shop/hook", Sender: hook, Event: e})
		<-got
	}
}

// BenchmarkEnqueueWhenFull is what a router pays per Event while every
// worker is stuck on a hung receiver and the queue is full: a drop.
func BenchmarkEnqueueWhenFull(b *testing.B) {
	q := NewQueue(1)
	q.Enqueue(Delivery{})
	b.ReportAllocs()
	for b.Loop() {
		q.Enqueue(Delivery{Name: "shop/hung", Event: failedSync()})
	}
}
