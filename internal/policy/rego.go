package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"k8s.io/apimachinery/pkg/runtime"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// Conftest's rule names: failures and warnings, with an optional suffix.
var (
	failureRule = regexp.MustCompile(`^(deny|violation)(_[a-zA-Z0-9]+)*$`)
	warningRule = regexp.MustCompile(`^warn(_[a-zA-Z0-9]+)*$`)
)

// unsafeBuiltins reach outside the policy: the network, or the
// controller's environment. A module that calls one does not compile.
var unsafeBuiltins = map[string]struct{}{
	"http.send":          {},
	"net.lookup_ip_addr": {},
	"opa.runtime":        {},
}

// regoProgram is Rego modules compiled once, with one prepared query per
// Conftest rule.
type regoProgram struct {
	rules []regoRule
}

type regoRule struct {
	name  string // data.<package>.<rule>
	warn  bool
	query rego.PreparedEvalQuery
}

// compileRego parses and compiles the modules, then prepares a query for
// each deny, violation and warn rule of the policy's namespaces.
func compileRego(p *weirv1.RegoPolicy) (program, error) {
	version := ast.RegoV1
	if p.RegoVersion == "v0" {
		version = ast.RegoV0
	}
	modules := map[string]*ast.Module{}
	for _, name := range slices.Sorted(maps.Keys(p.Modules)) {
		m, err := ast.ParseModuleWithOpts(name, p.Modules[name], ast.ParserOptions{RegoVersion: version})
		if err != nil {
			return nil, err
		}
		modules[name] = m
	}
	compiler := ast.NewCompiler().WithUnsafeBuiltins(unsafeBuiltins)
	if compiler.Compile(modules); compiler.Failed() {
		return nil, compiler.Errors
	}
	namespaces := p.Namespaces
	if len(namespaces) == 0 {
		namespaces = []string{"main"}
	}
	prog := &regoProgram{}
	for _, ref := range conftestRules(modules, namespaces) {
		q, err := rego.New(rego.Query(ref.query), rego.Compiler(compiler), rego.UnsafeBuiltins(unsafeBuiltins)).
			PrepareForEval(context.Background())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ref.query, err)
		}
		prog.rules = append(prog.rules, regoRule{name: ref.query, warn: ref.warn, query: q})
	}
	if len(prog.rules) == 0 {
		return nil, fmt.Errorf("no deny, violation or warn rule in the namespaces %v", namespaces)
	}
	return prog, nil
}

type ruleRef struct {
	query string
	warn  bool
}

// conftestRules are the rules Conftest evaluates: deny, violation and warn
// rules of the given packages, each once, in a stable order.
func conftestRules(modules map[string]*ast.Module, namespaces []string) []ruleRef {
	seen := map[string]bool{}
	var refs []ruleRef
	for _, name := range slices.Sorted(maps.Keys(modules)) {
		m := modules[name]
		pkg := m.Package.Path.String() // data.main
		if !slices.Contains(namespaces, pkg[len("data."):]) {
			continue
		}
		for _, r := range m.Rules {
			rule := r.Head.Ref()[0].String()
			failure, warning := failureRule.MatchString(rule), warningRule.MatchString(rule)
			query := pkg + "." + rule
			if (!failure && !warning) || seen[query] {
				continue
			}
			seen[query] = true
			refs = append(refs, ruleRef{query: query, warn: warning})
		}
	}
	return refs
}

// eval evaluates each rule with the object as input.
func (p *regoProgram) eval(ctx context.Context, obj Object, _ Set, _ runtime.Object) ([]finding, error) {
	input, err := ast.InterfaceToValue(obj.Desired.Object)
	if err != nil {
		return nil, err
	}
	var found []finding
	for _, r := range p.rules {
		rs, err := r.query.Eval(ctx, rego.EvalParsedInput(input))
		if err != nil {
			return nil, err
		}
		for _, result := range rs {
			for _, expr := range result.Expressions {
				msgs, err := messages(r.name, expr.Value)
				if err != nil {
					return nil, err
				}
				for _, m := range msgs {
					found = append(found, finding{message: m, warn: r.warn})
				}
			}
		}
	}
	return found, nil
}

// messages reads a rule's value as Conftest does: a set of strings, or of
// objects whose "msg" is the message; a rule that is true has its name
// for a message.
func messages(rule string, value any) ([]string, error) {
	switch v := value.(type) {
	case bool:
		if v {
			return []string{rule + " is true"}, nil
		}
		return nil, nil
	case string:
		return []string{v}, nil
	case map[string]any:
		msg, ok := v["msg"].(string)
		if !ok {
			b, _ := json.Marshal(v)
			return nil, fmt.Errorf("%s returned an object without a msg string: %s", rule, b)
		}
		return []string{msg}, nil
	case []any:
		var out []string
		for _, item := range v {
			msgs, err := messages(rule, item)
			if err != nil {
				return nil, err
			}
			out = append(out, msgs...)
		}
		return out, nil
	default:
		return nil, fmt.Errorf("%s returned %T, not messages", rule, value)
	}
}
