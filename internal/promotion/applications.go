package promotion

import (
	"context"
	"fmt"
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// MaxStageApplications bounds the Applications of one stage, named and
// selected together.
const MaxStageApplications = 64

// applications reads a stage's Applications: those named, in their
// order, then those its selector chooses, by name, each once.
func (pr *Promoter) applications(ctx context.Context, p *weirv1.Pipeline, spec weirv1.PipelineStage) ([]weirv1.Application, error) {
	var apps []weirv1.Application
	seen := map[string]bool{}
	for _, ref := range spec.Applications {
		app := weirv1.Application{}
		if err := pr.Reader.Get(ctx, client.ObjectKey{Namespace: p.Namespace, Name: ref.Name}, &app); err != nil {
			return nil, fmt.Errorf("stage %s: Application %s/%s: %w", spec.Name, p.Namespace, ref.Name, err)
		}
		if !seen[app.Name] {
			seen[app.Name] = true
			apps = append(apps, app)
		}
	}
	if spec.Selector != nil {
		selected, err := pr.selected(ctx, p, spec)
		if err != nil {
			return nil, err
		}
		for _, app := range selected {
			if !seen[app.Name] {
				seen[app.Name] = true
				apps = append(apps, app)
			}
		}
	}
	switch {
	case len(apps) == 0:
		return nil, fmt.Errorf("stage %s: no Application in namespace %s is named or selected", spec.Name, p.Namespace)
	case len(apps) > MaxStageApplications:
		return nil, fmt.Errorf("stage %s: %d Applications, more than %d", spec.Name, len(apps), MaxStageApplications)
	}
	return apps, nil
}

// selected lists the Applications the stage's selector chooses, by name.
func (pr *Promoter) selected(ctx context.Context, p *weirv1.Pipeline, spec weirv1.PipelineStage) ([]weirv1.Application, error) {
	sel, err := metav1.LabelSelectorAsSelector(spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("stage %s: selector: %w", spec.Name, err)
	}
	list := weirv1.ApplicationList{}
	if err := pr.Reader.List(ctx, &list, client.InNamespace(p.Namespace), client.MatchingLabelsSelector{Selector: sel}); err != nil {
		return nil, fmt.Errorf("stage %s: list the Applications of namespace %s that match %s: %w", spec.Name, p.Namespace, sel, err)
	}
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Name < list.Items[j].Name })
	return list.Items, nil
}
