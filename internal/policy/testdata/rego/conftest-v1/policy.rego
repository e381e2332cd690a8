# Conftest's conventions in Rego v1 syntax: violation rules return objects
# with a msg, warn rules strings.
package main

violation contains {"msg": msg, "details": {"image": c.image}} if {
	input.kind == "Deployment"
	some c in input.spec.template.spec.containers
	endswith(c.image, ":latest")
	msg := sprintf("Deployment %s runs %s, an image without a fixed tag", [input.metadata.name, c.image])
}

warn_owner contains msg if {
	not input.metadata.labels.owner
	msg := sprintf("%s %s has no owner label", [input.kind, input.metadata.name])
}

# Not a Conftest rule: never evaluated on its own.
helper := true
