package analysis

import (
	"fmt"
	"sync"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"

	"weir.dev/weir/api/v1alpha1"
)

// costLimit bounds the work of one condition, so that a condition over a
// large JSON document cannot stall the controller.
const costLimit = 1_000_000

// maxPrograms bounds the cache of compiled conditions; templates change
// rarely, so the cache is simply emptied when full.
const maxPrograms = 1024

// conditions are the compiled conditions of a metric; a nil program is a
// condition that was not given.
type conditions struct {
	success, failure         cel.Program
	successExpr, failureExpr string
}

// programs compiles CEL conditions once per provider kind and expression.
type programs struct {
	envs map[providerKind]*cel.Env

	mu    sync.Mutex
	cache map[string]cel.Program
}

func newPrograms() (*programs, error) {
	p := &programs{envs: map[providerKind]*cel.Env{}, cache: map[string]cel.Program{}}
	for kind, typ := range map[providerKind]*cel.Type{kindPrometheus: cel.DoubleType, kindWeb: cel.DynType} {
		env, err := cel.NewEnv(cel.Variable("result", typ), cel.CrossTypeNumericComparisons(true))
		if err != nil {
			return nil, fmt.Errorf("CEL environment for %s metrics: %w", kind, err)
		}
		p.envs[kind] = env
	}
	return p, nil
}

// compile returns the metric's conditions. Prometheus and web metrics need
// at least one; Job metrics are judged by the Job and take none.
func (p *programs) compile(kind providerKind, metric, success, failure string) (conditions, error) {
	c := conditions{successExpr: success, failureExpr: failure}
	if kind == kindJob {
		if success != "" || failure != "" {
			return c, fmt.Errorf("metric %q: a job metric is judged by the Job's completion and takes no successCondition or failureCondition", metric)
		}
		return c, nil
	}
	if success == "" && failure == "" {
		return c, fmt.Errorf("metric %q: set successCondition, failureCondition or both", metric)
	}
	var err error
	if c.success, err = p.program(kind, metric, "successCondition", success); err != nil {
		return c, err
	}
	c.failure, err = p.program(kind, metric, "failureCondition", failure)
	return c, err
}

func (p *programs) program(kind providerKind, metric, field, expr string) (cel.Program, error) {
	if expr == "" {
		return nil, nil
	}
	key := string(kind) + "\x00" + expr
	p.mu.Lock()
	prg, ok := p.cache[key]
	p.mu.Unlock()
	if ok {
		return prg, nil
	}
	env := p.envs[kind]
	ast, iss := env.Compile(expr)
	if iss.Err() != nil {
		return nil, fmt.Errorf("metric %q: %s %q: %w", metric, field, expr, iss.Err())
	}
	if t := ast.OutputType(); t != cel.BoolType && t != cel.DynType {
		return nil, fmt.Errorf("metric %q: %s %q yields %s, not a bool", metric, field, expr, t)
	}
	prg, err := env.Program(ast, cel.CostLimit(costLimit))
	if err != nil {
		return nil, fmt.Errorf("metric %q: %s %q: %w", metric, field, expr, err)
	}
	p.mu.Lock()
	if len(p.cache) >= maxPrograms {
		clear(p.cache)
	}
	p.cache[key] = prg
	p.mu.Unlock()
	return prg, nil
}

// judge turns a result into a measurement phase and the reason for it,
// naming the condition that decided. When only one condition is given, the
// other is its negation; when both are and neither holds (or both do), the
// measurement is inconclusive.
func (c conditions) judge(result any) (v1alpha1.AnalysisPhase, string, error) {
	vars := map[string]any{"result": result}
	success, err := eval(c.success, c.successExpr, vars)
	if err != nil {
		return v1alpha1.AnalysisError, "", err
	}
	failure, err := eval(c.failure, c.failureExpr, vars)
	if err != nil {
		return v1alpha1.AnalysisError, "", err
	}
	switch {
	case c.failure == nil && success:
		return v1alpha1.AnalysisSuccessful, fmt.Sprintf("successCondition %q", c.successExpr), nil
	case c.failure == nil:
		return v1alpha1.AnalysisFailed, fmt.Sprintf("successCondition %q is false", c.successExpr), nil
	case c.success == nil && failure:
		return v1alpha1.AnalysisFailed, fmt.Sprintf("failureCondition %q", c.failureExpr), nil
	case c.success == nil:
		return v1alpha1.AnalysisSuccessful, fmt.Sprintf("failureCondition %q is false", c.failureExpr), nil
	case failure && !success:
		return v1alpha1.AnalysisFailed, fmt.Sprintf("failureCondition %q", c.failureExpr), nil
	case success && !failure:
		return v1alpha1.AnalysisSuccessful, fmt.Sprintf("successCondition %q", c.successExpr), nil
	case success:
		return v1alpha1.AnalysisInconclusive, fmt.Sprintf("both successCondition %q and failureCondition %q hold", c.successExpr, c.failureExpr), nil
	default:
		return v1alpha1.AnalysisInconclusive, fmt.Sprintf("neither successCondition %q nor failureCondition %q holds", c.successExpr, c.failureExpr), nil
	}
}

// eval runs one condition; a condition that is not given is false.
func eval(prg cel.Program, expr string, vars map[string]any) (bool, error) {
	if prg == nil {
		return false, nil
	}
	out, _, err := prg.Eval(vars)
	if err != nil {
		return false, fmt.Errorf("evaluate %q: %w", expr, err)
	}
	b, ok := out.(types.Bool)
	if !ok {
		return false, fmt.Errorf("evaluate %q: got %s, not a bool", expr, out.Type())
	}
	return bool(b), nil
}
