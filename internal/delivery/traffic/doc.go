// Package traffic moves a Rollout's traffic between its stable and canary
// sides. Each router lives in its own file behind the Router interface:
//
//   - gatewayapi.go: backendRef weights on a Gateway API HTTPRoute, header
//     routes as extra rules, mirroring with the RequestMirror filter;
//   - istio.go: destination weights on an Istio VirtualService, header
//     routes as HTTP routes weir prepends, mirror and mirrorPercentage;
//   - smi.go: a TrafficSplit (split.smi-spec.io) that weir owns;
//   - nginx.go: a copy of the user's Ingress, "<ingress>-canary", with the
//     NGINX Ingress controller's canary annotations;
//   - replicas.go: without a router, the ratio of canary to stable replicas
//     behind the user's Service.
//
// New picks the one a Rollout's canary strategy names.
//
// Routers talk to Gateway API, Istio and SMI objects as unstructured
// objects, in whatever version the cluster prefers, as Argo Rollouts and
// Flagger do: weir imports none of their clients, and fields that a newer
// version of those APIs adds survive weir's edits. Edits to objects the user
// declared (HTTPRoute, VirtualService, stable Ingress, Deployments) are JSON
// merge patches computed from a fresh read and guarded by its
// resourceVersion (retried on conflict), so they change only what weir
// owns: the stable and canary weights, and the rules, routes and filters
// weir added. Objects weir creates (the canary Ingress, the TrafficSplit)
// are server-side applied whole. Every write is made as field manager
// "weir", and a write that would change nothing is not made.
//
// What the identity a router runs as needs, per router:
//
//	gatewayapi  gateway.networking.k8s.io httproutes: get, patch
//	istio       networking.istio.io virtualservices: get, patch
//	smi         split.smi-spec.io trafficsplits: get, create, patch; services: get
//	nginx       networking.k8s.io ingresses: get, create, patch, delete
//	replicas    apps deployments: get, patch
//
// weir applies the user's HTTPRoute, VirtualService and Deployments from Git
// as the same field manager, so a sync during a rollout would put Git's
// weights and replicas back: the delivery package keeps those objects at
// their live state while a rollout runs.
package traffic
