// The pod sandbox ("pause") process of the single-node cluster (scripts/peers/node.sh): the usual
// image is on registry.k8s.io, which is not reachable here.
module registry-bridge/tools/pause

go 1.25.0
