package main

import data.kubernetes

warn[msg] {
	kubernetes.is_service
	input.spec.type == "LoadBalancer"
	msg = sprintf("Service %s is a LoadBalancer", [input.metadata.name])
}
