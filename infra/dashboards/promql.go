package dashboards

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// window is the range every rate and increase looks back over.
const window = "5m"

// Expr is a PromQL expression over catalogue metrics, written once and rendered in either
// dialect.
type Expr interface {
	Render(d Dialect) string
	// selectors are the series the expression reads.
	selectors() []selector
	// labels are the attributes it groups by.
	labels() []string
}

// Matcher is a label matcher on an attribute (or ServiceAttribute).
type Matcher struct {
	Attribute, Op, Value string
}

// Is matches an attribute equal to value.
func Is(attribute, value string) Matcher { return Matcher{attribute, "=", value} }

// OneOf matches an attribute equal to any of values.
func OneOf(attribute string, values ...string) Matcher {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = regexp.QuoteMeta(v)
	}
	return Matcher{attribute, "=~", strings.Join(quoted, "|")}
}

// Matches matches an attribute against a regular expression.
func Matches(attribute, re string) Matcher { return Matcher{attribute, "=~", re} }

// selector is one series of a metric with matchers: name{label="value",...}.
type selector struct {
	metric   Metric
	part     string
	matchers []Matcher
}

func (s selector) Render(d Dialect) string {
	ms := make([]string, len(s.matchers))
	for i, m := range s.matchers {
		ms[i] = d.Label(m.Attribute) + m.Op + strconv.Quote(m.Value)
	}
	return d.metric(s.metric, s.part) + "{" + strings.Join(ms, ",") + "}"
}
func (s selector) selectors() []selector { return []selector{s} }
func (s selector) labels() []string      { return nil }

// rangeCall is fn(selector[window]).
type rangeCall struct {
	fn  string
	sel selector
}

func (r rangeCall) Render(d Dialect) string {
	return r.fn + "(" + r.sel.Render(d) + "[" + window + "])"
}
func (r rangeCall) selectors() []selector { return []selector{r.sel} }
func (r rangeCall) labels() []string      { return nil }

// aggregation is op by (labels) (inner).
type aggregation struct {
	op    string
	by    []string
	inner Expr
}

func (a aggregation) Render(d Dialect) string {
	if len(a.by) == 0 {
		return a.op + "(" + a.inner.Render(d) + ")"
	}
	by := make([]string, len(a.by))
	for i, l := range a.by {
		by[i] = d.Label(l)
	}
	return a.op + " by (" + strings.Join(by, ", ") + ") (" + a.inner.Render(d) + ")"
}
func (a aggregation) selectors() []selector { return a.inner.selectors() }
func (a aggregation) labels() []string      { return append(slices.Clone(a.by), a.inner.labels()...) }

// quantile is histogram_quantile(q, sum by (le, labels) (rate(bucket))).
type quantile struct {
	q    float64
	rate aggregation
}

func (q quantile) Render(d Dialect) string {
	return "histogram_quantile(" + strconv.FormatFloat(q.q, 'f', -1, 64) + ", " + q.rate.Render(d) + ")"
}
func (q quantile) selectors() []selector { return q.rate.selectors() }
func (q quantile) labels() []string      { return q.rate.labels() }

// binary is left op right, each side in parentheses when it is itself binary.
type binary struct {
	op          string
	left, right Expr
}

func (b binary) Render(d Dialect) string {
	return operand(b.left, d) + " " + b.op + " " + operand(b.right, d)
}
func (b binary) selectors() []selector {
	return append(b.left.selectors(), b.right.selectors()...)
}
func (b binary) labels() []string { return append(b.left.labels(), b.right.labels()...) }

func operand(e Expr, d Dialect) string {
	if _, ok := e.(binary); ok {
		return "(" + e.Render(d) + ")"
	}
	return e.Render(d)
}

// zero is vector(0): the value of a sum over no series yet.
type zero struct{}

func (zero) Render(Dialect) string { return "vector(0)" }
func (zero) selectors() []selector { return nil }
func (zero) labels() []string      { return nil }

// Value is the latest value of a gauge (or up-down counter).
func Value(m Metric, ms ...Matcher) Expr { return selector{m, "", ms} }

// Rate is the per-second rate of a counter, or of a histogram's observations.
func Rate(m Metric, ms ...Matcher) Expr { return rangeCall{"rate", selector{m, countPart(m), ms}} }

// Increase is how much a counter grew over the window.
func Increase(m Metric, ms ...Matcher) Expr {
	return rangeCall{"increase", selector{m, countPart(m), ms}}
}

func countPart(m Metric) string {
	if m.Kind == Histogram {
		return "count"
	}
	return ""
}

// Sum adds e up by the given attributes (none: into one series).
func Sum(by []string, e Expr) Expr { return aggregation{"sum", by, e} }

// Max is the largest of e by the given attributes.
func Max(by []string, e Expr) Expr { return aggregation{"max", by, e} }

// Quantile is the q-quantile of a histogram by the given attributes.
func Quantile(q float64, m Metric, by []string, ms ...Matcher) Expr {
	return quantile{q, aggregation{"sum", append([]string{"le"}, by...), rangeCall{"rate", selector{m, "bucket", ms}}}}
}

// Ratio is part / whole, 0 (not nothing) while part has no series.
func Ratio(part, whole Expr) Expr { return binary{"/", binary{"or", part, zero{}}, whole} }

// check says why e reads something outside the catalogue: an unknown metric, a histogram
// series of another kind, or an attribute the metric does not carry.
func check(e Expr) error {
	known := map[string]Metric{}
	for _, m := range Catalogue() {
		known[m.Name] = m
	}
	sels := e.selectors()
	for _, s := range sels {
		m, ok := known[s.metric.Name]
		if !ok || !sameMetric(m, s.metric) {
			return fmt.Errorf("%s is not in the metric catalogue", s.metric.Name)
		}
		if (s.part == "") == (m.Kind == Histogram) {
			return fmt.Errorf("%s: no series %q (histograms have bucket, sum and count; other kinds one series)", m.Name, s.part)
		}
		for _, ma := range s.matchers {
			if ma.Attribute != ServiceAttribute && !slices.Contains(m.Attributes, ma.Attribute) {
				return fmt.Errorf("%s has no attribute %s", m.Name, ma.Attribute)
			}
		}
	}
	for _, l := range e.labels() {
		for _, s := range sels {
			if l != "le" && l != ServiceAttribute && !slices.Contains(s.metric.Attributes, l) {
				return fmt.Errorf("grouped by %s, which %s does not carry", l, s.metric.Name)
			}
		}
	}
	return nil
}

func sameMetric(a, b Metric) bool {
	return a.Name == b.Name && a.Kind == b.Kind && a.Unit == b.Unit && a.CloudOnly == b.CloudOnly &&
		slices.Equal(a.Attributes, b.Attributes)
}
