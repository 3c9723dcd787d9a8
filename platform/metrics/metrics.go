// Package metrics holds the server's Prometheus collectors in a registry of
// its own (no global default registry), so two servers in one test process
// do not collide.
package metrics

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the collectors the server updates.
type Metrics struct {
	Registry *prometheus.Registry
	Requests *prometheus.CounterVec
	Duration *prometheus.HistogramVec

	// The vectors' children per label values (a few route classes and
	// statuses), so counting a request does not hash its labels each time.
	mu        sync.RWMutex
	counters  map[classStatus]prometheus.Counter
	durations map[string]prometheus.Observer
}

type classStatus struct {
	class  string
	status int
}

// New registers the collectors.
func New() *Metrics {
	r := prometheus.NewRegistry()
	m := &Metrics{
		Registry: r, counters: map[classStatus]prometheus.Counter{}, durations: map[string]prometheus.Observer{},
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plinth_http_requests_total", Help: "HTTP requests by route class and status.",
		}, []string{"class", "status"}),
		Duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "plinth_http_request_duration_seconds", Help: "HTTP request latency by route class.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"class"}),
	}
	r.MustRegister(m.Requests, m.Duration, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Request counts one answered request of a route class and its latency.
func (m *Metrics) Request(class string, status int, d time.Duration) {
	k := classStatus{class, status}
	m.mu.RLock()
	c, okC := m.counters[k]
	o, okO := m.durations[class]
	m.mu.RUnlock()
	if !okC || !okO {
		c = m.Requests.WithLabelValues(class, strconv.Itoa(status))
		o = m.Duration.WithLabelValues(class)
		m.mu.Lock()
		m.counters[k], m.durations[class] = c, o
		m.mu.Unlock()
	}
	c.Inc()
	o.Observe(d.Seconds())
}

// CounterVec registers a counter with labels on the server's registry.
func (m *Metrics) CounterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	m.Registry.MustRegister(c)
	return c
}

// CounterFunc registers a counter read at scrape time.
func (m *Metrics) CounterFunc(name, help string, f func() float64) {
	m.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f))
}

// GaugeFunc registers a gauge computed at scrape time.
func (m *Metrics) GaugeFunc(name, help string, f func() float64) {
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
}
